//! PostgreSQL backfill batches: one UPDATE (or DELETE) over a key range per
//! transaction, with a lock timeout below `deadlock_timeout`.

use super::{Batch, BatchResult, Db, Mode, Spec};
use crate::jobs::{self, Job};
use crate::lag::ReplicaLag;
use crate::osc::sql::key_range;
use crate::osc::table::{self, TableInfo};
use crate::OnlineError;
use std::time::Duration;
use stepwise_db::pg::{quote_ident as qi, PgConn};
use stepwise_db::DbError;
use stepwise_sql::Dialect;

pub struct PgDb<'a> {
    pub conn: &'a PgConn,
    /// The state schema (`stepwise`).
    pub schema: String,
    lag: ReplicaLag,
    /// `deadlock_timeout`, read once: batches wait on row locks for less.
    deadlock_timeout: Option<Duration>,
    /// With `--cancel-blockers-after`: a second session that watches a held-up batch.
    monitor: Option<PgConn>,
    canceller: stepwise_db::sessions::cancel::Canceller,
}

impl<'a> PgDb<'a> {
    pub fn new(conn: &'a PgConn, schema: &str) -> PgDb<'a> {
        PgDb {
            conn,
            schema: schema.to_string(),
            lag: ReplicaLag::new(),
            deadlock_timeout: None,
            monitor: None,
            canceller: Default::default(),
        }
    }

    /// The batch's lock timeout: the configured one, but at most a quarter
    /// of `deadlock_timeout`. An application transaction that waits for a
    /// row the batch locked, while the batch waits for one of its rows,
    /// checks for a deadlock `deadlock_timeout` after it began waiting; the
    /// batch gives up `lock_timeout` after it began waiting, which is later
    /// than the application only if the batch had already run for more than
    /// `deadlock_timeout - lock_timeout` (batches aim for 50 ms).
    async fn lock_timeout(&mut self, asked: Duration) -> Result<Duration, DbError> {
        if self.deadlock_timeout.is_none() {
            let ms: i32 =
                self.conn.client.query_one("SELECT setting::int FROM pg_settings WHERE name = 'deadlock_timeout'", &[]).await?.get(0);
            self.deadlock_timeout = Some(Duration::from_millis(ms.max(4) as u64));
        }
        Ok(asked.min(self.deadlock_timeout.unwrap_or(Duration::from_secs(1)) / 4).max(Duration::from_millis(1)))
    }
}

/// The new value of each target, cast to the column's type so that the
/// comparison that skips unchanged rows sees what would be stored (a
/// numeric(10,2) target compares the rounded value, and a rerun finds it equal).
fn new_values(table: &TableInfo, spec: &Spec) -> Vec<(String, String)> {
    spec.set
        .iter()
        .map(|a| {
            let column = qi(&a.column);
            let cast = match table.column(&a.column) {
                Some(c) => format!("CAST(({}) AS {})", a.expr, c.ty),
                None => format!("({})", a.expr),
            };
            let value = if spec.only_missing { format!("COALESCE({column}, {cast})") } else { cast };
            (column, value)
        })
        .collect()
}

/// The statement of one batch (the whole table when both ends are None).
fn statement(table: &TableInfo, spec: &Spec, lo: Option<&[String]>, hi: Option<&[String]>) -> String {
    let target = format!("{}.{}", qi(&table.schema), qi(&table.name));
    let mut conds = Vec::new();
    let range = key_range(table, &spec.key, lo, hi);
    if let Some(r) = range.strip_prefix("WHERE ") {
        conds.push(r.to_string());
    }
    if let Some(c) = &spec.condition {
        conds.push(format!("({c})"));
    }
    match spec.mode {
        Mode::Update => {
            let values = new_values(table, spec);
            let set = values.iter().map(|(c, v)| format!("{c} = {v}")).collect::<Vec<_>>().join(", ");
            let differs = values.iter().map(|(c, v)| format!("{c} IS DISTINCT FROM {v}")).collect::<Vec<_>>().join(" OR ");
            conds.push(format!("({differs})"));
            format!("UPDATE {target} SET {set} WHERE {}", conds.join(" AND "))
        }
        Mode::Delete => {
            let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
            match &spec.backup {
                // One statement: exactly the rows deleted are the rows kept.
                Some(backup) => {
                    format!("WITH gone AS (DELETE FROM {target}{filter} RETURNING {target}.*) INSERT INTO {backup} SELECT * FROM gone")
                }
                None => format!("DELETE FROM {target}{filter}"),
            }
        }
    }
}

/// The expressions and condition evaluated on up to 1000 rows, changing nothing.
fn trial(table: &TableInfo, spec: &Spec) -> String {
    let values = new_values(table, spec).into_iter().map(|(_, v)| v).collect::<Vec<_>>();
    let select = if values.is_empty() { "1".to_string() } else { values.join(", ") };
    let filter = spec.condition.as_ref().map(|c| format!(" WHERE ({c})")).unwrap_or_default();
    format!("SELECT {select} FROM {}.{}{filter} LIMIT 1000", qi(&table.schema), qi(&table.name))
}

impl Db for PgDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn table(&mut self, name: &str) -> Result<Option<TableInfo>, OnlineError> {
        table::load(self.conn, name).await
    }

