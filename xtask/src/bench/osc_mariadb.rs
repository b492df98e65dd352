//! `cargo xtask bench osc mariadb`: on the same 1,000,000-row MariaDB table
//! (`id INT AUTO_INCREMENT` primary key, an int with a secondary index, a
//! 64-character string; rebuilt by the same generator before every run),
//! side by side in one run:
//!
//! - the floor: `INSERT INTO copy SELECT * FROM items` into a table with the
//!   same indexes (what copying the rows costs at least);
//! - `stepwise osc items --alter "MODIFY id BIGINT NOT NULL AUTO_INCREMENT"`
//!   then `osc finish` (its time includes the verification of every range);
//! - `pt-online-schema-change` (Debian's percona-toolkit) with its defaults
//!   and the same ALTER, `--execute` (it drops the old table itself).
//!
//! First on an idle server (median of three rounds), then each tool once
//! more under a fixed-rate foreground load (the bench's own generator, 300
//! transactions a second from 4 clients, each a read and an update of one
//! random row): the foreground's p99 and longest transaction while the tool
//! ran, failed transactions, and the rows per second the tool achieved.

use super::load::{max, now_us, percentile};
use super::mariadb_load::MariadbLoad;
use super::{median, record};
use crate::util::{build_stepwise, capture, Result};
use std::process::Command;
use std::time::Instant;

const ROUNDS: usize = 3;
const DB: &str = "stepwise_bench_osc";
const ROWS: u64 = 1_000_000;
const ALTER: &str = "MODIFY id BIGINT NOT NULL AUTO_INCREMENT";

fn sql(db: &str, statements: &str) -> Result<String> {
    capture(Command::new("mariadb").args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", db, "-e", statements]))
}

fn fresh() -> Result {
    sql(
        DB,
        &format!(
            "DROP TABLE IF EXISTS items, items_copy, stepwise_jobs;
             CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, b VARCHAR(64) NOT NULL, KEY items_a (a)) ENGINE = InnoDB;
             INSERT INTO items (a, b) SELECT seq % 100000, CONCAT(MD5(seq), MD5(seq + 1)) FROM seq_1_to_{ROWS};
             ANALYZE TABLE items;"
        ),
    )?;
    Ok(())
}

/// Seconds `f` took.
fn timed(f: impl FnOnce() -> Result) -> Result<f64> {
    let t0 = Instant::now();
    f()?;
    Ok(t0.elapsed().as_secs_f64())
}

fn check_rows() -> Result {
    let n = sql(DB, "SELECT COUNT(*) FROM items")?;
    let ty = sql(
        DB,
        "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'id'",
    )?;
    if n.trim() != ROWS.to_string() || ty.trim() != "bigint" {
        return Err(format!("after the change: {} rows, id {}", n.trim(), ty.trim()));
    }
    Ok(())
}

/// pt-online-schema-change with its defaults, then the check.
fn pt_osc() -> Result {
    capture(Command::new("pt-online-schema-change").args([
        "--alter",
        ALTER,
        &format!("h=127.0.0.1,P=3306,u=root,D={DB},t=items"),
        "--execute",
    ]))?;
    check_rows()
}

/// stepwise osc, then `osc finish`, then the check.
fn stepwise_osc(stepwise: &std::path::Path, url: &str) -> Result {
    capture(Command::new(stepwise).args(["--database-url", url, "osc", "items", "--alter", ALTER]))?;
    capture(Command::new(stepwise).args(["--database-url", url, "osc", "finish"]))?;
    check_rows()
}

const LOAD: MariadbLoad = MariadbLoad { rate: 300, clients: 4 };
const LOAD_STATEMENTS: &[&str] = &["SELECT a, b FROM items WHERE id = {id}", "UPDATE items SET a = a + 1 WHERE id = {id}"];
/// The load runs this long; each tool starts after [`WARMUP_SECS`] and must end within it.
const LOAD_SECS: u64 = 40;
const WARMUP_SECS: u64 = 3;

/// One tool under the foreground load.
struct Loaded {
    secs: f64,
    p99_ms: f64,
    max_ms: f64,
    /// p99 of the seconds before the tool started (the load alone).
    idle_p99_ms: f64,
    failed: usize,
    /// The first error a foreground transaction met.
    error: Option<String>,
}

