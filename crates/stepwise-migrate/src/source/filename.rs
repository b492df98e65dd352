//! What a migration file's name says: its version, its name, and whether it
//! holds a whole migration, only the up part or only the down part.

use crate::migration::{Layout, MigrationKind, Version};
use stepwise_sql::FileRole;

/// Which part of a migration a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// Up and down in one file, between section markers.
    Whole,
    /// `.up.sql`, Flyway `V` and `R` files.
    Up,
    /// `.down.sql`, Flyway `U` (undo) files.
    Down,
}

impl Part {
    pub fn role(self) -> FileRole {
        match self {
            Part::Whole => FileRole::Combined,
            Part::Up => FileRole::UpOnly,
            Part::Down => FileRole::DownOnly,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileName {
    pub kind: MigrationKind,
    /// For repeatable migrations: `R__<description>` with no parts.
    pub version: Version,
    pub name: String,
    pub part: Part,
}

/// Read a file name (with its `.sql` extension) as `layout` names files.
/// The error is the message for the user.
pub(super) fn parse(layout: Layout, file_name: &str) -> Result<FileName, String> {
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    match layout {
        Layout::Flyway => flyway(stem),
        Layout::Native | Layout::Sqlx => {
            let (stem, part) = split_part(stem);
            versioned(stem, part, layout)
        }
        Layout::Dbmate | Layout::Goose => versioned(stem, Part::Whole, layout),
        Layout::GolangMigrate => match split_part(stem) {
            (_, Part::Whole) => Err(format!("file name does not end in `.up.sql` or `.down.sql`: expected {}", expected(layout))),
            (stem, part) => versioned(stem, part, layout),
        },
    }
}

/// The name of a file given on the command line, whatever its layout: a
/// version from `<version>_<name>` or Flyway's `V<version>__<description>`
/// (or `R__<description>`) if it has one, else version `0` and the file's stem.
pub(super) fn loose(file_name: &str) -> FileName {
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    let (bare, _) = split_part(stem);
    let found = versioned(bare, Part::Whole, Layout::Native).or_else(|_| flyway(stem));
    let unversioned = || FileName {
        kind: MigrationKind::Versioned,
        version: Version { text: "0".into(), parts: vec![0] },
        name: stem.to_string(),
        part: Part::Whole,
    };
    found.map(|f| FileName { part: Part::Whole, ..f }).unwrap_or_else(|_| unversioned())
}

/// `x.up` is the up part of `x`, `x.down` its down part.
fn split_part(stem: &str) -> (&str, Part) {
    if let Some(s) = stem.strip_suffix(".up") {
        (s, Part::Up)
    } else if let Some(s) = stem.strip_suffix(".down") {
        (s, Part::Down)
    } else {
        (stem, Part::Whole)
    }
}

/// `<version>_<name>`: the version is the ASCII digits before the first `_`.
fn versioned(stem: &str, part: Part, layout: Layout) -> Result<FileName, String> {
    let Some((digits, name)) = stem.split_once('_').filter(|(d, _)| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) else {
        return Err(format!("file name does not start with a version: expected {}", expected(layout)));
    };
    let version =
        Version::parse(digits).ok_or_else(|| format!("version `{digits}` is too large (at most 20 digits after leading zeros)"))?;
    if name.is_empty() {
        return Err(format!("file name has no name after its version: expected {}", expected(layout)));
    }
    Ok(FileName { kind: MigrationKind::Versioned, version, name: name.to_string(), part })
}

/// `V<version>__<description>`, `U<version>__<description>` or `R__<description>`;
/// the version's parts are separated by `.` or `_`, and the description's
/// underscores are spaces.
fn flyway(stem: &str) -> Result<FileName, String> {
    let mismatch = || format!("file name does not match Flyway's naming: expected {}", expected(Layout::Flyway));
    if let Some(desc) = stem.strip_prefix("R__") {
        let version = Version { text: stem.to_string(), parts: vec![] };
        return Ok(FileName { kind: MigrationKind::Repeatable, version, name: description(desc), part: Part::Up });
    }
    let (part, rest) = match stem.split_at_checked(1) {
        Some(("V", rest)) => (Part::Up, rest),
        Some(("U", rest)) => (Part::Down, rest),
        _ => return Err(mismatch()),
    };
    let (version, desc) = rest.split_once("__").ok_or_else(mismatch)?;
    let version = Version::parse(version).ok_or_else(|| {
        format!("`{version}` is not a version: Flyway versions are numbers separated by `.` or `_`, as in `V1.2__add_users.sql`")
    })?;
    Ok(FileName { kind: MigrationKind::Versioned, version, name: description(desc), part })
}

fn description(desc: &str) -> String {
    desc.replace('_', " ")
}

fn expected(layout: Layout) -> &'static str {
    match layout {
        Layout::Native | Layout::Sqlx => "`<version>_<name>.sql` (or `<version>_<name>.up.sql` with `<version>_<name>.down.sql`)",
        Layout::Dbmate | Layout::Goose => "`<version>_<name>.sql`",
        Layout::GolangMigrate => "`<version>_<title>.up.sql` and `<version>_<title>.down.sql`",
        Layout::Flyway => "`V<version>__<description>.sql`, `U<version>__<description>.sql` or `R__<description>.sql`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(layout: Layout, name: &str) -> (String, String, Part) {
        let f = parse(layout, name).unwrap();
        (f.version.text, f.name, f.part)
    }

    fn err(layout: Layout, name: &str) -> String {
        parse(layout, name).unwrap_err()
    }

    #[test]
    fn native_and_sqlx_names() {
        for layout in [Layout::Native, Layout::Sqlx] {
            assert_eq!(
                ok(layout, "20251028120000_add_status_to_orders.sql"),
                ("20251028120000".into(), "add_status_to_orders".into(), Part::Whole)
            );
            assert_eq!(ok(layout, "001_users.up.sql"), ("001".into(), "users".into(), Part::Up));
            assert_eq!(ok(layout, "001_users.down.sql"), ("001".into(), "users".into(), Part::Down));
        }
        assert!(
            err(Layout::Native, "add_users.sql").starts_with("file name does not start with a version: expected `<version>_<name>.sql`")
        );
        assert!(err(Layout::Native, "001.sql").contains("does not start with a version"));
        assert!(err(Layout::Native, "v1_users.sql").contains("does not start with a version"));
        assert!(err(Layout::Native, "001_.sql").contains("no name after its version"));
        assert!(err(Layout::Native, "123456789012345678901_x.sql").contains("too large"));
    }

    #[test]
    fn dbmate_and_goose_names_are_single_files() {
        assert_eq!(ok(Layout::Dbmate, "20240101120000_create_users.sql"), ("20240101120000".into(), "create_users".into(), Part::Whole));
        assert_eq!(ok(Layout::Goose, "00002_x.up.sql"), ("00002".into(), "x.up".into(), Part::Whole));
    }

    #[test]
    fn golang_migrate_names_are_pairs() {
        assert_eq!(ok(Layout::GolangMigrate, "000001_create_users.up.sql"), ("000001".into(), "create_users".into(), Part::Up));
        assert!(err(Layout::GolangMigrate, "000001_create_users.sql").contains("does not end in `.up.sql` or `.down.sql`"));
    }

    #[test]
    fn flyway_names() {
        let v = |s| Version::parse(s).unwrap();
        let f = parse(Layout::Flyway, "V1_1__add_users_email.sql").unwrap();
        assert_eq!((f.version.clone(), f.name.as_str(), f.part, f.kind), (v("1.1"), "add users email", Part::Up, MigrationKind::Versioned));
        assert_eq!(f.version.text, "1_1");
        let f = parse(Layout::Flyway, "U2__drop_x.sql").unwrap();
        assert_eq!((f.version, f.part), (v("2"), Part::Down));
        let f = parse(Layout::Flyway, "R__users_view.sql").unwrap();
        assert_eq!(
            (f.kind, f.version.text.as_str(), f.name.as_str(), f.version.parts.len()),
            (MigrationKind::Repeatable, "R__users_view", "users view", 0)
        );
        assert!(err(Layout::Flyway, "001_users.sql").contains("does not match Flyway's naming"));
        assert!(err(Layout::Flyway, "V1_users.sql").contains("does not match Flyway's naming"));
        assert!(err(Layout::Flyway, "V1a__users.sql").contains("`1a` is not a version"));
    }

    #[test]
    fn loose_names_take_a_version_when_there_is_one() {
        let f = loose("20240101_add_users.up.sql");
        assert_eq!((f.version.text.as_str(), f.name.as_str(), f.part), ("20240101", "add_users", Part::Whole));
        let f = loose("V3__add_users.sql");
        assert_eq!((f.version.text.as_str(), f.name.as_str()), ("3", "add users"));
        let f = loose("fix-orders.sql");
        assert_eq!((f.version.text.as_str(), f.version.parts.as_slice(), f.name.as_str()), ("0", &[0u64][..], "fix-orders"));
    }
}
