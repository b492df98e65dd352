//! Replica lag, measured from the primary with nothing configured, so that
//! long copies and backfills wait for the standbys to keep up.
//!
//! The standbys are the walsenders of `pg_stat_replication`, except those of
//! logical slots (a slow logical consumer such as Debezium never throttles),
//! base backups, and clients that report no replay position at all
//! (`pg_receivewal`, a base backup's WAL stream): they replay nothing.
//!
//! `replay_lag` alone cannot be trusted: when a standby's replay stalls
//! (paused, or a hot-standby query conflict) it is not updated and stays
//! small while the standby falls behind. So each measurement also records
//! the primary's WAL position with the time; a standby is as far behind as
//! the earliest recorded position it has not replayed is old (a standby that
//! has not reported yet is behind since the first one). `replay_lag` counts
//! too when it says more.
//!
//! A standby reports its replay position when WAL reaches it, or every
//! `wal_receiver_status_interval` (10 s) on a quiet primary: while waiting,
//! stepwise commits one empty transaction per check (an xid and a commit
//! record), so a standby that has caught up says so at once.

use crate::OnlineError;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use stepwise_db::pg::PgConn;

/// Checks closer together than this reuse the last one (batches are ~50 ms).
const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// How long to sleep between checks while a standby is too far behind.
const POLL: Duration = Duration::from_millis(300);
/// How often a wait is reported while it lasts.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(1);

/// The most-behind standby.
#[derive(Debug, Clone, PartialEq)]
pub struct Behind {
    /// `application_name (client_addr)`, e.g. `walreceiver (10.0.0.7)`.
    pub standby: String,
    pub lag: Duration,
}

/// The primary's WAL position (bytes since `0/0`) at a time.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    pub lsn: i64,
}

/// Replica lag of one primary, measured over time (keep one per copy).
#[derive(Debug, Default)]
pub struct ReplicaLag {
    samples: VecDeque<Sample>,
    /// When the last `wait` found every standby close enough.
    caught_up: Option<Instant>,
    /// When the wait under way was last reported (None: not waiting).
    announced: Option<Instant>,
}

const QUERY: &str = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
       r.pid, r.state, r.application_name, host(r.client_addr),
       pg_wal_lsn_diff(r.replay_lsn, '0/0')::bigint, r.reply_time IS NOT NULL,
       (extract(epoch FROM r.replay_lag) * 1000)::bigint
  FROM (VALUES (1)) AS one(x)
  LEFT JOIN pg_stat_replication r ON r.pid NOT IN
       (SELECT active_pid FROM pg_replication_slots WHERE slot_type = 'logical' AND active_pid IS NOT NULL)";

const HIDDEN: &str = "cannot measure replica lag: this role cannot read pg_stat_replication; \
    grant it pg_monitor, or turn the wait off (--max-replica-lag off, or --online-max-replica-lag off for migrate)";

impl ReplicaLag {
    pub fn new() -> ReplicaLag {
        ReplicaLag::default()
    }

    /// Measure now (one query): the most-behind standby, or None when there
    /// is no standby.
    pub async fn measure(&mut self, conn: &PgConn) -> Result<Option<Behind>, OnlineError> {
        let rows = conn.client.query(QUERY, &[]).await?;
        let now = Instant::now();
        // The query returns a row at least (a LEFT JOIN from one row).
        let current: i64 = rows.first().map(|r| r.get(0)).unwrap_or_default();
        self.samples.push_back(Sample { at: now, lsn: current });
        let mut replays = Vec::new();
        let mut worst: Option<Behind> = None;
        for r in rows.iter().filter(|r| r.get::<_, Option<i32>>(1).is_some()) {
            let state: Option<String> = r.get(2);
            let replay: Option<i64> = r.get(5);
            let replied: Option<bool> = r.get(6);
            match state.as_deref() {
                // Only superusers and members of pg_read_all_stats see more than the pid.
                None => return Err(OnlineError::Refused(HIDDEN.into())),
                Some("backup") => continue,
                _ if replay.is_none() && replied == Some(true) => continue,
                _ => {}
            }
            replays.push(replay);
            let view = r.get::<_, Option<i64>>(7).map(|ms| Duration::from_millis(ms.max(0) as u64)).unwrap_or_default();
            let lag = lag_of(&self.samples, now, replay).max(view);
            if worst.as_ref().is_none_or(|w| lag > w.lag) {
                let name: Option<String> = r.get(3);
                let addr: Option<String> = r.get(4);
                let name = name.filter(|n| !n.is_empty()).unwrap_or_else(|| "standby".into());
                worst = Some(Behind { standby: format!("{name} ({})", addr.as_deref().unwrap_or("local")), lag });
            }
        }
        prune(&mut self.samples, &replays);
        Ok(worst)
    }

