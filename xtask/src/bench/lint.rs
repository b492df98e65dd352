//! `cargo xtask bench lint`: lint 10,000 migration files (about 10 MB of
//! mixed DDL, functions, enums and data fixes) against the parser alone on the
//! same files (`pg_query::parse` on both cores: the floor for one pass), and
//! against squawk when it can be installed from PyPI.
//!
//! The files are made from the realistic corpus
//! (`crates/stepwise-cli/tests/corpus/app`): consecutive migrations are merged
//! until a file holds about 1 KB (the size of a real-world migration), and each
//! pass over the corpus renames what it creates (`orders` -> `orders_c3`), so
//! every copy is a history of its own. `STEPWISE_BENCH_FILES=500` makes a
//! smaller run (not recorded); `STEPWISE_BENCH_KEEP=1` keeps the generated
//! files (for profiling).

use super::{median, record};

/// The synthetic real-project history the tests apply (pg_dump-style base,
/// golang-migrate pairs, functions, partitions): one generator for both.
#[path = "../../../crates/stepwise-cli/tests/common/history.rs"]
mod history;
use crate::util::{build_stepwise, capture, root, which, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const FILES: usize = 10_000;
pub(super) const ROUNDS: usize = 5;
/// Bytes a generated file grows to before it is written.
const FILE_BYTES: usize = 500;

/// One corpus migration: the comment lines before `-- stepwise:up`, and its sections.
struct Source {
    name: String,
    no_transaction: bool,
    head: Vec<String>,
    up: String,
    down: String,
}

fn read_corpus() -> Result<Vec<Source>> {
    let dir = root().join("crates/stepwise-cli/tests/corpus/app");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = stem.split_once('_').map(|(_, n)| n.to_string()).unwrap_or(stem);
        let (head, rest) = text.split_once("-- stepwise:up\n").ok_or_else(|| format!("{}: no `-- stepwise:up`", p.display()))?;
        let (up, down) = rest.split_once("-- stepwise:down\n").unwrap_or((rest, ""));
        let head: Vec<String> = head.lines().map(str::to_string).collect();
        out.push(Source {
            name,
            no_transaction: head.iter().any(|l| l.trim() == "-- stepwise:no-transaction"),
            head: head.into_iter().filter(|l| !l.starts_with("-- stepwise:")).collect(),
            up: up.trim_end().to_string(),
            down: down.trim_end().to_string(),
        });
    }
    if out.is_empty() {
        return Err(format!("no migrations in {}", dir.display()));
    }
    Ok(out)
}

