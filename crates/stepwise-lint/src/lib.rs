//! stepwise-lint: static safety analysis of migrations. No I/O, no database.
//!
//! Front ends turn a migration into statements with spans into the user's
//! file; judges per engine decide what each statement costs on a live table:
//! - [`pg`]: PostgreSQL, parsed by PostgreSQL's own parser (pg_query), judged
//!   by lock level, rewrite and scan.
//! - [`mysql`]: MySQL and MariaDB, read by a DDL reader on stepwise's lexer
//!   (sqlparser refuses a third of the ALTER forms migrations use), judged
//!   by the ALTER algorithm (INSTANT, NOCOPY, INPLACE, COPY) and lock
//!   the server version in use would pick.
//!
//! What every engine shares lives here: findings, configuration, rule
//! metadata, and how a rule's hit becomes a finding ([`emit`]).

pub mod breaking;
pub mod config;
pub mod emit;
pub mod finding;
pub mod mysql;
pub mod pg;
pub mod rails;
pub mod rule;
pub mod work;

pub use config::LintConfig;
pub use finding::{Finding, Severity};
pub use rule::{Cost, Hit, RuleMeta};

use std::sync::Arc;
use stepwise_sql::Dialect;

/// The rules of the judge for `dialect`, by their metadata.
pub fn rule_metas(dialect: Dialect) -> Vec<&'static RuleMeta> {
    match dialect {
        Dialect::Postgres => pg::rules::all().iter().map(|r| r.meta()).collect(),
        Dialect::MySql => mysql::rules::all().iter().map(|r| r.meta()).collect(),
    }
}

/// Whether any judge has a rule with this id (configuration names rules of both).
pub fn known_rule(id: &str) -> bool {
    rule_metas(Dialect::Postgres).iter().chain(rule_metas(Dialect::MySql).iter()).chain(rails::rule_metas().iter()).any(|m| m.id == id)
}
use stepwise_sql::error::InputError;
use stepwise_sql::file::{ParsedFile, SourceFile};

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
    /// The MySQL/MariaDB server the migrations will run on.
    pub mysql: mysql::Server,
    /// Rows above which a scan or rewrite is an error (when sizes are known).
    pub large_table_rows: i64,
    pub config: LintConfig,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions { pg_version: 15, mysql: mysql::Server::default(), large_table_rows: 500_000, config: LintConfig::default() }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    /// Statements PostgreSQL cannot parse (the rest was linted), and
    /// statements that cannot run the way their migration runs them (the
    /// errors `plan` and `migrate` refuse with, in the same words).
    pub errors: Vec<InputError>,
    /// How many of `errors` are of the second kind.
    pub refused: usize,
    /// Findings a reviewed exception excused (Rails' `safety_assured { }`).
    pub suppressed: Vec<Finding>,
    /// Parts of Rails migrations that could not be read statically.
    pub not_analysed: usize,
    pub files: usize,
    pub statements: usize,
}

impl LintReport {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}
