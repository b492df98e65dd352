//! `cargo xtask bench lint --dialect mysql`: lint 10,000 MySQL migration
//! files (the realistic history of `tests/common/mysql_history.rs`: a
//! mysqldump base, then features of ten migrations with their planted
//! mistakes) as MariaDB 10.11, against the MySQL front end alone on the same
//! files (`read_only_mysql`: stepwise's file parser and MySQL reader, on
//! both cores, with mimalloc like `stepwise`). `STEPWISE_BENCH_FILES=500`
//! makes a smaller run (not recorded); `STEPWISE_BENCH_KEEP=1` keeps the
//! generated files (for profiling).

use super::lint::{files_from_env, measure, release_example};
use super::record;

#[path = "../../../crates/stepwise-cli/tests/common/mysql_history.rs"]
mod mysql_history;
use crate::util::{build_stepwise, capture, Result};
use std::path::Path;
use std::process::Command;

const FILES: usize = 10_000;
use super::lint::ROUNDS;

pub fn run() -> Result {
    let count = files_from_env(FILES, 10)?;
    let stepwise = build_stepwise(true)?;
    let floor_bin = release_example("stepwise-lint", "read_only_mysql")?;

    let work = std::env::temp_dir().join(format!("stepwise-bench-lint-mysql-{}", std::process::id()));
    let dir = work.join("migrations");
    let migs = mysql_history::mysql_history((count - 1).div_ceil(10));
    let migs = &migs[..count.min(migs.len())];
    mysql_history::write(&dir, migs);
    let result = bench(count, migs, &work, &dir, &stepwise, &floor_bin);
    if std::env::var_os("STEPWISE_BENCH_KEEP").is_some() {
        eprintln!("kept the generated files in {} (STEPWISE_BENCH_KEEP)", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    let block = result?;
    println!("{block}");
    if count == FILES {
        record("lint_mysql", &block)
    } else {
        eprintln!("not recorded: STEPWISE_BENCH_FILES={count} is not the standard run");
        Ok(())
    }
}

fn bench(count: usize, migs: &[mysql_history::MyMig], work: &Path, dir: &Path, stepwise: &Path, floor_bin: &Path) -> Result<String> {
    let bytes: usize = migs.iter().map(|m| m.text.len()).sum();
    let mb = bytes as f64 / 1e6;
    let planted: usize = migs.iter().filter(|m| !m.expect.is_empty()).count();
    // What lint and the floor see, checked once outside the timings.
    let out = Command::new(stepwise)
        .current_dir(work)
        .args(["lint", "migrations", "--dialect", "mariadb", "--format", "json"])
        .output()
        .map_err(|e| e.to_string())?;
    let json = String::from_utf8_lossy(&out.stdout);
    let compact: String = json.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains(&format!("\"files\":{count}")) || !compact.contains("\"errors\":[]") {
        return Err(format!("lint did not read {count} files without errors: {}", &compact[compact.len().saturating_sub(300)..]));
    }
    let summary = compact.rsplit_once("\"summary\":").and_then(|(_, s)| s.find('}').map(|end| s[..=end].to_string())).unwrap_or_default();
    let floor_out = capture(Command::new(floor_bin).arg(dir))?;
    if !floor_out.contains(" 0 read errors") {
        return Err(format!("the front end alone failed on some files: {}", floor_out.trim()));
    }
    eprintln!("lint summary: {summary}\nfront end alone: {}", floor_out.trim());
    let (l, l_mem) = measure("stepwise lint --dialect mariadb --format json", &[0, 1], || {
        let mut c = Command::new(stepwise);
        c.current_dir(work).args(["lint", "migrations", "--dialect", "mariadb", "--format", "json"]);
        c
    })?;
    let (floor, _) = measure("front end alone (file parser + MySQL reader), 2 threads, mimalloc", &[0], || {
        let mut c = Command::new(floor_bin);
        c.arg(dir).args(["--threads", "2"]);
        c
    })?;
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    Ok(format!(
        "## {}\n\n{count} MySQL migration files ({mb:.1} MB) of the realistic history (tests/common/mysql_history.rs; {planted} planted \
         mistakes), linted as MariaDB 10.11, {cores} cores; median of {ROUNDS} runs after a warm-up.\nLint summary: `{summary}`.\n\n\
         | measure | value |\n| --- | --- |\n\
         | stepwise lint --dialect mariadb --format json | {l:.3} s |\n\
         | files/s | {:.0} |\n\
         | peak memory (RSS) | {:.1} MiB |\n\
         | front end alone: file parser + MySQL reader, 2 threads, mimalloc (floor) | {floor:.3} s |\n\
         | lint / floor | {:.2} (goal <= 1.5) |\n",
        date.trim(),
        count as f64 / l,
        l_mem / 1024.0,
        l / floor,
    ))
}
