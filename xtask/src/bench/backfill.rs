//! `cargo xtask bench backfill [pg|mysql]`: `stepwise backfill orders --set
//! "total = amount * 100 + account_id % 7"` over 1,000,000 rows, on
//! PostgreSQL and on MariaDB, against two baselines filling the same column
//! with the same expression:
//!
//! - the floor: one plain `UPDATE orders SET total = ...` (what updating
//!   every row costs at least, in one long transaction);
//! - the loop Rails' `in_batches(of: 1000).update_all(...)` produces: 1,000
//!   rows per statement, each committed on its own, one round trip per
//!   statement.
//!
//! Then the foreground latency under a steady load on the same table (pgbench
//! on PostgreSQL, [`super::mariadb_load`] on MariaDB): p99 without a
//! backfill and during stepwise's, with the rows/s the backfill achieved
//! meanwhile; then the same backfill with the load on a copy of the table
//! (its writes without its row locks in the load's way) and one session
//! that only computes, the two yardsticks that say where a p99 ratio comes
//! from.
//!
//! Every measured run, loaded or not, starts from the same freshly built
//! table (see each engine's `fresh`).

use super::load::{max, now_us, percentile, Load};
use super::mariadb_load::MariadbLoad;
use super::pgbench::{self, Pgbench};
use super::{busy, waits};
use super::{median, osc, record};
use crate::util::{build_stepwise, capture, succeeds, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const ROWS: u64 = 1_000_000;
/// Rounds of the unloaded methods; `STEPWISE_BENCH_BACKFILL_ROUNDS` takes fewer (or more) when trying settings.
const ROUNDS: usize = 3;
const TABLE: &str = "orders";
const SET: &str = "total = amount * 100 + account_id % 7";
const EXPR: &str = "amount * 100 + account_id % 7";
/// Rails' `in_batches` default.
const BATCH: u64 = 1000;
/// The foreground load: transactions per second, clients, pgbench threads.
const RATE: u32 = 300;
const CLIENTS: u32 = 4;
const THREADS: u32 = 2;
/// Seconds of load before a backfill starts, so the "during" figures skip the load's start.
const WARMUP_SECS: u64 = 5;
/// Length of the load without a backfill (9,000 transactions at 300/s).
const QUIET_SECS: u64 = 30;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Method {
    Floor,
    Rails,
    /// The loop a person writes by hand: `UPDATE ... WHERE id BETWEEN`
    /// consecutive ranges of the key, each committed on its own.
    Between,
    Stepwise,
}

const METHODS: [Method; 4] = [Method::Floor, Method::Rails, Method::Between, Method::Stepwise];

impl Method {
    fn index(self) -> usize {
        self as usize
    }

    fn short(self) -> &'static str {
        match self {
            Method::Floor => "floor",
            Method::Rails => "Rails loop",
            Method::Between => "BETWEEN loop",
            Method::Stepwise => "stepwise backfill",
        }
    }
}

/// When a run started and ended (µs since the epoch).
#[derive(Clone, Copy)]
struct Timed {
    start: i64,
    end: i64,
}

impl Timed {
    fn secs(&self) -> f64 {
        (self.end - self.start) as f64 / 1e6
    }
}

fn rows_per_sec(secs: f64) -> f64 {
    ROWS as f64 / secs
}

