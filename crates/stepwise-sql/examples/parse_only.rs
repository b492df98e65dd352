//! The parser alone, as a floor for `stepwise lint` (used by `cargo xtask
//! bench lint`): read every `.sql` file under a directory and run
//! `pg_query::parse` on it, the files split over threads like lint splits them.
//!
//! ```text
//! cargo run --release -p stepwise-sql --example parse_only -- DIR [--threads N] [--up-only]
//! ```
//!
//! `parse_only_mimalloc` is the same with the allocator `stepwise` uses.
//!
//! `--threads` defaults to 2; `--up-only` parses only the text between
//! `-- stepwise:up` and `-- stepwise:down` (what lint parses), instead of the
//! whole file. Prints the files, statements and parse errors it counted.

use std::path::{Path, PathBuf};

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sql_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// The up section of a native migration, or the whole text without markers.
fn up_section(text: &str) -> &str {
    let start = text.find("-- stepwise:up").map(|i| i + "-- stepwise:up".len()).unwrap_or(0);
    let end = text[start..].find("-- stepwise:down").map(|i| start + i).unwrap_or(text.len());
    &text[start..end]
}

/// (statements, parse errors) over `files`.
fn parse_files(files: &[PathBuf], up_only: bool) -> (usize, usize) {
    let (mut statements, mut errors) = (0, 0);
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                errors += 1;
                continue;
            }
        };
        // A golang-migrate `.down.sql` file is a down section: lint skips it.
        if up_only && f.to_string_lossy().ends_with(".down.sql") {
            continue;
        }
        let sql = if up_only { up_section(&text) } else { &text };
        match pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
            Ok(r) => statements += r.protobuf.stmts.len(),
            Err(_) => errors += 1,
        }
    }
    (statements, errors)
}

pub fn main() {
    let mut dir = None;
    let mut threads = 2usize;
    let mut up_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0).unwrap_or(2),
            "--up-only" => up_only = true,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: parse_only DIR [--threads N] [--up-only]");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    if let Err(e) = sql_files(&dir, &mut files) {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(2);
    }
    files.sort();
    let chunk = files.len().div_ceil(threads).max(1);
    let (statements, errors) = std::thread::scope(|scope| {
        let handles: Vec<_> = files.chunks(chunk).map(|part| scope.spawn(move || parse_files(part, up_only))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or((0, 1))).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!("{} files, {statements} statements, {errors} parse errors", files.len());
}
