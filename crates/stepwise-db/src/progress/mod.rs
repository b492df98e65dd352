//! How far long DDL in flight is, from the server's progress reports:
//! PostgreSQL's `pg_stat_progress_*` views (`pg`), MariaDB's processlist
//! stages and MySQL 8's performance_schema stages (`mysql`). The phase
//! weights that turn a phase and its counters into one fraction are here,
//! pure, so `progress` and `migrate` tell the same story.

pub mod mysql;
pub mod pg;

use serde::Serialize;

/// One statement the server reports progress for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DdlProgress {
    /// PostgreSQL backend pid, MySQL thread id.
    pub id: i64,
    /// `CREATE INDEX CONCURRENTLY`, `CLUSTER`, `VACUUM FULL`, `VACUUM`, `ALTER TABLE`, ...
    pub command: String,
    pub table: String,
    /// The index being built, where there is one.
    pub index: Option<String>,
    /// The server's words for the current phase.
    pub phase: String,
    /// Work done and total in the current phase, in `unit`.
    pub done: Option<i64>,
    pub total: Option<i64>,
    pub unit: String,
    /// The whole statement, 0 to 1, estimated from the phase and its counters.
    pub fraction: Option<f64>,
    /// Sessions it waits for (old snapshots, writers, readers), if it waits.
    pub waiting_for: Vec<i64>,
    pub elapsed_secs: Option<f64>,
    /// Seconds left at the rate so far (None until there is a rate).
    pub eta_secs: Option<f64>,
}

impl DdlProgress {
    /// Fill in the ETA from the elapsed time and the fraction.
    pub fn with_eta(mut self) -> DdlProgress {
        // A wait for other sessions lasts as long as they do: no rate tells.
        let waiting = !self.waiting_for.is_empty() || self.phase.starts_with("waiting");
        self.eta_secs = if waiting { None } else { eta(self.elapsed_secs, self.fraction) };
        self
    }

    /// One line: `CREATE INDEX CONCURRENTLY items_a_idx on public.items: building index: scanning table 45% (1234/5000 blocks), 12s, about 15s left`.
    pub fn line(&self) -> String {
        let mut s = self.command.clone();
        if let Some(i) = &self.index {
            s.push_str(&format!(" {i}"));
        }
        if !self.table.is_empty() {
            s.push_str(&format!(" on {}", self.table));
        }
        s.push_str(&format!(": {}", self.phase));
        if let Some(f) = self.fraction {
            s.push_str(&format!(", {:.0}% done", f * 100.0));
        }
        if let (Some(d), Some(t)) = (self.done, self.total) {
            if t > 0 {
                s.push_str(&format!(" ({d}/{t} {} in this phase)", self.unit));
            }
        }
        if !self.waiting_for.is_empty() {
            let ids: Vec<String> = self.waiting_for.iter().map(|p| p.to_string()).collect();
            s.push_str(&format!(", waiting for session {}", ids.join(", ")));
        }
        if let Some(e) = self.elapsed_secs {
            s.push_str(&format!(", running {}", human_secs(e)));
        }
        if let Some(left) = self.eta_secs {
            s.push_str(&format!(", about {} left", human_secs(left)));
        }
        s
    }
}

/// Seconds left when `fraction` of the work took `elapsed`; None before
/// there is enough to go on (under 1%) or when it cannot be told.
pub fn eta(elapsed: Option<f64>, fraction: Option<f64>) -> Option<f64> {
    let (e, f) = (elapsed?, fraction?);
    ((0.01..1.0).contains(&f) && e.is_finite()).then(|| e * (1.0 - f) / f)
}

pub fn human_secs(t: f64) -> String {
    if t >= 3600.0 {
        format!("{:.1}h", t / 3600.0)
    } else if t >= 60.0 {
        format!("{}m{:02}s", (t / 60.0).floor() as u64, (t % 60.0).floor() as u64)
    } else {
        format!("{t:.0}s")
    }
}

