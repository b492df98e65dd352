//! The server's load as the foreground feels it, for long copies and
//! backfills to wait on between batches (`--max-load`) and to stop at
//! (`--critical-load`), as pt-online-schema-change does with MySQL's
//! `Threads_running`: the sessions executing a statement right now, the
//! ones waiting on a lock or on I/O included. PostgreSQL counts its client
//! backends in state `active`, leaving out stepwise's own sessions;
//! MySQL/MariaDB reports `Threads_running` (stepwise's own threads
//! included, as pt-osc counts them).

use crate::batch::BatchOptions;
use std::time::{Duration, Instant};
use stepwise_db::mysql::MyConn;
use stepwise_db::pg::PgConn;
use stepwise_db::DbError;

/// What each engine's number is, for messages.
pub const PG_MEASURE: &str = "active sessions";
pub const MYSQL_MEASURE: &str = "Threads_running";

/// PostgreSQL: client backends running a statement, other than stepwise's
/// (by their application name, and this process's own sessions, whose name
/// a URL may have set).
pub async fn pg(conn: &PgConn) -> Result<u64, DbError> {
    let ours = stepwise_db::sessions::own::sessions();
    let rows = conn
        .rows(
            "SELECT count(*)::int8 FROM pg_stat_activity
              WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
                AND application_name NOT LIKE 'stepwise%' AND pid::int8 <> ALL($1)",
            &[&ours],
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

/// How long after another session was seen running a statement the server
/// still counts as in use (see [`Foreground`]).
pub const IN_USE_FOR: Duration = Duration::from_secs(1);

/// Whether the foreground has been at work lately, from the samples a copy
/// takes between its batches. On a server with cores to spare a second
/// session working beside the copy costs the foreground nothing; on a
/// small one it is what the foreground feels (measured on 2 cores under a
/// light pgbench load: p99 4 ms with one busy session, 19 ms with two), so
/// osc works with a second session only while no one else is.
#[derive(Debug, Default)]
pub struct Foreground {
    /// When another session was last seen running a statement.
    seen: Option<Instant>,
    /// When the last sample was taken.
    sampled: Option<Instant>,
    /// Whether the job has said it works with one session.
    noted: bool,
}

impl Foreground {
    /// Record a sample (`running` other sessions).
    pub fn saw(&mut self, running: u64) {
        let now = Instant::now();
        if running > 0 {
            self.seen = Some(now);
        }
        self.sampled = Some(now);
    }

    /// Whether the foreground is at work, from the samples of the last
    /// [`IN_USE_FOR`]; none when there are none.
    pub fn in_use(&self) -> Option<bool> {
        let fresh = |t: Option<Instant>| t.is_some_and(|t| t.elapsed() < IN_USE_FOR);
        fresh(self.sampled).then(|| fresh(self.seen))
    }

    /// True the first time only: say something once per run.
    pub fn first_note(&mut self) -> bool {
        !std::mem::replace(&mut self.noted, true)
    }

    /// PostgreSQL: [`Foreground::in_use`], or when there are no recent
    /// samples, whether another client session ran a statement in any of
    /// ten looks 20 ms apart (a light load is idle at most instants).
    pub async fn pg_in_use(&mut self, conn: &PgConn) -> Result<bool, DbError> {
        if let Some(known) = self.in_use() {
            return Ok(known);
        }
        for look in 0..10 {
            if look > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let running = pg(conn).await?;
            self.saw(running);
            if running > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
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

    #[test]
    fn the_foreground_stays_in_use_for_a_while_after_it_was_seen() {
        let mut f = Foreground::default();
        assert_eq!(f.in_use(), None, "no samples");
        f.saw(0);
        assert_eq!(f.in_use(), Some(false));
        f.saw(1);
        f.saw(0);
        assert_eq!(f.in_use(), Some(true), "seen a moment ago");
        f.seen = Some(Instant::now() - IN_USE_FOR);
        assert_eq!(f.in_use(), Some(false));
        f.sampled = Some(Instant::now() - IN_USE_FOR);
        assert_eq!(f.in_use(), None, "the samples are old");
    }
}
