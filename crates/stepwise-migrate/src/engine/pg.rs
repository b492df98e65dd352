//! PostgreSQL: the tracking store in a schema of its own, a session advisory
//! lock, transactions sent as one pipelined round trip, and catalog checks
//! for index builds that a crash may have left behind.

use super::{
    millis, report_progress, Canceller, Engine, Failure, OnlineFailure, OnlineOutcome, OnlineStep, Recovery, Settings, TrackingOp, Watched,
    PROBE_EVERY, PROBE_FIRST, PROGRESS_EVERY, WAIT_REPORT_EVERY,
};
use crate::events::Event;
use crate::execute::RunOptions;
use crate::history::{HistoryRow, RowStatus, Stamp};
use futures_util::future::join_all;
use std::future::Future;
use stepwise_db::pg::{quote_ident as qi, quote_literal as ql, PgConn};
use stepwise_db::sessions;
use stepwise_db::sessions::cancel::cancel_blockers;
use stepwise_db::{Blocker, DbError, DbUrl};
use stepwise_sql::{Dialect, IndexOp, QualifiedName, Statement};
use tokio::time::{sleep_until, Instant};

pub struct PgEngine {
    pub(super) conn: PgConn,
    /// A second session that asks who blocks the first; never in a transaction.
    pub(super) monitor: PgConn,
    pub(super) schema: String,
    lock_key: i64,
    rails: bool,
    canceller: Canceller,
    url: DbUrl,
}

impl PgEngine {
    pub async fn connect(url: &DbUrl, schema: &str, rails: bool) -> Result<PgEngine, DbError> {
        let conn = PgConn::connect(url, "stepwise").await?;
        let monitor = PgConn::connect(url, "stepwise monitor").await?;
        Ok(PgEngine {
            conn,
            monitor,
            schema: schema.to_string(),
            lock_key: lock_key(schema),
            rails,
            canceller: Canceller::default(),
            url: url.clone(),
        })
    }

    /// The session that runs migrations (for tests and diagnostics).
    pub fn session(&self) -> &PgConn {
        &self.conn
    }

    pub(super) fn table(&self) -> String {
        format!("{}.migrations", qi(&self.schema))
    }

    fn op_sql(&self, op: &TrackingOp) -> String {
        match op {
            TrackingOp::Save(row, stamp) => save_sql(&self.table(), row, *stamp),
            TrackingOp::Delete(v) => format!("DELETE FROM {} WHERE version = {}", self.table(), ql(v)),
            TrackingOp::Rails(v, true) => format!("INSERT INTO schema_migrations (version) VALUES ({}) ON CONFLICT DO NOTHING", ql(v)),
            TrackingOp::Rails(v, false) => format!("DELETE FROM schema_migrations WHERE version = {}", ql(v)),
        }
    }

    async fn drop_index_concurrently(&self, schema: Option<&str>, name: &str, settings: &Settings) -> Result<(), DbError> {
        let target = match schema {
            Some(s) => format!("{}.{}", qi(s), qi(name)),
            None => qi(name),
        };
        // Three round trips, not one string: several statements in one simple
        // query run as one implicit transaction, where DROP INDEX
        // CONCURRENTLY is refused.
        self.conn.batch(&format!("SET lock_timeout = '{}ms'", millis(settings.lock_timeout))).await?;
        let dropped = self.conn.batch(&format!("DROP INDEX CONCURRENTLY IF EXISTS {target}")).await;
        let reset = self.conn.batch("RESET lock_timeout").await;
        dropped.and(reset)
    }
}

