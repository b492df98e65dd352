//! A bounded mutation fuzz of the migration-file parser and the lint.
//!
//! Real migration files (the test corpus) and a few seeds are mutated with
//! SQL-shaped edits (quotes, comments, dollar quotes, directives, NUL bytes,
//! multibyte characters, deep nesting) and fed to `parse_file` in every
//! dialect and flavour, then to `lint`. Nothing may panic: a bad file is an
//! error with a position, never a crash.
//!
//! CI runs it for `STEPWISE_FUZZ_SECS` (default 20) seconds from a seed that
//! is printed (`STEPWISE_FUZZ_SEED` replays one). A crash is minimized and
//! printed as a Rust string literal, to be pasted into a regression test.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stepwise_lint::pg::{lint, Schema};
use stepwise_lint::{LintFile, LintOptions};
use stepwise_sql::{parse_file, Dialect, FileRole, Flavor, SourceFile};

/// Fragments a mutation inserts: what breaks a lexer or a statement splitter.
const DICTIONARY: &[&str] = &[
    "'",
    "\"",
    "`",
    ";",
    "(",
    ")",
    "--",
    "/*",
    "*/",
    "/*!",
    "/*M!50000",
    "#",
    "$$",
    "$a$",
    "$$;",
    "\\",
    "E'\\''",
    "U&'",
    "\n",
    "\r\n",
    "\0",
    "é",
    "🦀",
    "\u{feff}",
    " ",
    "-- stepwise:up\n",
    "-- stepwise:down\n",
    "-- stepwise:no-transaction\n",
    "-- stepwise:online\n",
    "-- stepwise:phase post-deploy\n",
    "ALTER TABLE t ",
    " ADD COLUMN ",
    " MODIFY ",
    " CHANGE ",
    ", ALGORITHM=",
    " LOCK=NONE",
    ",",
    "DELIMITER ;;\n",
    " CHARACTER SET ",
    "-- stepwise:ignore require-concurrent-index reviewed\n",
    "-- stepwise:backfill t SET a = 1 WHERE b\n",
    "-- stepwise:backfill \"x\" SET (a, b) = (1, 2)\n",
    "-- migrate:up\n",
    "-- +goose Up\n",
    "-- +goose StatementBegin\n",
    "-- +goose StatementEnd\n",
    "BEGIN;",
    "COMMIT;",
    "DO $$ BEGIN NULL; END $$;",
    "CREATE INDEX CONCURRENTLY i ON t (a);",
    "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;",
    "ALTER TABLE t ALTER COLUMN a TYPE bigint USING a * 2;",
    "CREATE TABLE t (id bigint PRIMARY KEY, a int);",
    "DROP TABLE t;",
    "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1 $f$ LANGUAGE sql;",
    "((((((((((",
    "))))))))))",
    "DELIMITER //\n",
    "//\n",
    "COPY t FROM stdin;\n1\n\\.\n",
    "\"\"\"",
];

/// The corpus and the seeds, as mutation starting points.
fn inputs() -> Vec<String> {
    let mut out = vec![
        String::new(),
        "-- stepwise:up\nCREATE TABLE t (id bigint PRIMARY KEY, a int);\n-- stepwise:down\nDROP TABLE t;\n".to_string(),
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n".to_string(),
        "-- stepwise:up\n-- stepwise:online\nALTER TABLE t ALTER COLUMN a TYPE bigint;\n".to_string(),
        "-- stepwise:up\n-- stepwise:backfill t SET a = b * 2 WHERE a IS NULL\n".to_string(),
    ];
    // MySQL: each rule's examples, as one file after its setup.
    for m in stepwise_lint::rule_metas(Dialect::MySql) {
        out.push(format!("-- stepwise:up\n{}\n{}\n{}\n", m.setup, m.bad, m.safe.join("\n")));
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stepwise-cli/tests/corpus");
    let mut stack = vec![corpus];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                out.push(text);
            }
        }
    }
    out
}

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Apply one to eight SQL-shaped edits.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(s.len() + 1);
        match rng.below(7) {
            0 | 1 => {
                let frag = DICTIONARY[rng.below(DICTIONARY.len())];
                s.splice(at..at, frag.chars());
            }
            2 => {
                let end = (at + 1 + rng.below(40)).min(s.len());
                if at < end {
                    s.drain(at..end);
                }
            }
            3 => {
                let end = (at + 1 + rng.below(80)).min(s.len());
                let copy: Vec<char> = s[at.min(s.len())..end.max(at.min(s.len()))].to_vec();
                let to = rng.below(s.len() + 1);
                s.splice(to..to, copy);
            }
            4 => {
                if at < s.len() {
                    s[at] = char::from_u32(rng.below(0x80) as u32).unwrap_or('x');
                }
            }
            5 => s.truncate(at),
            _ => {
                // Deep nesting or a long run of one fragment.
                let frag = DICTIONARY[rng.below(DICTIONARY.len())];
                let times = 1 + rng.below(300);
                let run: Vec<char> = frag.repeat(times).chars().collect();
                s.splice(at..at, run);
            }
        }
    }
    s.into_iter().collect()
}

