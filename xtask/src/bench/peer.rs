//! What the benches need to measure a tool beside stepwise: pg_repack
//! installed for the server's major version, and a watch on the server
//! while a tool runs: how long its oldest open transaction held back the
//! xmin horizon (vacuum and replicas' cleanup wait for it), and how long
//! any other session waited on a lock.

use crate::util::{capture, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Install Debian's pg_repack for the server's major version, and its
/// extension in `url`'s database.
pub fn ensure_repack(url: &str) -> Result {
    let version = capture(Command::new("psql").args([url, "-XAtc", "SHOW server_version_num"]))?;
    let major = version.trim().parse::<u32>().map_err(|e| format!("server_version_num {version:?}: {e}"))? / 10000;
    crate::setup::install_peer("pg_repack", &format!("postgresql-{major}-repack"))?;
    capture(Command::new("psql").args([url, "-X", "-q", "-c", "CREATE EXTENSION IF NOT EXISTS pg_repack"])).map(drop)
}

/// `pg_repack --table` on database `db` of the local server (it takes no
/// URL): when it started and ended (µs since the epoch).
pub fn repack(db: &str, table: &str) -> Result<(i64, i64)> {
    let start = super::load::now_us();
    capture(Command::new("pg_repack").args(["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "--dbname", db, "--table", table]))?;
    Ok((start, super::load::now_us()))
}

/// A psql session sampling `pg_stat_activity` every 100 ms while a tool runs.
pub struct Watch {
    child: Child,
    /// Kept open: psql ends when its input does.
    _stdin: std::process::ChildStdin,
    /// (oldest transaction of the tool, longest lock wait of anyone else), seconds.
    max: Arc<Mutex<(f64, f64)>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    /// Watch the sessions whose application name is like `tool` (SQL LIKE).
    pub fn start(url: &str, tool: &str) -> Result<Watch> {
        let mut child = Command::new("psql")
            .args([url, "-XAt", "-v", &format!("tool={tool}")])
            // The bench's instrument, not foreground load: named so that
            // `osc --sessions auto` leaves it out, as it leaves out its own.
            .env("PGAPPNAME", "stepwise-bench-watch")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        let mut stdin = child.stdin.take().ok_or("no stdin for psql")?;
        writeln!(
            stdin,
            "SELECT coalesce(max(extract(epoch FROM now() - xact_start)) FILTER (WHERE application_name LIKE :'tool' \
                        AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)), 0),
                    coalesce(max(extract(epoch FROM now() - state_change)) FILTER (WHERE wait_event_type = 'Lock' \
                        AND application_name NOT LIKE :'tool'), 0)
               FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()\n\\watch 0.1"
        )
        .map_err(|e| e.to_string())?;
        let out = child.stdout.take().ok_or("no stdout for psql")?;
        let max = Arc::new(Mutex::new((0.0_f64, 0.0_f64)));
        let seen = Arc::clone(&max);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                let Some((a, b)) = line.split_once('|') else { continue };
                let (Ok(a), Ok(b)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) else { continue };
                if let Ok(mut m) = seen.lock() {
                    m.0 = m.0.max(a);
                    m.1 = m.1.max(b);
                }
            }
        });
        Ok(Watch { child, _stdin: stdin, max, reader: Some(reader) })
    }

    /// (longest the tool kept a transaction open, longest anyone else waited on a lock), seconds.
    pub fn stop(mut self) -> (f64, f64) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.max.lock().map(|m| *m).unwrap_or((f64::NAN, f64::NAN))
    }
}
