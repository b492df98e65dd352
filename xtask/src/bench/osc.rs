//! `cargo xtask bench osc`: `stepwise osc orders --alter "ALTER COLUMN id
//! TYPE bigint"` on a 1,000,000-row table (about 190 MB with its two
//! indexes), against a plain `INSERT INTO copy SELECT * FROM orders` into a
//! table with the same indexes (the floor: what copying the rows costs at
//! least). Then the same osc under a steady pgbench load (reads, updates and
//! a few inserts by id), against the same load without osc: latency
//! percentiles, the longest transaction around the swap, and the copy rate.
//!
//! Every osc run starts from the same table: after each run (and `osc
//! finish`) the table is rebuilt by the same deterministic generator.

use super::busy;
use super::load::{max, now_us, percentile};
use super::peer;
use super::pgbench::{wait as wait_pgbench, Pgbench};
use super::{median, record};
use crate::util::{build_stepwise, capture, Result};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;
const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DB: &str = "stepwise_bench_osc";
const TABLE: &str = "orders";
const ALTER: &str = "ALTER COLUMN id TYPE bigint";
/// The foreground load: transactions per second, clients, pgbench threads.
const RATE: u32 = 300;
const CLIENTS: u32 = 4;
const THREADS: u32 = 2;
const LOAD: Pgbench = Pgbench { rate: RATE, clients: CLIENTS, threads: THREADS };
/// Seconds of load before osc starts, so the "during" figures skip pgbench's start.
const WARMUP_SECS: u64 = 5;
/// Other runs under the load beside the first with the defaults
/// (`--sessions auto`, `--max-load 25`): the defaults and `--sessions 2` in
/// turns (a single p99 on this machine swings), then lower `--max-load`s.
const VARIANTS: &[&[&str]] =
    &[&["--sessions", "2"], &[], &["--sessions", "2"], &[], &["--sessions", "2"], &["--max-load", "2"], &["--max-load", "1"]];

/// 1,000,000 rows of about 160 bytes; the same rows every time (the
/// backfill bench starts from this table too).
pub(super) const CREATE: &[&str] = &[
    "DROP TABLE IF EXISTS orders CASCADE",
    "CREATE TABLE orders (
         id serial PRIMARY KEY,
         account_id int NOT NULL,
         status text NOT NULL,
         amount int NOT NULL,
         note text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         updated_at timestamptz NOT NULL DEFAULT now()
     )",
    "INSERT INTO orders (account_id, status, amount, note, created_at, updated_at)
     SELECT i::bigint * 7919 % 100000, (ARRAY['new', 'paid', 'shipped', 'done'])[1 + i % 4], i * 31 % 10000,
            repeat(md5(i::text), 3), timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-01' + i * interval '1 second'
       FROM generate_series(1, 1000000) i",
    "CREATE INDEX orders_account_id ON orders (account_id)",
    "VACUUM ANALYZE orders",
];

/// pgbench scripts and their weights: 90% read then update a row, 10% insert.
const READ_WRITE: &str = "\\set id random(1, 1000000)
SELECT amount, note FROM orders WHERE id = :id;
UPDATE orders SET amount = amount + 1, updated_at = now() WHERE id = :id;
";
const INSERT: &str = "\\set id random(1, 1000000)
INSERT INTO orders (account_id, status, amount, note) VALUES (:id % 100000, 'new', 1, 'inserted by pgbench');
";

fn url() -> String {
    format!("postgres://postgres@127.0.0.1:5432/{DB}")
}

/// Run statements in the bench database, each on its own (so VACUUM can run
/// outside a transaction block); returns the output of the last.
fn psql(statements: &[&str]) -> Result<String> {
    let mut cmd = Command::new("psql");
    cmd.args([url().as_str(), "-X", "-qAt", "-v", "ON_ERROR_STOP=1"]);
    for s in statements {
        cmd.args(["-c", s]);
    }
    Ok(capture(&mut cmd)?.trim().to_string())
}