/// Run `main` on session `conn_pid` while a probe on `monitor` records who
/// blocks it, reports what a CONCURRENTLY statement waits for, and (with
/// `settings.cancel`) cancels the sessions blocking it once it has waited long enough.
async fn probed<R>(
    monitor: &mut PgConn,
    conn_pid: i32,
    canceller: &mut Canceller,
    main: impl Future<Output = R>,
    concurrent: bool,
    settings: &Settings,
    watch: &mut dyn FnMut(Watched),
) -> (R, Vec<Blocker>) {
    tokio::pin!(main);
    // Look (and look again) before a lock wait can time out: with a
    // lock_timeout shorter than PROBE_FIRST the wait would otherwise end
    // before anyone asked who blocks it.
    let half = (settings.lock_timeout / 2).max(std::time::Duration::from_millis(10));
    let (first, every) = (PROBE_FIRST.min(half), PROBE_EVERY.min(half));
    let cancel = if concurrent { None } else { settings.cancel.as_ref() };
    let mut seen = Vec::new();
    let mut next = Instant::now() + first;
    let mut next_report = Instant::now() + WAIT_REPORT_EVERY;
    let mut next_progress = Instant::now() + PROGRESS_EVERY;
    loop {
        tokio::select! {
            biased;
            r = &mut main => return (r, seen),
            _ = sleep_until(next) => {
                if Instant::now() >= next_progress {
                    report_progress(monitor, conn_pid as i64, watch).await;
                    next_progress = Instant::now() + PROGRESS_EVERY;
                }
                if let Ok(b) = monitor.blockers_of(conn_pid).await {
                    if !b.is_empty() {
                        if let Some(policy) = canceller.due(cancel) {
                            cancel_blockers(monitor, conn_pid as i64, canceller, policy, &mut |e| watch(e.into())).await;
                        }
                        seen = b;
                    }
                }
                if concurrent && Instant::now() >= next_report {
                    let waiting = match monitor.older_transactions(conn_pid).await {
                        Ok(older) if !older.is_empty() => older,
                        _ => seen.clone(),
                    };
                    watch(Watched::Waiting(waiting));
                    next_report = Instant::now() + WAIT_REPORT_EVERY;
                }
                next = Instant::now() + every;
            }
        }
    }
}

/// A stable 64-bit key for the advisory lock, one per state schema.
fn lock_key(schema: &str) -> i64 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in format!("stepwise:{schema}").bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h as i64
}

fn opt_lit(v: &Option<String>) -> String {
    v.as_ref().map(|s| ql(s)).unwrap_or_else(|| "NULL".into())
}

fn save_sql(table: &str, r: &HistoryRow, stamp: Stamp) -> String {
    let (started, finished, duration, on_conflict_started) = match stamp {
        Stamp::Start => ("now()".to_string(), "NULL".to_string(), "NULL".to_string(), "EXCLUDED.started_at"),
        Stamp::Progress => ("now()".into(), "NULL".into(), "NULL".into(), "m.started_at"),
        Stamp::Finish => {
            let ms = r.duration_ms.unwrap_or(0);
            (format!("clock_timestamp() - interval '{ms} milliseconds'"), "clock_timestamp()".into(), ms.to_string(), "EXCLUDED.started_at")
        }
        Stamp::Whole => (
            "now()".into(),
            "clock_timestamp()".into(),
            "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint".into(),
            "EXCLUDED.started_at",
        ),
    };
    format!(
        "INSERT INTO {table} AS m (version, name, kind, checksum, phase, status, transactional, started_at, finished_at, duration_ms,
            statements_total, statements_applied, in_flight, error, applied_by, direction, osc_job)
         VALUES ({}, {}, {}, {}, {}, {}, {}, {started}, {finished}, {duration}, {}, {}, {}, {}, {}, {}, {})
         ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, checksum = EXCLUDED.checksum,
            phase = EXCLUDED.phase, status = EXCLUDED.status, transactional = EXCLUDED.transactional,
            started_at = {on_conflict_started}, finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
            statements_total = EXCLUDED.statements_total, statements_applied = EXCLUDED.statements_applied,
            in_flight = EXCLUDED.in_flight, error = EXCLUDED.error, applied_by = EXCLUDED.applied_by, direction = EXCLUDED.direction,
            osc_job = EXCLUDED.osc_job",
        ql(&r.version),
        ql(&r.name),
        ql(&r.kind),
        ql(&r.checksum),
        ql(&r.phase),
        ql(r.status.as_str()),
        r.transactional,
        r.statements_total,
        r.statements_applied,
        r.in_flight.map(|i| i.to_string()).unwrap_or_else(|| "NULL".into()),
        opt_lit(&r.error),
        ql(&r.applied_by),
        ql(r.direction.as_str()),
        r.osc_job.map(|j| j.to_string()).unwrap_or_else(|| "NULL".into()),
    )
}

