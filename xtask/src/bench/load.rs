//! What a foreground load did while a benchmark ran: each transaction's end
//! and latency, and the percentiles the benchmarks report. pgbench's logs
//! fill it on PostgreSQL ([`super::pgbench`]), the bench's own load
//! generator on MariaDB ([`super::mariadb_load`]).

use std::time::{SystemTime, UNIX_EPOCH};

/// Each transaction's end (µs since the epoch) and latency (µs, from its
/// scheduled start, so time spent queued behind a slow one counts).
pub struct Load {
    pub txs: Vec<(i64, i64)>,
    pub failed: usize,
    pub skipped: usize,
    /// The load's own complaint when it did not end cleanly (clients aborted).
    pub trouble: Option<String>,
}

impl Load {
    /// Latencies (ms) of the transactions that overlap `[from, to]`.
    pub fn latencies_ms(&self, from: i64, to: i64) -> Vec<f64> {
        self.txs.iter().filter(|&&(end, lat)| end >= from && end - lat <= to).map(|&(_, lat)| lat as f64 / 1000.0).collect()
    }

    pub fn all_ms(&self) -> Vec<f64> {
        self.latencies_ms(i64::MIN, i64::MAX)
    }

    /// When the last transaction ended (µs since the epoch).
    pub fn last_end(&self) -> i64 {
        self.txs.iter().map(|t| t.0).max().unwrap_or(0)
    }
}

/// Microseconds since the epoch: the clock pgbench's logs use.
pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// The `p`-th percentile (0..=100), nearest rank.
pub fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}
