//! Replica lag, measured with nothing configured, so that long copies and
//! backfills wait for the replicas to keep up.
//!
//! Each engine reports, for every replica, how far it has applied along some
//! position that only grows (PostgreSQL: the WAL position it replayed;
//! MySQL/MariaDB: the job's own progress as the replica sees it), and the
//! primary's position as it moves. Each position is recorded with the time it
//! was reached; a replica is as far behind as the earliest recorded position
//! it has not applied is old (a replica that has applied none of them is
//! behind since the first). This needs no clock shared between the servers
//! and does not trust a replica's own idea of its lag, which stays small
//! while its replay is stalled. See [`pg`] and [`mysql`] for each engine's
//! positions.

pub mod mysql;
pub mod pg;

use crate::OnlineError;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Checks closer together than this reuse the last one (batches take tens of ms).
const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// How long to sleep between checks while a replica is too far behind.
const POLL: Duration = Duration::from_millis(300);
/// How often a wait is reported while it lasts.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(1);

/// The most-behind replica.
#[derive(Debug, Clone, PartialEq)]
pub struct Behind {
    /// How the engine names it, e.g. `walreceiver (10.0.0.7)`.
    pub standby: String,
    pub lag: Duration,
}

/// The primary's position at a time.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    pub lsn: i64,
}

/// One replica as an engine reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Replica {
    pub name: String,
    /// The position it has applied; None: none yet.
    pub applied: Option<i64>,
    /// Lag the replica reports of itself, counted when it says more.
    pub reported: Duration,
}

/// One reading of the replicas.
#[derive(Debug, Default)]
pub struct Reading {
    /// The primary's position now, when the engine reads it here (engines
    /// that record positions as they make them pass None).
    pub primary: Option<i64>,
    pub replicas: Vec<Replica>,
}

/// Where an engine reads its replicas.
#[allow(async_fn_in_trait)] // used on the caller's task only
pub trait Replicas {
    async fn read(&mut self) -> Result<Reading, OnlineError>;
    /// Make the replicas report afresh, where their reports may be stale.
    async fn nudge(&mut self) -> Result<(), OnlineError>;
}

/// Replica lag of one primary, measured over time (keep one per copy).
#[derive(Debug, Default)]
pub struct ReplicaLag {
    samples: VecDeque<Sample>,
    /// When the last `wait` found every replica close enough.
    caught_up: Option<Instant>,
    /// When the wait under way was last reported (None: not waiting).
    announced: Option<Instant>,
}

impl ReplicaLag {
    pub fn new() -> ReplicaLag {
        ReplicaLag::default()
    }

    /// The primary reached `position` now.
    pub fn record(&mut self, position: i64) {
        self.samples.push_back(Sample { at: Instant::now(), lsn: position });
    }

    /// Measure now: the most-behind replica, or None when there is none.
    pub async fn measure(&mut self, replicas: &mut impl Replicas) -> Result<Option<Behind>, OnlineError> {
        let reading = replicas.read().await?;
        let now = Instant::now();
        if let Some(p) = reading.primary {
            self.samples.push_back(Sample { at: now, lsn: p });
        }
        let mut worst: Option<Behind> = None;
        for r in &reading.replicas {
            let lag = lag_of(&self.samples, now, r.applied).max(r.reported);
            if worst.as_ref().is_none_or(|w| lag > w.lag) {
                worst = Some(Behind { standby: r.name.clone(), lag });
            }
        }
        let applied: Vec<Option<i64>> = reading.replicas.iter().map(|r| r.applied).collect();
        prune(&mut self.samples, &applied);
        Ok(worst)
    }

    /// Wait while the most-behind replica is more than `max` behind, calling
    /// `on_wait(lag, replica)` once that is confirmed and then about once a
    /// second, for at most `at_most`: true when the replicas caught up (or
    /// there are none), false when they are still behind, so that the caller
    /// can look at its job (a pause or cancel) and wait again. Returns at
    /// once when the last wait ended less than 200 ms ago.
    pub async fn wait(
        &mut self,
        replicas: &mut impl Replicas,
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
            let Some(behind) = self.measure(replicas).await?.filter(|b| b.lag > max) else {
                self.caught_up = Some(Instant::now());
                self.announced = None;
                return Ok(true);
            };
            // The first reading may rest on a stale report (see
            // `Replicas::nudge`): it counts once the nudge has had its answer.
            if !first && self.announced.is_none_or(|t| t.elapsed() >= ANNOUNCE_EVERY) {
                on_wait(behind.lag, &behind.standby);
                self.announced = Some(Instant::now());
            }
            if started.elapsed() >= at_most {
                return Ok(false);
            }
            first = false;
            replicas.nudge().await?;
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