    /// Wait while the most-behind standby is more than `max` behind, calling
    /// `on_wait(lag, standby)` once that is confirmed and then about once a
    /// second, for at most `at_most`: true when the standbys caught up (or
    /// there are none), false when they are still behind, so that the caller
    /// can look at its job (a pause or cancel) and wait again. Returns at
    /// once when the last wait ended less than 200 ms ago.
    pub async fn wait(
        &mut self,
        conn: &PgConn,
        max: Duration,
        at_most: Duration,
        mut on_wait: impl FnMut(Duration, &str),
    ) -> Result<bool, OnlineError> {
        let started = Instant::now();
        if self.caught_up.is_some_and(|t| t.elapsed() < MIN_INTERVAL) {
            return Ok(true);
        }
        let mut first = self.announced.is_none();
        loop {
            let Some(behind) = self.measure(conn).await?.filter(|b| b.lag > max) else {
                self.caught_up = Some(Instant::now());
                self.announced = None;
                return Ok(true);
            };
            // The first reading may rest on a stale report (see the module
            // doc): it counts once the nudge below has had its answer.
            if !first && self.announced.is_none_or(|t| t.elapsed() >= ANNOUNCE_EVERY) {
                on_wait(behind.lag, &behind.standby);
                self.announced = Some(Instant::now());
            }
            if started.elapsed() >= at_most {
                return Ok(false);
            }
            first = false;
            conn.batch("SELECT pg_current_xact_id()").await?;
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The index of the earliest sample past `replay` (`samples.len()` when
/// there is none); 0 without a replay position: behind since the first.
pub fn first_unreplayed(samples: &VecDeque<Sample>, replay: Option<i64>) -> usize {
    match replay {
        None => 0,
        Some(r) => samples.iter().position(|s| s.lsn > r).unwrap_or(samples.len()),
    }
}

/// How far behind a standby that has replayed up to `replay` is: the age of
/// the earliest sample past it; zero when it has replayed the latest.
pub fn lag_of(samples: &VecDeque<Sample>, now: Instant, replay: Option<i64>) -> Duration {
    samples.get(first_unreplayed(samples, replay)).map(|s| now.saturating_duration_since(s.at)).unwrap_or_default()
}

/// Drop the samples no standby needs: those before the one just before the
/// earliest sample that a standby (at `replays`) has not replayed. With no
/// standby only the latest sample is kept.
pub fn prune(samples: &mut VecDeque<Sample>, replays: &[Option<i64>]) {
    let keep_from =
        replays.iter().map(|&r| first_unreplayed(samples, r).saturating_sub(1)).min().unwrap_or(samples.len().saturating_sub(1));
    samples.drain(..keep_from);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples taken 1 s apart, `secs_ago` before `now`.
    fn samples(now: Instant, points: &[(u64, i64)]) -> VecDeque<Sample> {
        points.iter().map(|&(secs_ago, lsn)| Sample { at: now - Duration::from_secs(secs_ago), lsn }).collect()
    }

    #[test]
    fn the_lag_is_the_age_of_the_earliest_sample_not_replayed() {
        let now = Instant::now();
        let s = samples(now, &[(4, 100), (3, 200), (2, 200), (1, 300), (0, 400)]);
        assert_eq!(lag_of(&s, now, Some(400)), Duration::ZERO, "replayed the latest");
        assert_eq!(lag_of(&s, now, Some(500)), Duration::ZERO);
        assert_eq!(lag_of(&s, now, Some(350)), Duration::ZERO, "only the latest sample is past it");
        assert_eq!(lag_of(&s, now, Some(250)), Duration::from_secs(1));
        assert_eq!(lag_of(&s, now, Some(150)), Duration::from_secs(3), "the earliest of equal positions counts");
        assert_eq!(lag_of(&s, now, Some(200)), Duration::from_secs(1));
        assert_eq!(lag_of(&s, now, Some(50)), Duration::from_secs(4));
        assert_eq!(lag_of(&s, now, None), Duration::from_secs(4), "no replay position: behind since the first sample");
        assert_eq!(lag_of(&VecDeque::new(), now, Some(1)), Duration::ZERO);
    }

    #[test]
    fn a_stalled_standby_falls_further_behind_while_the_primary_writes() {
        // replay stays at 150 while new samples come in: the lag grows with
        // the time since WAL past 150 was first seen, whatever replay_lag says.
        let t0 = Instant::now();
        let mut s = samples(t0, &[(0, 100), (0, 150)]);
        for i in 1..=5u64 {
            s.push_back(Sample { at: t0 + Duration::from_secs(i), lsn: 150 + 10 * i as i64 });
            prune(&mut s, &[Some(150)]);
            let now = t0 + Duration::from_secs(i);
            assert_eq!(lag_of(&s, now, Some(150)), Duration::from_secs(i - 1));
        }
    }

    #[test]
    fn pruning_keeps_one_sample_before_the_least_replayed_position() {
        let now = Instant::now();
        let lsns = |s: &VecDeque<Sample>| s.iter().map(|x| x.lsn).collect::<Vec<_>>();
        let mut s = samples(now, &[(4, 100), (3, 200), (2, 300), (1, 400)]);
        prune(&mut s, &[Some(350), Some(250)]);
        assert_eq!(lsns(&s), [200, 300, 400], "the least-replayed standby decides");
        prune(&mut s, &[Some(1000), None]);
        assert_eq!(lsns(&s), [200, 300, 400], "a standby without a position keeps everything");
        prune(&mut s, &[Some(1000)]);
        assert_eq!(lsns(&s), [400], "all replayed: the latest stays");
        let mut s = samples(now, &[(1, 100), (0, 200)]);
        prune(&mut s, &[]);
        assert_eq!(lsns(&s), [200], "no standby: the latest stays");
        let mut s = samples(now, &[(1, 100), (0, 200)]);
        prune(&mut s, &[Some(50)]);
        assert_eq!(lsns(&s), [100, 200]);
    }
}
