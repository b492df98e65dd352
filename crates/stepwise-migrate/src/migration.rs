//! What a migration is once its files have been read: a version, a name, a
//! phase and its up (and maybe down) section, independent of the layout it
//! came from.

use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use stepwise_sql::{Phase, Section};

/// A migration version. Compared numerically part by part (Flyway's `1.10`
/// comes after `1.9`, and `0001` equals `1`); `text` keeps the spelling of the file.
#[derive(Debug, Clone, Eq)]
pub struct Version {
    pub text: String,
    /// Numeric parts with trailing zero parts removed (`1.0` == `1`).
    pub parts: Vec<u64>,
}

impl Version {
    /// Parse a version made of decimal parts separated by `.` or `_`.
    pub fn parse(text: &str) -> Option<Version> {
        if text.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for p in text.split(['.', '_']) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            parts.push(p.parse::<u64>().ok()?);
        }
        while parts.len() > 1 && parts.last() == Some(&0) {
            parts.pop();
        }
        Some(Version { text: text.to_string(), parts })
    }

    /// The canonical form used to match files with tracking rows: parts joined by `.`.
    pub fn key(&self) -> String {
        self.parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// The directory layouts stepwise reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<version>_<name>.sql` with `-- stepwise:up/down`, or `.up.sql`/`.down.sql` pairs.
    Native,
    /// sqlx: `<version>_<name>.sql` (no down) or `.up.sql`/`.down.sql`, `-- no-transaction`.
    Sqlx,
    /// dbmate: `<version>_<name>.sql` with `-- migrate:up` / `-- migrate:down`.
    Dbmate,
    /// goose: `<version>_<name>.sql` with `-- +goose Up` / `-- +goose Down`.
    Goose,
    /// golang-migrate: `<version>_<title>.up.sql` / `.down.sql`.
    GolangMigrate,
    /// Flyway: `V<version>__<desc>.sql`, `U<version>__<desc>.sql`, `R__<desc>.sql`.
    Flyway,
}

impl Layout {
    pub const ALL: [Layout; 6] = [Layout::Native, Layout::Sqlx, Layout::Dbmate, Layout::Goose, Layout::GolangMigrate, Layout::Flyway];

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Native => "native",
            Layout::Sqlx => "sqlx",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Flyway => "flyway",
        }
    }

    pub fn parse(s: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationKind {
    Versioned,
    /// Flyway `R__` files: no version, re-applied whenever their checksum changes.
    Repeatable,
}

#[derive(Debug, Clone)]
pub struct Migration {
    /// For repeatable migrations: `R__<description>`, which sorts after every version.
    pub version: Version,
    pub kind: MigrationKind,
    pub name: String,
    pub phase: Phase,
    pub up: Section,
    pub down: Option<Section>,
    /// Checksum of the up section's text (see `stepwise_sql::checksum`).
    pub checksum: String,
    /// The files this migration was read from, as the user should see them.
    pub files: Vec<String>,
}

impl Migration {
    /// The key stored in the tracking table's `version` column.
    pub fn key(&self) -> String {
        match self.kind {
            MigrationKind::Versioned => self.version.key(),
            MigrationKind::Repeatable => format!("R__{}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.10") > v("1.9"));
        assert_eq!(v("0001"), v("1"));
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("1_1").key(), "1.1");
        assert!(v("20251028120000") > v("20251028115959"));
        assert!(Version::parse("1a").is_none());
        assert!(Version::parse("").is_none());
    }
}
