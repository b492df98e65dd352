//! `cargo xtask bench runner`: apply 1,000 single-statement migrations to an
//! empty database, each committed separately, against `psql -f` running the
//! same statements, each in its own transaction, from one file (the floor).

use super::{median, record};
use crate::util::{build_stepwise, capture, Result};
use std::process::{Command, Stdio};
use std::time::Instant;

const MIGRATIONS: usize = 1000;
const ROUNDS: usize = 5;
const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DB: &str = "stepwise_bench_runner";

fn url() -> String {
    format!("postgres://postgres@127.0.0.1:5432/{DB}")
}

fn fresh_db() -> Result {
    capture(Command::new("psql").args([ADMIN, "-X", "-q", "-c", &format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)")]))?;
    capture(Command::new("psql").args([ADMIN, "-X", "-q", "-c", &format!("CREATE DATABASE {DB}")]))?;
    Ok(())
}

/// Wall seconds and peak RSS in KiB of a command, via GNU time.
fn timed(cmd: &mut Command) -> Result<(f64, u64)> {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped.arg("-f").arg("%M").arg(program).args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    let start = Instant::now();
    let out = wrapped.output().map_err(|e| format!("cannot run /usr/bin/time (apt-get install time): {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("benchmark command failed: {stderr}"));
    }
    let kib = stderr.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    Ok((secs, kib))
}

pub fn run() -> Result {
    crate::setup::setup()?;
    let stepwise = build_stepwise(true)?;
    let dir = std::env::temp_dir().join(format!("stepwise-bench-runner-{}", std::process::id()));
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(|e| e.to_string())?;
    let mut floor_sql = String::new();
    for i in 1..=MIGRATIONS {
        let stmt = format!("CREATE TABLE t_{i} (id bigint PRIMARY KEY)");
        std::fs::write(
            migrations.join(format!("{i:05}_t_{i}.sql")),
            format!("-- stepwise:up\n{stmt};\n-- stepwise:down\nDROP TABLE t_{i};\n"),
        )
        .map_err(|e| e.to_string())?;
        floor_sql.push_str(&format!("BEGIN;\n{stmt};\nCOMMIT;\n"));
    }
    let floor_file = dir.join("floor.sql");
    std::fs::write(&floor_file, floor_sql).map_err(|e| e.to_string())?;

    let (mut floor, mut ours, mut mem) = (vec![], vec![], vec![]);
    for round in 1..=ROUNDS {
        fresh_db()?;
        let (secs, _) = timed(Command::new("psql").args([url().as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"]).arg(&floor_file))?;
        floor.push(secs);
        fresh_db()?;
        let (secs, kib) = timed(Command::new(&stepwise).current_dir(&dir).env("DATABASE_URL", url()).arg("migrate"))?;
        let applied = capture(Command::new("psql").args([
            url().as_str(),
            "-X",
            "-qAt",
            "-c",
            "SELECT count(*) FROM stepwise.migrations WHERE status = 'applied'",
        ]))?;
        if applied.trim() != MIGRATIONS.to_string() {
            return Err(format!("stepwise applied {} migrations, expected {MIGRATIONS}", applied.trim()));
        }
        ours.push(secs);
        mem.push(kib as f64);
        eprintln!("round {round}: psql -f {:.3}s, stepwise {:.3}s, peak {kib} KiB", floor[round - 1], secs);
    }
    capture(Command::new("psql").args([ADMIN, "-X", "-q", "-c", &format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)")]))?;
    let _ = std::fs::remove_dir_all(&dir);

    let (f, s, m) = (median(floor), median(ours), median(mem));
    let ratio = s / f;
    let version = capture(Command::new("psql").args([ADMIN, "-X", "-qAt", "-c", "SHOW server_version"])).unwrap_or_default();
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let block = format!(
        "## {}\n\n1,000 single-statement migrations (`CREATE TABLE t_i (id bigint PRIMARY KEY)`), each committed separately, \
         PostgreSQL {} on 127.0.0.1, {} cores; median of {ROUNDS} rounds.\n\n\
         | measure | value |\n| --- | --- |\n| psql -f (floor) | {:.3} s |\n| stepwise migrate | {:.3} s |\n| time per migration | {:.3} ms |\n\
         | peak memory (RSS) | {:.1} MiB |\n| ratio to floor | {:.3} (goal <= 1.1) |\n",
        date.trim(),
        version.trim(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        f,
        s,
        s * 1000.0 / MIGRATIONS as f64,
        m / 1024.0,
        ratio
    );
    println!("{block}");
    record("runner", &block)
}
