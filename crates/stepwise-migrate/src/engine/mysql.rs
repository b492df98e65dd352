//! MySQL/MariaDB: tracking in `<prefix>_migrations` in the current database,
//! `GET_LOCK` with a schema-qualified name, and per-statement progress because
//! DDL commits implicitly. Times are stored in UTC (`UTC_TIMESTAMP`), whatever
//! the server's time zone. Tested on MariaDB.

use super::{
    report_progress, Canceller, Engine, Failure, OnlineFailure, OnlineOutcome, OnlineStep, Recovery, Settings, TrackingOp, Watched,
    PROBE_EVERY, PROBE_FIRST, PROGRESS_EVERY,
};
use crate::events::Event;
use crate::execute::RunOptions;
use crate::history::{HistoryRow, RowStatus, Stamp};
use mysql_async::prelude::Queryable;
use std::time::Duration;
use stepwise_db::mysql::{quote_ident as qi, quote_literal as ql, MyConn};
use stepwise_db::sessions;
use stepwise_db::sessions::cancel::cancel_blockers;
use stepwise_db::{Blocker, DbError, DbUrl};
use stepwise_sql::{Dialect, Statement};
use tokio::time::{sleep_until, Instant};

pub struct MyEngine {
    pub(super) conn: MyConn,
    pub(super) monitor: MyConn,
    pub(super) prefix: String,
    lock_name: String,
    rails: bool,
    canceller: Canceller,
}

impl MyEngine {
    pub async fn connect(url: &DbUrl, prefix: &str, rails: bool) -> Result<MyEngine, DbError> {
        let mut conn = MyConn::connect(url).await?;
        let monitor = MyConn::connect(url).await?;
        let db: Option<String> = conn.conn.query_first("SELECT DATABASE()").await?.flatten();
        let Some(db) = db else {
            return Err(DbError::Config(format!("the MySQL URL {} names no database: add /<database> to it", url.redacted())));
        };
        // Lock names are server-wide (and at most 64 characters): include the schema.
        let mut lock_name = format!("stepwise:{db}.{prefix}");
        if lock_name.len() > 64 {
            lock_name = format!("stepwise:{:016x}", fnv(&lock_name));
        }
        Ok(MyEngine { conn, monitor, prefix: prefix.to_string(), lock_name, rails, canceller: Canceller::default() })
    }

    /// The session migrations run on (for catalog reads before they do).
    pub fn session(&mut self) -> &mut MyConn {
        &mut self.conn
    }

    pub(super) fn table(&self) -> String {
        qi(&format!("{}_migrations", self.prefix))
    }