fn admin(sql: &str) -> Result {
    capture(Command::new("psql").args([ADMIN, "-X", "-q", "-c", sql])).map(drop)
}

/// The current WAL position, to measure how much a step writes.
fn wal_lsn() -> Result<String> {
    psql(&["SELECT pg_current_wal_lsn()"])
}

fn wal_mb_since(lsn: &str) -> Result<f64> {
    let bytes = psql(&[&format!("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn}')")])?;
    Ok(bytes.parse::<f64>().unwrap_or(0.0) / 1e6)
}

/// One floor run: seconds and WAL MB of `INSERT INTO orders_copy SELECT * FROM orders`.
fn floor_once() -> Result<(f64, f64)> {
    psql(&["DROP TABLE IF EXISTS orders_copy", "CREATE TABLE orders_copy (LIKE orders INCLUDING ALL)", "CHECKPOINT"])?;
    let lsn = wal_lsn()?;
    let start = Instant::now();
    psql(&["INSERT INTO orders_copy SELECT * FROM orders"])?;
    let secs = start.elapsed().as_secs_f64();
    let wal = wal_mb_since(&lsn)?;
    psql(&["DROP TABLE orders_copy"])?;
    Ok((secs, wal))
}

/// A JSON event line from `stepwise osc --format json`, with the time it arrived.
struct Event {
    at: i64,
    line: String,
}

impl Event {
    fn is(&self, kind: &str) -> bool {
        self.line.contains(&format!("\"event\":\"{kind}\""))
    }

    /// The number after `"key":` (the events are flat JSON objects).
    fn number(&self, key: &str) -> Option<f64> {
        let rest = self.line.split_once(&format!("\"{key}\":"))?.1;
        let end = rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len());
        rest[..end].parse().ok()
    }
}

/// One `stepwise osc` run: when it started and ended (µs since the epoch) and its events.
struct OscRun {
    start: i64,
    end: i64,
    events: Vec<Event>,
}

impl OscRun {
    fn secs(&self) -> f64 {
        (self.end - self.start) as f64 / 1e6
    }

    fn first(&self, kind: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.is(kind))
    }

    fn lock_held_ms(&self) -> f64 {
        self.first("swapped").and_then(|e| e.number("lock_held_ms")).unwrap_or(f64::NAN)
    }

    /// The copy's rate, from its last progress event (rows copied since it started).
    fn rows_per_sec(&self) -> f64 {
        self.events.iter().rev().find(|e| e.is("copied")).and_then(|e| e.number("rows_per_sec")).unwrap_or(f64::NAN)
    }

    /// How many times the copy waited on `--max-load`.
    fn load_waits(&self) -> usize {
        self.events.iter().filter(|e| e.is("loaded")).count()
    }

    fn lock_waits(&self) -> usize {
        self.events.iter().filter(|e| e.is("lock_wait")).count()
    }

    /// Seconds from one event to the next: setup (to `started`), triggers and
    /// copy (to the last `copied`), verification and ANALYZE (to `verified`),
    /// swap (to `swapped`, lock waits included).
    fn phases(&self) -> [f64; 4] {
        let at = |e: Option<&Event>, or: i64| e.map(|e| e.at).unwrap_or(or);
        let started = at(self.first("started"), self.start);
        let copied = at(self.events.iter().rev().find(|e| e.is("copied")), started);
        let verified = at(self.first("verified"), copied);
        let swapped = at(self.first("swapped"), verified);
        [started - self.start, copied - started, verified - copied, swapped - verified].map(|us| us as f64 / 1e6)
    }
}

/// `setup / copy / verify / swap` seconds, for the tables.
fn show_phases(p: [f64; 4]) -> String {
    format!("{:.2} / {:.2} / {:.2} / {:.3} s", p[0], p[1], p[2], p[3])
}

