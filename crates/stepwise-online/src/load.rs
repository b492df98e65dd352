//! The server's load as the foreground feels it, for long copies and
//! backfills to wait on between batches (`--max-load`) and to stop at
//! (`--critical-load`), as pt-online-schema-change does with MySQL's
//! `Threads_running`: the sessions executing a statement right now, the
//! ones waiting on a lock or on I/O included. PostgreSQL counts its client
//! backends in state `active`, leaving out stepwise's own sessions;
//! MySQL/MariaDB reports `Threads_running` (stepwise's own threads
//! included, as pt-osc counts them).

use crate::batch::BatchOptions;
use stepwise_db::mysql::MyConn;
use stepwise_db::pg::PgConn;
use stepwise_db::DbError;

/// What each engine's number is, for messages.
pub const PG_MEASURE: &str = "active sessions";
pub const MYSQL_MEASURE: &str = "Threads_running";

/// PostgreSQL: client backends running a statement, other than stepwise's.
pub async fn pg(conn: &PgConn) -> Result<u64, DbError> {
    let rows = conn
        .rows(
            "SELECT count(*)::int8 FROM pg_stat_activity
              WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
                AND application_name NOT LIKE 'stepwise%'",
            &[],
        )
        .await?;
    Ok(rows.first().map(|r| r.get::<_, i64>(0).max(0) as u64).unwrap_or(0))
}

/// MySQL/MariaDB: `Threads_running`.
pub async fn mysql(conn: &mut MyConn) -> Result<u64, DbError> {
    use mysql_async::prelude::Queryable;
    let running: Option<(String, u64)> = conn.conn.query_first("SHOW GLOBAL STATUS LIKE 'Threads_running'").await?;
    Ok(running.map(|r| r.1).unwrap_or(0))
}

/// What to do before the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Wait: more than this maximum are running.
    Wait(u64),
    /// Stop the job: at least this many are running.
    Critical(u64),
}

pub fn judge(running: u64, b: &BatchOptions) -> Verdict {
    match (b.critical_load, b.max_load) {
        (Some(c), _) if running >= c => Verdict::Critical(c),
        (_, Some(m)) if running > m => Verdict::Wait(m),
        _ => Verdict::Go,
    }
}

/// Why a job paused itself at `--critical-load`.
pub fn critical(running: u64, measure: &str, critical: u64) -> String {
    format!("the server ran {running} {measure}, at or above --critical-load {critical}: the job paused itself")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_above_max_and_stops_at_critical() {
        let b = BatchOptions { max_load: Some(4), critical_load: Some(10), ..Default::default() };
        assert_eq!(judge(4, &b), Verdict::Go);
        assert_eq!(judge(5, &b), Verdict::Wait(4));
        assert_eq!(judge(10, &b), Verdict::Critical(10));
        let off = BatchOptions { max_load: None, critical_load: None, ..Default::default() };
        assert_eq!(judge(1000, &off), Verdict::Go);
    }
}
