//! `stepwise lint`: PostgreSQL migrations checked on PostgreSQL's own grammar
//! (pg_query) against a model of the schema the earlier migrations build.
//!
//! Flow: parse every file (in parallel), then walk the files in order. For each
//! statement of an up section, run the enabled rules with the schema as it
//! stands, turn their hits into findings (size-aware severity, config
//! overrides, `-- stepwise:ignore`), then apply the statement to the model.

pub mod config;
pub mod context;
pub mod finding;
pub mod parse;
pub mod rule;
pub mod rules;
pub mod schema;

pub use config::LintConfig;
pub use finding::{Finding, Severity};
pub use rule::{Cost, Hit, Rule, RuleMeta};
pub use schema::Schema;

use crate::error::InputError;
use crate::file::{ParsedFile, SourceFile};
use crate::LineIndex;
use context::Cx;
use parse::{parse_up, ParsedStatement};
use pg_query::NodeEnum;
use std::sync::Arc;

/// One migration to lint, in order.
pub struct LintFile {
    pub file: Arc<SourceFile>,
    pub parsed: ParsedFile,
    /// Not applied yet (or added since `--base`): its tables stay new for the
    /// migrations after it.
    pub new: bool,
}

#[derive(Debug, Clone)]
pub struct LintOptions {
    pub pg_version: u32,
    /// Rows above which a scan or rewrite is an error (when sizes are known).
    pub large_table_rows: i64,
    pub config: LintConfig,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions { pg_version: 15, large_table_rows: 500_000, config: LintConfig::default() }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    /// Statements PostgreSQL cannot parse (the rest was linted).
    pub errors: Vec<InputError>,
    pub files: usize,
    pub statements: usize,
}

