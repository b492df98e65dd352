//! stepwise-sql: the pure layer. Migration-file parsing (sections, directives,
//! statements with byte spans), statement classification and positions.
//! No I/O, no async, no database.

pub mod backfill;
pub mod directive;
pub mod error;
pub mod file;
pub mod lexer;
pub mod osc_alter;
pub mod par;
pub mod position;
pub mod runnable;
pub mod statement;

pub use backfill::{Assignment, BackfillStep};
pub use directive::Phase;
pub use error::{InputError, SqlError, SqlErrorKind};
pub use file::{parse_file, FileRole, Ignore, ParsedFile, Section, SourceFile, Statement};
pub use position::{char_pos_to_byte, LineIndex};
pub use statement::{IndexOp, OnlineAlter, QualifiedName, StatementInfo};

/// The SQL dialect a file is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    MySql,
}

/// Whose comment markers a file uses. stepwise's own directives are read in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    Native,
    Sqlx,
    Dbmate,
    Goose,
    /// Plain SQL without markers (golang-migrate, Flyway).
    Plain,
}

/// Hex SHA-256 of a migration's text, with line endings normalized so that a
/// checkout on Windows does not look like drift.
pub fn checksum(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let normalized = text.replace("\r\n", "\n");
    let digest = Sha256::digest(normalized.trim().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
