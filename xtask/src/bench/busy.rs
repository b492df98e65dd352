//! The yardstick for the foreground p99 ratios: sessions that only compute
//! (a loop of arithmetic inside the server: no I/O, no locks, no WAL) under
//! the same load as the work measured, for as long as it ran. On a machine
//! with few cores one busy backend already raises the foreground's tail
//! latency; the benches print that figure beside the work's, so a ratio can
//! be read against what any busy backend costs there.

use crate::util::{capture, Result};
use std::process::Command;

/// One PostgreSQL session computing for `secs` seconds.
pub fn pg(url: &str, secs: f64) -> Result {
    let sql = format!(
        "DO $$ DECLARE stop timestamptz := clock_timestamp() + interval '{secs:.3} seconds'; x float8 := 0;
         BEGIN WHILE clock_timestamp() < stop LOOP x := sqrt(x + 2); END LOOP; END $$"
    );
    capture(Command::new("psql").args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql])).map(drop)
}

/// `sessions` PostgreSQL sessions computing side by side for `secs` seconds.
pub fn pg_sessions(url: &str, sessions: usize, secs: f64) -> Result {
    let handles: Vec<_> = (0..sessions)
        .map(|_| {
            let url = url.to_string();
            std::thread::spawn(move || pg(&url, secs))
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a busy session's thread panicked".to_string())??;
    }
    Ok(())
}
