//! Two helpers of `cargo xtask bench lint --rails`:
//!
//! ```text
//! rails_tool parse DIR            # parse every .rb file with prism, as lint does (the Ruby parser's share)
//! rails_tool to-sql DIR OUT postgres|mysql
//!                                 # write the SQL Rails would run for each migration as a stepwise SQL
//!                                 # migration, padded with a comment to the .rb file's size (the baseline:
//!                                 # SQL lint on files of the same size and content)
//! ```

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use stepwise_lint::rails::{derive, interp::Model, ruby, RailsFile};
use stepwise_sql::{Dialect, SourceFile};

fn rb_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rb"))
        .collect();
    v.sort();
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("parse") => {
            let files = rb_files(Path::new(&args[1]));
            let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).expect("read")).collect();
            let start = std::time::Instant::now();
            let mut errors = 0;
            for t in &texts {
                if ruby::parse(t).is_err() {
                    errors += 1;
                }
            }
            println!("{} files parsed in {:.4} s, {errors} errors", texts.len(), start.elapsed().as_secs_f64());
        }
        Some("to-sql") => {
            let (dir, out) = (Path::new(&args[1]), Path::new(&args[2]));
            let dialect = if args.get(3).is_some_and(|d| d == "mysql") { Dialect::MySql } else { Dialect::Postgres };
            std::fs::create_dir_all(out).expect("out dir");
            let mut model = Model::default();
            let mut written = 0;
            for f in rb_files(dir) {
                let text = std::fs::read_to_string(&f).expect("read");
                let size = text.len();
                let rb = RailsFile { file: Arc::new(SourceFile { name: f.display().to_string(), text }), new: false };
                let Ok((d, _)) = derive(&rb, dialect, &mut model) else { continue };
                let mut sql = d.synth.sql.clone();
                while sql.len() < size {
                    let pad = (size - sql.len()).clamp(4, 80);
                    sql.push_str("-- ");
                    sql.push_str(&"x".repeat(pad.saturating_sub(4)));
                    sql.push('\n');
                }
                let stem = f.file_stem().unwrap().to_string_lossy().to_string();
                std::fs::write(out.join(format!("{stem}.sql")), sql).expect("write");
                written += 1;
            }
            println!("{written} files written");
        }
        _ => {
            eprintln!("usage: rails_tool parse DIR | to-sql DIR OUT postgres|mysql");
            std::process::exit(2);
        }
    }
}