    fn op_sql(&self, op: &TrackingOp) -> String {
        match op {
            TrackingOp::Save(row, stamp) => save_sql(&self.table(), row, *stamp),
            TrackingOp::Delete(v) => format!("DELETE FROM {} WHERE version = {}", self.table(), ql(v)),
            TrackingOp::Rails(v, true) => format!("INSERT IGNORE INTO schema_migrations (version) VALUES ({})", ql(v)),
            TrackingOp::Rails(v, false) => format!("DELETE FROM schema_migrations WHERE version = {}", ql(v)),
        }
    }
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// MySQL and MariaDB lock waits take whole seconds: round up, at least 1.
pub fn whole_seconds(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

fn settings_sql(conn: &MyConn, s: &Settings) -> Vec<String> {
    let secs = whole_seconds(s.lock_timeout);
    let mut sql =
        vec![format!("SET SESSION lock_wait_timeout = {secs}, innodb_lock_wait_timeout = {secs}, @stepwise_t0 = UTC_TIMESTAMP(6)")];
    let stmt_secs = s.statement_timeout.map(|t| t.as_secs_f64()).unwrap_or(0.0);
    if conn.is_mariadb() {
        sql.push(format!("SET SESSION max_statement_time = {stmt_secs}"));
    } else {
        sql.push(format!("SET SESSION max_execution_time = {}", (stmt_secs * 1000.0) as u64));
    }
    if let Some(role) = &s.role {
        sql.push(format!("SET ROLE {}", qi(role)));
    }
    sql
}

fn save_sql(table: &str, r: &HistoryRow, stamp: Stamp) -> String {
    let opt = |v: &Option<String>| v.as_ref().map(|s| ql(s)).unwrap_or_else(|| "NULL".into());
    let (started, finished, duration, keep_started) = match stamp {
        Stamp::Start => ("UTC_TIMESTAMP(3)".to_string(), "NULL".to_string(), "NULL".to_string(), false),
        Stamp::Progress => ("UTC_TIMESTAMP(3)".into(), "NULL".into(), "NULL".into(), true),
        Stamp::Finish => {
            let ms = r.duration_ms.unwrap_or(0);
            (format!("UTC_TIMESTAMP(3) - INTERVAL {} MICROSECOND", ms * 1000), "UTC_TIMESTAMP(3)".into(), ms.to_string(), false)
        }
        // @stepwise_t0 is set when the transaction starts (see `settings_sql`).
        Stamp::Whole => (
            "@stepwise_t0".into(),
            "UTC_TIMESTAMP(3)".into(),
            "TIMESTAMPDIFF(MICROSECOND, @stepwise_t0, UTC_TIMESTAMP(6)) DIV 1000".into(),
            false,
        ),
    };
    let started_update = if keep_started { "started_at = started_at" } else { "started_at = VALUES(started_at)" };
    format!(
        "INSERT INTO {table} (version, name, kind, checksum, phase, status, transactional, started_at, finished_at, duration_ms,
            statements_total, statements_applied, in_flight, error, applied_by, direction, osc_job)
         VALUES ({}, {}, {}, {}, {}, {}, {}, {started}, {finished}, {duration}, {}, {}, {}, {}, {}, {}, {})
         ON DUPLICATE KEY UPDATE name = VALUES(name), kind = VALUES(kind), checksum = VALUES(checksum), phase = VALUES(phase),
            status = VALUES(status), transactional = VALUES(transactional), {started_update}, finished_at = VALUES(finished_at),
            duration_ms = VALUES(duration_ms), statements_total = VALUES(statements_total),
            statements_applied = VALUES(statements_applied), in_flight = VALUES(in_flight), error = VALUES(error),
            applied_by = VALUES(applied_by), direction = VALUES(direction), osc_job = VALUES(osc_job)",
        ql(&r.version),
        ql(&r.name),
        ql(&r.kind),
        ql(&r.checksum),
        ql(&r.phase),
        ql(r.status.as_str()),
        r.transactional as i32,
        r.statements_total,
        r.statements_applied,
        r.in_flight.map(|i| i.to_string()).unwrap_or_else(|| "NULL".into()),
        opt(&r.error),
        ql(&r.applied_by),
        ql(r.direction.as_str()),
        r.osc_job.map(|j| j.to_string()).unwrap_or_else(|| "NULL".into()),
    )
}

/// Run statements in order on `conn`, stopping at the first error; while they
/// run, `monitor` notes who might be blocking and (with `settings.cancel`)
/// cancels the sessions blocking `conn` once it has waited long enough.
async fn run_probed(
    conn: &mut MyConn,
    monitor: &mut MyConn,
    canceller: &mut Canceller,
    sqls: &[String],
    settings: &Settings,
    watch: &mut dyn FnMut(Watched),
) -> (Result<(), (usize, DbError)>, Vec<Blocker>) {
    let waiter = conn.id;
    let main = async {
        for (i, sql) in sqls.iter().enumerate() {
            conn.conn.query_drop(sql.as_str()).await.map_err(|e| (i, DbError::from(e)))?;
        }
        Ok(())
    };
    tokio::pin!(main);
    let mut seen = Vec::new();
    let mut next = Instant::now() + PROBE_FIRST;
    let mut next_progress = Instant::now() + PROGRESS_EVERY;
    loop {
        tokio::select! {
            biased;
            r = &mut main => return (r, seen),
            _ = sleep_until(next) => {
                if Instant::now() >= next_progress {
                    report_progress(monitor, waiter as i64, watch).await;
                    next_progress = Instant::now() + PROGRESS_EVERY;
                }
                if let Ok(b) = monitor.possible_blockers(waiter).await {
                    if !b.is_empty() {
                        seen = b;
                        if let Some(policy) = canceller.due(settings.cancel.as_ref()) {
                            cancel_blockers(monitor, waiter as i64, canceller, policy, &mut |e| watch(e.into())).await;
                        }
                    }
                }
                next = Instant::now() + PROBE_EVERY;
            }
        }
    }
}

impl Engine for MyEngine {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn server(&self) -> String {
        self.conn.version_text()
    }