/// Run `tool` under [`LOAD`] on a fresh table.
fn under_load(rt: &tokio::runtime::Runtime, url: &str, tool: impl FnOnce() -> Result) -> Result<Loaded> {
    fresh()?;
    let load_start = now_us();
    let running = LOAD.start(rt, url, LOAD_STATEMENTS, ROWS, LOAD_SECS)?;
    std::thread::sleep(std::time::Duration::from_secs(WARMUP_SECS));
    let start = now_us();
    let secs = timed(tool)?;
    let end = now_us();
    let load = running.wait(rt)?;
    if load.last_end() < end {
        return Err(format!("the tool ran {secs:.1} s, longer than the load's window of {LOAD_SECS} s"));
    }
    let during = load.latencies_ms(start, end);
    Ok(Loaded {
        secs,
        p99_ms: percentile(during.clone(), 99.0),
        max_ms: max(&during),
        idle_p99_ms: percentile(load.latencies_ms(load_start + 1_000_000, start), 99.0),
        failed: load.failed,
        error: load.trouble.clone(),
    })
}

fn loaded_row(name: &str, l: &Loaded) -> String {
    format!(
        "| {name} | {:.2} s | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} |\n",
        l.secs,
        ROWS as f64 / l.secs,
        l.p99_ms,
        l.max_ms,
        l.idle_p99_ms,
        l.failed
    )
}

pub fn run() -> Result {
    let stepwise = build_stepwise(true)?;
    sql("", &format!("DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB}"))?;
    let url = format!("mysql://root@127.0.0.1:3306/{DB}");
    let pt = crate::setup::install_peer("pt-online-schema-change", "percona-toolkit").is_ok();
    let (mut floor, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        fresh()?;
        let f = timed(|| {
            sql(DB, "CREATE TABLE items_copy LIKE items; INSERT INTO items_copy SELECT * FROM items; DROP TABLE items_copy").map(|_| ())
        })?;
        eprintln!("round {round}: floor {f:.2} s");
        floor.push(f);

        let s = timed(|| stepwise_osc(&stepwise, &url))?;
        eprintln!("round {round}: stepwise osc + finish {s:.2} s");
        ours.push(s);

        if pt {
            fresh()?;
            let p = timed(pt_osc)?;
            eprintln!("round {round}: pt-online-schema-change {p:.2} s");
            theirs.push(p);
        }
    }
    // Under the foreground load, once each.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| e.to_string())?;
    let ours_loaded = under_load(&rt, &url, || stepwise_osc(&stepwise, &url))?;
    eprintln!("under load: stepwise {:.2} s, p99 {:.1} ms, longest {:.1} ms", ours_loaded.secs, ours_loaded.p99_ms, ours_loaded.max_ms);
    let theirs_loaded = if pt {
        let l = under_load(&rt, &url, pt_osc)?;
        eprintln!("under load: pt-online-schema-change {:.2} s, p99 {:.1} ms, longest {:.1} ms", l.secs, l.p99_ms, l.max_ms);
        Some(l)
    } else {
        None
    };
    sql("", &format!("DROP DATABASE IF EXISTS {DB}"))?;
    let version = sql("", "SELECT VERSION()")?.trim().to_string();
    let (f, s) = (median(floor), median(ours));
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default().trim().to_string();
    let pt_rows = if theirs.is_empty() {
        "| pt-online-schema-change | not measured: install percona-toolkit |\n".to_string()
    } else {
        let p = median(theirs);
        format!(
            "| pt-online-schema-change 3.2.1 (defaults, `--execute`) | {p:.2} s |\n| stepwise / pt-online-schema-change | {:.2} (goal <= 0.7) |\n",
            s / p
        )
    };
    let block = format!(
        "## {date}\n\n`{ALTER}` on a {ROWS}-row MariaDB table (int auto-increment key, an indexed int, a 64-character string), {version}, \
         2 cores, idle server; median of {ROUNDS} rounds, the table rebuilt before each run.\n\n\
         | measure | value |\n| --- | --- |\n\
         | floor: `INSERT INTO copy SELECT * FROM items` (same indexes) | {f:.2} s |\n\
         | stepwise osc + finish (copy, verify every range, swap, drop) | {s:.2} s |\n\
         | stepwise / floor | {:.2} (goal <= 1.5) |\n\
         {pt_rows}\n\
         Under a foreground load of {} transactions a second from {} clients (each a read and an update of one random row, \
         latency from when it was due), each tool once on a fresh table:\n\n\
         | tool | time | rows/s | foreground p99 | longest transaction | p99 before the tool started | failed transactions |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n\
         {}{}",
        s / f,
        LOAD.rate,
        LOAD.clients,
        loaded_row("stepwise osc + finish", &ours_loaded),
        theirs_loaded.as_ref().map(|l| loaded_row("pt-online-schema-change", l)).unwrap_or_default()
    );
    let mut block = block;
    for (name, l) in [("stepwise", Some(&ours_loaded)), ("pt-online-schema-change", theirs_loaded.as_ref())] {
        if let Some(e) = l.and_then(|l| l.error.as_ref()) {
            block.push_str(&format!("\nThe first foreground error under {name}: {e}\n"));
        }
    }
    println!("{block}");
    record("osc_mariadb", &block)
}
