//! MySQL/MariaDB backfill batches. InnoDB picks the smaller transaction as a
//! deadlock's victim, which would be the application's, so a batch never
//! waits for a lock at all: it first locks its key range (rows and gaps)
//! with `SELECT ... FOR UPDATE NOWAIT`, which fails at once if the
//! application holds any of it (the batch is retried smaller), and then
//! changes only rows it already holds. Holding the gaps also means a row
//! inserted into the range cannot slip between a backup copy and the delete.

use super::{Batch, BatchResult, Db, Mode, Spec};
use crate::jobs::Job;
use crate::jobs_mysql as jobs;
use crate::lag::{self, ReplicaLag};
use crate::osc::table::{Column, TableInfo};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use std::time::Duration;
use stepwise_db::mysql::{quote_ident as qi, quote_literal as ql, MyConn};
use stepwise_db::DbError;
use stepwise_sql::Dialect;

pub struct MyDb<'a> {
    pub conn: &'a mut MyConn,
    /// Prefix of stepwise's tables (`stepwise` gives `stepwise_jobs`).
    pub prefix: String,
    /// The index behind the key of the table loaded last (`PRIMARY`).
    key_index: String,
    lock_wait_set: bool,
    lag: ReplicaLag,
    replicas: lag::mysql::Connections,
    /// The jobs table qualified with the database it is in, once the
    /// replicas are watched (`run` waits for them before its first batch).
    watched_jobs: Option<String>,
    /// With `--cancel-blockers-after`: a second session that watches a held-up batch.
    monitor: Option<MyConn>,
    canceller: stepwise_db::sessions::cancel::Canceller,
}

impl<'a> MyDb<'a> {
    pub fn new(conn: &'a mut MyConn, prefix: &str) -> MyDb<'a> {
        MyDb {
            conn,
            prefix: prefix.to_string(),
            key_index: "PRIMARY".into(),
            lock_wait_set: false,
            lag: ReplicaLag::new(),
            monitor: None,
            canceller: Default::default(),
            replicas: Default::default(),
            watched_jobs: None,
        }
    }

    /// The same, reading ranges through `index` (osc's key when the table
    /// has a unique index and no primary key).
    pub fn keyed(conn: &'a mut MyConn, prefix: &str, index: &str) -> MyDb<'a> {
        MyDb { key_index: index.to_string(), ..MyDb::new(conn, prefix) }
    }
}

const NUMERIC: &[&str] = &["tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "float", "double", "year"];
const BINARY: &[&str] = &["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"];

/// The column's type without its precision (`decimal(10,2)` is `decimal`).
fn key_type<'t>(table: &'t TableInfo, k: &str) -> &'t str {
    table.column(k).and_then(|c| c.ty.split('(').next()).unwrap_or("varchar")
}

/// The value a target will hold: a DECIMAL column rounds what it stores, so
/// the expression is cast to the column's precision first; otherwise the
/// comparison that skips unchanged rows would see an unrounded value differ
/// on every rerun.
fn stored(table: &TableInfo, column: &str, expr: &str) -> String {
    match table.column(column).map(|c| c.ty.as_str()) {
        Some(ty) if ty.starts_with("decimal(") => format!("CAST(({expr}) AS {})", ty.to_ascii_uppercase()),
        _ => format!("({expr})"),
    }
}

/// A key value read back as text, as a literal of its column's type.
fn literal(ty: &str, v: &str) -> String {
    if NUMERIC.contains(&ty) && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b"-+.eE".contains(&b)) {
        v.to_string()
    } else if BINARY.contains(&ty) && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("X'{v}'")
    } else {
        ql(v)
    }
}