    fn mysql_version(&self) -> Option<String> {
        Some(self.conn.version.clone())
    }

    fn store_name(&self) -> String {
        format!("{}_migrations", self.prefix)
    }

    async fn preflight(&mut self) -> Result<(), DbError> {
        Ok(())
    }

    async fn check_settings(&mut self, settings: &Settings) -> Result<(), DbError> {
        let mut result = Ok(());
        for sql in settings_sql(&self.conn, settings) {
            result = self.conn.exec(&sql).await;
            if result.is_err() {
                break;
            }
        }
        // Back to the session's own role; the timeouts are set again before every statement.
        if settings.role.is_some() {
            let _ = self.conn.exec("SET ROLE NONE").await;
        }
        result
    }

    async fn try_lock(&mut self) -> Result<bool, DbError> {
        let got: Option<Option<i64>> = self.conn.conn.exec_first("SELECT GET_LOCK(?, 0)", (&self.lock_name,)).await?;
        Ok(got.flatten() == Some(1))
    }

    async fn lock_holder(&mut self) -> Result<Option<String>, DbError> {
        let holder: Option<Option<u64>> = self.monitor.conn.exec_first("SELECT IS_USED_LOCK(?)", (&self.lock_name,)).await?;
        let Some(id) = holder.flatten() else { return Ok(None) };
        let info: Option<(String, String, i64, Option<String>)> = self
            .monitor
            .conn
            .exec_first("SELECT COALESCE(USER, ''), COALESCE(HOST, ''), TIME, INFO FROM information_schema.PROCESSLIST WHERE ID = ?", (id,))
            .await?;
        Ok(Some(match info {
            Some((user, host, time, query)) => {
                format!("connection {id} ({user}@{host}, {time}s: {})", query.unwrap_or_else(|| "idle".into()))
            }
            None => format!("connection {id}"),
        }))
    }

    async fn unlock(&mut self) -> Result<(), DbError> {
        self.conn.conn.exec_drop("DO RELEASE_LOCK(?)", (&self.lock_name,)).await?;
        Ok(())
    }

