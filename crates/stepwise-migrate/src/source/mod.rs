//! Migration sources: read a migrations directory in any of the layouts
//! stepwise understands (its own, sqlx, dbmate, goose, golang-migrate,
//! Flyway) and turn it into one ordered list of [`Migration`]s.
//!
//! The work is split in steps, one file each:
//! - `list`: which files of a directory are migration files;
//! - `detect`: which layout a directory uses, when the user did not say;
//! - `filename`: what a file's name says (version, name, up or down);
//! - `assemble`: pair up and down files, find duplicate versions, order them;
//! - `load`: read and parse the files and build the migrations.

mod assemble;
mod detect;
mod filename;
mod list;
mod load;
#[cfg(test)]
mod tests;

use crate::migration::{Layout, Migration};
use stepwise_sql::InputError;

pub use detect::detect_layout;
pub use load::{load_dir, load_file};

/// The migrations of one directory: versioned ones by version ascending,
/// then repeatable ones by name.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    pub layout: Layout,
    pub migrations: Vec<Migration>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Every bad file of the directory, not just the first, sorted by file.
    #[error("{}", one_per_line(.0))]
    Input(Vec<InputError>),
}

fn one_per_line(errors: &[InputError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}