    fn qualified(&self, schema: &str, table: &str) -> String {
        format!("{}.{}", qi(schema), qi(table))
    }

    async fn volatile(&mut self, calls: &[String]) -> Result<Vec<String>, OnlineError> {
        // Stable time functions give one value per transaction, so one per
        // batch: as unrepeatable for a backfill as random().
        const PER_BATCH: &[&str] = &[
            "now",
            "current_timestamp",
            "current_date",
            "current_time",
            "localtime",
            "localtimestamp",
            "transaction_timestamp",
            "statement_timestamp",
        ];
        let rows =
            self.conn.rows("SELECT DISTINCT proname::text FROM pg_proc WHERE proname = ANY($1) AND provolatile = 'v'", &[&calls]).await?;
        let volatile: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok(unique(calls.iter().filter(|c| PER_BATCH.contains(&c.as_str()) || volatile.contains(c))))
    }

    async fn check(&mut self, table: &TableInfo, spec: &Spec, evaluate: bool) -> Result<(), DbError> {
        // EXPLAIN parses and plans without running (constant expressions
        // that fail, like 1/0, fail here too; only immutable functions are
        // folded, and PostgreSQL lets no non-volatile function write).
        self.conn.batch(&format!("EXPLAIN {}", statement(table, spec, None, None))).await?;
        // And evaluate it on the first rows, read only: an error that only
        // data shows (a division by zero, a failing cast) fails here too.
        if evaluate {
            self.conn.rows(&trial(table, spec), &[]).await?;
        }
        Ok(())
    }

    async fn create_backup(&mut self, table: &TableInfo, name: &str) -> Result<String, DbError> {
        // LIKE without INCLUDING: the columns and NOT NULL only, no
        // constraints, identity or generation, so every deleted row fits.
        self.conn.batch(&format!("CREATE TABLE IF NOT EXISTS {name} (LIKE {}.{})", qi(&table.schema), qi(&table.name))).await?;
        let r = self
            .conn
            .client
            .query_one(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                &[&name],
            )
            .await?;
        Ok(r.get(0))
    }

    async fn ensure_jobs(&mut self) -> Result<(), OnlineError> {
        jobs::ensure(self.conn, &self.schema).await
    }

    async fn create_job(&mut self, target: &str, spec: &serde_json::Value) -> Result<Job, OnlineError> {
        jobs::create(self.conn, &self.schema, super::KIND, target, "running", spec).await
    }

    async fn job(&mut self, id: i64) -> Result<Option<Job>, OnlineError> {
        Ok(jobs::get(self.conn, &self.schema, id).await?.filter(|j| j.kind == super::KIND))
    }

    async fn jobs(&mut self, all: bool) -> Result<Vec<Job>, OnlineError> {
        jobs::list(self.conn, &self.schema, super::KIND, all).await
    }

    async fn set_state(&mut self, id: i64, state: &str, error: Option<&str>) -> Result<(), OnlineError> {
        jobs::set_state(self.conn, &self.schema, id, state, error).await
    }

