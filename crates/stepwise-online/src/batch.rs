//! Batch sizing and throttling shared by long copies and backfills: batches
//! grow or shrink toward a target duration, a maximum rate is kept by
//! sleeping, a batch that waited too long on a lock is retried smaller, and
//! the work waits while a standby is too far behind (see [`crate::lag`]).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Aim for batches that take this long (each is one short transaction);
    /// None: the default of the work and engine (see [`DEFAULT_TARGET`]).
    pub target: Option<Duration>,
    /// A fixed size instead of adapting to `target`.
    pub fixed_rows: Option<u64>,
    /// At most this many rows per second overall.
    pub max_rate: Option<f64>,
    /// Lock timeout of each batch: below `deadlock_timeout` (1 s by default),
    /// so that in a deadlock the batch is the one that gives way.
    pub lock_timeout: Duration,
    /// Wait between batches while a standby replays more than this far
    /// behind (see [`crate::lag`]); None turns the wait off.
    pub max_replica_lag: Option<Duration>,
    /// Wait between batches while the server runs more statements than
    /// this (see [`crate::load`]); None: never.
    pub max_load: Option<u64>,
    /// Pause the job when the server runs this many; None: never.
    pub critical_load: Option<u64>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            target: None,
            fixed_rows: None,
            max_rate: None,
            lock_timeout: Duration::from_millis(500),
            max_replica_lag: Some(Duration::from_secs(5)),
            // pt-online-schema-change's defaults.
            max_load: Some(25),
            critical_load: Some(50),
        }
    }
}

/// The throttle a job was started with, stored in its spec: a resumed job
/// keeps it unless the resume says otherwise (a 30,000 rows/s backfill
/// resumed without flags ran unthrottled).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Throttle {
    pub max_rate: Option<f64>,
    pub batch_rows: Option<u64>,
    pub batch_time_ms: Option<u64>,
}

impl Throttle {
    pub fn of(b: &BatchOptions) -> Throttle {
        Throttle { max_rate: b.max_rate, batch_rows: b.fixed_rows, batch_time_ms: b.target.map(|t| t.as_millis() as u64) }
    }

    /// Fill in what `b` leaves unset (the batch size and time as a pair).
    pub fn fill(&self, b: &mut BatchOptions) {
        if b.target.is_none() && b.fixed_rows.is_none() {
            b.fixed_rows = self.batch_rows;
            b.target = self.batch_time_ms.map(Duration::from_millis);
        }
        if b.max_rate.is_none() {
            b.max_rate = self.max_rate;
        }
    }
}

/// The batch time where none is asked for. A batch that locks rows (an
/// UPDATE) holds them until it commits, so an application write to one of
/// them can wait this long: 50 ms keeps that wait short (when osc's copy
/// still read its rows FOR SHARE, a 200 ms target gave a foreground p99 of
/// 117 ms under pgbench, 50 ms gave 19 ms, and copied as fast; see
/// bench/results/osc.md). Backfills, whose batches lock every row they
/// change, aim shorter (see `backfill::BATCH_TIME`).
pub const DEFAULT_TARGET: Duration = Duration::from_millis(50);

/// The size of the next batch.
#[derive(Debug, Clone)]
pub struct Sizer {
    rows: u64,
    target: Duration,
    opts: BatchOptions,
}

const MIN_ROWS: u64 = 10;
const MAX_ROWS: u64 = 100_000;

impl Sizer {
    /// Batches toward `opts.target`, else toward `default_target`.
    pub fn new(opts: BatchOptions, default_target: Duration) -> Sizer {
        Sizer { rows: opts.fixed_rows.unwrap_or(1_000), target: opts.target.unwrap_or(default_target), opts }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Learn from a batch of `rows` that took `took`: move toward the target
    /// duration, at most doubling or halving at a time so one slow batch (a
    /// checkpoint, a cold cache) does not swing the size.
    pub fn done(&mut self, rows: u64, took: Duration) {
        if let Some(fixed) = self.opts.fixed_rows {
            // Back to the size asked for after a lock wait made it smaller.
            self.rows = (self.rows * 2).min(fixed);
            return;
        }
        if rows == 0 {
            return;
        }
        let ratio = self.target.as_secs_f64() / took.as_secs_f64().max(1e-4);
        let next = (rows as f64 * ratio.clamp(0.5, 2.0)) as u64;
        self.rows = next.clamp(MIN_ROWS, MAX_ROWS);
    }

    /// A batch gave up on a lock: try a smaller one.
    pub fn lock_timed_out(&mut self) {
        self.rows = (self.rows / 2).max(MIN_ROWS);
    }

    /// How long to pause after a batch of `rows` that took `took`, to stay
    /// under the maximum rate.
    pub fn pause(&self, rows: u64, took: Duration) -> Duration {
        match self.opts.max_rate {
            // The CLI takes rates of one row a minute and more; a library
            // caller's rate too small to represent waits the longest it can.
            Some(rate) if rate > 0.0 => Duration::try_from_secs_f64(rows as f64 / rate).unwrap_or(Duration::MAX).saturating_sub(took),
            _ => Duration::ZERO,
        }
    }

    pub fn lock_timeout(&self) -> Duration {
        self.opts.lock_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_move_toward_the_target_time_within_bounds() {
        let mut s = Sizer::new(BatchOptions { target: Some(Duration::from_millis(200)), ..Default::default() }, DEFAULT_TARGET);
        s.done(1000, Duration::from_millis(50));
        assert_eq!(s.rows(), 2000, "at most doubles");
        s.done(2000, Duration::from_millis(400));
        assert_eq!(s.rows(), 1000, "halves when twice as slow");
        s.done(1000, Duration::from_millis(250));
        assert_eq!(s.rows(), 800);
        s.lock_timed_out();
        assert_eq!(s.rows(), 400);
    }

    #[test]
    fn a_fixed_size_stays_and_the_rate_limit_pauses() {
        let mut s = Sizer::new(BatchOptions { fixed_rows: Some(500), max_rate: Some(1000.0), ..Default::default() }, DEFAULT_TARGET);
        s.done(500, Duration::from_millis(10));
        assert_eq!(s.rows(), 500);
        s.lock_timed_out();
        s.lock_timed_out();
        assert_eq!(s.rows(), 125);
        s.done(125, Duration::from_millis(10));
        s.done(250, Duration::from_millis(10));
        s.done(500, Duration::from_millis(10));
        assert_eq!(s.rows(), 500, "a lock wait does not shrink a fixed size for good");
        assert_eq!(s.pause(500, Duration::from_millis(100)), Duration::from_millis(400));
        assert_eq!(s.pause(500, Duration::from_secs(1)), Duration::ZERO);
    }
}