/// What runs inside a load window.
#[derive(Clone, Copy)]
enum Job<'a> {
    /// `stepwise backfill`, with this binary.
    Backfill(&'a Path),
    /// One session that only computes for this many seconds: no I/O, no
    /// locks. What any one busy backend costs the foreground on this
    /// machine, the yardstick for the backfill's p99 ratio.
    Busy(f64),
    /// `stepwise backfill` of `orders` while the load runs on a copy of it,
    /// [`OTHER`]: the same writes without a row the load touches, so what
    /// is left of the p99 ratio is the cost of the writes themselves (I/O,
    /// CPU, the buffer pool), not of the backfill's row locks.
    Elsewhere(&'a Path),
}

/// The copy of `orders` the load runs on beside [`Job::Elsewhere`].
const OTHER: &str = "orders_other";

/// One database engine: how it builds the table, runs each method and drives
/// the foreground load. The rounds, windows and the report are shared.
trait Engine {
    /// "PostgreSQL 15.20", with the settings that matter here.
    fn title(&mut self) -> Result<String>;
    /// How `fresh` resets the table, for the report.
    fn reset_note(&self) -> &'static str;
    /// What each method sends, for the report.
    fn method_note(&self, m: Method) -> String;
    /// The foreground load, for the report.
    fn load_note(&self) -> String;
    /// The table as first built, before every measured run.
    fn fresh(&mut self) -> Result;
    fn run(&mut self, m: Method, stepwise: &Path) -> Result<Timed>;
    /// How `sizes` measures, for the report.
    fn sizes_note(&self) -> &'static str;
    /// Rows whose `total` is not the expression's value.
    fn remaining(&mut self) -> Result<i64>;
    /// The table's and each index's size on disk, as "orders 159 MB, ...".
    fn sizes(&mut self) -> Result<String>;
    /// One session computing for `secs` seconds (see [`Job::Busy`]).
    fn busy(&mut self, secs: f64) -> Result<Timed>;
    /// Run the foreground load for `secs` seconds; with a job, run it
    /// `WARMUP_SECS` into the load (the job's result comes back apart, so
    /// that a failing stepwise does not lose the load's figures).
    /// With [`Job::Elsewhere`], on [`OTHER`] (which `copy_to_other` built).
    fn under_load(&mut self, dir: &Path, secs: u64, job: Option<Job>) -> Result<(Load, Option<Result<Timed>>)>;
    /// Build [`OTHER`] as a copy of the fresh `orders`.
    fn copy_to_other(&mut self) -> Result;
    /// Start watching what the load waits on.
    fn watch(&mut self) -> Result;
    /// What the load waited on since `watch`, for the report.
    fn watched(&mut self) -> Result<String>;
    /// How `watched` tells, for the report.
    fn waits_note(&self) -> &'static str;
    fn drop_databases(&mut self) -> Result;

    fn start_job(&mut self, job: Job) -> Result<Timed> {
        match job {
            Job::Backfill(bin) | Job::Elsewhere(bin) => self.run(Method::Stepwise, bin),
            Job::Busy(secs) => self.busy(secs),
        }
    }
}

/// Set an engine up (its bench database and table), given a directory for its files.
type Open = fn(&Path) -> Result<Box<dyn Engine>>;

pub fn run(args: &[String]) -> Result {
    let pg: (&str, Open) = ("PostgreSQL", |dir| Ok(Box::new(Pg::new(dir)?)));
    let my: (&str, Open) = ("MariaDB", |dir| Ok(Box::new(Maria::new(dir)?)));
    let engines = match args.first().map(String::as_str) {
        None => vec![pg, my],
        Some("pg") => vec![pg],
        Some("mysql") => vec![my],
        Some(other) => return Err(format!("unknown engine {other}: usage: cargo xtask bench backfill [pg|mysql]")),
    };
    crate::setup::setup()?;
    let stepwise = available_stepwise();
    if let Err(why) = &stepwise {
        eprintln!("\n*** stepwise backfill will not be measured: {why} ***\n");
    }
    let work = std::env::temp_dir().join(format!("stepwise-bench-backfill-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;

    // One engine's failure does not lose the other's figures.
    let (mut sections, mut failures) = (Vec::new(), Vec::new());
    for (name, open) in engines {
        let dir = work.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let result = open(&dir).and_then(|mut engine| {
            let section = measure(engine.as_mut(), &stepwise, &dir);
            engine.drop_databases()?;
            section
        });
        match result {
            Ok(section) => sections.push(section),
            Err(e) => {
                eprintln!("\n*** {name}: {e} ***\n");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    if sections.is_empty() {
        return Err(failures.join("; "));
    }

    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default().trim().to_string();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let ram = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next()?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|kb| format!(", {:.0} GB RAM", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let block = format!(
        "## {date}\n\n\
         `stepwise backfill {TABLE} --set \"{SET}\"` over {} rows (the osc bench's `orders` table plus a nullable `total bigint`, \
         all NULL), servers on 127.0.0.1, {cores} cores{ram}, timings noisy (the machine's speed drifts over minutes and other \
         work may share it). Rows/s is {} rows over the command's wall time (connection included); every method must leave \
         no row whose `total` differs from the expression, checked in the database after each run.\n\n{}",
        thousands(ROWS as f64),
        thousands(ROWS as f64),
        sections.join("\n")
    );
    println!("{block}");
    record("backfill", &block)?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The stepwise binary, if it has the backfill command; why not otherwise.
fn available_stepwise() -> std::result::Result<PathBuf, String> {
    let bin = build_stepwise(true).map_err(|e| format!("the stepwise build failed: {e}"))?;
    if succeeds(Command::new(&bin).args(["backfill", "--help"])) {
        Ok(bin)
    } else {
        Err(format!("`{} backfill --help` fails: this build has no backfill command", bin.display()))
    }
}

/// What one engine measured.
struct Figures {
    /// Each method's seconds, by round (NaN where not measured).
    secs: [Vec<f64>; 4],
    /// Per-round ratios: the floor's seconds over stepwise's (= stepwise's
    /// rows/s over the floor's), the Rails loop's over stepwise's, the
    /// floor's over the Rails loop's.
    vs_floor: Vec<f64>,
    vs_rails: Vec<f64>,
    /// The BETWEEN loop's seconds over stepwise's.
    vs_between: Vec<f64>,
    rails_vs_floor: Vec<f64>,
    quiet: Load,
    /// The load and the backfill run inside it.
    during: Option<(Load, Timed)>,
    /// The load on [`OTHER`] and the backfill of `orders` inside it.
    elsewhere: Option<(Load, Timed)>,
    /// The load and one busy session inside it, for as long as the backfill took there.
    busy: Option<(Load, Timed)>,
    /// What the load waited on over each window: without, during,
    /// elsewhere, busy.
    waits: [String; 4],
    /// The sizes on disk as built, then after each method's first run.
    built: String,
    sizes: [Option<String>; 4],
    /// Why stepwise was not (fully) measured.
    skip: Option<String>,
    notes: String,
}

impl Figures {
    fn median_secs(&self, m: Method) -> f64 {
        let v = &self.secs[m.index()];
        if v.is_empty() {
            f64::NAN
        } else {
            median(v.clone())
        }
    }
}

fn median_or_nan(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        median(v.to_vec())
    }
}

/// Run a method on a freshly built table and check it left no row to do.
fn measured(e: &mut dyn Engine, m: Method, bin: &Path) -> Result<Timed> {
    e.fresh()?;
    let t = e.run(m, bin)?;
    match e.remaining()? {
        0 => Ok(t),
        n => Err(format!("the {} left {n} rows whose total is not {EXPR}", m.short())),
    }
}

/// Run the rounds and the load windows on one engine; its report section.
fn measure(e: &mut dyn Engine, stepwise: &std::result::Result<PathBuf, String>, work: &Path) -> Result<String> {
    let title = e.title()?;
    let clock = Instant::now();
    let stamp = || format!("[{:>4.0} s]", clock.elapsed().as_secs_f64());
    let mut skip: Option<String> = stepwise.as_ref().err().cloned();
    let bin = stepwise.as_ref().map(PathBuf::as_path).unwrap_or(Path::new("stepwise"));

    // The methods taken in turns, the order rotated each round: this
    // machine's speed drifts over minutes, and each round's ratios compare
    // runs taken side by side.
    let mut secs: [Vec<f64>; 4] = Default::default();
    let mut sizes: [Option<String>; 4] = Default::default();
    e.fresh()?;
    let built = e.sizes()?;
    let (mut vs_floor, mut vs_rails, mut vs_between, mut rails_vs_floor) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds() {
        let mut this = [f64::NAN; 4];
        for i in 0..METHODS.len() {
            let m = METHODS[(round + i) % METHODS.len()];
            if m == Method::Stepwise && skip.is_some() {
                continue;
            }
            let t = match measured(e, m, bin) {
                Ok(t) => t,
                Err(why) if m == Method::Stepwise => {
                    eprintln!("\n*** stepwise backfill failed, not measured further: {why} ***\n");
                    skip = Some(format!("it failed: {why}"));
                    continue;
                }
                Err(why) => return Err(why),
            };
            // The sizes a method leaves are the same every round: the first counts.
            if sizes[m.index()].is_none() {
                sizes[m.index()] = Some(e.sizes()?);
            }
            this[m.index()] = t.secs();
            secs[m.index()].push(t.secs());
            eprintln!("{} round {}: {} {:.2} s, {} rows/s", stamp(), round + 1, m.short(), t.secs(), thousands(rows_per_sec(t.secs())));
        }
        let [f, r, b, s] = this;
        rails_vs_floor.push(f / r);
        if !s.is_nan() {
            vs_floor.push(f / s);
            vs_rails.push(r / s);
            vs_between.push(b / s);
        }
    }

    // Under load: a window without a backfill, then one with stepwise's
    // backfill started into it, long enough to cover the backfill even if the
    // load halves its speed; each on a freshly built table. (The Rails loop
    // under the same load ran at 0.43 x its unloaded speed and took the p99
    // to 12 x on PostgreSQL, but a window long enough for it would cost over
    // a minute per engine.)
    eprintln!("{} load without a backfill: {QUIET_SECS} s", stamp());
    let mut waits: [String; 4] = Default::default();
    e.fresh()?;
    let (quiet, _) = watching(e, &mut waits[0], |e| e.under_load(&work.join("quiet"), QUIET_SECS, None))?;
    let mut notes = String::new();
    let (mut during, mut elsewhere) = (None, None);
    if skip.is_none() {
        let secs = WARMUP_SECS + (2.0 * median_or_nan(&secs[Method::Stepwise.index()])).ceil() as u64 + 5;
        eprintln!("{} load with the stepwise backfill: {secs} s, the backfill started after {WARMUP_SECS} s", stamp());
        e.fresh()?;
        let (load, run) = watching(e, &mut waits[1], |e| e.under_load(&work.join("during"), secs, Some(Job::Backfill(bin))))?;
        during = checked(e, load, run, "", &mut notes)?;
        // The same backfill while the load runs on a copy of the table.
        eprintln!("{} load on a copy of the table, the stepwise backfill on the table: {secs} s", stamp());
        e.fresh()?;
        e.copy_to_other()?;
        let (load, run) = watching(e, &mut waits[2], |e| e.under_load(&work.join("elsewhere"), secs, Some(Job::Elsewhere(bin))))?;
        elsewhere = checked(e, load, run, " (the load on a copy)", &mut notes)?;
    }
    // The yardstick: what one session that only computes, for as long as
    // the backfill ran under load, does to the same load.
    let busy_secs = during.as_ref().map(|(_, t)| t.secs()).unwrap_or(20.0);
    let window = WARMUP_SECS + busy_secs.ceil() as u64 + 5;
    eprintln!("{} load with one busy session: {window} s, computing for {busy_secs:.0} s after {WARMUP_SECS} s", stamp());
    e.fresh()?;
    let busy = match watching(e, &mut waits[3], |e| e.under_load(&work.join("busy"), window, Some(Job::Busy(busy_secs))))? {
        (load, Some(Ok(t))) => Some((load, t)),
        (_, Some(Err(why))) => {
            notes.push_str(&format!("\nNote: the busy session failed: {why}\n"));
            None
        }
        (_, None) => None,
    };
    eprintln!("{} done", stamp());
    for t in [Some(&quiet), during.as_ref().map(|d| &d.0), elsewhere.as_ref().map(|d| &d.0), busy.as_ref().map(|d| &d.0)]
        .into_iter()
        .flatten()
        .filter_map(|l| l.trouble.as_ref())
    {
        notes.push_str(&format!("\nNote: {t}\n"));
    }
    let figures =
        Figures { secs, vs_floor, vs_rails, vs_between, rails_vs_floor, quiet, during, elsewhere, busy, waits, built, sizes, skip, notes };
    Ok(report(e, &title, &figures))
}

/// Run a load window, watching what the load waits on into `waits`.
fn watching<T>(e: &mut dyn Engine, waits: &mut String, window: impl FnOnce(&mut dyn Engine) -> Result<T>) -> Result<T> {
    e.watch()?;
    let out = window(e);
    *waits = e.watched()?;
    out
}

/// A backfill run under load, kept when it left no row to do; otherwise a
/// note on why (`which` names the window in it).
fn checked(e: &mut dyn Engine, load: Load, run: Option<Result<Timed>>, which: &str, notes: &mut String) -> Result<Option<(Load, Timed)>> {
    let run = run.unwrap_or_else(|| Err("the backfill did not run".into())).and_then(|t| match e.remaining()? {
        0 => Ok(t),
        n => Err(format!("the backfill left {n} rows whose total is not {EXPR}")),
    });
    match run {
        Ok(t) => {
            if load.last_end() < t.end {
                notes.push_str(&format!(
                    "\nNote: the load ended before the backfill did{which}; its figures cover only part of the backfill.\n"
                ));
            }
            Ok(Some((load, t)))
        }
        Err(why) => {
            eprintln!("\n*** stepwise backfill failed under load{which}: {why} ***\n");
            notes.push_str(&format!("\nNote: stepwise backfill failed under load{which}: {why}\n"));
            Ok(None)
        }
    }
}

/// One engine's section of the report.
fn report(e: &dyn Engine, title: &str, f: &Figures) -> String {
    let (floor, rails, ours) = (f.median_secs(Method::Floor), f.median_secs(Method::Rails), f.median_secs(Method::Stepwise));
    let (r_floor, r_rails, r_rails_floor) = (median_or_nan(&f.vs_floor), median_or_nan(&f.vs_rails), median_or_nan(&f.rails_vs_floor));
    let base = f.quiet.all_ms();
    let span = f.during.as_ref().map(|(load, t)| load.latencies_ms(t.start, t.end)).unwrap_or_default();
    let (p50, p99, p50d, p99d) =
        (percentile(base.clone(), 50.0), percentile(base.clone(), 99.0), percentile(span.clone(), 50.0), percentile(span.clone(), 99.0));
    let loaded_secs = f.during.as_ref().map(|(_, t)| t.secs()).unwrap_or(f64::NAN);
    let busy = f.busy.as_ref().map(|(load, t)| load.latencies_ms(t.start, t.end)).unwrap_or_default();
    let (p50b, p99b) = (percentile(busy.clone(), 50.0), percentile(busy.clone(), 99.0));
    let other = f.elsewhere.as_ref().map(|(load, t)| load.latencies_ms(t.start, t.end)).unwrap_or_default();
    let (p50o, p99o) = (percentile(other.clone(), 50.0), percentile(other.clone(), 99.0));
    let other_secs = f.elsewhere.as_ref().map(|(_, t)| t.secs()).unwrap_or(f64::NAN);

    let mut out = format!("### {title}\n\n");
    match &f.skip {
        Some(why) => out.push_str(&format!("**stepwise backfill not measured**: {why}\n\n")),
        None => out.push_str(&format!(
            "**Summary:** stepwise backfill {} rows/s unthrottled = {r_floor:.2} x the floor's {} rows/s ({}) and {r_rails:.2} x \
             the Rails loop's {} rows/s; under load p99 {p99d:.2} ms during the backfill against {p99:.2} ms without = {:.2} ({}), \
             while backfilling {} rows/s. The same backfill with the load on a copy of the table (the same writes, no row \
             the load touches) takes its p99 to {p99o:.2} ms = {:.2}: what the writes cost without the backfill's row locks. One session that \
             only computes (no I/O, no locks), for as long, takes the load's p99 to {p99b:.2} ms = {:.2}: what any one busy \
             backend costs the foreground on this machine.\n\n",
            thousands(rows_per_sec(ours)),
            thousands(rows_per_sec(floor)),
            goal(r_floor, true, 0.8),
            thousands(rows_per_sec(rails)),
            p99d / p99,
            goal(p99d / p99, false, 1.5),
            thousands(rows_per_sec(loaded_secs)),
            p99o / p99,
            p99b / p99,
        )),
    }
    out.push_str(&format!(
        "{} Median of {} rounds, the methods taken in turns and the order rotated each round; ratios are the medians of \
         the rounds' ratios.\n\n\
         | method | time | rows/s | stepwise's rows/s as a ratio to it |\n| --- | --- | --- | --- |\n",
        e.reset_note(),
        rounds()
    ));
    let rounds = |v: &[f64]| v.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", ");
    for m in METHODS {
        let s = f.median_secs(m);
        let vs = match m {
            Method::Floor if f.skip.is_none() => format!("{r_floor:.2} ({}; rounds: {})", goal(r_floor, true, 0.8), rounds(&f.vs_floor)),
            Method::Rails if f.skip.is_none() => format!("{r_rails:.2} (rounds: {})", rounds(&f.vs_rails)),
            Method::Between if f.skip.is_none() => {
                format!("{:.2} (rounds: {})", median_or_nan(&f.vs_between), rounds(&f.vs_between))
            }
            _ => String::new(),
        };
        let (time, rps) =
            if s.is_nan() { ("not measured".into(), String::new()) } else { (format!("{s:.2} s"), thousands(rows_per_sec(s))) };
        out.push_str(&format!("| {}: {} | {time} | {rps} | {vs} |\n", m.short(), e.method_note(m)));
    }
    out.push_str(&format!(
        "\nThe Rails loop's rows/s as a ratio to the floor's: {r_rails_floor:.2} (rounds: {}).\n",
        rounds(&f.rails_vs_floor)
    ));
    out.push_str(&format!("\nSizes on disk, as built and after each method's first run: {}\n\n", e.sizes_note()));
    out.push_str(&format!("| after | sizes |\n| --- | --- |\n| (as built) | {} |\n", f.built));
    for m in METHODS {
        if let Some(sizes) = &f.sizes[m.index()] {
            out.push_str(&format!("| {} | {sizes} |\n", m.short()));
        }
    }

    out.push_str(&format!(
        "\nUnder load: {}, once without a backfill ({QUIET_SECS} s), then with stepwise's backfill started {WARMUP_SECS} s into \
         the load, then the same with the load running on a copy of the table (`{OTHER}`: the backfill's writes without its \
         row locks in the load's way), then with one session that only computes (a loop of arithmetic: no I/O, no locks) \
         for as long as the backfill ran, each on a freshly built table. Latency is from each transaction's scheduled start; \
         \"during\" counts the transactions that overlap the backfill command (or the busy session). What the load waited on: \
         {}\n\n",
        e.load_note(),
        e.waits_note()
    ));
    let ms = |v: f64| format!("{v:.2} ms");
    let busy_secs = f.busy.as_ref().map(|(_, t)| t.secs()).unwrap_or(f64::NAN);
    let loads = |l: &Option<(Load, Timed)>| l.as_ref().map(|(l, _)| format!("{} / {}", l.failed, l.skipped)).unwrap_or_default();
    // measure, without, during the backfill, its ratio, with the load on a copy, its ratio, with the busy session, its ratio
    let rows: [[String; 8]; 7] = [
        [
            "transactions".into(),
            base.len().to_string(),
            span.len().to_string(),
            String::new(),
            other.len().to_string(),
            String::new(),
            busy.len().to_string(),
            String::new(),
        ],
        [
            "p50 latency".into(),
            ms(p50),
            ms(p50d),
            format!("{:.2}", p50d / p50),
            ms(p50o),
            format!("{:.2}", p50o / p50),
            ms(p50b),
            format!("{:.2}", p50b / p50),
        ],
        [
            "p99 latency".into(),
            ms(p99),
            ms(p99d),
            format!("{:.2} ({})", p99d / p99, goal(p99d / p99, false, 1.5)),
            ms(p99o),
            format!("{:.2}", p99o / p99),
            ms(p99b),
            format!("{:.2}", p99b / p99),
        ],
        [
            "longest transaction".into(),
            ms(max(&base)),
            ms(max(&span)),
            String::new(),
            ms(max(&other)),
            String::new(),
            ms(max(&busy)),
            String::new(),
        ],
        [
            "failed / skipped transactions (whole load)".into(),
            format!("{} / {}", f.quiet.failed, f.quiet.skipped),
            loads(&f.during),
            String::new(),
            loads(&f.elsewhere),
            String::new(),
            loads(&f.busy),
            String::new(),
        ],
        [
            "what the load waited on (whole load)".into(),
            f.waits[0].clone(),
            f.waits[1].clone(),
            String::new(),
            f.waits[2].clone(),
            String::new(),
            f.waits[3].clone(),
            String::new(),
        ],
        [
            "the work meanwhile".into(),
            String::new(),
            format!("{loaded_secs:.2} s, {} rows/s", thousands(rows_per_sec(loaded_secs))),
            format!("{:.2} x its unloaded rows/s", ours / loaded_secs),
            format!("{other_secs:.2} s, {} rows/s", thousands(rows_per_sec(other_secs))),
            format!("{:.2} x its unloaded rows/s", ours / other_secs),
            format!("{busy_secs:.2} s computing"),
            String::new(),
        ],
    ];
    out.push_str(
        "| measure | without a backfill | during stepwise backfill | ratio | the load on a copy, during the backfill | ratio \
         | with one busy session | ratio |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in &rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.push_str(&f.notes);
    out
}

/// "goal >= 0.8: met" (or "NOT met"), ASCII like the other results files.
fn goal(v: f64, at_least: bool, target: f64) -> String {
    let met = if at_least { v >= target } else { v <= target };
    let sign = if at_least { ">=" } else { "<=" };
    match (v.is_nan(), met) {
        (true, _) => format!("goal {sign} {target}: not measured"),
        (false, true) => format!("goal {sign} {target}: met"),
        (false, false) => format!("goal {sign} {target}: NOT met"),
    }
}

/// 123456.7 -> "123,457".
fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn rounds() -> usize {
    std::env::var("STEPWISE_BENCH_BACKFILL_ROUNDS").ok().and_then(|r| r.parse().ok()).filter(|&r| r > 0).unwrap_or(ROUNDS)
}

/// Flags added to every `stepwise backfill` run, from `STEPWISE_BENCH_BACKFILL_ARGS`
/// (for trying settings; the report names them).
fn extra_args() -> Vec<String> {
    std::env::var("STEPWISE_BENCH_BACKFILL_ARGS").unwrap_or_default().split_whitespace().map(String::from).collect()
}

/// How stepwise was run, for the report.
fn stepwise_note() -> String {
    match extra_args() {
        a if a.is_empty() => format!("`stepwise backfill {TABLE} --set \"{SET}\"`, unthrottled (default --batch-time 20ms, no --max-rate)"),
        a => format!("`stepwise backfill {TABLE} --set \"{SET}\" {}`", a.join(" ")),
    }
}

/// `stepwise backfill orders --set ...`, unthrottled (the default: batches
/// aiming at the engine's default time, no --max-rate); its output kept for a
/// failure's message.
fn stepwise_backfill(bin: &Path, url: &str, work: &Path) -> Result<Timed> {
    let file = |name: &str| std::fs::File::create(work.join(name)).map_err(|e| e.to_string());
    let start = now_us();
    let status = Command::new(bin)
        .current_dir(work)
        .env("DATABASE_URL", url)
        .args(["backfill", TABLE, "--set", SET, "--format", "json"])
        .args(extra_args())
        .stdin(Stdio::null())
        .stdout(file("backfill.stdout")?)
        .stderr(file("backfill.stderr")?)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let end = now_us();
    if !status.success() {
        let tail = |name: &str| {
            let text = std::fs::read_to_string(work.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(3)..].join(" | ")
        };
        return Err(format!("stepwise backfill exited with {status}: {} {}", tail("backfill.stdout"), tail("backfill.stderr")));
    }
    Ok(Timed { start, end })
}

// ---------------------------------------------------------------- PostgreSQL

const PG_DB: &str = "stepwise_bench_backfill";
const PG_TEMPLATE: &str = "stepwise_bench_backfill_template";
const PG_LOAD: Pgbench = Pgbench { rate: RATE, clients: CLIENTS, threads: THREADS };
/// Reads a row and updates a column that is neither the backfilled one nor
/// one it reads (osc's script changes `amount`, which would race the
/// backfill's expression), so every method must still leave no row to do.
const PG_READ_UPDATE: &str = "\\set id random(1, 1000000)
SELECT amount, note, total FROM orders WHERE id = :id;
UPDATE orders SET updated_at = now() WHERE id = :id;
";

fn pg_url(db: &str) -> String {
    format!("postgres://postgres@127.0.0.1:5432/{db}")
}

/// Run statements in a database, each on its own; the output of the last.
fn psql(db: &str, statements: &[&str]) -> Result<String> {
    let mut cmd = Command::new("psql");
    cmd.args([pg_url(db).as_str(), "-X", "-qAt", "-v", "ON_ERROR_STOP=1"]);
    for s in statements {
        cmd.args(["-c", s]);
    }
    Ok(capture(&mut cmd)?.trim().to_string())
}

struct Pg {
    work: PathBuf,
    rails_script: PathBuf,
    between_script: PathBuf,
    watching: Option<waits::Sampler>,
}

impl Pg {
    /// Build the table once, in a template database; `work` for files.
    fn new(work: &Path) -> Result<Pg> {
        let mut pg =
            Pg { work: work.to_path_buf(), rails_script: work.join("rails.sql"), between_script: work.join("between.sql"), watching: None };
        pg.drop_databases()?;
        psql("postgres", &[&format!("CREATE DATABASE {PG_TEMPLATE}")])?;
        eprintln!("PostgreSQL: building the {ROWS}-row table");
        let mut create: Vec<&str> = osc::CREATE.to_vec();
        // A nullable column without a default: a catalog change, no row is rewritten.
        create.insert(create.len() - 1, "ALTER TABLE orders ADD COLUMN total bigint");
        psql(PG_TEMPLATE, &create)?;
        std::fs::write(&pg.rails_script, rails_script()).map_err(|e| e.to_string())?;
        std::fs::write(&pg.between_script, between_script()).map_err(|e| e.to_string())?;
        Ok(pg)
    }
}

/// The statements of the BETWEEN loop, one per range of [`BATCH`] ids (the
/// table's ids run from 1 to [`ROWS`] without gaps), each committed on its own.
fn between_ranges() -> impl Iterator<Item = String> {
    (0..ROWS.div_ceil(BATCH)).map(|i| format!("UPDATE orders SET {SET} WHERE id BETWEEN {} AND {}", i * BATCH + 1, (i + 1) * BATCH))
}

fn between_script() -> String {
    between_ranges().map(|u| format!("{u};\n")).collect()
}

fn between_note() -> String {
    format!("the loop a person writes: `UPDATE orders SET ... WHERE id BETWEEN :lo AND :lo + {}`, {BATCH} ids at a time, each committed on its own, through one session", BATCH - 1)
}

/// What `Order.in_batches(of: 1000).update_all("total = ...")` sends, one
/// statement per round trip through one psql session, each committed on its
/// own: the batch's UPDATE in the `WHERE id IN (SELECT id ... LIMIT 1000)`
/// form, then the batch's last id fetched into `:last` for the next one
/// (unrolled: psql has no loops; the last fetch finds no row, as Rails' does).
fn rails_script() -> String {
    let batch = format!("SELECT id FROM orders WHERE id > :last ORDER BY id LIMIT {BATCH}");
    let mut script = String::from("\\set last 0\n");
    for _ in 0..ROWS.div_ceil(BATCH) {
        script.push_str(&format!("UPDATE orders SET {SET} WHERE id IN ({batch});\n"));
        script.push_str(&format!("SELECT max(id) AS last FROM ({batch}) b \\gset\n"));
    }
    script.push_str(&format!("SELECT max(id) AS last FROM ({batch}) b \\gset\n"));
    script
}

impl Engine for Pg {
    fn title(&mut self) -> Result<String> {
        let v = psql(PG_TEMPLATE, &["SHOW server_version"])?;
        let s = psql(
            PG_TEMPLATE,
            &["SELECT string_agg(name || ' ' || current_setting(name), ', ') FROM unnest(ARRAY['shared_buffers', 'max_wal_size', 'synchronous_commit', 'autovacuum']) name"],
        )?;
        Ok(format!("PostgreSQL {v} ({s})"))
    }

    fn reset_note(&self) -> &'static str {
        "Before every run the database is copied from a template holding the freshly built and vacuumed table \
         (`CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY`, which checkpoints): the same bytes on disk every time, \
         like rebuilding it but faster."
    }

    fn method_note(&self, m: Method) -> String {
        match m {
            Method::Floor => format!("one `UPDATE orders SET {SET}`"),
            Method::Rails => format!(
                "what `in_batches(of: {BATCH}).update_all` sends: `UPDATE orders SET ... WHERE id IN (SELECT id FROM orders WHERE id > :last \
                 ORDER BY id LIMIT {BATCH})` then `SELECT max(id)` of the same batch for `:last`, through one psql session"
            ),
            Method::Between => between_note(),
            Method::Stepwise => stepwise_note(),
        }
    }

    fn load_note(&self) -> String {
        format!(
            "pgbench -R {RATE} -c {CLIENTS} -j {THREADS} (simple protocol; `SELECT` a row then `UPDATE` its `updated_at`, by random id, \
             each statement its own transaction), p99 from its `-l` logs"
        )
    }

    /// A rebuild in effect: the database copied file by file from the
    /// template, so every run starts from the same bytes (no dead tuples, the
    /// same hint bits and visibility map), after a checkpoint, in a fraction
    /// of a second instead of the generator's many seconds.
    fn fresh(&mut self) -> Result {
        psql("postgres", &[&format!("DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")])?;
        psql("postgres", &[&format!("CREATE DATABASE {PG_DB} TEMPLATE {PG_TEMPLATE} STRATEGY FILE_COPY")]).map(drop)
    }

    fn run(&mut self, m: Method, stepwise: &Path) -> Result<Timed> {
        let start = now_us();
        match m {
            Method::Floor => psql(PG_DB, &[&format!("UPDATE orders SET {SET}")]).map(drop)?,
            Method::Rails | Method::Between => {
                let script = if m == Method::Rails { &self.rails_script } else { &self.between_script };
                let mut cmd = Command::new("psql");
                cmd.args([pg_url(PG_DB).as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"]).arg(script);
                capture(&mut cmd).map(drop)?
            }
            Method::Stepwise => return stepwise_backfill(stepwise, &pg_url(PG_DB), &self.work),
        }
        Ok(Timed { start, end: now_us() })
    }

    fn remaining(&mut self) -> Result<i64> {
        let n = psql(PG_DB, &[&format!("SELECT count(*) FROM orders WHERE total IS DISTINCT FROM {EXPR}")])?;
        n.parse().map_err(|_| format!("unexpected count: {n}"))
    }

    fn sizes_note(&self) -> &'static str {
        "`pg_relation_size` of the table and of each index."
    }

    fn sizes(&mut self) -> Result<String> {
        psql(
            PG_DB,
            &["SELECT string_agg(c.relname || ' ' || pg_size_pretty(pg_relation_size(c.oid)), ', ' ORDER BY c.relkind DESC, c.relname)
                 FROM pg_class c
                WHERE c.oid = 'orders'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'orders'::regclass)"],
        )
    }

    fn busy(&mut self, secs: f64) -> Result<Timed> {
        let start = now_us();
        busy::pg(&pg_url(PG_DB), secs)?;
        Ok(Timed { start, end: now_us() })
    }

    fn under_load(&mut self, dir: &Path, secs: u64, job: Option<Job>) -> Result<(Load, Option<Result<Timed>>)> {
        let script = match job {
            Some(Job::Elsewhere(_)) => PG_READ_UPDATE.replace("orders", OTHER),
            _ => PG_READ_UPDATE.to_string(),
        };
        let child = PG_LOAD.start(dir, &pg_url(PG_DB), &[("read_update.sql", &script, 1)], secs)?;
        let run = job.map(|job| {
            std::thread::sleep(Duration::from_secs(WARMUP_SECS));
            self.start_job(job)
        });
        Ok((pgbench::wait(child, dir)?, run))
    }

    fn copy_to_other(&mut self) -> Result {
        psql(
            PG_DB,
            &[
                &format!("CREATE TABLE {OTHER} (LIKE orders INCLUDING ALL)"),
                &format!("INSERT INTO {OTHER} SELECT * FROM orders"),
                &format!("VACUUM ANALYZE {OTHER}"),
                "CHECKPOINT",
            ],
        )
        .map(drop)
    }

    fn watch(&mut self) -> Result {
        self.watching = Some(waits::Sampler::start(&pg_url(PG_DB), &self.work.join("waits.txt"))?);
        Ok(())
    }

    fn watched(&mut self) -> Result<String> {
        match self.watching.take() {
            Some(sampler) => sampler.stop(),
            None => Ok(String::new()),
        }
    }

    fn waits_note(&self) -> &'static str {
        "the wait events of pgbench's sessions (`wait_event_type:wait_event` in `pg_stat_activity`, those waiting for \
         their client left out), sampled every 10 ms over the whole window by one psql session; PostgreSQL keeps no count \
         of lock waits."
    }
    fn drop_databases(&mut self) -> Result {
        for db in [PG_DB, PG_TEMPLATE] {
            psql("postgres", &[&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")])?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------- MariaDB

const MY_SERVER: &str = "mysql://root@127.0.0.1:3306";
const MY_DB: &str = "stepwise_bench_backfill";
const MY_LOAD: MariadbLoad = MariadbLoad { rate: RATE, clients: CLIENTS };
/// The same transaction as [`PG_READ_UPDATE`].
const MY_READ_UPDATE: &[&str] =
    &["SELECT amount, note, total FROM orders WHERE id = {id}", "UPDATE orders SET updated_at = now(6) WHERE id = {id}"];
/// The same on [`OTHER`].
const MY_READ_UPDATE_OTHER: &[&str] =
    &["SELECT amount, note, total FROM orders_other WHERE id = {id}", "UPDATE orders_other SET updated_at = now(6) WHERE id = {id}"];

/// The same rows as PostgreSQL's table (`osc::CREATE`), from MariaDB's
/// Sequence engine; the secondary index built after the rows, as there.
const MY_CREATE: &[&str] = &[
    "DROP TABLE IF EXISTS orders, orders_other",
    "CREATE TABLE orders (
         id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
         account_id int NOT NULL,
         status varchar(16) NOT NULL,
         amount int NOT NULL,
         note text NOT NULL,
         created_at datetime(6) NOT NULL DEFAULT current_timestamp(6),
         updated_at datetime(6) NOT NULL DEFAULT current_timestamp(6),
         total bigint
     ) ENGINE = InnoDB",
    "INSERT INTO orders (id, account_id, status, amount, note, created_at, updated_at)
     SELECT seq, seq * 7919 % 100000, elt(1 + seq % 4, 'new', 'paid', 'shipped', 'done'), seq * 31 % 10000,
            repeat(md5(seq), 3), timestamp '2026-01-01 00:00:00' + interval seq second, timestamp '2026-01-01 00:00:00' + interval seq second
       FROM seq_1_to_1000000",
    "CREATE INDEX orders_account_id ON orders (account_id)",
    "ANALYZE TABLE orders",
];

fn my_url() -> String {
    format!("{MY_SERVER}/{MY_DB}")
}

struct Maria {
    rt: Runtime,
    /// A connection for setting up and checking (not for measured runs).
    admin: Conn,
    work: PathBuf,
    /// The row-lock counters when `watch` began.
    watching: Option<(u64, f64)>,
}

impl Maria {
    /// A fresh bench database; `work` for files.
    fn new(work: &Path) -> Result<Maria> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| e.to_string())?;
        let opts = Opts::from_url(MY_SERVER).map_err(|e| e.to_string())?;
        let admin = rt.block_on(Conn::new(opts)).map_err(|e| format!("cannot connect to {MY_SERVER}: {e}"))?;
        let mut my = Maria { rt, admin, work: work.to_path_buf(), watching: None };
        my.drop_databases()?;
        my.sql(&format!("CREATE DATABASE {MY_DB}"))?;
        my.sql(&format!("USE {MY_DB}"))?;
        Ok(my)
    }

    fn sql(&mut self, q: &str) -> Result {
        self.rt.block_on(self.admin.query_drop(q)).map_err(|e| format!("{q}: {e}"))
    }

    fn value(&mut self, q: &str) -> Result<String> {
        let v: Option<String> = self.rt.block_on(self.admin.query_first(q)).map_err(|e| format!("{q}: {e}"))?;
        Ok(v.unwrap_or_default())
    }

    /// Wait (up to a minute) until purge is done and the redo log's
    /// checkpoint has caught up: the InnoDB side of PostgreSQL's CHECKPOINT.
    fn settle(&mut self) -> Result {
        let status = |name: &str| format!("(SELECT variable_value FROM information_schema.global_status WHERE variable_name = '{name}')");
        let q = format!(
            "SELECT {} < 10 AND {} < @@innodb_log_file_size / 20",
            status("INNODB_HISTORY_LIST_LENGTH"),
            status("INNODB_CHECKPOINT_AGE")
        );
        let start = Instant::now();
        while self.value(&q)? != "1" {
            if start.elapsed() > Duration::from_secs(60) {
                eprintln!("MariaDB did not settle within a minute (other work on the server?); measuring anyway");
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(())
    }

    /// The server's row-lock waits so far and their total ms.
    fn row_lock_waits(&mut self) -> Result<(u64, f64)> {
        let v = self.value(
            "SELECT concat(max(IF(variable_name = 'INNODB_ROW_LOCK_WAITS', variable_value, NULL)), ' ', \
                           max(IF(variable_name = 'INNODB_ROW_LOCK_TIME', variable_value, NULL))) \
               FROM information_schema.global_status WHERE variable_name IN ('INNODB_ROW_LOCK_WAITS', 'INNODB_ROW_LOCK_TIME')",
        )?;
        let mut parts = v.split_whitespace().map(|x| x.parse::<f64>());
        match (parts.next(), parts.next()) {
            (Some(Ok(n)), Some(Ok(ms))) => Ok((n as u64, ms)),
            _ => Err(format!("unexpected row-lock counters: {v}")),
        }
    }

    fn connect(&self) -> Result<Conn> {
        let opts = Opts::from_url(&my_url()).map_err(|e| e.to_string())?;
        self.rt.block_on(Conn::new(opts)).map_err(|e| format!("cannot connect to {}: {e}", my_url()))
    }
}

/// What `in_batches(of: 1000).update_all` sends on MySQL and MariaDB: pluck
/// the batch's ids, then `UPDATE ... WHERE id IN (<the ids>)`, each statement
/// committed on its own. (MariaDB refuses the `WHERE id IN (SELECT id ...
/// LIMIT 1000)` form used on PostgreSQL: "This version of MariaDB doesn't yet
/// support 'LIMIT & IN/ALL/ANY/SOME subquery'".) Text protocol, literal ids,
/// as the mysql2 gem sends them.
async fn rails_loop(conn: &mut Conn) -> mysql_async::Result<()> {
    let mut last = 0i64;
    loop {
        let ids: Vec<i64> = conn.query(format!("SELECT id FROM orders WHERE id > {last} ORDER BY id LIMIT {BATCH}")).await?;
        let Some(&end) = ids.last() else { return Ok(()) };
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        conn.query_drop(format!("UPDATE orders SET {SET} WHERE id IN ({list})")).await?;
        last = end;
    }
}

impl Engine for Maria {
    fn title(&mut self) -> Result<String> {
        let v = self.value("SELECT version()")?;
        let s = self.value(
            "SELECT concat('innodb_buffer_pool_size ', @@innodb_buffer_pool_size DIV 1048576, 'MB, innodb_log_file_size ', \
             @@innodb_log_file_size DIV 1048576, 'MB, innodb_flush_log_at_trx_commit ', @@innodb_flush_log_at_trx_commit)",
        )?;
        Ok(format!("MariaDB {v} ({s})"))
    }

    fn reset_note(&self) -> &'static str {
        "Before every run the table is dropped and rebuilt by the same generator, its pages flushed (`FLUSH TABLES orders \
         FOR EXPORT`), and InnoDB let finish its purge and its checkpoint (history list length below 10, checkpoint age \
         below 5% of the redo log)."
    }

    fn method_note(&self, m: Method) -> String {
        match m {
            Method::Floor => format!("one `UPDATE orders SET {SET}`"),
            Method::Rails => format!(
                "what `in_batches(of: {BATCH}).update_all` sends on MariaDB: `SELECT id FROM orders WHERE id > ? ORDER BY id LIMIT {BATCH}`, \
                 then `UPDATE orders SET ... WHERE id IN (<those ids>)` (MariaDB refuses `IN (SELECT ... LIMIT)`), one connection"
            ),
            Method::Between => between_note(),
            Method::Stepwise => stepwise_note(),
        }
    }

    fn load_note(&self) -> String {
        format!(
            "the bench's own load generator at {RATE} transactions/s over {CLIENTS} connections (text protocol; `SELECT` a row then \
             `UPDATE` its `updated_at`, by random id, each statement its own transaction; transactions on a fixed schedule, \
             latency from the scheduled start, as pgbench -R)"
        )
    }

    /// Rebuilt by the generator every time (MariaDB has no cheap copy of a table).
    fn fresh(&mut self) -> Result {
        for q in MY_CREATE {
            self.sql(q)?;
        }
        // Write the table's pages out, then let InnoDB finish: the rebuild
        // leaves the redo log most of the way to full, and a run started
        // then pays for the flushing that frees it (about 20% slower here).
        self.sql("FLUSH TABLES orders FOR EXPORT")?;
        self.sql("UNLOCK TABLES")?;
        self.settle()
    }

    fn run(&mut self, m: Method, stepwise: &Path) -> Result<Timed> {
        if m == Method::Stepwise {
            return stepwise_backfill(stepwise, &my_url(), &self.work);
        }
        let mut conn = self.connect()?;
        let start = now_us();
        self.rt
            .block_on(async {
                match m {
                    Method::Rails => rails_loop(&mut conn).await,
                    Method::Between => {
                        for u in between_ranges() {
                            conn.query_drop(u).await?;
                        }
                        Ok(())
                    }
                    _ => conn.query_drop(format!("UPDATE orders SET {SET}")).await,
                }
            })
            .map_err(|e| format!("{}: {e}", m.short()))?;
        let end = now_us();
        let _ = self.rt.block_on(conn.disconnect());
        Ok(Timed { start, end })
    }

    fn remaining(&mut self) -> Result<i64> {
        let n = self.value(&format!("SELECT count(*) FROM orders WHERE NOT (total <=> {EXPR})"))?;
        n.parse().map_err(|_| format!("unexpected count: {n}"))
    }

    fn sizes_note(&self) -> &'static str {
        "InnoDB's pages allocated to each index (`mysql.innodb_index_stats`, stat `size`, after `ANALYZE TABLE`); \
         PRIMARY is the table itself."
    }

    fn sizes(&mut self) -> Result<String> {
        self.sql("ANALYZE TABLE orders")?;
        self.value(&format!(
            "SELECT group_concat(concat(index_name, ' ', round(stat_value * @@innodb_page_size / 1048576), ' MB') \
               ORDER BY index_name <> 'PRIMARY', index_name SEPARATOR ', ') \
               FROM mysql.innodb_index_stats WHERE database_name = '{MY_DB}' AND table_name = 'orders' AND stat_name = 'size'"
        ))
    }

    /// Repeated `BENCHMARK()` calls of a fraction of a second each, on one connection.
    fn busy(&mut self, secs: f64) -> Result<Timed> {
        let mut conn = self.connect()?;
        let (start, clock) = (now_us(), Instant::now());
        self.rt
            .block_on(async {
                while clock.elapsed().as_secs_f64() < secs {
                    conn.query_drop("SELECT BENCHMARK(1000000, SHA2(RAND(), 256))").await?;
                }
                Ok::<_, mysql_async::Error>(())
            })
            .map_err(|e| format!("busy session: {e}"))?;
        let end = now_us();
        let _ = self.rt.block_on(conn.disconnect());
        Ok(Timed { start, end })
    }

    fn under_load(&mut self, _dir: &Path, secs: u64, job: Option<Job>) -> Result<(Load, Option<Result<Timed>>)> {
        let statements = match job {
            Some(Job::Elsewhere(_)) => MY_READ_UPDATE_OTHER,
            _ => MY_READ_UPDATE,
        };
        let running = MY_LOAD.start(&self.rt, &my_url(), statements, ROWS, secs)?;
        let run = job.map(|job| {
            std::thread::sleep(Duration::from_secs(WARMUP_SECS));
            self.start_job(job)
        });
        Ok((running.wait(&self.rt)?, run))
    }

    fn copy_to_other(&mut self) -> Result {
        self.sql(&format!("CREATE TABLE {OTHER} LIKE orders"))?;
        self.sql(&format!("INSERT INTO {OTHER} SELECT * FROM orders"))?;
        self.sql(&format!("FLUSH TABLES {OTHER} FOR EXPORT"))?;
        self.sql("UNLOCK TABLES")?;
        self.settle()
    }

    fn watch(&mut self) -> Result {
        self.watching = Some(self.row_lock_waits()?);
        Ok(())
    }

    fn watched(&mut self) -> Result<String> {
        let (n0, ms0) = self.watching.take().unwrap_or_default();
        let (n1, ms1) = self.row_lock_waits()?;
        Ok(format!("{} row-lock waits, {:.0} ms in all", n1.saturating_sub(n0), ms1 - ms0))
    }

    fn waits_note(&self) -> &'static str {
        "the server's row-lock counters (`Innodb_row_lock_waits`, `Innodb_row_lock_time`) over the whole window; the \
         backfill never waits for a row lock, so they are the load's."
    }
    fn drop_databases(&mut self) -> Result {
        self.sql(&format!("DROP DATABASE IF EXISTS {MY_DB}"))
    }
}
