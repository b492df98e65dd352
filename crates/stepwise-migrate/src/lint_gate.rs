//! The lint gate of `migrate` and `plan`: pending migrations are linted by
//! the judge of the database's engine (PostgreSQL's rules on PostgreSQL,
//! the MySQL classifier and rules on MySQL/MariaDB, never the other's)
//! against the schema the applied ones build, and errors that are not
//! ignored refuse the run before the database is touched.

use crate::migration::Migration;
use crate::source::MigrationSet;
use std::sync::Arc;
use stepwise_lint::pg::{lint, Schema};
use stepwise_lint::{Finding, LintFile, LintOptions, Severity};
use stepwise_sql::{Dialect, ParsedFile};

/// Findings in the pending migrations. Applied migrations are replayed to
/// build the schema (their tables exist); pending ones are new, so a table a
/// pending migration creates is not "existing" for the ones after it.
pub fn lint_pending(set: &MigrationSet, pending: &[&Migration], opts: &LintOptions, dialect: Dialect) -> Vec<Finding> {
    let is_pending = |m: &Migration| pending.iter().any(|p| std::ptr::eq(*p, m));
    let files: Vec<LintFile> = set
        .migrations
        .iter()
        .map(|m| LintFile {
            file: Arc::clone(&m.up.file),
            parsed: ParsedFile { up: Some(m.up.clone()), down: None, phase: Some(m.phase) },
            new: is_pending(m),
        })
        .collect();
    let pending_files: Vec<&str> = pending.iter().map(|m| m.up.file.name.as_str()).collect();
    let report = match dialect {
        Dialect::Postgres => lint(&files, Schema::default(), opts),
        Dialect::MySql => stepwise_lint::mysql::lint(&files, Default::default(), opts),
    };
    report.findings.into_iter().filter(|f| pending_files.contains(&f.file.as_str())).collect()
}

/// The options for the engine's own server: its PostgreSQL major version,
/// or its MySQL/MariaDB flavour and version.
pub fn for_server(opts: &LintOptions, pg_major: Option<u32>, mysql_version: Option<&str>) -> LintOptions {
    let mut opts = opts.clone();
    if let Some(major) = pg_major {
        opts.pg_version = major;
    }
    if let Some(server) = mysql_version.and_then(stepwise_lint::mysql::Server::from_version_string) {
        opts.mysql = server;
    }
    opts
}

/// The findings that refuse a run.
pub fn blocking(findings: &[Finding]) -> Vec<&Finding> {
    findings.iter().filter(|f| f.severity == Severity::Error).collect()
}

/// One line for the warnings of a deploy: how many per rule, and where to
/// read them. At deploy time the errors are what matter; the warnings were
/// for review, where `stepwise lint` shows each in full.
pub fn warnings_summary(findings: &[Finding]) -> Option<String> {
    let mut per_rule: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in findings.iter().filter(|f| f.severity == Severity::Warning) {
        *per_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    if per_rule.is_empty() {
        return None;
    }
    let total: usize = per_rule.values().sum();
    let mut rules: Vec<(&str, usize)> = per_rule.into_iter().collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list = rules.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", ");
    Some(format!(
        "lint: {total} warning{} in the pending migrations ({list}); `stepwise lint` shows each",
        if total == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            file: "1_a.sql".into(),
            line: 1,
            col: 1,
            line_text: String::new(),
            message: String::new(),
            why: String::new(),
            safe: String::new(),
        }
    }

    #[test]
    fn warnings_are_counted_per_rule_most_first() {
        let f = [
            finding("prefer-text", Severity::Warning),
            finding("ban-char", Severity::Warning),
            finding("prefer-text", Severity::Warning),
            finding("require-concurrent-index", Severity::Error),
        ];
        assert_eq!(
            warnings_summary(&f).as_deref(),
            Some("lint: 3 warnings in the pending migrations (prefer-text 2, ban-char 1); `stepwise lint` shows each")
        );
        assert_eq!(warnings_summary(&f[3..]), None);
    }
}
