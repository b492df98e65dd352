//! The lint gate of `migrate` and `plan`: pending PostgreSQL migrations are
//! linted against the schema the applied ones build, and errors that are not
//! ignored refuse the run before the database is touched.

use crate::migration::Migration;
use crate::source::MigrationSet;
use std::sync::Arc;
use stepwise_sql::lint::{lint, Finding, LintFile, LintOptions, Schema, Severity};
use stepwise_sql::ParsedFile;

/// Findings in the pending migrations. Applied migrations are replayed to
/// build the schema (their tables exist); pending ones are new, so a table a
/// pending migration creates is not "existing" for the ones after it.
pub fn lint_pending(set: &MigrationSet, pending: &[&Migration], opts: &LintOptions) -> Vec<Finding> {
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
    lint(&files, Schema::default(), opts).findings.into_iter().filter(|f| pending_files.contains(&f.file.as_str())).collect()
}

/// The findings that refuse a run.
pub fn blocking(findings: &[Finding]) -> Vec<&Finding> {
    findings.iter().filter(|f| f.severity == Severity::Error).collect()
}
