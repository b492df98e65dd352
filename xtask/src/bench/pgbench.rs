//! pgbench as a steady foreground load: started at a fixed rate with
//! per-transaction logs, then read back into a [`Load`].

use super::load::Load;
use crate::util::Result;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The load's shape: transactions per second, clients, pgbench threads.
pub struct Pgbench {
    pub rate: u32,
    pub clients: u32,
    pub threads: u32,
}

impl Pgbench {
    /// Start pgbench for `secs` seconds in its own directory (its
    /// per-transaction logs land in the current directory), running
    /// `scripts` (file name, text, weight).
    pub fn start(&self, dir: &Path, url: &str, scripts: &[(&str, &str, u32)], secs: u64) -> Result<Child> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("pgbench");
        cmd.current_dir(dir).arg("-n");
        for (file, text, weight) in scripts {
            std::fs::write(dir.join(file), text).map_err(|e| e.to_string())?;
            cmd.args(["-f", &format!("{file}@{weight}")]);
        }
        cmd.arg("-l")
            .args(["-R", &self.rate.to_string(), "-c", &self.clients.to_string(), "-j", &self.threads.to_string(), "-T", &secs.to_string()])
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run pgbench: {e}"))
    }
}

/// Wait for pgbench and read its logs (lines: client_id transaction_no time
/// script_no time_epoch time_us [schedule_lag]; `time` is `failed` or
/// `skipped` for those).
pub fn wait(child: Child, dir: &Path) -> Result<Load> {
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let trouble = (!out.status.success()).then(|| {
        let err = String::from_utf8_lossy(&out.stderr);
        format!("pgbench exited with {}: {}", out.status, err.lines().find(|l| l.contains("rror")).unwrap_or("").trim())
    });
    let mut load = Load { txs: Vec::new(), failed: 0, skipped: 0, trouble };
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("pgbench_log.")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 {
                continue;
            }
            match f[2] {
                "failed" => load.failed += 1,
                "skipped" => load.skipped += 1,
                time => {
                    let (Ok(lat), Ok(s), Ok(us)) = (time.parse::<i64>(), f[4].parse::<i64>(), f[5].parse::<i64>()) else { continue };
                    // With --rate, `time` runs from the transaction's actual
                    // start; the lag from its scheduled start is added, so a
                    // client held up by its previous transaction counts too.
                    let lag = f.get(6).and_then(|l| l.parse::<i64>().ok()).unwrap_or(0);
                    load.txs.push((s * 1_000_000 + us, lat + lag));
                }
            }
        }
    }
    if load.txs.is_empty() {
        return Err(format!("pgbench logged no transactions in {}: {}", dir.display(), load.trouble.unwrap_or_default()));
    }
    Ok(load)
}
