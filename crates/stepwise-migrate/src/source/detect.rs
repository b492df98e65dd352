//! Which layout a directory uses, when the user did not say.
//!
//! The rules, first match wins:
//! 1. a file named like Flyway's (`V<digits>...__*.sql`, `U<digits>...__*.sql`,
//!    `R__*.sql`), in the directory or any subdirectory: Flyway;
//! 2. a top-level `.sql` file with a line starting `-- +goose`: goose;
//! 3. a line starting `-- migrate:up`: dbmate;
//! 4. a line that is just `-- no-transaction`: sqlx. Read as native, that line
//!    would be an ordinary comment and the migration would run in a transaction;
//! 5. `.up.sql` / `.down.sql` pairs without a single `-- stepwise:` line:
//!    golang-migrate. Read the same as native pairs, except that a file with a
//!    statement PostgreSQL refuses in a transaction (CONCURRENTLY) runs
//!    outside one, as golang-migrate runs it: such a history has no marker
//!    to say so;
//! 6. otherwise native. This covers files with `-- stepwise:` lines, sqlx's
//!    plain files (native files without markers) and an empty directory.
//!
//! Markers are matched like the parser reads them: after `--`, spaces are optional.

use super::list::{self, SqlFile};
use super::LoadError;
use crate::migration::Layout;
use std::fs;
use std::path::Path;
use stepwise_sql::Flavor;

/// The layout of the migrations in `dir` (see the module documentation for the rules).
pub fn detect_layout(dir: &Path) -> Result<Layout, LoadError> {
    let files = list::sql_files(dir, true)?;
    if is_flyway(&files) {
        return Ok(Layout::Flyway);
    }
    let mut texts = Vec::new();
    let top: Vec<&SqlFile> = files.iter().filter(|f| f.path.parent() == Some(dir)).collect();
    for file in &top {
        let bytes = fs::read(&file.path).map_err(|source| LoadError::Io { path: file.display.clone(), source })?;
        texts.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    Ok(layout_of(texts.iter().map(String::as_str), has_pairs(top.into_iter())))
}

/// Some top-level file is one half of an `.up.sql` / `.down.sql` pair.
pub(super) fn has_pairs<'a>(mut files: impl Iterator<Item = &'a SqlFile>) -> bool {
    files.any(|f| f.file_name.ends_with(".up.sql") || f.file_name.ends_with(".down.sql"))
}

/// Rule 1: some file (at any depth) is named like Flyway's.
pub(super) fn is_flyway(files: &[SqlFile]) -> bool {
    files.iter().any(|f| is_flyway_name(&f.file_name))
}

/// Rules 2 to 6, from the texts of the top-level files and whether they
/// hold `.up.sql` / `.down.sql` pairs.
pub(super) fn layout_of<'a>(texts: impl Iterator<Item = &'a str>, pairs: bool) -> Layout {
    let mut stepwise_markers = false;
    let flavor = texts
        .map(|t| {
            stepwise_markers = stepwise_markers || has_stepwise_marker(t);
            flavor_of(t)
        })
        .fold(Flavor::Native, stronger);
    match flavor {
        Flavor::Goose => Layout::Goose,
        Flavor::Dbmate => Layout::Dbmate,
        Flavor::Sqlx => Layout::Sqlx,
        Flavor::Native | Flavor::Plain if pairs && !stepwise_markers => Layout::GolangMigrate,
        Flavor::Native | Flavor::Plain => Layout::Native,
    }
}

/// A line starting `-- stepwise:` (a directive of ours).
fn has_stepwise_marker(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().strip_prefix("--").is_some_and(|c| c.trim_start().starts_with("stepwise:")))
}

/// The markers one file's text uses, by the rules above: the flavor to parse it with.
pub(super) fn flavor_of(text: &str) -> Flavor {
    text.lines().map(line_flavor).fold(Flavor::Native, stronger)
}

fn line_flavor(line: &str) -> Flavor {
    let Some(comment) = line.trim_start().strip_prefix("--") else { return Flavor::Native };
    let comment = comment.trim();
    if comment.starts_with("+goose") {
        Flavor::Goose
    } else if comment.starts_with("migrate:up") {
        Flavor::Dbmate
    } else if comment == "no-transaction" {
        Flavor::Sqlx
    } else {
        Flavor::Native
    }
}

/// The flavor that wins by the rules' order.
fn stronger(a: Flavor, b: Flavor) -> Flavor {
    let rank = |f| match f {
        Flavor::Goose => 3,
        Flavor::Dbmate => 2,
        Flavor::Sqlx => 1,
        Flavor::Native | Flavor::Plain => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn is_flyway_name(file_name: &str) -> bool {
    let versioned =
        |prefix| file_name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains("__"));
    file_name.starts_with("R__") || versioned('V') || versioned('U')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_names() {
        assert!(is_flyway_name("V1__create_users.sql"));
        assert!(is_flyway_name("V1.1__x.sql"));
        assert!(is_flyway_name("U2__x.sql"));
        assert!(is_flyway_name("R__users_view.sql"));
        assert!(!is_flyway_name("20240101_create_users.sql"));
        assert!(!is_flyway_name("Vacuum__x.sql"));
        assert!(!is_flyway_name("V1_x.sql"));
    }

    #[test]
    fn markers_by_strength() {
        assert_eq!(flavor_of("-- +goose Up\nSELECT 1;\n-- migrate:up\n"), Flavor::Goose);
        assert_eq!(flavor_of("--migrate:up transaction:false\n"), Flavor::Dbmate);
        assert_eq!(flavor_of("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"), Flavor::Sqlx);
        assert_eq!(flavor_of("-- no-transaction needed here\n-- stepwise:up\nSELECT 1;"), Flavor::Native);
        assert_eq!(flavor_of("SELECT '-- +goose';"), Flavor::Native);
    }
}
