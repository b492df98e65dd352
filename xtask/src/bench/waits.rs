//! What pgbench's sessions wait on while a benchmark runs: one psql session
//! samples their wait events in `pg_stat_activity` every 10 ms, and the
//! tally says whether a slow tail is row locks (`Lock:transactionid`), WAL
//! flushes (`IO:WALSync`, `LWLock:WALWrite`), reads, or the relation's
//! extension lock. PostgreSQL keeps no count of lock waits of its own.

use crate::util::Result;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

const TICK: &str = "-- tick";
/// One sample: a line per waiting pgbench session, then the tick.
const SAMPLE: &str = "SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity
  WHERE application_name = 'pgbench' AND state = 'active' AND wait_event IS NOT NULL AND wait_event_type <> 'Client';
SELECT '-- tick';
SELECT pg_sleep(0.01);
";

pub struct Sampler {
    psql: Child,
    feeder: JoinHandle<()>,
    stop: Arc<AtomicBool>,
    out: PathBuf,
}

impl Sampler {
    /// Start sampling the sessions of the database at `url`, the samples going to `out`.
    pub fn start(url: &str, out: &Path) -> Result<Sampler> {
        let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let mut psql = Command::new("psql")
            .args([url, "-X", "-qAt"])
            .stdin(Stdio::piped())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        let mut stdin = psql.stdin.take().ok_or("psql has no stdin")?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // Feeds psql one sample after another until stopped; psql answers
        // each before it reads the next, so the pg_sleep paces them.
        let feeder = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if stdin.write_all(SAMPLE.as_bytes()).and_then(|_| stdin.flush()).is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        Ok(Sampler { psql, feeder, stop, out: out.to_path_buf() })
    }

    /// Stop, and tally: "IO:WALSync 1367, LWLock:WALWrite 609 (in 3012 samples)".
    pub fn stop(mut self) -> Result<String> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.feeder.join();
        // The feeder may be ahead of psql by a few samples; they are not needed.
        let _ = self.psql.kill();
        let _ = self.psql.wait();
        let text = std::fs::read_to_string(&self.out).map_err(|e| format!("{}: {e}", self.out.display()))?;
        Ok(tally(&text))
    }
}

fn tally(text: &str) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut samples = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line == TICK {
            samples += 1;
        } else {
            *counts.entry(line).or_default() += 1;
        }
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = counts.iter().take(4).map(|(e, n)| format!("{e} {n}")).collect();
    let rest: usize = counts.iter().skip(4).map(|c| c.1).sum();
    let mut out = if top.is_empty() { "nothing".to_string() } else { top.join(", ") };
    if rest > 0 {
        out.push_str(&format!(", other {rest}"));
    }
    format!("{out} (in {samples} samples)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_counts_events_by_frequency_and_samples_by_tick() {
        let text = "IO:WALSync\n-- tick\nIO:WALSync\nLWLock:WALWrite\n-- tick\n-- tick\nLock:transactionid\nIO:WALSync\n-- tick\n";
        assert_eq!(tally(text), "IO:WALSync 3, LWLock:WALWrite 1, Lock:transactionid 1 (in 4 samples)");
        assert_eq!(tally("-- tick\n-- tick\n"), "nothing (in 2 samples)");
    }
}