fn settings_sql(s: &Settings, local: bool) -> String {
    let scope = if local { "LOCAL " } else { "" };
    let mut sql = format!("SET {scope}lock_timeout = '{}ms'; ", millis(s.lock_timeout));
    match s.statement_timeout {
        Some(t) => sql.push_str(&format!("SET {scope}statement_timeout = '{}ms'; ", millis(t))),
        None => sql.push_str(&format!("SET {scope}statement_timeout = 0; ")),
    }
    if let Some(role) = &s.role {
        sql.push_str(&format!("SET {scope}ROLE {}; ", qi(role)));
    }
    sql
}

fn qualified(n: &QualifiedName) -> (Option<&str>, &str) {
    (n.schema.as_deref(), n.name.as_str())
}

impl Engine for PgEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn server(&self) -> String {
        self.conn.version_text()
    }

    fn pg_major(&self) -> Option<u32> {
        Some((self.conn.version_num / 10000) as u32)
    }

    fn store_name(&self) -> String {
        format!("{}.migrations", self.schema)
    }

    async fn check_settings(&mut self, settings: &Settings) -> Result<(), DbError> {
        let result = self.conn.batch(&format!("BEGIN; {}", settings_sql(settings, true))).await;
        let _ = self.conn.batch("ROLLBACK").await;
        result
    }

    async fn preflight(&mut self) -> Result<(), DbError> {
        // Behind a transaction-pooling PgBouncer each transaction may land on
        // another server session: session settings and advisory locks vanish.
        // A session-level setting and the backend pid must survive from one
        // transaction to the next.
        let marker = format!("{}-{}", std::process::id(), self.conn.pid);
        let first = self.conn.rows("SELECT set_config('stepwise.session_check', $1, false), pg_backend_pid()", &[&marker]).await?;
        let second = self.conn.rows("SELECT current_setting('stepwise.session_check', true), pg_backend_pid()", &[]).await?;
        let same = |a: &[tokio_postgres::Row], b: &[tokio_postgres::Row]| {
            let (Some(a), Some(b)) = (a.first(), b.first()) else { return false };
            a.get::<_, Option<String>>(0) == b.get::<_, Option<String>>(0) && a.get::<_, i32>(1) == b.get::<_, i32>(1)
        };
        if !same(&first, &second) || second.first().map(|r| r.get::<_, i32>(1)) != Some(self.conn.pid) {
            return Err(DbError::Config(
                "the connection does not keep session state between transactions: a transaction-pooling proxy \
                 (PgBouncer with pool_mode = transaction) sits between stepwise and PostgreSQL. The migration lock \
                 and lock_timeout are session settings and would not hold. Connect stepwise directly to PostgreSQL, \
                 or through a pool in session mode."
                    .into(),
            ));
        }
        Ok(())
    }

    async fn try_lock(&mut self) -> Result<bool, DbError> {
        let rows = self.conn.rows("SELECT pg_try_advisory_lock($1)", &[&self.lock_key]).await?;
        Ok(rows.first().map(|r| r.get(0)).unwrap_or(false))
    }

    async fn lock_holder(&mut self) -> Result<Option<String>, DbError> {
        let key = self.lock_key as u64;
        let (hi, lo) = ((key >> 32) as i64, (key & 0xffff_ffff) as i64);
        let rows = self
            .monitor
            .rows(
                "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''), coalesce(a.query, ''),
                        coalesce(extract(epoch FROM now() - a.backend_start)::float8, 0)
                   FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                    AND l.classid::int8 = $1 AND l.objid::int8 = $2
                    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[&hi, &lo],
            )
            .await?;
        Ok(rows.first().map(|r| {
            let (pid, app, state, query, age): (i32, String, String, String, f64) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let query: String = query.chars().take(100).collect();
            format!("pid {pid} ({app}, connected {age:.0}s ago, {state}: {query})")
        }))
    }

    async fn unlock(&mut self) -> Result<(), DbError> {
        self.conn.rows("SELECT pg_advisory_unlock($1)", &[&self.lock_key]).await?;
        Ok(())
    }

    async fn ensure_store(&mut self) -> Result<(), DbError> {
        let mut sql = format!(
            "SET lock_timeout = '5s';
             CREATE SCHEMA IF NOT EXISTS {schema};
             CREATE TABLE IF NOT EXISTS {table} (
                version text PRIMARY KEY,
                name text NOT NULL,
                kind text NOT NULL DEFAULT 'versioned',
                checksum text NOT NULL,
                phase text NOT NULL,
                status text NOT NULL CHECK (status IN ('applied', 'failed', 'running')),
                transactional boolean NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz,
                duration_ms bigint,
                statements_total integer NOT NULL,
                statements_applied integer NOT NULL DEFAULT 0,
                in_flight integer,
                error text,
                applied_by text NOT NULL,
                direction text NOT NULL DEFAULT 'up'
             );
             ALTER TABLE {table} ADD COLUMN IF NOT EXISTS direction text NOT NULL DEFAULT 'up';
             ALTER TABLE {table} ADD COLUMN IF NOT EXISTS osc_job bigint;",
            schema = qi(&self.schema),
            table = self.table()
        );
        if self.rails {
            sql.push_str("CREATE TABLE IF NOT EXISTS schema_migrations (version character varying NOT NULL PRIMARY KEY);");
        }
        sql.push_str("RESET lock_timeout;");
        self.conn.batch(&sql).await
    }

    async fn history(&mut self) -> Result<Vec<HistoryRow>, DbError> {
        let exists = self.conn.rows("SELECT to_regclass($1) IS NOT NULL", &[&self.table()]).await?;
        if !exists.first().is_some_and(|r| r.get::<_, bool>(0)) {
            return Ok(vec![]);
        }
        let ts = |c: &str| format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
        let rows = self
            .conn
            .rows(
                &format!(
                    // A store made before `direction` existed reads as all `up`
                    // until `ensure_store` adds the column.
                    "SELECT version, name, kind, checksum, phase, status, transactional, {}, {}, duration_ms,
                            statements_total, statements_applied, in_flight, error, applied_by,
                            coalesce(to_jsonb(m) ->> 'direction', 'up'), (to_jsonb(m) ->> 'osc_job')::int8
                       FROM {} m ORDER BY version",
                    ts("started_at"),
                    ts("finished_at"),
                    self.table()
                ),
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| HistoryRow {
                version: r.get(0),
                name: r.get(1),
                kind: r.get(2),
                checksum: r.get(3),
                phase: r.get(4),
                status: RowStatus::parse(r.get(5)).unwrap_or(RowStatus::Failed),
                transactional: r.get(6),
                started_at: r.get(7),
                finished_at: r.get(8),
                duration_ms: r.get(9),
                statements_total: r.get(10),
                statements_applied: r.get(11),
                in_flight: r.get(12),
                error: r.get(13),
                applied_by: r.get(14),
                direction: crate::events::Direction::parse(r.get(15)),
                osc_job: r.get(16),
            })
            .collect())
    }

    async fn transaction(
        &mut self,
        statements: &[&Statement],
        settings: &Settings,
        ops: &[TrackingOp],
        watch: &mut dyn FnMut(Watched),
    ) -> Result<(), Failure> {
        // Settings, statements, tracking row and COMMIT go out together and
        // are answered in order: one round trip per migration. If a statement
        // fails, the server answers the rest with "transaction aborted" and
        // turns COMMIT into ROLLBACK.
        let mut parts: Vec<String> = Vec::with_capacity(statements.len() + ops.len() + 3);
        parts.push(format!("BEGIN; SET LOCAL standard_conforming_strings = on; {}", settings_sql(settings, true)));
        parts.extend(statements.iter().map(|s| s.sql.clone()));
        if settings.role.is_some() {
            parts.push("RESET ROLE".into());
        }
        let first_op = parts.len();
        parts.extend(ops.iter().map(|op| self.op_sql(op)));
        parts.push("COMMIT".into());
        let Self { conn, monitor, canceller, .. } = self;
        let pipeline = join_all(parts.iter().map(|p| conn.client.batch_execute(p)));
        let (results, blockers) = probed(monitor, conn.pid, canceller, pipeline, false, settings, watch).await;
        let failed = results.into_iter().enumerate().find_map(|(i, r)| r.err().map(|e| (i, e)));
        match failed {
            None => Ok(()),
            Some((i, e)) => {
                // Make sure nothing stays open whatever failed (harmless otherwise).
                let _ = self.conn.batch("ROLLBACK").await;
                let statement = (1..=statements.len()).contains(&i).then(|| i - 1);
                let _ = first_op;
                Err(Failure { statement, error: e.into(), blockers })
            }
        }
    }

    async fn single(&mut self, statement: &Statement, settings: &Settings, watch: &mut dyn FnMut(Watched)) -> Result<(), Failure> {
        // The settings go first, on their own: pipelined with the statement,
        // a failed setting (SET ROLE to a missing role) would not stop the
        // statement from running without its lock_timeout and role.
        self.conn.batch(&settings_sql(settings, false)).await.map_err(Failure::plain)?;
        let suffix = "RESET lock_timeout; RESET statement_timeout; RESET ROLE";
        let parts = [statement.sql.as_str(), suffix];
        let Self { conn, monitor, canceller, .. } = self;
        let pipeline = join_all(parts.iter().map(|p| conn.client.batch_execute(p)));
        let (results, blockers) = probed(monitor, conn.pid, canceller, pipeline, statement.info.concurrently, settings, watch).await;
        let mut results = results.into_iter();
        if let Some(Err(e)) = results.next() {
            return Err(Failure { statement: Some(0), error: e.into(), blockers });
        }
        Ok(())
    }

    async fn old_transactions(&mut self, statement: &Statement, older_than: std::time::Duration) -> Result<Vec<String>, DbError> {
        let Some(table) = &statement.info.ddl_table else { return Ok(vec![]) };
        if statement.info.concurrently || statement.online.is_some() || statement.backfill.is_some() {
            return Ok(vec![]);
        }
        let name = match &table.schema {
            Some(s) => format!("{}.{}", qi(s), qi(&table.name)),
            None => qi(&table.name),
        };
        let old = sessions::pg::old_holders(&self.monitor, &name, older_than.as_secs_f64(), self.conn.pid).await?;
        let mut seen = Vec::new();
        Ok(old
            .into_iter()
            .filter(|s| {
                let first = !seen.contains(&s.id);
                seen.push(s.id);
                first
            })
            .map(|s| {
                let query = match s.query_line(80, false) {
                    Some(q) if !q.is_empty() => format!("; {}: {q}", if s.state.contains("idle") { "last query" } else { "query" }),
                    Some(_) => String::new(),
                    None => "; query not visible to this role".into(),
                };
                let mode = s.holds.first().map(|l| l.mode.clone()).unwrap_or_default();
                format!(
                    "transaction open for {:.1}s holds {mode} on {} (pid {}, user {}, application {}, {}{query}): the statement will wait behind it, \
                     and every query on the table behind the statement (`SELECT pg_terminate_backend({})` ends it)",
                    s.transaction_secs.unwrap_or(0.0),
                    table.name,
                    s.id,
                    s.user,
                    if s.application.is_empty() { "-" } else { &s.application },
                    if s.state.is_empty() { "?" } else { &s.state },
                    s.id
                )
            })
            .collect())
    }

    async fn fresh_session(&mut self) -> Result<(), DbError> {
        // RESET ALL leaves the role alone (it is not reset by ALL).
        self.conn.batch("RESET ALL; RESET ROLE").await
    }

    async fn track(&mut self, ops: &[TrackingOp]) -> Result<(), DbError> {
        let sql: Vec<String> = ops.iter().map(|op| self.op_sql(op)).collect();
        self.conn.batch(&sql.join(";\n")).await
    }

    fn finished_before(&self, _error: &stepwise_db::ServerError) -> bool {
        // Whatever can share a transaction commits with its progress, and
        // CONCURRENTLY statements are checked by `recover`: no guessing here.
        false
    }

    async fn recover(&mut self, statement: &Statement, settings: &Settings) -> Result<Recovery, DbError> {
        let Some(op) = &statement.info.index_op else { return Ok(Recovery::Rerun) };
        match op {
            IndexOp::CreateConcurrently { index: Some(index), .. } => {
                let (schema, name) = qualified(index);
                match self.conn.index_valid(schema, name).await? {
                    Some(true) => Ok(Recovery::AlreadyDone(format!("index {name} exists and is valid"))),
                    Some(false) => {
                        self.drop_index_concurrently(schema, name, settings).await?;
                        Ok(Recovery::CleanedUp(format!("dropped invalid index {name} left by an interrupted build")))
                    }
                    None => Ok(Recovery::Rerun),
                }
            }
            IndexOp::CreateConcurrently { index: None, .. } => Ok(Recovery::Rerun),
            IndexOp::DropConcurrently { index, .. } => {
                let (schema, name) = qualified(index);
                match self.conn.index_valid(schema, name).await? {
                    None => Ok(Recovery::AlreadyDone(format!("index {name} is already gone"))),
                    Some(_) => Ok(Recovery::Rerun),
                }
            }
            IndexOp::ReindexConcurrently { index, table } => {
                let schema = index.as_ref().or(table.as_ref()).and_then(|n| n.schema.as_deref());
                let leftovers = self
                    .conn
                    .reindex_leftovers(schema, index.as_ref().map(|n| n.name.as_str()), table.as_ref().map(|n| n.name.as_str()))
                    .await?;
                if leftovers.is_empty() {
                    return Ok(Recovery::Rerun);
                }
                let mut names = Vec::new();
                for (s, n) in &leftovers {
                    self.drop_index_concurrently(Some(s), n, settings).await?;
                    names.push(n.clone());
                }
                Ok(Recovery::CleanedUp(format!("dropped invalid {} left by an interrupted REINDEX CONCURRENTLY", names.join(", "))))
            }
        }
    }

    async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let msgs = self.conn.client.simple_query(sql).await?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect()),
                _ => None,
            })
            .collect())
    }

    async fn dump_schema(&mut self) -> Result<String, DbError> {
        stepwise_db::schema_dump::dump_schema(&self.url, &[self.schema.as_str()], None).await
    }

    async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
        let rows = self.conn.rows("SELECT to_regclass($1) IS NOT NULL", &[&table]).await?;
        Ok(rows.first().is_some_and(|r| r.get(0)))
    }

    async fn column_exists(&mut self, table: &str, column: &str) -> Result<bool, DbError> {
        let rows = self
            .conn
            .rows(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    async fn online(
        &mut self,
        step: &OnlineStep<'_>,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineFailure> {
        self.run_online(step, opts, report).await
    }
    async fn backfill(
        &mut self,
        step: &stepwise_sql::BackfillStep,
        version: &str,
        index: usize,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<(), String> {
        // Rows are changed as the role migrations run as, like any statement's.
        if let Some(role) = &opts.role {
            self.conn.batch(&format!("SET ROLE {}", stepwise_db::pg::quote_ident(role))).await.map_err(|e| e.to_string())?;
        }
        let mut db = stepwise_online::backfill::pg::PgDb::new(&self.conn, &self.schema);
        let result = super::backfill::run(&mut db, &self.schema, step, version, index, opts, report).await;
        if opts.role.is_some() {
            let _ = self.conn.batch("RESET ROLE").await;
        }
        result
    }
}