/// Keys after `lo` and up to `hi`, spelled out column by column (the range
/// optimizer reads these; row-constructor comparisons it may not).
pub(crate) fn key_range(table: &TableInfo, lo: Option<&[String]>, hi: Option<&[String]>) -> Vec<String> {
    let bound = |values: &[String], last_op: &str, inclusive: bool| {
        let mut alts = Vec::new();
        for i in 0..table.key.len() {
            let mut parts: Vec<String> =
                (0..i).map(|j| format!("{} = {}", qi(&table.key[j]), literal(key_type(table, &table.key[j]), &values[j]))).collect();
            parts.push(format!("{} {last_op} {}", qi(&table.key[i]), literal(key_type(table, &table.key[i]), &values[i])));
            alts.push(format!("({})", parts.join(" AND ")));
        }
        if inclusive {
            let all: Vec<String> =
                table.key.iter().zip(values).map(|(k, v)| format!("{} = {}", qi(k), literal(key_type(table, k), v))).collect();
            alts.push(format!("({})", all.join(" AND ")));
        }
        format!("({})", alts.join(" OR "))
    };
    let mut conds = Vec::new();
    if let Some(lo) = lo.filter(|v| v.len() == table.key.len()) {
        conds.push(bound(lo, ">", false));
    }
    if let Some(hi) = hi.filter(|v| v.len() == table.key.len()) {
        conds.push(bound(hi, "<", true));
    }
    conds
}

pub(crate) fn target(table: &TableInfo) -> String {
    format!("{}.{}", qi(&table.schema), qi(&table.name))
}

pub(crate) fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// The statements of one batch after its range is locked.
fn statements(table: &TableInfo, spec: &Spec, lo: Option<&[String]>, hi: Option<&[String]>) -> Vec<String> {
    let mut conds = key_range(table, lo, hi);
    if let Some(c) = &spec.condition {
        conds.push(format!("({c})"));
    }
    let t = target(table);
    match spec.mode {
        Mode::Update => {
            let values: Vec<(String, String)> = spec
                .set
                .iter()
                .map(|a| {
                    let column = qi(&a.column);
                    let value = stored(table, &a.column, &a.expr);
                    let value = if spec.only_missing { format!("COALESCE({column}, {value})") } else { value };
                    (column, value)
                })
                .collect();
            let set = values.iter().map(|(c, v)| format!("{c} = {v}")).collect::<Vec<_>>().join(", ");
            let differs = values.iter().map(|(c, v)| format!("NOT ({c} <=> {v})")).collect::<Vec<_>>().join(" OR ");
            conds.push(format!("({differs})"));
            vec![format!("UPDATE {t} SET {set}{}", where_clause(&conds))]
        }
        Mode::Delete => {
            let mut out = Vec::new();
            if let Some(backup) = &spec.backup {
                let cols = table.columns.iter().filter(|c| !c.generated).map(|c| qi(&c.name)).collect::<Vec<_>>().join(", ");
                out.push(format!("INSERT INTO {backup} ({cols}) SELECT {cols} FROM {t}{}", where_clause(&conds)));
            }
            out.push(format!("DELETE FROM {t}{}", where_clause(&conds)));
            out
        }
    }
}

/// Split `db.table` / `` `db`.`table` `` into its parts.
pub(crate) fn split_name(name: &str) -> (Option<String>, String) {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = name.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                cur.push('`');
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    match parts.len() {
        1 => (None, parts.remove(0)),
        _ => {
            let t = parts.pop().unwrap_or_default();
            (Some(parts.join(".")), t)
        }
    }
}