fn ratio(done: Option<i64>, total: Option<i64>) -> f64 {
    match (done, total) {
        (Some(d), Some(t)) if t > 0 => (d as f64 / t as f64).clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// The share of a CREATE INDEX (or REINDEX) that lies before `phase`, and
/// the share `phase` itself takes, as measured roughly on a b-tree build:
/// the table scans dominate; CONCURRENTLY scans the table twice.
fn index_span(concurrent: bool, phase: &str) -> (f64, f64) {
    let table = phase.contains("scanning table");
    match (concurrent, phase) {
        (_, "initializing") => (0.0, 0.0),
        (true, p) if p.starts_with("waiting for writers before build") => (0.0, 0.0),
        (true, p) if p.starts_with("building index") && table => (0.0, 0.40),
        (true, p) if p.starts_with("building index") && p.contains("sorting") => (0.40, 0.05),
        (true, p) if p.starts_with("building index") => (0.45, 0.10),
        (true, p) if p.starts_with("waiting for writers before validation") => (0.55, 0.0),
        (true, p) if p.starts_with("index validation: scanning index") => (0.55, 0.10),
        (true, p) if p.starts_with("index validation: sorting") => (0.65, 0.05),
        (true, p) if p.starts_with("index validation: scanning table") => (0.70, 0.25),
        (true, p) if p.starts_with("waiting for old snapshots") => (0.95, 0.04),
        (true, _) => (0.99, 0.0),
        (false, p) if p.starts_with("building index") && table => (0.0, 0.75),
        (false, p) if p.starts_with("building index") && p.contains("sorting") => (0.75, 0.05),
        (false, p) if p.starts_with("building index") => (0.80, 0.20),
        (false, _) => (0.0, 0.0),
    }
}

/// The whole CREATE INDEX, 0 to 1, from its phase and that phase's counters.
pub fn index_fraction(concurrent: bool, phase: &str, done: Option<i64>, total: Option<i64>) -> f64 {
    let (before, share) = index_span(concurrent, phase);
    before + share * ratio(done, total)
}

/// CLUSTER and VACUUM FULL: the heap is copied, then the indexes rebuilt.
pub fn cluster_fraction(phase: &str, done: Option<i64>, total: Option<i64>) -> f64 {
    match phase {
        "seq scanning heap" | "index scanning heap" => 0.7 * ratio(done, total),
        "sorting tuples" => 0.7,
        "writing new heap" => 0.75,
        "swapping relation files" => 0.8,
        "rebuilding index" => 0.85,
        "performing final cleanup" => 0.98,
        _ => 0.0,
    }
}

/// VACUUM: the heap is scanned, indexes vacuumed, then the heap vacuumed.
pub fn vacuum_fraction(phase: &str, scanned: Option<i64>, vacuumed: Option<i64>, total: Option<i64>) -> f64 {
    match phase {
        "scanning heap" => 0.6 * ratio(scanned, total),
        "vacuuming indexes" => 0.6,
        "vacuuming heap" => 0.7 + 0.25 * ratio(vacuumed, total),
        "cleaning up indexes" => 0.95,
        "truncating heap" | "performing final cleanup" => 0.98,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_fraction_grows_through_the_phases() {
        let phases = [
            ("initializing", None, None),
            ("waiting for writers before build", None, None),
            ("building index: scanning table", Some(10), Some(100)),
            ("building index: scanning table", Some(90), Some(100)),
            ("building index: sorting live tuples", None, None),
            ("building index: loading tuples in tree", Some(50), Some(100)),
            ("waiting for writers before validation", None, None),
            ("index validation: scanning index", Some(5), Some(10)),
            ("index validation: sorting tuples", None, None),
            ("index validation: scanning table", Some(50), Some(100)),
            ("waiting for old snapshots", Some(1), Some(2)),
        ];
        let mut last = -1.0;
        for (p, d, t) in phases {
            let f = index_fraction(true, p, d, t);
            assert!(f >= last && (0.0..=1.0).contains(&f), "{p}: {f} after {last}");
            last = f;
        }
        assert!(index_fraction(false, "building index: scanning table", Some(50), Some(100)) > 0.3);
        assert_eq!(index_fraction(false, "building index: scanning table", Some(50), Some(0)), 0.0);
    }

    #[test]
    fn eta_needs_a_rate() {
        assert_eq!(eta(Some(10.0), Some(0.5)), Some(10.0));
        assert_eq!(eta(Some(10.0), Some(0.0)), None);
        assert_eq!(eta(Some(10.0), Some(1.0)), None);
        assert_eq!(eta(None, Some(0.5)), None);
        assert_eq!(human_secs(75.0), "1m15s");
    }
}