/// Run `stepwise osc orders --alter ...` to the swap, time-stamping its events as they come.
fn osc(stepwise: &Path, work: &Path, extra: &[&str]) -> Result<OscRun> {
    let stderr = std::fs::File::create(work.join("osc.stderr")).map_err(|e| e.to_string())?;
    let start = now_us();
    let mut child = Command::new(stepwise)
        .current_dir(work)
        .env("DATABASE_URL", url())
        .args(["osc", TABLE, "--alter", ALTER, "--format", "json"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", stepwise.display()))?;
    let mut events = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            events.push(Event { at: now_us(), line: line.map_err(|e| e.to_string())? });
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let run = OscRun { start, end: now_us(), events };
    if !status.success() || run.first("swapped").is_none() {
        let lines: Vec<&str> = run.events.iter().rev().take(3).map(|e| e.line.as_str()).collect();
        let err = std::fs::read_to_string(work.join("osc.stderr")).unwrap_or_default();
        return Err(format!("stepwise osc did not swap ({status}): {} {}", lines.join(" | "), err.trim()));
    }
    Ok(run)
}

/// `stepwise osc finish` (drops the old table); its seconds.
fn finish(stepwise: &Path, work: &Path) -> Result<f64> {
    let start = Instant::now();
    capture(Command::new(stepwise).current_dir(work).env("DATABASE_URL", url()).args(["osc", "finish"]))?;
    Ok(start.elapsed().as_secs_f64())
}

/// The foreground load: pgbench at a fixed rate, 90% read-write, 10% insert.
fn start_pgbench(dir: &Path, secs: u64) -> Result<Child> {
    LOAD.start(dir, &url(), &[("read_write.sql", READ_WRITE, 9), ("insert.sql", INSERT, 1)], secs)
}

pub fn run() -> Result {
    crate::setup::setup()?;
    let stepwise = build_stepwise(true)?;
    let work = std::env::temp_dir().join(format!("stepwise-bench-osc-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    admin(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))?;
    admin(&format!("CREATE DATABASE {DB}"))?;
    peer::ensure_repack(&url())?;
    let result = bench(&stepwise, &work);
    admin(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))?;
    let _ = std::fs::remove_dir_all(&work);
    let block = result?;
    println!("{block}");
    record("osc", &block)
}

fn bench(stepwise: &Path, work: &Path) -> Result<String> {
    eprintln!("creating the 1,000,000-row table");
    psql(CREATE)?;
    let size = psql(&["SELECT pg_size_pretty(pg_total_relation_size('orders'))"])?;

    // The floor and osc, each run after a checkpoint so neither pays for the
    // other's dirty pages, taken in turns: this machine's speed drifts over
    // minutes, and each round's ratio compares runs taken side by side.
    let (mut floor, mut floor_wal, mut ratios) = (vec![], vec![], vec![]);
    let (mut runs, mut wal, mut fin) = (vec![], vec![], vec![]);
    // pg_repack beside it, on the same table in the same rounds; and how long
    // each kept a transaction open (the xmin horizon held back).
    let (mut repacks, mut osc_xmin, mut repack_xmin) = (vec![], vec![], vec![]);
    for round in 1..=ROUNDS {
        let (secs, mb) = floor_once()?;
        eprintln!("floor {round}: {secs:.2} s, {mb:.0} MB WAL");
        floor.push(secs);
        floor_wal.push(mb);
        psql(&["CHECKPOINT"])?;
        let lsn = wal_lsn()?;
        let watch = peer::Watch::start(&url(), "stepwise%")?;
        let run = osc(stepwise, work, &[])?;
        osc_xmin.push(watch.stop().0);
        wal.push(wal_mb_since(&lsn)?);
        fin.push(finish(stepwise, work)?);
        ratios.push(run.secs() / secs);
        eprintln!(
            "osc {round}: {:.2} s (setup / copy / verify / swap: {}), {:.0} rows/s, locks held {} ms, {:.0} MB WAL; finish {:.2} s; osc / floor {:.2}",
            run.secs(),
            show_phases(run.phases()),
            run.rows_per_sec(),
            run.lock_held_ms(),
            wal[round - 1],
            fin[round - 1],
            ratios[round - 1]
        );
        runs.push(run);
        psql(CREATE)?;
        psql(&["CHECKPOINT"])?;
        let watch = peer::Watch::start(&url(), "pg_repack%")?;
        let (from, to) = peer::repack(DB, TABLE)?;
        repack_xmin.push(watch.stop().0);
        repacks.push((to - from) as f64 / 1e6);
        eprintln!("pg_repack {round}: {:.2} s; osc / pg_repack {:.2}", repacks[round - 1], runs[round - 1].secs() / repacks[round - 1]);
    }
    let repack_ratios: Vec<f64> = runs.iter().zip(&repacks).map(|(o, r)| o.secs() / r).collect();
    let of_runs = |f: &dyn Fn(&OscRun) -> f64| median(runs.iter().map(f).collect());
    let (f, o) = (median(floor), of_runs(&OscRun::secs));
    let phases = [0, 1, 2, 3].map(|i| of_runs(&|r| r.phases()[i]));

    // Under load: long enough to cover osc even if the load slows it threefold.
    let load_secs = WARMUP_SECS + (3.0 * o).ceil() as u64 + 5;
    eprintln!("pgbench without osc: {load_secs} s at {RATE} tps");
    psql(&["CHECKPOINT"])?;
    let quiet = wait_pgbench(start_pgbench(&work.join("quiet"), load_secs)?, &work.join("quiet"))?;
    psql(&["VACUUM ANALYZE orders", "CHECKPOINT"])?;
    eprintln!("pgbench with osc: {load_secs} s at {RATE} tps, osc after {WARMUP_SECS} s");
    let pgbench = start_pgbench(&work.join("busy"), load_secs)?;
    std::thread::sleep(Duration::from_secs(WARMUP_SECS));
    let watch = peer::Watch::start(&url(), "stepwise%")?;
    let run = osc(stepwise, work, &[]);
    let (osc_xmin_busy, osc_wait_busy) = watch.stop();
    let busy = wait_pgbench(pgbench, &work.join("busy"))?;
    let run = run?;
    finish(stepwise, work)?;
    psql(&["VACUUM ANALYZE orders", "CHECKPOINT"])?;
    eprintln!("pgbench with pg_repack: {load_secs} s at {RATE} tps, pg_repack after {WARMUP_SECS} s");
    let pgbench = start_pgbench(&work.join("repack"), load_secs)?;
    std::thread::sleep(Duration::from_secs(WARMUP_SECS));
    let watch = peer::Watch::start(&url(), "pg_repack%")?;
    let repacked = peer::repack(DB, TABLE);
    let (repack_xmin_busy, repack_wait_busy) = watch.stop();
    let repack_load = wait_pgbench(pgbench, &work.join("repack"))?;
    let (repack_from, repack_to) = repacked?;
    // The same load and osc with other settings: two sessions whatever the
    // load, and lower `--max-load` thresholds: what each buys the
    // foreground's p99, and what it costs the copy.
    let mut throttled = Vec::new();
    for (i, args) in VARIANTS.iter().enumerate() {
        psql(&["VACUUM ANALYZE orders", "CHECKPOINT"])?;
        let dir = work.join(format!("variant{i}"));
        let label = if args.is_empty() { "defaults".to_string() } else { format!("`{}`", args.join(" ")) };
        eprintln!("pgbench with osc {label}: {load_secs} s at {RATE} tps, osc after {WARMUP_SECS} s");
        let pgbench = start_pgbench(&dir, load_secs)?;
        std::thread::sleep(Duration::from_secs(WARMUP_SECS));
        let run = osc(stepwise, work, args);
        let load = wait_pgbench(pgbench, &dir)?;
        let run = run?;
        finish(stepwise, work)?;
        let during = load.latencies_ms(run.start, run.end);
        let partial = load.last_end() < run.end;
        eprintln!(
            "{label}: {:.2} s, {} waits, p99 {:.2} ms{}",
            run.secs(),
            run.load_waits(),
            percentile(during.clone(), 99.0),
            if partial { " (pgbench ended first)" } else { "" }
        );
        throttled.push((label, run, during, partial));
    }
    // A second quiet run after: one disturbed baseline (a stall of this
    // shared machine) must not pass for a small ratio, so the quieter of
    // the two counts (the ratio can only come out larger).
    psql(&["VACUUM ANALYZE orders", "CHECKPOINT"])?;
    eprintln!("pgbench without osc, again: {load_secs} s at {RATE} tps");
    let again = wait_pgbench(start_pgbench(&work.join("again"), load_secs)?, &work.join("again"))?;
    let (p99_before, p99_after) = (percentile(quiet.all_ms(), 99.0), percentile(again.all_ms(), 99.0));
    let quiet = if p99_before <= p99_after { quiet } else { again };

    // The yardstick: the same load beside sessions that only compute, for
    // as long as osc ran under load; one, then two (during its copy osc keeps
    // two backends busy: the copy and the verifier behind it).
    let mut neighbours = Vec::new();
    for sessions in [1, 2] {
        psql(&["VACUUM ANALYZE orders", "CHECKPOINT"])?;
        let dir = work.join(format!("busy{sessions}"));
        eprintln!(
            "pgbench with {sessions} busy session(s): {load_secs} s at {RATE} tps, computing for {:.0} s after {WARMUP_SECS} s",
            run.secs()
        );
        let child = start_pgbench(&dir, load_secs)?;
        std::thread::sleep(Duration::from_secs(WARMUP_SECS));
        let start = now_us();
        let computed = busy::pg_sessions(&url(), sessions, run.secs());
        let end = now_us();
        let load = wait_pgbench(child, &dir)?;
        computed?;
        neighbours.push((sessions, load.latencies_ms(start, end)));
    }

    let base = quiet.all_ms();
    let during = busy.latencies_ms(run.start, run.end);
    // The swap: from the end of verification to the swapped event, lock waits included.
    let swap_from = run.first("verified").map(|e| e.at).unwrap_or(run.start);
    let swap_to = run.first("swapped").map(|e| e.at).unwrap_or(run.end);
    let at_swap = busy.latencies_ms(swap_from, swap_to);
    let last_tx = busy.last_end();
    let mut notes = String::new();
    if last_tx < run.end {
        notes.push_str("\nNote: pgbench ended before osc did; the \"during osc\" figures cover only part of it.\n");
    }
    for t in [&quiet.trouble, &busy.trouble].into_iter().flatten() {
        notes.push_str(&format!("\nNote: {t}\n"));
    }

    let (p50, p50d, p99, p99d) = (
        percentile(base.clone(), 50.0),
        percentile(during.clone(), 50.0),
        percentile(base.clone(), 99.0),
        percentile(during.clone(), 99.0),
    );
    let during_repack = repack_load.latencies_ms(repack_from, repack_to);
    let throttle_row = |label: &str, r: &OscRun, lat: &[f64], partial: bool| {
        let p99t = percentile(lat.to_vec(), 99.0);
        format!(
            "| {label} | {:.2} s | {:.0} | {} | {:.2} / {p99t:.2} ms | {:.2}{} |\n",
            r.secs(),
            1e6 / r.secs(),
            r.load_waits(),
            percentile(lat.to_vec(), 50.0),
            p99t / p99,
            if partial { " (pgbench ended first)" } else { "" }
        )
    };
    let throttle_table = format!(
        "The same load and osc with other settings. `--sessions auto` (the default) works with one session while other client \
         sessions run statements (here, under the load), `--sessions 2` keeps a second one comparing ranges beside the copy; \
         `--max-load N` makes the copy wait between batches while more than N client sessions are active (stepwise's own left \
         out). Rows/s is 1,000,000 over the whole command, so that a wait cannot pass for speed.\n\n\
         | settings | osc end to end | rows/s | waits | foreground p50 / p99 during | p99 / p99 without osc (goal <= 1.5) |\n\
         | --- | --- | --- | --- | --- | --- |\n{}{}\n",
        throttle_row("defaults (`--sessions auto --max-load 25`)", &run, &during, last_tx < run.end),
        throttled.iter().map(|(m, r, lat, partial)| throttle_row(m, r, lat, *partial)).collect::<String>()
    );
    let repack_secs = (repack_to - repack_from) as f64 / 1e6;
    let r = median(repacks.clone());
    let side_by_side = format!(
        "Side by side with pg_repack ({}), in the same rounds on the same table (`pg_repack --table orders`: one \
         `INSERT ... SELECT` into a table without indexes, the indexes built after, the log applied, the swap under an ACCESS EXCLUSIVE lock; no verification). \
         The xmin horizon column is the longest a tool's session kept a transaction (or snapshot) open, sampled every 100 ms; \
         the lock wait column the longest any other session waited on a lock meanwhile, sampled likewise.\n\n\
         | | stepwise osc | pg_repack | floor (`INSERT ... SELECT`) |\n| --- | --- | --- | --- |\n\
         | end to end, no load (median of {ROUNDS}) | {o:.2} s | {r:.2} s | {f:.2} s |\n\
         | osc / pg_repack, no load | {:.2} (goal <= 1.2; rounds: {}) | 1 | |\n\
         | rows/s end to end, no load | {:.0} | {:.0} | {:.0} |\n\
         | xmin horizon held back, no load (longest) | {:.2} s | {:.2} s | |\n\
         | end to end under the load | {:.2} s | {repack_secs:.2} s | |\n\
         | osc / pg_repack under the load | {:.2} (goal <= 1.2) | 1 | |\n\
         | foreground p50 / p99 / max during the work | {p50d:.2} / {p99d:.2} / {:.1} ms | {:.2} / {:.2} / {:.1} ms | |\n\
         | foreground p99 / p99 without either | {:.2} | {:.2} | |\n\
         | xmin horizon held back under the load (longest) | {osc_xmin_busy:.2} s | {repack_xmin_busy:.2} s | |\n\
         | longest lock wait of another session (sampled) | {osc_wait_busy:.2} s | {repack_wait_busy:.2} s | |\n\n",
        capture(Command::new("pg_repack").arg("--version")).unwrap_or_default().trim(),
        median(repack_ratios.clone()),
        repack_ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
        1e6 / o,
        1e6 / r,
        1e6 / f,
        median(osc_xmin.clone()),
        median(repack_xmin.clone()),
        run.secs(),
        run.secs() / repack_secs,
        max(&during),
        percentile(during_repack.clone(), 50.0),
        percentile(during_repack.clone(), 99.0),
        max(&during_repack),
        p99d / p99,
        percentile(during_repack.clone(), 99.0) / p99,
    );
    let version = psql(&["SHOW server_version"]).unwrap_or_default();
    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default().trim().to_string();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    Ok(format!(
        "## {date}\n\n\
         `stepwise osc orders --alter \"{ALTER}\"` (default batches) on a 1,000,000-row table ({size} with its primary key and one \
         secondary index), PostgreSQL {version} on 127.0.0.1, {cores} cores (timings are noisy). Median of {ROUNDS} rounds of a floor then an osc run, each after a \
         CHECKPOINT (the ratio is the median of the rounds' ratios); after each osc (and `osc finish`) the table is rebuilt by the same generator, so every run changes the same int table.\n\n\
         | measure | value |\n| --- | --- |\n\
         | floor: `INSERT INTO copy SELECT * FROM orders`, copy `LIKE orders INCLUDING ALL` | {f:.2} s ({:.0} MB WAL, whole server) |\n\
         | stepwise osc, whole command (triggers, copy, verify, swap) | {o:.2} s ({:.0} MB WAL, whole server) |\n\
         | osc / floor | {:.2} (goal <= 1.5; rounds: {}) |\n\
         | time by phase: setup / triggers and copy / verify and ANALYZE / swap | {} |\n\
         | copy rate | {:.0} rows/s |\n\
         | locks held at the swap | {:.0} ms |\n\
         | osc finish (drops the old table) | {:.2} s |\n\n\
         {side_by_side}\
         Under load: pgbench -R {RATE} -c {CLIENTS} -j {THREADS} -T {load_secs} (simple protocol; 90% `SELECT` then `UPDATE` of a \
         non-key column by random id, 10% `INSERT`), without osc before and after, and once with osc started after {WARMUP_SECS} s. Latency is \
         pgbench's, from each transaction's scheduled start; \"during osc\" counts the transactions that overlap the osc command; \
         \"without osc\" is the run with the lower p99 (p99 {p99_before:.2} ms before, {p99_after:.2} ms after).\n\n\
         | measure | without osc | during osc | ratio |\n| --- | --- | --- | --- |\n\
         | transactions | {} | {} | |\n\
         | p50 latency | {p50:.2} ms | {p50d:.2} ms | {:.2} |\n\
         | p99 latency | {p99:.2} ms | {p99d:.2} ms | {:.2} (goal <= 1.5) |\n\
         | longest transaction (bounds any wait on stepwise's locks; goal < 100 ms) | {:.1} ms | {:.1} ms | |\n\
         | failed / skipped transactions (whole run) | {} / {} | {} / {} | |\n\n\
         | osc under load | value |\n| --- | --- |\n\
         | whole command | {:.2} s ({:.2}x unloaded) |\n\
         | time by phase: setup / triggers and copy / verify and ANALYZE / swap | {} |\n\
         | copy rate | {:.0} rows/s |\n\
         | longest transaction overlapping the swap (verified to swapped, {:.0} ms, {} transactions) | {:.1} ms (goal < 100 ms) |\n\
         | locks held at the swap, as osc reports it | {:.0} ms |\n\
         | lock waits osc reported | {} |\n\n\
         {throttle_table}\
         The same load beside sessions that only compute (a loop of arithmetic in the server: no I/O, no locks, no WAL) for \
         {:.1} s, as long as osc ran under load; what any busy backend costs the foreground on this machine:\n\n\
         | beside the load | transactions | p50 latency | p99 latency | p99 ratio to without osc |\n| --- | --- | --- | --- | --- |\n\
         {}{notes}",
        median(floor_wal),
        median(wal),
        median(ratios.clone()),
        ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
        show_phases(phases),
        of_runs(&OscRun::rows_per_sec),
        of_runs(&OscRun::lock_held_ms),
        median(fin),
        base.len(),
        during.len(),
        p50d / p50,
        p99d / p99,
        max(&base),
        max(&during),
        quiet.failed,
        quiet.skipped,
        busy.failed,
        busy.skipped,
        run.secs(),
        run.secs() / o,
        show_phases(run.phases()),
        run.rows_per_sec(),
        (swap_to - swap_from) as f64 / 1000.0,
        at_swap.len(),
        max(&at_swap),
        run.lock_held_ms(),
        run.lock_waits(),
        run.secs(),
        neighbours
            .iter()
            .map(|(n, lat)| {
                let p99n = percentile(lat.clone(), 99.0);
                format!(
                    "| {n} busy session{} | {} | {:.2} ms | {p99n:.2} ms | {:.2} |\n",
                    if *n == 1 { "" } else { "s" },
                    lat.len(),
                    percentile(lat.clone(), 50.0),
                    p99n / p99
                )
            })
            .collect::<String>(),
    ))
}
