//! Why a run stopped. Each variant knows its exit code: 2 for bad input or
//! configuration, 1 for work that was refused or failed.

use crate::source::LoadError;
use stepwise_db::{Blocker, DbError, ServerError};
use stepwise_sql::InputError;

/// A statement that failed on the server, located in its file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatementFailure {
    pub version: String,
    pub name: String,
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub line_text: String,
    /// Index of the statement in its section.
    pub statement: usize,
    pub sql: String,
    pub server: Option<ServerError>,
    pub message: String,
    pub attempts: u32,
    pub blockers: Vec<Blocker>,
    /// The migration ran in one transaction, so nothing of it was kept.
    pub transactional: bool,
    /// Applying (up) or rolling back (down).
    pub direction: crate::events::Direction,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Refused before the database was touched: the files say something impossible.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<InputError>),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("another stepwise holds the migration lock{}; gave up after {waited_s}s (raise --lock-wait to wait longer)", .holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    LockBusy { holder: Option<String>, waited_s: u64 },
    #[error("{0}")]
    Refused(String),
    /// The request names something that does not exist (a version): bad usage.
    #[error("{0}")]
    Usage(String),
    #[error("migration {} ({}) failed at {}:{}:{}: {}", .0.version, .0.name, .0.file, .0.line, .0.col, .0.message)]
    Failed(Box<StatementFailure>),
    /// Lint errors in pending migrations that are not ignored.
    #[error("{} lint error(s) in pending migrations; fix them or add a reviewed `-- stepwise:ignore <rule> <reason>`", .0.len())]
    Lint(Vec<stepwise_lint::Finding>),
    /// A tracking write failed after the migration's own work: the row may not say what happened.
    #[error("{0}")]
    Tracking(String),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Load(_) | RunError::Invalid(_) | RunError::Usage(_) => 2,
            RunError::Db(DbError::Config(_)) => 2,
            _ => 1,
        }
    }
}