impl LintReport {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// Files parsed per window. Parse trees are many times the size of their
/// source: holding every file's at once costs gigabytes on a large history,
/// so files are parsed a window ahead of the linting and dropped after it.
const WINDOW: usize = 256;

/// Lint `files` in order, starting from `schema` (empty, or the live catalog).
pub fn lint(files: &[LintFile], mut schema: Schema, opts: &LintOptions) -> LintReport {
    let rules: Vec<&'static dyn Rule> = rules::all().into_iter().filter(|r| opts.config.is_on(r.meta().id, r.meta().default_on)).collect();
    let mut report = LintReport { files: files.len(), ..Default::default() };
    std::thread::scope(|scope| {
        let mut to_parse = files.chunks(WINDOW);
        let mut ahead = to_parse.next().map(|w| scope.spawn(move || parse_all(w)));
        for window in files.chunks(WINDOW) {
            let Some(handle) = ahead.take() else { break };
            // A parser thread only panics on a bug in pg_query; surface it as such.
            let parsed = handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            ahead = to_parse.next().map(|w| scope.spawn(move || parse_all(w)));
            for (lf, (stmts, errors)) in window.iter().zip(parsed) {
                lint_file(lf, stmts, errors, &mut schema, &rules, opts, &mut report);
            }
        }
    });
    report
}

/// Check one file's statements in order, applying each to the schema.
fn lint_file(
    lf: &LintFile,
    stmts: Vec<ParsedStatement>,
    errors: Vec<InputError>,
    schema: &mut Schema,
    rules: &[&'static dyn Rule],
    opts: &LintOptions,
    report: &mut LintReport,
) {
    report.errors.extend(errors);
    let excluded = opts.config.excluded(&lf.file.name);
    let in_transaction = lf.parsed.up.as_ref().is_some_and(|u| !u.no_transaction);
    let phase = lf.parsed.phase.unwrap_or_default();
    let all: Vec<&NodeEnum> = stmts.iter().flat_map(|ps| ps.nodes.iter()).collect();
    let mut at = 0;
    // One line index per file: findings of every statement use it.
    let idx = LineIndex::new(&lf.file.text);
    for ps in &stmts {
        report.statements += 1;
        let mut suppressed = Vec::new();
        for node in &ps.nodes {
            let (earlier, later) = (&all[..at], &all[at + 1..]);
            at += 1;
            if !excluded {
                let cx =
                    Cx { node, stmt: ps.stmt, schema, in_transaction, pg_version: opts.pg_version, earlier, later, base: ps.base, phase };
                check_statement(&cx, rules, &lf.file, &idx, opts, &mut report.findings, &mut suppressed);
            }
            schema.apply(node, true);
        }
        if !excluded {
            report.findings.extend(unused_ignores(&lf.file, &idx, ps, &suppressed, &opts.config));
        }
    }
    if !lf.new {
        schema.settle();
    }
}

/// Parse every file, spreading the work over the cores (order is kept).
fn parse_all(files: &[LintFile]) -> Vec<(Vec<ParsedStatement<'_>>, Vec<InputError>)> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(files.len().max(1));
    if threads <= 1 || files.len() < 8 {
        return files.iter().map(|f| parse_up(&f.file, &f.parsed)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|f| parse_up(&f.file, &f.parsed)).collect::<Vec<_>>()))
            .collect();
        // A parser thread only panics on a bug in pg_query; surface it as such.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Run the rules on one statement. Findings a `-- stepwise:ignore` excuses
/// are not reported; their rule ids go to `suppressed`.
fn check_statement(
    cx: &Cx,
    rules: &[&'static dyn Rule],
    file: &SourceFile,
    idx: &LineIndex,
    opts: &LintOptions,
    out: &mut Vec<Finding>,
    suppressed: &mut Vec<&'static str>,
) {
    for rule in rules {
        let meta = rule.meta();
        let mut hits = Vec::new();
        rule.check(cx, &mut hits);
        for hit in hits {
            if cx.stmt.ignores.iter().any(|i| i.rules.iter().any(|r| r == meta.id)) {
                suppressed.push(meta.id);
                continue;
            }
            let mut severity = meta.severity;
            let mut message = hit.message.clone();
            if meta.cost == Cost::ScanOrRewrite {
                if let Some(rows) = hit.table.as_ref().and_then(|t| cx.schema.tables.get(t)).and_then(|t| t.rows) {
                    severity = if rows >= opts.large_table_rows { Severity::Error } else { Severity::Warning };
                    message.push_str(&format!(" ({}: about {} rows)", hit.table.as_deref().unwrap_or(""), human_rows(rows)));
                }
            }
            if let Some(s) = opts.config.severity.get(meta.id) {
                severity = *s;
            }
            let offset = cx.stmt.span.start + hit.offset.min(cx.stmt.sql.len());
            let (line, col) = idx.line_col(&file.text, offset);
            out.push(Finding {
                rule: meta.id.to_string(),
                severity,
                file: file.name.clone(),
                line,
                col,
                line_text: idx.line_text(&file.text, line).to_string(),
                message,
                why: hit.why,
                safe: hit.safe,
            });
        }
    }
}

/// `-- stepwise:ignore` rules that excused nothing are findings themselves:
/// an exception that excuses nothing hides the next real problem.
///
/// An ignore naming a rule that is known but not enabled here (an opt-in rule
/// another team turns on) excuses nothing, harmlessly: it is not reported.
fn unused_ignores(file: &SourceFile, idx: &LineIndex, ps: &ParsedStatement, suppressed: &[&str], config: &LintConfig) -> Vec<Finding> {
    let known_off = |id: &str| rules::all().iter().any(|r| r.meta().id == id && !config.is_on(id, r.meta().default_on));
    let mut out = Vec::new();
    for ig in &ps.stmt.ignores {
        for rule in ig.rules.iter().filter(|r| !suppressed.contains(&r.as_str()) && !known_off(r)) {
            out.push(Finding {
                rule: "unused-ignore".into(),
                severity: Severity::Warning,
                file: file.name.clone(),
                line: ig.line,
                col: 1,
                line_text: idx.line_text(&file.text, ig.line).to_string(),
                message: format!("`stepwise:ignore {rule}` matches no finding on the next statement"),
                why: "An exception that excuses nothing misleads reviewers and hides the next real problem.".into(),
                safe: "Remove the directive, or correct the rule name.".into(),
            });
        }
    }
    out
}

fn human_rows(rows: i64) -> String {
    match rows {
        r if r >= 1_000_000_000 => format!("{:.1}B", r as f64 / 1e9),
        r if r >= 1_000_000 => format!("{:.1}M", r as f64 / 1e6),
        r if r >= 1_000 => format!("{:.0}k", r as f64 / 1e3),
        r => r.to_string(),
    }
}