    async fn chunk_end(&mut self, table: &TableInfo, lo: Option<&[String]>, rows: u64) -> Result<Option<Vec<String>>, DbError> {
        let keys = table.key.iter().map(|k| qi(k)).collect::<Vec<_>>().join(", ");
        let last = table.key.iter().map(|k| format!("{}::text", qi(k))).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT ARRAY[{last}] FROM {}.{} {} ORDER BY {keys} OFFSET {} LIMIT 1",
            qi(&table.schema),
            qi(&table.name),
            key_range(table, &table.key, lo, None),
            rows.saturating_sub(1)
        );
        Ok(self.conn.client.query_opt(&sql, &[]).await?.map(|r| r.get(0)))
    }

    async fn count_after(&mut self, table: &TableInfo, lo: Option<&[String]>) -> Result<i64, DbError> {
        let sql = format!("SELECT count(*) FROM {}.{} {}", qi(&table.schema), qi(&table.name), key_range(table, &table.key, lo, None));
        Ok(self.conn.client.query_one(&sql, &[]).await?.get(0))
    }

    fn describe(&self, table: &TableInfo, spec: &Spec, lo: Option<&[String]>, hi: Option<&[String]>) -> String {
        statement(table, spec, lo, hi)
    }

    async fn batch(&mut self, b: &Batch<'_>) -> Result<BatchResult, DbError> {
        let lock_timeout = self.lock_timeout(b.lock_timeout).await?;
        let jobs = jobs::table(&self.schema);
        // A server crash may lose the last batches whole, with the cursor
        // that recorded them (a prefix of the WAL survives): they run again.
        self.conn
            .batch(&format!("BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL synchronous_commit = off", lock_timeout.as_millis()))
            .await?;
        if b.cancel.is_some() && self.monitor.is_none() {
            self.monitor = Some(self.conn.another().await?);
        }
        let conn = self.conn;
        let work = async {
            // The job row, locked: a pause or cancel decided elsewhere, or
            // another process running the same job, is seen before any work.
            let r = conn.client.query_one(&format!("SELECT state, cursor FROM {jobs} WHERE id = $1 FOR UPDATE"), &[&b.job]).await?;
            let (state, cursor): (String, Option<Vec<String>>) = (r.get(0), r.get(1));
            if state != "running" || cursor.as_deref() != b.lo {
                return Ok(BatchResult::Stopped(state));
            }
            let changed = conn.client.execute(&statement(b.table, b.spec, b.lo, b.hi), &[]).await? as i64;
            let next = if b.hi.is_some() { b.hi } else { b.lo };
            let state = if b.hi.is_some() { "running" } else { "finished" };
            self.conn
                .client
                .execute(
                    &format!(
                        "UPDATE {jobs} SET cursor = $2, rows_done = $3, rows_changed = rows_changed + $4, state = $5,
                                rows_total = CASE WHEN $5 = 'finished' THEN $3 ELSE rows_total END, updated_at = now()
                          WHERE id = $1"
                    ),
                    &[&b.job, &next.map(|c| c.to_vec()), &b.rows_done, &changed, &state],
                )
                .await?;
            Ok::<_, DbError>(BatchResult::Done { changed })
        };
        // Watched only once batches have been held up: the batch waits less
        // than deadlock_timeout, so the monitor looks every few milliseconds.
        let every = (lock_timeout / 4).max(Duration::from_millis(5));
        let mut report = |e| (b.report)(e);
        let result = match &mut self.monitor {
            Some(m) if b.cancel.is_some() => {
                stepwise_db::sessions::cancel::guarded(m, conn.pid as i64, &mut self.canceller, b.cancel, every, work, &mut report).await
            }
            _ => work.await,
        };
        match result {
            Ok(BatchResult::Done { changed }) => {
                self.conn.batch("COMMIT").await?;
                Ok(BatchResult::Done { changed })
            }
            other => {
                let _ = self.conn.batch("ROLLBACK").await;
                other
            }
        }
    }

    async fn load(&mut self) -> Result<(u64, &'static str), DbError> {
        Ok((crate::load::pg(self.conn).await?, crate::load::PG_MEASURE))
    }

    async fn wait_for_replicas(
        &mut self,
        _job: i64,
        max: Duration,
        at_most: Duration,
        on_wait: &mut (dyn FnMut(Duration, &str) + Send),
    ) -> Result<bool, OnlineError> {
        self.lag.wait(&mut crate::lag::pg::Standbys(self.conn), max, at_most, |d, r| on_wait(d, r)).await
    }
}

fn unique<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backfill::Assignment;
    use crate::osc::table::Column;

    fn table() -> TableInfo {
        TableInfo {
            oid: 0,
            schema: "public".into(),
            name: "orders".into(),
            columns: vec![
                Column { name: "id".into(), ty: "bigint".into(), generated: false },
                Column { name: "total".into(), ty: "numeric(10,2)".into(), generated: false },
            ],
            key: vec!["id".into()],
            estimated_rows: 0,
            relkind: "r".into(),
        }
    }

    fn spec(mode: Mode) -> Spec {
        Spec {
            schema: "public".into(),
            table: "orders".into(),
            key: vec!["id".into()],
            mode,
            set: vec![Assignment { column: "total".into(), expr: "price * qty".into() }],
            condition: Some("created_at < '2020-01-01'".into()),
            only_missing: false,
            backup: None,
            estimated_rows: 0,
            throttle: Default::default(),
        }
    }

    #[test]
    fn an_update_batch_skips_rows_that_already_hold_the_value_as_stored() {
        let sql = statement(&table(), &spec(Mode::Update), Some(&["10".into()]), Some(&["20".into()]));
        assert_eq!(
            sql,
            "UPDATE \"public\".\"orders\" SET \"total\" = CAST((price * qty) AS numeric(10,2)) WHERE ROW(\"id\") > ROW('10'::bigint) AND ROW(\"id\") <= ROW('20'::bigint) AND (created_at < '2020-01-01') AND (\"total\" IS DISTINCT FROM CAST((price * qty) AS numeric(10,2)))"
        );
        let mut only = spec(Mode::Update);
        only.only_missing = true;
        only.condition = None;
        let sql = statement(&table(), &only, None, None);
        assert!(
            sql.contains(
                "SET \"total\" = COALESCE(\"total\", CAST((price * qty) AS numeric(10,2))) WHERE (\"total\" IS DISTINCT FROM COALESCE("
            ),
            "{sql}"
        );
    }

    #[test]
    fn a_delete_with_a_backup_keeps_exactly_the_rows_it_deletes() {
        let mut s = spec(Mode::Delete);
        s.set.clear();
        s.backup = Some("\"public\".\"orders_purged\"".into());
        let sql = statement(&table(), &s, None, Some(&["5".into()]));
        assert_eq!(
            sql,
            "WITH gone AS (DELETE FROM \"public\".\"orders\" WHERE ROW(\"id\") <= ROW('5'::bigint) AND (created_at < '2020-01-01') RETURNING \"public\".\"orders\".*) INSERT INTO \"public\".\"orders_purged\" SELECT * FROM gone"
        );
    }
}