/// Names the corpus creates (tables, indexes, types, functions, views,
/// sequences, rename targets): renamed in each copy.
fn created_names(corpus: &[Source]) -> HashSet<String> {
    const SKIP: &[&str] = &["unique", "concurrently", "if", "not", "exists", "or", "replace", "materialized", "unlogged", "only"];
    let mut names = HashSet::new();
    for s in corpus {
        let w: Vec<String> = words(&s.up).map(|w| w.to_ascii_lowercase()).collect();
        for i in 0..w.len() {
            let starts = (w[i] == "create" && i + 1 < w.len()) || (w[i] == "rename" && w.get(i + 1).is_some_and(|x| x == "to"));
            if !starts {
                continue;
            }
            let mut j = i + 1;
            while j < w.len() && SKIP.contains(&w[j].as_str()) {
                j += 1;
            }
            let kinds = ["table", "index", "type", "function", "view", "sequence", "trigger", "to"];
            if j < w.len() && kinds.contains(&w[j].as_str()) {
                j += 1;
                while j < w.len() && SKIP.contains(&w[j].as_str()) {
                    j += 1;
                }
                if let Some(n) = w.get(j).filter(|n| n.as_str() != "on") {
                    names.insert(n.clone());
                }
            }
        }
    }
    names
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// `text` with every identifier in `names` suffixed with `suffix`.
fn rename(text: &str, names: &HashSet<String>, suffix: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(word);
        if names.contains(&word.to_ascii_lowercase()) {
            out.push_str(suffix);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Write `count` migration files into `dir`; returns their total size in bytes.
fn generate(dir: &Path, count: usize, corpus: &[Source]) -> Result<u64> {
    let names = created_names(corpus);
    let mut bytes = 0u64;
    let mut next = 0usize; // position in the endless sequence of corpus copies
    for i in 0..count {
        let (mut head, mut ups, mut downs, mut no_tx) = (Vec::new(), Vec::new(), Vec::new(), false);
        let first = next;
        let mut size = 0;
        // Merge consecutive migrations (of one copy) until the file is big enough.
        while size < FILE_BYTES {
            let s = &corpus[next % corpus.len()];
            let suffix = format!("_c{}", next / corpus.len());
            head.extend(s.head.iter().map(|l| rename(l, &names, &suffix)));
            ups.push(rename(&s.up, &names, &suffix));
            downs.push(rename(&s.down, &names, &suffix));
            no_tx |= s.no_transaction;
            size += s.up.len() + s.down.len();
            next += 1;
            if next.is_multiple_of(corpus.len()) {
                break;
            }
        }
        downs.reverse();
        let mut text = head.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        if no_tx {
            text.push_str("-- stepwise:no-transaction\n");
        }
        text.push_str(&format!("-- stepwise:up\n{}\n\n-- stepwise:down\n{}\n", ups.join("\n\n"), downs.join("\n\n")));
        let name = format!("{:06}_{}_c{}.sql", i + 1, corpus[first % corpus.len()].name, first / corpus.len());
        std::fs::write(dir.join(name), &text).map_err(|e| format!("cannot write into {}: {e}", dir.display()))?;
        bytes += text.len() as u64;
    }
    Ok(bytes)
}

/// Wall seconds and peak RSS (KiB) of a command whose exit code is one of
/// `ok` (lint exits 1 when it finds errors, which the corpus has on purpose).
fn timed(cmd: &mut Command, ok: &[i32]) -> Result<(f64, u64)> {
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped.arg("-f").arg("%M").arg(cmd.get_program()).args(cmd.get_args()).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let start = Instant::now();
    let out = wrapped.output().map_err(|e| format!("cannot run /usr/bin/time (apt-get install time): {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.code().is_some_and(|c| ok.contains(&c)) {
        return Err(format!("benchmark command {cmd:?} failed ({}): {stderr}", out.status));
    }
    let kib = stderr.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    Ok((secs, kib))
}

/// Median wall seconds (and peak RSS) over ROUNDS runs, after one warm-up run.
pub(super) fn measure(label: &str, ok: &[i32], mut make: impl FnMut() -> Command) -> Result<(f64, f64)> {
    timed(&mut make(), ok)?;
    let (mut secs, mut mem) = (vec![], vec![]);
    for _ in 0..ROUNDS {
        let (s, kib) = timed(&mut make(), ok)?;
        secs.push(s);
        mem.push(kib as f64);
    }
    let shown: Vec<String> = secs.iter().map(|s| format!("{s:.3}")).collect();
    eprintln!("{label}: {} s", shown.join(", "));
    Ok((median(secs), median(mem)))
}

/// A squawk binary: on PATH, or installed from PyPI (the wheel ships it) under target/.
fn squawk() -> std::result::Result<PathBuf, String> {
    if which("squawk") {
        return Ok(PathBuf::from("squawk"));
    }
    let dir = root().join("target").join("bench-tools").join("squawk");
    let bin = dir.join("bin").join("squawk");
    if !bin.exists() {
        let python = if which("python3") { "python3" } else { "python" };
        let installed = capture(
            Command::new(python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target"])
                .arg(&dir)
                .arg("squawk-cli"),
        );
        if let Err(e) = installed {
            return Err(format!("not installable with pip from PyPI ({})", e.lines().last().unwrap_or("").trim()));
        }
    }
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("pip installed squawk-cli but {} is missing", bin.display()))
    }
}

/// The number of files a lint bench generates: `STEPWISE_BENCH_FILES`
/// (above `min`) for a smaller run, else `standard`.
pub(super) fn files_from_env(standard: usize, min: usize) -> Result<usize> {
    match std::env::var("STEPWISE_BENCH_FILES") {
        Ok(v) => v.parse::<usize>().ok().filter(|&n| n > min).ok_or(format!("STEPWISE_BENCH_FILES={v}: expected a number above {min}")),
        Err(_) => Ok(standard),
    }
}

/// Build a release example of `package`; its path.
pub(super) fn release_example(package: &str, example: &str) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    crate::util::run(Command::new(&cargo).current_dir(root()).args(["build", "-q", "--release", "-p", package, "--example", example]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release").join("examples").join(example))
}

pub fn run() -> Result {
    let count = files_from_env(FILES, 0)?;
    let stepwise = build_stepwise(true)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    crate::util::run(Command::new(&cargo).current_dir(root()).args([
        "build",
        "-q",
        "--release",
        "-p",
        "stepwise-sql",
        "--example",
        "parse_only",
        "--example",
        "parse_only_mimalloc",
    ]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let examples = target.join("release").join("examples");
    let parse_only = [examples.join("parse_only"), examples.join("parse_only_mimalloc")];

    let corpus = read_corpus()?;
    let work = std::env::temp_dir().join(format!("stepwise-bench-lint-{}", std::process::id()));
    let dir = work.join("migrations");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = bench(count, &corpus, &work, &dir, &stepwise, &parse_only);
    // The second corpus: golang-migrate pairs of the synthetic history, as
    // many files in all (up and down), its base a pg_dump of 200 tables.
    let real_work = work.join("real");
    let real_dir = real_work.join("migrations");
    let features = (count / 2).saturating_sub(1).div_ceil(10).max(1);
    let migs = history::history(200, features);
    history::write(&real_dir, &migs, history::Style::GolangMigrate);
    let real =
        result.and_then(|block| bench_real(migs.len(), &real_work, &real_dir, &stepwise, &parse_only).map(|r| format!("{block}\n{r}")));
    if std::env::var_os("STEPWISE_BENCH_KEEP").is_some() {
        eprintln!("kept the generated files in {} (STEPWISE_BENCH_KEEP)", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    let block = real?;
    println!("{block}");
    if count == FILES {
        record("lint", &block)
    } else {
        eprintln!("not recorded: STEPWISE_BENCH_FILES={count} is not the standard run");
        Ok(())
    }
}

/// `parse_only`: the parser alone with the system allocator, then with mimalloc (which `stepwise` uses).
fn bench(count: usize, corpus: &[Source], work: &Path, dir: &Path, stepwise: &Path, parse_only: &[PathBuf; 2]) -> Result<String> {
    let bytes = generate(dir, count, corpus)?;
    let mb = bytes as f64 / 1e6;
    eprintln!("generated {count} files ({mb:.1} MB) from {} corpus migrations in {}", corpus.len(), dir.display());

    // What lint and the parser see, checked once outside the timings.
    let json = lint_output(stepwise, work)?;
    let compact: String = json.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains(&format!("\"files\":{count}")) || !compact.contains("\"unparseable\":0") {
        let tail = &compact[compact.len().saturating_sub(300)..];
        return Err(format!("lint did not read {count} files without parse errors: {tail}"));
    }
    let summary = compact.rsplit_once("\"summary\":").and_then(|(_, s)| s.find('}').map(|end| s[..=end].to_string())).unwrap_or_default();
    let parsed = capture(Command::new(&parse_only[0]).arg(dir))?;
    if !parsed.contains(" 0 parse errors") {
        return Err(format!("the parser alone failed on some files: {}", parsed.trim()));
    }
    eprintln!("lint summary: {summary}\nparser alone: {}", parsed.trim());

    let lint = || {
        let mut c = Command::new(stepwise);
        c.current_dir(work).args(["lint", "migrations", "--format", "json"]);
        c
    };
    let parse = |bin: &'static str, threads: &'static str, up_only: bool| {
        let bin = if bin == "mimalloc" { &parse_only[1] } else { &parse_only[0] };
        move || {
            let mut c = Command::new(bin);
            c.arg(dir).args(["--threads", threads]);
            if up_only {
                c.arg("--up-only");
            }
            c
        }
    };
    let (l, l_mem) = measure("stepwise lint --format json", &[0, 1], lint)?;
    let (floor, _) = measure("pg_query::parse, whole files, 2 threads", &[0], parse("system", "2", false))?;
    let (floor_mi, _) = measure("pg_query::parse, whole files, 2 threads, mimalloc", &[0], parse("mimalloc", "2", false))?;
    let (floor_up, _) = measure("pg_query::parse, up sections, 2 threads, mimalloc", &[0], parse("mimalloc", "2", true))?;
    let (one_core, _) = measure("pg_query::parse, whole files, 1 thread", &[0], parse("system", "1", false))?;

    let squawk_row = match squawk() {
        Ok(bin) => {
            let version = capture(Command::new(&bin).arg("--version")).unwrap_or_default();
            let (s, _) = measure("squawk", &[0, 1], || {
                let mut c = Command::new(&bin);
                c.current_dir(work).args(["--reporter", "json", "migrations/*.sql"]);
                c
            })?;
            format!(
                "| {} (`--reporter json`, whole files) | {s:.3} s |\n| squawk / stepwise | {:.2}x (goal >= 2) |\n",
                version.trim(),
                s / l
            )
        }
        Err(why) => {
            eprintln!("squawk: {why}");
            format!("| squawk | not measured: {why} |\n")
        }
    };

    let date = capture(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    Ok(format!(
        "## {}\n\n{count} migration files ({mb:.1} MB) made from the {} migrations of tests/corpus/app (merged to ~1 KB a file, \
         renamed per copy), {cores} cores; median of {ROUNDS} runs after a warm-up.\n\
         Lint summary: `{summary}`.\n\n\
         | measure | value |\n| --- | --- |\n\
         | stepwise lint --format json | {l:.3} s |\n\
         | files/s | {:.0} |\n\
         | MB/s | {:.1} |\n\
         | peak memory (RSS) | {:.1} MiB |\n\
         | parser alone: pg_query::parse, whole files, 2 threads (floor) | {floor:.3} s |\n\
         | lint / floor | {:.2} (goal <= 1.3) |\n\
         | parser alone, whole files, 2 threads, with mimalloc like stepwise | {floor_mi:.3} s |\n\
         | lint / mimalloc floor | {:.2} |\n\
         | parser alone, up sections only (what lint parses), 2 threads, mimalloc | {floor_up:.3} s |\n\
         | lint / up-sections floor | {:.2} |\n\
         | parser alone, whole files, 1 thread (reference) | {one_core:.3} s |\n\
         {squawk_row}",
        date.trim(),
        corpus.len(),
        count as f64 / l,
        mb / l,
        l_mem / 1024.0,
        l / floor,
        l / floor_mi,
        l / floor_up,
    ))
}

/// The synthetic history in golang-migrate's layout: stepwise lints the up
/// files, and squawk is given the same (`*.up.sql`); the parser floor
/// parses the up files too.
fn bench_real(migrations: usize, work: &Path, dir: &Path, stepwise: &Path, parse_only: &[PathBuf; 2]) -> Result<String> {
    let files = std::fs::read_dir(dir).map_err(|e| e.to_string())?.count();
    let (mut up_bytes, mut base_bytes) = (0u64, 0u64);
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        if name.ends_with(".up.sql") {
            up_bytes += len;
        }
        if name.starts_with("000001_") && name.ends_with(".up.sql") {
            base_bytes = len;
        }
    }
    let mb = up_bytes as f64 / 1e6;
    eprintln!("generated {files} golang-migrate files ({migrations} migrations, {mb:.1} MB of up files) in {}", dir.display());
    let json = lint_output(stepwise, work)?;
    let compact: String = json.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains(&format!("\"files\":{migrations}")) || !compact.contains("\"unparseable\":0") {
        let tail = &compact[compact.len().saturating_sub(300)..];
        return Err(format!("lint did not read {migrations} migrations without parse errors: {tail}"));
    }
    let summary = compact.rsplit_once("\"summary\":").and_then(|(_, s)| s.find('}').map(|end| s[..=end].to_string())).unwrap_or_default();
    let lint = || {
        let mut c = Command::new(stepwise);
        c.current_dir(work).args(["lint", "migrations", "--format", "json"]);
        c
    };
    let (l, l_mem) = measure("real: stepwise lint --format json", &[0, 1], lint)?;
    let (floor, _) = measure("real: pg_query::parse, up files, 2 threads, mimalloc", &[0], || {
        let mut c = Command::new(&parse_only[1]);
        c.arg(dir).args(["--threads", "2", "--up-only"]);
        c
    })?;
    let squawk_row = match squawk() {
        Ok(bin) => {
            let (s, _) = measure("real: squawk", &[0, 1], || {
                let mut c = Command::new(&bin);
                c.current_dir(work).args(["--reporter", "json", "migrations/*.up.sql"]);
                c
            })?;
            format!("| squawk (`--reporter json`, the same up files) | {s:.3} s |\n| squawk / stepwise | {:.2}x (goal >= 2) |\n", s / l)
        }
        Err(why) => format!("| squawk | not measured: {why} |\n"),
    };
    Ok(format!(
        "### The synthetic real-project history (tests/common/history.rs)\n\n\
         {migrations} migrations in golang-migrate's layout ({files} files; {mb:.1} MB of up files, the pg_dump-style base \
         alone {:.0} KB), median of {ROUNDS} runs after a warm-up. Lint summary: `{summary}`.\n\n\
         | measure | value |\n| --- | --- |\n\
         | stepwise lint --format json | {l:.3} s |\n\
         | peak memory (RSS) | {:.1} MiB |\n\
         | parser alone, up files, 2 threads, mimalloc (floor) | {floor:.3} s |\n\
         | lint / floor | {:.2} (goal <= 1.3) |\n\
         {squawk_row}",
        base_bytes as f64 / 1e3,
        l_mem / 1024.0,
        l / floor,
    ))
}

/// lint's JSON output; exit 1 (errors found, as the corpus has on purpose) is a success here.
fn lint_output(stepwise: &Path, work: &Path) -> Result<String> {
    let out = Command::new(stepwise)
        .current_dir(work)
        .args(["lint", "migrations", "--format", "json"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", stepwise.display()))?;
    match out.status.code() {
        Some(0 | 1) => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => Err(format!("stepwise lint failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim())),
    }
}
