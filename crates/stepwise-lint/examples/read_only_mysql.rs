//! The MySQL front end alone, as a floor for `stepwise lint --dialect mysql`
//! (used by `cargo xtask bench lint --dialect mysql`): read every `.sql`
//! file under a directory, split it into statements with stepwise's file
//! parser (MySQL dialect: backquotes, `#` comments, DELIMITER) and read
//! each up statement with the MySQL reader, the files split over threads
//! like lint splits them, with the allocator `stepwise` uses.
//!
//! ```text
//! cargo run --release -p stepwise-lint --example read_only_mysql -- DIR [--threads N]
//! ```

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use stepwise_lint::mysql::reader::read;
use stepwise_sql::{parse_file, Dialect, FileRole, Flavor, SourceFile};

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

/// (statements, errors) over `files`.
fn read_files(files: &[PathBuf]) -> (usize, usize) {
    let (mut statements, mut errors) = (0, 0);
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            errors += 1;
            continue;
        };
        let file = Arc::new(SourceFile { name: f.display().to_string(), text });
        match parse_file(file, FileRole::Combined, Dialect::MySql, Flavor::Native) {
            Ok(parsed) => {
                for s in parsed.up.iter().flat_map(|u| u.statements.iter()).filter(|s| s.backfill.is_none()) {
                    match read(&s.sql) {
                        Ok(_) => statements += 1,
                        Err(_) => errors += 1,
                    }
                }
            }
            Err(_) => errors += 1,
        }
    }
    (statements, errors)
}

fn main() {
    let mut dir = None;
    let mut threads = 2usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0).unwrap_or(2),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: read_only_mysql DIR [--threads N]");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    if let Err(e) = sql_files(&dir, &mut files) {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(2);
    }
    files.sort();
    let chunk = files.len().div_ceil(threads).max(1);
    let (statements, errors) = std::thread::scope(|s| {
        let handles: Vec<_> = files.chunks(chunk).map(|part| s.spawn(move || read_files(part))).collect();
        handles.into_iter().map(|h| h.join().expect("reader thread")).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!("{} files, {statements} statements, {errors} read errors", files.len());
}
