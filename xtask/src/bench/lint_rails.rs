//! `cargo xtask bench lint --rails`: lint 5,000 Rails migration files (the
//! realistic history of `tests/common/rails_history.rs`, Rails 4.2 to 8.0
//! styles with planted mistakes), once per adapter, against SQL lint of the
//! same migrations written as SQL files of the same size (the SQL Rails
//! would run, padded with a comment to the .rb file's size: same count,
//! same bytes, same statements). Also the Ruby parser's share: prism alone
//! on the same files, as lint runs it. `STEPWISE_BENCH_FILES=500` makes a
//! smaller run (not recorded).

use super::lint::{files_from_env, measure, release_example, ROUNDS};
use super::record;

#[path = "../../../crates/stepwise-cli/tests/common/rails_history.rs"]
mod rails_history;
use crate::util::{build_stepwise, capture, Result};
use rails_history::{rails_history, write_app, Adapter};
use std::path::Path;
use std::process::Command;

const FILES: usize = 5_000;

pub fn run() -> Result {
    let count = files_from_env(FILES, 10)?;
    let stepwise = build_stepwise(true)?;
    let tool = release_example("stepwise-lint", "rails_tool")?;
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mut block = format!(
        "## {}\n\n{count} Rails migration files per adapter (tests/common/rails_history.rs), {cores} cores; median of {ROUNDS} runs after a warm-up. \
         Baseline: `stepwise lint` of the same migrations as SQL files of the same size (the SQL Rails would run, padded with a comment to the \
         .rb file's bytes).\n\n\
         | adapter | .rb MB | stepwise lint db/migrate | files/s | SQL lint, same size | files/s | Rails / SQL files/s (goal >= 1) | prism alone | prism share |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        date.trim()
    );
    for (adapter, dialect) in [(Adapter::Postgres, "postgres"), (Adapter::MySql, "mysql")] {
        let work = std::env::temp_dir().join(format!("stepwise-bench-lint-rails-{dialect}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let migs = rails_history(count / 8 + 1, adapter);
        let migs = &migs[..count.min(migs.len())];
        write_app(&work, adapter, migs);
        let row = bench(count, migs, &work, &stepwise, &tool, dialect);
        if std::env::var_os("STEPWISE_BENCH_KEEP").is_some() {
            eprintln!("kept the generated files in {} (STEPWISE_BENCH_KEEP)", work.display());
        } else {
            let _ = std::fs::remove_dir_all(&work);
        }
        block.push_str(&row?);
    }
    println!("{block}");
    if count == FILES {
        record("lint_rails", &block)
    } else {
        eprintln!("not recorded: STEPWISE_BENCH_FILES={count} is not the standard run");
        Ok(())
    }
}

fn bench(count: usize, migs: &[rails_history::RailsMig], work: &Path, stepwise: &Path, tool: &Path, dialect: &str) -> Result<String> {
    let bytes: usize = migs.iter().map(|m| m.text.len()).sum();
    let rb_dir = work.join("db/migrate");
    let sql_dir = work.join("migrations");
    let written = capture(Command::new(tool).arg("to-sql").arg(&rb_dir).arg(&sql_dir).arg(dialect))?;
    if !written.contains(&format!("{count} files written")) {
        return Err(format!("to-sql: {written}"));
    }
    // Both read every file without input errors (checked outside the timings).
    for (what, dir) in [("Rails", "db/migrate"), ("SQL", "migrations")] {
        let out = Command::new(stepwise)
            .current_dir(work)
            .args(["lint", dir, "--dialect", dialect, "--format", "json"])
            .output()
            .map_err(|e| e.to_string())?;
        let compact: String = String::from_utf8_lossy(&out.stdout).chars().filter(|c| !c.is_whitespace()).collect();
        if !compact.contains(&format!("\"files\":{count}")) || !compact.contains("\"errors\":[]") {
            return Err(format!(
                "{what} lint did not read {count} files without errors: {}",
                &compact[compact.len().saturating_sub(300)..]
            ));
        }
        let summary = compact.rsplit_once("\"summary\":").map(|(_, s)| s.to_string()).unwrap_or_default();
        eprintln!("{dialect} {what} lint summary: {summary}");
    }
    let (rails, _) = measure(&format!("stepwise lint db/migrate --dialect {dialect}"), &[0, 1], || {
        let mut c = Command::new(stepwise);
        c.current_dir(work).args(["lint", "db/migrate", "--dialect", dialect, "--format", "json"]);
        c
    })?;
    let (sql, _) = measure(&format!("stepwise lint migrations (SQL) --dialect {dialect}"), &[0, 1], || {
        let mut c = Command::new(stepwise);
        c.current_dir(work).args(["lint", "migrations", "--dialect", dialect, "--format", "json"]);
        c
    })?;
    // prism alone: the tool times the parse itself (reading files excluded).
    let mut parse = Vec::new();
    for _ in 0..ROUNDS {
        let out = capture(Command::new(tool).arg("parse").arg(&rb_dir))?;
        let secs: f64 = out
            .split(" parsed in ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .ok_or(format!("parse: {out}"))?;
        parse.push(secs);
    }
    parse.sort_by(f64::total_cmp);
    let prism = parse[parse.len() / 2];
    Ok(format!(
        "| {dialect} | {:.1} | {rails:.3} s | {:.0} | {sql:.3} s | {:.0} | {:.2} | {prism:.3} s | {:.0}% |\n",
        bytes as f64 / 1e6,
        count as f64 / rails,
        count as f64 / sql,
        sql / rails,
        100.0 * prism / rails
    ))
}