    async fn ensure_store(&mut self) -> Result<(), DbError> {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version varchar(191) NOT NULL PRIMARY KEY,
                name varchar(512) NOT NULL,
                kind varchar(16) NOT NULL DEFAULT 'versioned',
                checksum varchar(64) NOT NULL,
                phase varchar(16) NOT NULL,
                status varchar(16) NOT NULL,
                transactional tinyint(1) NOT NULL,
                started_at datetime(3) NOT NULL,
                finished_at datetime(3) NULL,
                duration_ms bigint NULL,
                statements_total int NOT NULL,
                statements_applied int NOT NULL DEFAULT 0,
                in_flight int NULL,
                error text NULL,
                applied_by varchar(512) NOT NULL,
                direction varchar(8) NOT NULL DEFAULT 'up',
                osc_job bigint NULL
             ) DEFAULT CHARSET = utf8mb4",
            self.table()
        );
        self.conn.exec(&sql).await?;
        self.conn
            .exec(&format!("ALTER TABLE {} ADD COLUMN IF NOT EXISTS direction varchar(8) NOT NULL DEFAULT 'up'", self.table()))
            .await?;
        // Stores made before online changes ran on MySQL.
        self.conn.exec(&format!("ALTER TABLE {} ADD COLUMN IF NOT EXISTS osc_job bigint NULL", self.table())).await?;
        if self.rails {
            self.conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(191) NOT NULL PRIMARY KEY)").await?;
        }
        Ok(())
    }

    async fn history(&mut self) -> Result<Vec<HistoryRow>, DbError> {
        if !self.table_exists(&format!("{}_migrations", self.prefix)).await? {
            return Ok(vec![]);
        }
        let ts = |c: &str| format!("DATE_FORMAT({c}, '%Y-%m-%dT%H:%i:%s.%fZ')");
        // A store made before `direction` existed reads as all `up` until
        // `ensure_store` adds the column.
        let direction = if self.column_exists(&format!("{}_migrations", self.prefix), "direction").await? { "direction" } else { "'up'" };
        let osc_job = if self.column_exists(&format!("{}_migrations", self.prefix), "osc_job").await? { "osc_job" } else { "NULL" };
        let sql = format!(
            "SELECT version, name, kind, checksum, phase, status, transactional, {}, {}, duration_ms,
                    statements_total, statements_applied, in_flight, error, applied_by, {direction}, {osc_job} FROM {} ORDER BY version",
            ts("started_at"),
            ts("finished_at"),
            self.table()
        );
        let rows: Vec<mysql_async::Row> = self.conn.conn.query(sql).await?;
        let mut out = Vec::new();
        for mut r in rows {
            let mut take_s = |i: usize| -> Option<String> { r.take::<Option<String>, _>(i).flatten() };
            let version = take_s(0).unwrap_or_default();
            let name = take_s(1).unwrap_or_default();
            let kind = take_s(2).unwrap_or_default();
            let checksum = take_s(3).unwrap_or_default();
            let phase = take_s(4).unwrap_or_default();
            let status = RowStatus::parse(&take_s(5).unwrap_or_default()).unwrap_or(RowStatus::Failed);
            let transactional = take_s(6).as_deref() == Some("1");
            let started_at = take_s(7).map(|s| trim_micros(&s));
            let finished_at = take_s(8).map(|s| trim_micros(&s));
            let num = |s: Option<String>| s.and_then(|v| v.parse::<i64>().ok());
            let duration_ms = num(take_s(9));
            let statements_total = num(take_s(10)).unwrap_or(0) as i32;
            let statements_applied = num(take_s(11)).unwrap_or(0) as i32;
            let in_flight = num(take_s(12)).map(|v| v as i32);
            let error = take_s(13);
            let applied_by = take_s(14).unwrap_or_default();
            let direction = crate::events::Direction::parse(&take_s(15).unwrap_or_default());
            let osc_job = num(take_s(16));
            out.push(HistoryRow {
                version,
                name,
                kind,
                checksum,
                phase,
                status,
                transactional,
                started_at,
                finished_at,
                duration_ms,
                statements_total,
                statements_applied,
                in_flight,
                error,
                applied_by,
                direction,
                osc_job,
            });
        }
        Ok(out)
    }

    async fn transaction(
        &mut self,
        statements: &[&Statement],
        settings: &Settings,
        ops: &[TrackingOp],
        watch: &mut dyn FnMut(Watched),
    ) -> Result<(), Failure> {
        let mut sqls = settings_sql(&self.conn, settings);
        sqls.push("START TRANSACTION".into());
        let first_stmt = sqls.len();
        sqls.extend(statements.iter().map(|s| s.sql.clone()));
        if settings.role.is_some() {
            sqls.push("SET ROLE NONE".into());
        }
        sqls.extend(ops.iter().map(|op| self.op_sql(op)));
        sqls.push("COMMIT".into());
        let Self { conn, monitor, canceller, .. } = self;
        let (result, blockers) = run_probed(conn, monitor, canceller, &sqls, settings, watch).await;
        match result {
            Ok(()) => Ok(()),
            Err((i, error)) => {
                let _ = conn.exec("ROLLBACK").await;
                let statement = (first_stmt..first_stmt + statements.len()).contains(&i).then(|| i - first_stmt);
                Err(Failure { statement, error, blockers })
            }
        }
    }

    async fn single(&mut self, statement: &Statement, settings: &Settings, watch: &mut dyn FnMut(Watched)) -> Result<(), Failure> {
        let mut sqls = settings_sql(&self.conn, settings);
        let at = sqls.len();
        sqls.push(statement.sql.clone());
        if settings.role.is_some() {
            sqls.push("SET ROLE NONE".into());
        }
        let Self { conn, monitor, canceller, .. } = self;
        let (result, blockers) = run_probed(conn, monitor, canceller, &sqls, settings, watch).await;
        result.map_err(|(i, error)| Failure { statement: (i == at).then_some(0), error, blockers })
    }

    async fn old_transactions(&mut self, statement: &Statement, older_than: Duration) -> Result<Vec<String>, DbError> {
        if !statement.info.implicit_commit || statement.online.is_some() || statement.backfill.is_some() {
            return Ok(vec![]);
        }
        // From the monitor session: the migration's own session has no transaction open here.
        let old = stepwise_db::mysql_catalog::old_transactions(&mut self.monitor, whole_seconds(older_than)).await?;
        // With metadata-lock instrumentation, only the transactions that hold the table.
        let holders = match &statement.info.ddl_table {
            Some(t) => sessions::mysql::table_lock_holders(&mut self.monitor, t.schema.as_deref(), &t.name).await,
            None => None,
        };
        Ok(old
            .into_iter()
            .filter(|t| t.thread != self.conn.id)
            .filter(|t| holders.as_ref().is_none_or(|h| h.contains(&(t.thread as i64))))
            .map(|t| {
                let query = t.query.map(|q| format!(", running: {}", q.chars().take(80).collect::<String>())).unwrap_or_else(|| ", idle in transaction".into());
                let (table, why) = match (&statement.info.ddl_table, &holders) {
                    (Some(table), Some(_)) => (table.name.clone(), "it holds a metadata lock on the table: the DDL will wait behind it"),
                    _ => ("the table".to_string(), "the DDL will wait behind it if it touched the table"),
                };
                format!(
                    "transaction open for {}s (thread {}, {}@{}{query}): {why}, and every query on {table} behind the DDL (`KILL {}` ends it)",
                    t.seconds, t.thread, t.user, t.host, t.thread
                )
            })
            .collect())
    }

    async fn fresh_session(&mut self) -> Result<(), DbError> {
        // MySQL has no RESET ALL; COM_RESET_CONNECTION would also release
        // the migration lock (GET_LOCK). Session variables a migration sets
        // carry over to the next one here, as they do with other MySQL tools.
        Ok(())
    }

    async fn track(&mut self, ops: &[TrackingOp]) -> Result<(), DbError> {
        for op in ops {
            let sql = self.op_sql(op);
            self.conn.exec(&sql).await?;
        }
        Ok(())
    }

    fn finished_before(&self, error: &stepwise_db::ServerError) -> bool {
        // What the same DDL says when it already took effect: the table,
        // column, index, foreign key or primary key exists (1050, 1060,
        // 1061, 1826, 1068), or what it drops is gone (1091, 1051).
        matches!(error.errno, Some(1050 | 1060 | 1061 | 1826 | 1068 | 1091 | 1051))
    }

    async fn recover(&mut self, _statement: &Statement, _settings: &Settings) -> Result<Recovery, DbError> {
        // MySQL DDL has no INVALID leftovers to clean: the statement is re-run.
        Ok(Recovery::Rerun)
    }

    async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let rows: Vec<mysql_async::Row> = self.conn.conn.query(sql).await?;
        Ok(rows.into_iter().map(|mut r| (0..r.len()).map(|i| r.take::<Option<String>, _>(i).flatten()).collect()).collect())
    }

    async fn dump_schema(&mut self) -> Result<String, DbError> {
        stepwise_db::mysql_dump::dump_schema(&mut self.monitor, &format!("{}_", self.prefix)).await
    }

    async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
        let n: Option<i64> = self
            .conn
            .conn
            .exec_first("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", (table,))
            .await?;
        Ok(n.unwrap_or(0) > 0)
    }

    async fn column_exists(&mut self, table: &str, column: &str) -> Result<bool, DbError> {
        let n: Option<i64> = self
            .conn
            .conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                (table, column),
            )
            .await?;
        Ok(n.unwrap_or(0) > 0)
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
        let prefix = self.prefix.clone();
        let mut db = stepwise_online::backfill::mysql::MyDb::new(&mut self.conn, &prefix);
        super::backfill::run(&mut db, &prefix, step, version, index, opts, report).await
    }
}

/// `2025-01-02T03:04:05.123000Z` -> `2025-01-02T03:04:05.123Z`, as PostgreSQL prints it.
fn trim_micros(s: &str) -> String {
    match s.rsplit_once('.') {
        Some((head, frac)) if frac.len() > 4 => format!("{head}.{}Z", &frac[..3]),
        _ => s.to_string(),
    }
}