impl MyDb<'_> {
    /// The index behind the key of the table loaded last (`PRIMARY`).
    pub fn key_index(&self) -> &str {
        &self.key_index
    }

    /// A batch of a job committed with `rows_done`: the position the
    /// replicas are measured by (see `lag::mysql`), once they are watched.
    pub fn record_position(&mut self, rows_done: i64) {
        if self.watched_jobs.is_some() {
            self.lag.record(rows_done);
        }
    }

    /// Lock the batch's key range, rows and gaps, or fail at once.
    fn lock_range(&self, table: &TableInfo, lo: Option<&[String]>, hi: Option<&[String]>) -> String {
        format!("{} NOWAIT", self.lock_range_waiting(table, lo, hi))
    }

    /// The range lock that waits (up to `innodb_lock_wait_timeout`): taken
    /// only with `--cancel-blockers-after` once it is due, so that InnoDB's
    /// lock-wait view names exactly the sessions holding the batch's rows.
    fn lock_range_waiting(&self, table: &TableInfo, lo: Option<&[String]>, hi: Option<&[String]>) -> String {
        format!(
            "SELECT COUNT(*) FROM {} FORCE INDEX ({}){} FOR UPDATE",
            target(table),
            qi(&self.key_index),
            where_clause(&key_range(table, lo, hi))
        )
    }

    /// The key `rows` rows after `lo` and not beyond `upto` (None: fewer are left).
    pub(crate) async fn chunk_end_upto(
        &mut self,
        table: &TableInfo,
        lo: Option<&[String]>,
        upto: Option<&[String]>,
        rows: u64,
    ) -> Result<Option<Vec<String>>, DbError> {
        let select = table
            .key
            .iter()
            .map(|k| if BINARY.contains(&key_type(table, k)) { format!("HEX({})", qi(k)) } else { qi(k) })
            .collect::<Vec<_>>()
            .join(", ");
        let order = table.key.iter().map(|k| qi(k)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {select} FROM {} FORCE INDEX ({}){} ORDER BY {order} LIMIT 1 OFFSET {}",
            target(table),
            qi(&self.key_index),
            where_clause(&key_range(table, lo, upto)),
            rows.saturating_sub(1)
        );
        let rows = self.text_rows(&sql).await?;
        Ok(rows.into_iter().next().map(|r| {
            (0..r.len())
                .map(|i| match r.as_ref(i) {
                    Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                    Some(v) => v.as_sql(true).trim_matches('\'').to_string(),
                    None => String::new(),
                })
                .collect()
        }))
    }

    async fn text_rows(&mut self, sql: &str) -> Result<Vec<mysql_async::Row>, DbError> {
        Ok(self.conn.conn.query(sql).await?)
    }
}

