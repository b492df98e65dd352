//! Benchmarks: each prints its figure next to a baseline measured in the same
//! run, as a ratio, and appends the figures to `bench/results/`.

mod backfill;
mod busy;
mod lint;
mod lint_mysql;
mod lint_rails;
mod load;
mod mariadb_load;
mod osc;
mod osc_mariadb;
mod peer;
mod pgbench;
mod runner;
mod waits;

use crate::util::{root, Result};

pub fn bench(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        Some("runner") => runner::run(),
        Some("lint") if args.get(1).is_some_and(|a| a == "--rails") => lint_rails::run(),
        Some("lint") if args.get(1).is_some_and(|a| a == "--dialect") => match args.get(2).map(String::as_str) {
            Some("mysql" | "mariadb") => lint_mysql::run(),
            Some("postgres") => lint::run(),
            _ => Err("usage: cargo xtask bench lint [--dialect postgres|mysql]".into()),
        },
        Some("lint") => lint::run(),
        Some("osc") if args.get(1).is_some_and(|e| e == "mariadb" || e == "mysql") => osc_mariadb::run(),
        Some("osc") => osc::run(),
        Some("backfill") => backfill::run(&args[1..]),
        _ => Err("usage: cargo xtask bench runner|lint [--dialect mysql|--rails]|osc [mariadb]|backfill [pg|mysql]".into()),
    }
}

/// Append a result block to `bench/results/<name>.md` (the history stays in the repo).
pub fn record(name: &str, block: &str) -> Result {
    let dir = root().join("bench").join("results");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{name}.md"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| format!("# {name} benchmark history\n"));
    text.push('\n');
    text.push_str(block);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("recorded in {}", path.display());
    Ok(())
}

/// Median of a few measurements.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}