/// Everything a user's file goes through before it reaches a database.
fn exercise(text: &str) {
    let file = Arc::new(SourceFile { name: "fuzz.sql".into(), text: text.to_string() });
    for dialect in [Dialect::Postgres, Dialect::MySql] {
        for flavor in [Flavor::Native, Flavor::Dbmate, Flavor::Goose, Flavor::Sqlx, Flavor::Plain] {
            for role in [FileRole::Combined, FileRole::UpOnly, FileRole::DownOnly] {
                let parsed = parse_file(file.clone(), role, dialect, flavor);
                if let (Ok(parsed), Flavor::Native, FileRole::Combined) = (parsed, flavor, role) {
                    // Judged as new and as existing (the MySQL rules judge existing tables).
                    for new in [true, false] {
                        let files = [
                            LintFile { file: file.clone(), parsed: parsed.clone(), new },
                            LintFile { file: file.clone(), parsed: parsed.clone(), new: true },
                        ];
                        match dialect {
                            Dialect::Postgres => drop(lint(&files[..1], Schema::default(), &LintOptions::default())),
                            Dialect::MySql => {
                                for server in ["mariadb-10.3", "mariadb-11.4", "mysql-8.0.12", "mysql-5.7.40"] {
                                    let opts =
                                        LintOptions { mysql: stepwise_lint::mysql::Server::parse(server).unwrap(), ..Default::default() };
                                    drop(stepwise_lint::mysql::lint(&files, Default::default(), &opts));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn panics(text: &str) -> bool {
    catch_unwind(AssertUnwindSafe(|| exercise(text))).is_err()
}

/// Remove chunks while the input still panics (delta debugging), for at most `budget`.
fn minimize(text: &str, budget: Duration) -> String {
    let start = Instant::now();
    let mut s: Vec<char> = text.chars().collect();
    let mut chunk = s.len().div_ceil(2).max(1);
    while chunk >= 1 && start.elapsed() < budget {
        let mut i = 0;
        let mut removed = false;
        while i < s.len() && start.elapsed() < budget {
            let end = (i + chunk).min(s.len());
            let candidate: String = s[..i].iter().chain(&s[end..]).collect();
            if panics(&candidate) {
                s = candidate.chars().collect();
                removed = true;
            } else {
                i += chunk;
            }
        }
        if !removed {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_migration_files_never_panic_the_parser_or_the_lint() {
    let secs: u64 = std::env::var("STEPWISE_FUZZ_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let seed: u64 = std::env::var("STEPWISE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1
    });
    let inputs = inputs();
    assert!(inputs.len() > 100, "the corpus was not found ({} inputs)", inputs.len());
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    // Panics are expected to be caught here; keep the log readable.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut runs = 0u64;
    let mut crash = None;
    while Instant::now() < deadline {
        let base = &inputs[rng.below(inputs.len())];
        let text = mutate(base, &mut rng);
        runs += 1;
        if panics(&text) {
            crash = Some(text);
            break;
        }
    }
    let minimized = crash.as_deref().map(|c| minimize(c, Duration::from_secs(60)));
    std::panic::set_hook(hook);
    eprintln!("fuzz: {runs} mutated files in {secs}s from seed {seed} (STEPWISE_FUZZ_SEED={seed} replays it)");
    if let Some(min) = minimized {
        // Re-run outside catch_unwind's silence to show the panic itself.
        let shown = catch_unwind(AssertUnwindSafe(|| exercise(&min)));
        panic!("a mutated file panicked (seed {seed}); minimized input for a regression test:\n{min:?}\n{shown:?}");
    }
    assert!(runs > 0);
}