impl Db for MyDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    async fn table(&mut self, name: &str) -> Result<Option<TableInfo>, OnlineError> {
        let (schema, table) = split_name(name);
        let found: Option<(String, String, u64)> = self
            .conn
            .conn
            .exec_first(
                "SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES
                  WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'",
                (schema, table),
            )
            .await
            .map_err(DbError::from)?;
        let Some((schema, table, rows)) = found else { return Ok(None) };
        let cols: Vec<(String, String, String)> = self
            .conn
            .conn
            .exec(
                "SELECT COLUMN_NAME,
                        CASE WHEN DATA_TYPE = 'decimal' THEN CONCAT('decimal(', NUMERIC_PRECISION, ',', NUMERIC_SCALE, ')') ELSE LOWER(DATA_TYPE) END,
                        COALESCE(EXTRA, '') FROM information_schema.COLUMNS
                  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (&schema, &table),
            )
            .await
            .map_err(DbError::from)?;
        let columns = cols
            .into_iter()
            .map(|(name, ty, extra)| Column { name, ty, generated: extra.to_ascii_uppercase().contains("GENERATED") })
            .collect();
        // The primary key, else the first unique index on NOT NULL columns
        // without prefix lengths.
        let parts: Vec<(String, String, String, Option<u64>)> = self
            .conn
            .conn
            .exec(
                "SELECT INDEX_NAME, COALESCE(COLUMN_NAME, ''), NULLABLE, SUB_PART FROM information_schema.STATISTICS
                  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
                  ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
                (&schema, &table),
            )
            .await
            .map_err(DbError::from)?;
        let mut key = Vec::new();
        let mut names: Vec<&String> = parts.iter().map(|p| &p.0).collect();
        names.dedup();
        for index in names {
            let cols: Vec<_> = parts.iter().filter(|p| &p.0 == index).collect();
            if cols.iter().all(|p| !p.1.is_empty() && p.2 != "YES" && p.3.is_none()) {
                key = cols.iter().map(|p| p.1.clone()).collect();
                self.key_index = index.clone();
                break;
            }
        }
        Ok(Some(TableInfo { oid: 0, schema, name: table, columns, key, estimated_rows: rows as i64, relkind: "r".into() }))
    }

    fn qualified(&self, schema: &str, table: &str) -> String {
        format!("{}.{}", qi(schema), qi(table))
    }

    async fn volatile(&mut self, calls: &[String]) -> Result<Vec<String>, OnlineError> {
        // MySQL's functions whose value changes per call or per statement.
        const VOLATILE: &[&str] = &[
            "rand",
            "uuid",
            "uuid_short",
            "sys_guid",
            "random_bytes",
            "now",
            "sysdate",
            "current_timestamp",
            "current_date",
            "current_time",
            "curdate",
            "curtime",
            "localtime",
            "localtimestamp",
            "utc_timestamp",
            "utc_date",
            "utc_time",
            "unix_timestamp",
            "connection_id",
            "last_insert_id",
            "nextval",
            "lastval",
            "sleep",
            "get_lock",
            "release_lock",
            "found_rows",
            "row_count",
        ];
        // Stored functions: MySQL does not stop a DETERMINISTIC one from
        // writing, so one that says it may write counts as well.
        let stored: Vec<String> = if calls.is_empty() {
            vec![]
        } else {
            let rows: Vec<String> = self
                .conn
                .conn
                .exec(
                    "SELECT LOWER(ROUTINE_NAME) FROM information_schema.ROUTINES
                      WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION'
                        AND (IS_DETERMINISTIC = 'NO' OR SQL_DATA_ACCESS = 'MODIFIES SQL DATA')",
                    (),
                )
                .await
                .map_err(DbError::from)?;
            rows
        };
        let mut out: Vec<String> = Vec::new();
        for c in calls {
            if (VOLATILE.contains(&c.as_str()) || stored.contains(c)) && !out.contains(c) {
                out.push(c.clone());
            }
        }
        Ok(out)
    }

    async fn check(&mut self, table: &TableInfo, spec: &Spec, evaluate: bool) -> Result<(), DbError> {
        for sql in statements(table, spec, None, None) {
            self.conn.exec(&format!("EXPLAIN {sql}")).await?;
        }
        if !evaluate {
            return Ok(());
        }
        // And evaluate it on the first rows, changing nothing.
        let values = spec.set.iter().map(|a| stored(table, &a.column, &a.expr)).collect::<Vec<_>>();
        let select = if values.is_empty() { "1".to_string() } else { values.join(", ") };
        let filter = spec.condition.as_ref().map(|c| format!(" WHERE ({c})")).unwrap_or_default();
        self.text_rows(&format!("SELECT {select} FROM {}{filter} LIMIT 1000", target(table))).await?;
        // A SELECT only warns where an UPDATE in strict mode fails (a
        // division by zero, a truncated value): the warnings count as errors.
        let warnings: Vec<(String, u32, String)> = self.conn.conn.query("SHOW WARNINGS").await?;
        if let Some((_, code, message)) = warnings.into_iter().find(|w| w.0 != "Note") {
            return Err(DbError::Other(format!("evaluated on the first rows: {message} (error {code})")));
        }
        Ok(())
    }

    async fn create_backup(&mut self, table: &TableInfo, name: &str) -> Result<String, DbError> {
        self.conn.exec(&format!("CREATE TABLE IF NOT EXISTS {name} LIKE {}", target(table))).await?;
        Ok(name.to_string())
    }

    async fn ensure_jobs(&mut self) -> Result<(), OnlineError> {
        jobs::ensure(self.conn, &self.prefix).await
    }

    async fn create_job(&mut self, target: &str, spec: &serde_json::Value) -> Result<Job, OnlineError> {
        jobs::create(self.conn, &self.prefix, super::KIND, target, "running", spec).await
    }

    async fn job(&mut self, id: i64) -> Result<Option<Job>, OnlineError> {
        Ok(jobs::get(self.conn, &self.prefix, id).await?.filter(|j| j.kind == super::KIND))
    }

    async fn jobs(&mut self, all: bool) -> Result<Vec<Job>, OnlineError> {
        jobs::list(self.conn, &self.prefix, super::KIND, all).await
    }

    async fn set_state(&mut self, id: i64, state: &str, error: Option<&str>) -> Result<(), OnlineError> {
        jobs::set_state(self.conn, &self.prefix, id, state, error).await
    }

    async fn chunk_end(&mut self, table: &TableInfo, lo: Option<&[String]>, rows: u64) -> Result<Option<Vec<String>>, DbError> {
        self.chunk_end_upto(table, lo, None, rows).await
    }

    async fn count_after(&mut self, table: &TableInfo, lo: Option<&[String]>) -> Result<i64, DbError> {
        let sql = format!("SELECT COUNT(*) FROM {}{}", target(table), where_clause(&key_range(table, lo, None)));
        let n: Option<i64> = self.conn.conn.query_first(sql).await?;
        Ok(n.unwrap_or_default())
    }

    fn describe(&self, table: &TableInfo, spec: &Spec, lo: Option<&[String]>, hi: Option<&[String]>) -> String {
        let mut out = vec![self.lock_range(table, lo, hi)];
        out.extend(statements(table, spec, lo, hi));
        out.join(";\n")
    }

    async fn batch(&mut self, b: &Batch<'_>) -> Result<BatchResult, DbError> {
        if !self.lock_wait_set {
            // Whole seconds only; the batch's own statements never wait
            // (NOWAIT), this bounds the job-row lock a `pause` may hold.
            let secs = b.lock_timeout.as_secs().max(1);
            self.conn.exec(&format!("SET SESSION innodb_lock_wait_timeout = {secs}, lock_wait_timeout = {secs}")).await?;
            // Gap locks, so the locked range takes no new rows meanwhile.
            self.conn.exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ").await?;
            self.lock_wait_set = true;
        }
        let jobs_table = jobs::table(&self.prefix);
        self.conn.exec("START TRANSACTION").await?;
        // Held up long enough with --cancel-blockers-after: this once the
        // range lock waits, watched, so that its blockers can be named and cancelled.
        let due = b.cancel.is_some_and(|c| c.since.elapsed() >= c.policy.after);
        if due && self.monitor.is_none() {
            self.monitor = Some(self.conn.another().await?);
        }
        let lock = if due { self.lock_range_waiting(b.table, b.lo, b.hi) } else { self.lock_range(b.table, b.lo, b.hi) };
        let conn = &mut *self.conn;
        let id = conn.id;
        let work = async {
            let row: Option<(String, Option<String>)> =
                conn.conn.exec_first(format!("SELECT state, cursor_keys FROM {jobs_table} WHERE id = ? FOR UPDATE"), (b.job,)).await?;
            let Some((state, cursor)) = row else { return Ok(BatchResult::Stopped("gone".into())) };
            let cursor: Option<Vec<String>> = cursor.and_then(|c| serde_json::from_str(&c).ok());
            if state != "running" || cursor.as_deref() != b.lo {
                return Ok(BatchResult::Stopped(state));
            }
            conn.exec(&lock).await?;
            let mut changed = 0i64;
            for sql in statements(b.table, b.spec, b.lo, b.hi) {
                conn.exec(&sql).await?;
                if sql.starts_with("UPDATE") || sql.starts_with("DELETE") {
                    changed += conn.conn.affected_rows() as i64;
                }
            }
            let next = if b.hi.is_some() { b.hi } else { b.lo };
            let state = if b.hi.is_some() { "running" } else { "finished" };
            conn.conn
                .exec_drop(
                    format!(
                        "UPDATE {jobs_table} SET cursor_keys = ?, rows_done = ?, rows_changed = rows_changed + ?, state = ?,
                                rows_total = CASE WHEN ? = 'finished' THEN ? ELSE rows_total END, updated_at = CURRENT_TIMESTAMP(6)
                          WHERE id = ?"
                    ),
                    (jobs::cursor_text(next), b.rows_done, changed, state, state, b.rows_done, b.job),
                )
                .await?;
            Ok::<_, DbError>(BatchResult::Done { changed })
        };
        let mut report = |e| (b.report)(e);
        let result = match &mut self.monitor {
            Some(m) if due => {
                stepwise_db::sessions::cancel::guarded(
                    m,
                    id as i64,
                    &mut self.canceller,
                    b.cancel,
                    Duration::from_millis(100),
                    work,
                    &mut report,
                )
                .await
            }
            _ => work.await,
        };
        match result {
            Ok(BatchResult::Done { changed }) => {
                self.conn.exec("COMMIT").await?;
                // The position the replicas are measured by (see `lag::mysql`).
                if self.watched_jobs.is_some() {
                    self.lag.record(b.rows_done);
                }
                Ok(BatchResult::Done { changed })
            }
            other => {
                let _ = self.conn.exec("ROLLBACK").await;
                other
            }
        }
    }

    async fn load(&mut self) -> Result<(u64, &'static str), DbError> {
        Ok((crate::load::mysql(self.conn).await?, crate::load::MYSQL_MEASURE))
    }

    async fn wait_for_replicas(
        &mut self,
        job: i64,
        max: Duration,
        at_most: Duration,
        on_wait: &mut (dyn FnMut(Duration, &str) + Send),
    ) -> Result<bool, OnlineError> {
        if self.watched_jobs.is_none() {
            let db: Option<String> = self.conn.conn.query_first("SELECT DATABASE()").await.map_err(DbError::from)?;
            let db = db.ok_or_else(|| OnlineError::Refused("no database is selected".into()))?;
            self.watched_jobs = Some(format!("{}.{}", qi(&db), jobs::table(&self.prefix)));
        }
        let jobs = self.watched_jobs.clone().unwrap_or_default();
        let mut replicas = lag::mysql::JobReplicas { primary: self.conn, conns: &mut self.replicas, jobs: &jobs, job };
        self.lag.wait(&mut replicas, max, at_most, |d, r| on_wait(d, r)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableInfo {
        TableInfo {
            oid: 0,
            schema: "app".into(),
            name: "t".into(),
            columns: vec![
                Column { name: "a".into(), ty: "int".into(), generated: false },
                Column { name: "b".into(), ty: "varchar".into(), generated: false },
                Column { name: "g".into(), ty: "int".into(), generated: true },
            ],
            key: vec!["a".into(), "b".into()],
            estimated_rows: 0,
            relkind: "r".into(),
        }
    }

    #[test]
    fn composite_key_ranges_are_spelled_out_for_the_range_optimizer() {
        let r = key_range(&table(), Some(&["1".into(), "x'y".into()]), Some(&["2".into(), "z".into()]));
        assert_eq!(
            r,
            [
                "((`a` > 1) OR (`a` = 1 AND `b` > 'x''y'))".to_string(),
                "((`a` < 2) OR (`a` = 2 AND `b` < 'z') OR (`a` = 2 AND `b` = 'z'))".to_string()
            ]
        );
    }

    #[test]
    fn a_delete_with_a_backup_copies_the_stored_columns_of_the_same_rows_first() {
        let spec = Spec {
            schema: "app".into(),
            table: "t".into(),
            key: vec!["a".into(), "b".into()],
            mode: Mode::Delete,
            set: vec![],
            condition: Some("a < 10".into()),
            only_missing: false,
            backup: Some("`t_purged`".into()),
            estimated_rows: 0,
            throttle: Default::default(),
        };
        let s = statements(&table(), &spec, None, Some(&["5".into(), "q".into()]));
        assert_eq!(s.len(), 2);
        assert!(s[0].starts_with("INSERT INTO `t_purged` (`a`, `b`) SELECT `a`, `b` FROM `app`.`t` WHERE "), "{}", s[0]);
        assert!(s[1].starts_with("DELETE FROM `app`.`t` WHERE ") && s[1].ends_with(" AND (a < 10)"), "{}", s[1]);
    }

    #[test]
    fn names_split_on_dots_outside_backticks() {
        assert_eq!(split_name("t"), (None, "t".to_string()));
        assert_eq!(split_name("`my.db`.`t``x`"), (Some("my.db".to_string()), "t`x".to_string()));
    }
}
