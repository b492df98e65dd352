//! The MySQL/MariaDB judge: migrations read by the MySQL front end
//! ([`reader`]), each ALTER given the algorithm and lock the server version
//! in use would pick ([`classify`]), then judged by the rules in [`rules`]
//! against a model of the schema the earlier migrations (or the live
//! catalog) built ([`schema`]).

pub mod ast;
pub mod classify;
pub mod predict;
pub mod reader;
pub mod rule;
pub mod rules;
pub mod schema;
pub mod server;
pub mod work;

pub use schema::Schema;
pub use server::{Server, ServerFlavor};

use crate::emit::At;
use crate::{Finding, LintFile, LintOptions, LintReport};
use ast::{Op, Stmt};
use classify::Env;
use rule::{Cx, Rule};
use stepwise_sql::error::InputError;

/// A file's statements as the front end read them (with their index in the
/// up section), and the statements it could not read.
pub type ReadFile = (Vec<(usize, Stmt)>, Vec<InputError>);

/// The statements of a file's up section as the front end read them (backfill
/// steps left out: the runner writes their batches itself).
pub fn read_up(lf: &LintFile) -> ReadFile {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let Some(up) = &lf.parsed.up else { return (out, errors) };
    for (i, s) in up.statements.iter().enumerate() {
        if s.backfill.is_some() {
            continue;
        }
        match reader::read(&s.sql) {
            Ok(stmt) => out.push((i, stmt)),
            Err(e) => errors.push(InputError::new(
                &lf.file.name,
                &lf.file.text,
                s.span.start + e.offset,
                format!("cannot read this statement: {}", e.message),
            )),
        }
    }
    (out, errors)
}

/// Files per window: the reader threads run at most [`AHEAD`] windows ahead
/// of the judge, and each window's statements are dropped after it, so
/// memory stays bounded on a large history.
const WINDOW: usize = 64;
const AHEAD: usize = 4;

/// Lint `files` in order, starting from `schema` (empty, or the live catalog).
/// One reader thread per core reads windows of files (thread `k` takes
/// windows `k`, `k + n`, ...) while this thread judges them in order (each
/// file is judged against the schema the earlier ones built).
pub fn lint(files: &[LintFile], mut schema: Schema, opts: &LintOptions) -> LintReport {
    let rules: Vec<&'static dyn Rule> = rules::all().into_iter().filter(|r| opts.config.is_on(r.meta().id, r.meta().default_on)).collect();
    let all_rules = rules::all();
    let known_off = |id: &str| all_rules.iter().any(|r| r.meta().id == id && !opts.config.is_on(id, r.meta().default_on));
    let mut report = LintReport { files: files.len(), ..Default::default() };
    let windows = files.len().div_ceil(WINDOW);
    let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, windows.max(1));
    std::thread::scope(|scope| {
        let inboxes: Vec<_> = (0..readers)
            .map(|k| {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<ReadFile>>(AHEAD);
                scope.spawn(move || {
                    for window in files.chunks(WINDOW).skip(k).step_by(readers) {
                        if tx.send(window.iter().map(read_up).collect()).is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        for (i, window) in files.chunks(WINDOW).enumerate() {
            // A reader only stops early by panicking: the scope re-raises it.
            let Ok(read) = inboxes[i % readers].recv() else { break };
            for (lf, (stmts, errors)) in window.iter().zip(read) {
                lint_file(lf, &stmts, errors, &mut schema, &Judge { rules: &rules, known_off: &known_off, opts }, &mut report);
            }
        }
    });
    report
}

/// The rules that are on, and the settings they are judged with.
struct Judge<'a> {
    rules: &'a [&'static dyn Rule],
    /// Known rules that are off (an ignore naming one is not "unused").
    known_off: &'a dyn Fn(&str) -> bool,
    opts: &'a LintOptions,
}

fn lint_file(lf: &LintFile, stmts: &[(usize, Stmt)], errors: Vec<InputError>, schema: &mut Schema, judge: &Judge, report: &mut LintReport) {
    let (rules, known_off, opts) = (judge.rules, judge.known_off, judge.opts);
    report.errors.extend(errors);
    let Some(up) = &lf.parsed.up else { return };
    let refused = stepwise_sql::runnable::check_runnable(up, stepwise_sql::Dialect::MySql);
    report.refused += refused.len();
    report.errors.extend(refused);
    let excluded = opts.config.excluded(&lf.file.name);
    let phase = lf.parsed.phase.unwrap_or_default();
    let lines = std::cell::OnceCell::new();
    let (mut fk_checks_off, mut non_strict) = (false, false);
    let mut alters: std::collections::HashMap<String, usize> = Default::default();
    let mut backfilled: Vec<(String, String)> = Vec::new();
    let mut next = 0;
    for (i, parsed) in stmts {
        let stmt = &up.statements[*i];
        // Backfill steps up to this statement: the columns they assign.
        for s in &up.statements[next..*i] {
            if let Some(b) = &s.backfill {
                let table = b.table.trim_matches('`').to_string();
                for part in b.set.split(',') {
                    if let Some((col, _)) = part.split_once('=') {
                        backfilled.push((table.clone(), col.trim().trim_matches('`').to_string()));
                    }
                }
            }
        }
        next = *i;
        report.statements += 1;
        if let Stmt::Set { name, value } = parsed {
            let off = matches!(value.to_ascii_uppercase().as_str(), "0" | "OFF" | "FALSE");
            match name.as_str() {
                "foreign_key_checks" => fk_checks_off = off,
                "sql_mode" => non_strict = !value.to_ascii_uppercase().contains("STRICT_"),
                _ => {}
            }
        }
        if !excluded {
            let at = At { file: &lf.file, lines: &lines, stmt };
            let verdict = match parsed {
                Stmt::Alter(a) => {
                    schema.existing(&a.table).map(|t| (t, classify::alter(a, Env { server: opts.mysql, table: Some(t), fk_checks_off })))
                }
                _ => None,
            };
            let earlier_alters = match parsed {
                Stmt::Alter(a) if verdict.is_some() && a.clauses.iter().any(|c| !matches!(c.op, Op::Algorithm(_) | Op::Lock(_))) => {
                    let n = alters.entry(schema::key(&a.table)).or_default();
                    *n += 1;
                    *n - 1
                }
                _ => 0,
            };
            let cx = Cx {
                stmt,
                parsed,
                schema,
                server: opts.mysql,
                phase,
                fk_checks_off,
                non_strict,
                alter: verdict.as_ref().map(|(t, v)| (*t, v)),
                earlier_alters,
                backfilled: &backfilled,
            };
            let mut suppressed = Vec::new();
            check_statement(&cx, rules, &at, opts, &mut report.findings, &mut suppressed);
            report.findings.extend(at.unused_ignores(&suppressed, known_off));
        }
        // What a migration creates is new until the migration is applied.
        schema.apply(parsed, true);
    }
    if !lf.new {
        schema.settle();
    }
}

fn check_statement(
    cx: &Cx,
    rules: &[&'static dyn Rule],
    at: &At,
    opts: &LintOptions,
    out: &mut Vec<Finding>,
    suppressed: &mut Vec<&'static str>,
) {
    for rule in rules {
        at.run(rule.meta(), |hits| rule.check(cx, hits), |t: &str| cx.schema.get(t).and_then(|t| t.rows), opts, out, suppressed);
    }
}
