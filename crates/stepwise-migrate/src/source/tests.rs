//! Loading directories end to end: the sample directories under
//! `tests/layouts/<layout>/`, and temporary directories for the error cases.

use super::*;
use crate::migration::{MigrationKind, Version};
use std::fs;
use std::path::{Path, PathBuf};
use stepwise_sql::{Dialect, Phase, Section};

fn sample(layout: Layout) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts").join(layout.as_str())
}

fn load(layout: Layout) -> MigrationSet {
    load_dir(&sample(layout), Some(layout), Dialect::Postgres).unwrap()
}

/// A directory under the system temp dir, named after the test and this
/// process, holding `files`; removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str, files: &[(&str, &str)]) -> TempDir {
        let dir = std::env::temp_dir().join(format!("stepwise-source-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        TempDir(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn input_errors(result: Result<MigrationSet, LoadError>) -> Vec<InputError> {
    match result {
        Err(LoadError::Input(errors)) => errors,
        Err(other) => panic!("expected input errors, got {other}"),
        Ok(set) => panic!("expected input errors, got {} migrations", set.migrations.len()),
    }
}

fn sqls(section: &Section) -> Vec<&str> {
    section.statements.iter().map(|s| s.sql.as_str()).collect()
}

fn down_sqls(m: &Migration) -> Vec<&str> {
    m.down.as_ref().map(sqls).unwrap_or_default()
}

fn summary(set: &MigrationSet) -> Vec<(String, &str, bool, usize)> {
    set.migrations.iter().map(|m| (m.version.text.clone(), m.name.as_str(), m.up.no_transaction, m.files.len())).collect()
}

#[test]
fn native_sample() {
    let set = load(Layout::Native);
    assert_eq!(
        summary(&set),
        vec![
            ("20240101120000".into(), "create_users", false, 1),
            ("20240102090000".into(), "add_users_email_index", true, 2),
            ("20240103150000".into(), "add_users_last_login_at", false, 1),
        ]
    );
    let [table, index, column] = &set.migrations[..] else { panic!() };
    assert!(sqls(&table.up)[0].starts_with("CREATE TABLE users ("));
    assert_eq!(down_sqls(table), vec!["DROP TABLE users"]);
    assert_eq!(sqls(&index.up), vec!["CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)"]);
    assert_eq!(down_sqls(index), vec!["DROP INDEX CONCURRENTLY users_email_key"]);
    assert!(index.down.as_ref().unwrap().no_transaction);
    let dir = sample(Layout::Native).display().to_string();
    assert_eq!(
        index.files,
        vec![format!("{dir}/20240102090000_add_users_email_index.up.sql"), format!("{dir}/20240102090000_add_users_email_index.down.sql")]
    );
    assert_eq!(down_sqls(column), vec!["ALTER TABLE users DROP COLUMN last_login_at"]);
    assert!(set.migrations.iter().all(|m| m.kind == MigrationKind::Versioned && m.phase == Phase::PreDeploy));
    assert_eq!(column.checksum, stepwise_sql::checksum("ALTER TABLE users ADD COLUMN last_login_at timestamptz;"));
}

#[test]
fn sqlx_sample() {
    let set = load(Layout::Sqlx);
    assert_eq!(
        summary(&set),
        vec![
            ("20240101120000".into(), "create_users", false, 2),
            ("20240102090000".into(), "add_users_email_index", true, 2),
            ("20240103150000".into(), "add_users_last_login_at", false, 2),
        ]
    );
    let index = &set.migrations[1];
    assert_eq!(sqls(&index.up), vec!["CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)"]);
    assert!(index.down.as_ref().unwrap().no_transaction);
    assert_eq!(down_sqls(&set.migrations[0]), vec!["DROP TABLE users"]);
}

#[test]
fn dbmate_sample() {
    let set = load(Layout::Dbmate);
    assert_eq!(
        summary(&set),
        vec![
            ("20240101120000".into(), "create_users", false, 1),
            ("20240102090000".into(), "add_users_email_index", true, 1),
            ("20240103150000".into(), "add_users_last_login_at", false, 1),
        ]
    );
    let index = &set.migrations[1];
    assert_eq!(down_sqls(index), vec!["DROP INDEX CONCURRENTLY users_email_key"]);
    assert!(index.down.as_ref().unwrap().no_transaction);
    assert_eq!(down_sqls(&set.migrations[2]), vec!["ALTER TABLE users DROP COLUMN last_login_at"]);
}

#[test]
fn goose_sample() {
    let set = load(Layout::Goose);
    assert_eq!(
        summary(&set),
        vec![
            ("00001".into(), "create_users", false, 1),
            ("00002".into(), "add_users_email_index", true, 1),
            ("00003".into(), "add_users_last_login_at", false, 1),
        ]
    );
    assert_eq!(set.migrations[0].version, Version::parse("1").unwrap());
    assert!(set.migrations[1].down.as_ref().unwrap().no_transaction);
    let column = &set.migrations[2];
    let up = sqls(&column.up);
    assert_eq!(up.len(), 2);
    assert_eq!(up[0], "ALTER TABLE users ADD COLUMN last_login_at timestamptz");
    assert!(up[1].starts_with("CREATE FUNCTION touch_last_login()") && up[1].contains("RETURN NEW;"), "{}", up[1]);
    assert_eq!(down_sqls(column), vec!["DROP FUNCTION touch_last_login()", "ALTER TABLE users DROP COLUMN last_login_at"]);
}

#[test]
fn golang_migrate_sample() {
    let set = load(Layout::GolangMigrate);
    assert_eq!(
        summary(&set),
        vec![
            ("000001".into(), "create_users", false, 2),
            ("000002".into(), "add_users_email_index", false, 2),
            ("000003".into(), "add_users_last_login_at", false, 2),
        ]
    );
    assert_eq!(sqls(&set.migrations[1].up), vec!["CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email)"]);
    assert_eq!(down_sqls(&set.migrations[1]), vec!["DROP INDEX IF EXISTS users_email_key"]);
}

#[test]
fn flyway_sample() {
    let set = load(Layout::Flyway);
    assert_eq!(
        summary(&set),
        vec![
            ("1".into(), "create users", false, 1),
            ("1_1".into(), "add users email index", false, 1),
            ("2".into(), "add users last login at", false, 2),
            ("R__active_users_view".into(), "active users view", false, 1),
        ]
    );
    let dir = sample(Layout::Flyway).display().to_string();
    assert_eq!(set.migrations[1].files, vec![format!("{dir}/indexes/V1_1__add_users_email_index.sql")]);
    assert_eq!(set.migrations[1].version.key(), "1.1");
    assert_eq!(down_sqls(&set.migrations[2]), vec!["ALTER TABLE users DROP COLUMN last_login_at"]);
    assert!(set.migrations[0].down.is_none());
    let view = &set.migrations[3];
    assert_eq!((view.kind, view.key()), (MigrationKind::Repeatable, "R__active users view".to_string()));
    assert!(sqls(&view.up)[0].starts_with("CREATE OR REPLACE VIEW active_users AS"));
}

#[test]
fn detection_picks_each_sample_layout() {
    for layout in [Layout::Native, Layout::Sqlx, Layout::Dbmate, Layout::Goose, Layout::Flyway] {
        assert_eq!(detect_layout(&sample(layout)).unwrap(), layout);
    }
    // Pairs without a `-- stepwise:` line are golang-migrate's.
    let dir = sample(Layout::GolangMigrate);
    assert_eq!(detect_layout(&dir).unwrap(), Layout::GolangMigrate);
    let detected = load_dir(&dir, None, Dialect::Postgres).unwrap();
    assert_eq!(detected.layout, Layout::GolangMigrate);
    assert_eq!(summary(&detected), summary(&load(Layout::GolangMigrate)));
}

#[test]
fn flyway_versions_sort_numerically_and_repeatables_come_last() {
    let dir = TempDir::new(
        "flyway-sort",
        &[
            ("R__b_view.sql", "SELECT 1;"),
            ("R__a_view.sql", "SELECT 1;"),
            ("V1.10__ten.sql", "SELECT 1;"),
            ("V1.9__nine.sql", "SELECT 1;"),
            ("V2__two.sql", "SELECT 1;"),
            ("old/V1_2__one_two.sql", "SELECT 1;"),
        ],
    );
    let set = load_dir(&dir.0, None, Dialect::Postgres).unwrap();
    assert_eq!(set.layout, Layout::Flyway);
    let order: Vec<&str> = set.migrations.iter().map(|m| m.version.text.as_str()).collect();
    assert_eq!(order, vec!["1_2", "1.9", "1.10", "2", "R__a_view", "R__b_view"]);
}

#[test]
fn a_name_without_version_is_reported() {
    let dir = TempDir::new("bad-name", &[("add_users.sql", "CREATE TABLE users (id int);")]);
    let errors = input_errors(load_dir(&dir.0, Some(Layout::Native), Dialect::Postgres));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file, dir.file("add_users.sql"));
    assert!(
        errors[0].message.starts_with("file name does not start with a version: expected `<version>_<name>.sql`"),
        "{}",
        errors[0].message
    );
}

#[test]
fn two_files_with_one_version_are_reported() {
    let dir = TempDir::new("duplicate", &[("001_a.sql", "SELECT 1;"), ("1_b.sql", "SELECT 2;")]);
    let errors = input_errors(load_dir(&dir.0, None, Dialect::Postgres));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file, dir.file("1_b.sql"));
    assert_eq!(errors[0].message, format!("two migrations have version `1`: `{}` and `{}`", dir.file("001_a.sql"), dir.file("1_b.sql")));
}

#[test]
fn duplicate_repeatables_and_downs_are_reported() {
    let dir = TempDir::new(
        "flyway-duplicates",
        &[
            ("V1__a.sql", "SELECT 1;"),
            ("U1__a.sql", "SELECT 2;"),
            ("U01__b.sql", "SELECT 3;"),
            ("R__view.sql", "SELECT 4;"),
            ("more/R__view.sql", "SELECT 5;"),
        ],
    );
    let errors = input_errors(load_dir(&dir.0, None, Dialect::Postgres));
    let found: Vec<(String, &str)> = errors.iter().map(|e| (e.file.clone(), e.message.as_str())).collect();
    let repeatable =
        format!("two repeatable migrations are named `view`: `{}` and `{}`", dir.file("R__view.sql"), dir.file("more/R__view.sql"));
    let undo = format!("two down migrations for version `1`: `{}` and `{}`", dir.file("U01__b.sql"), dir.file("U1__a.sql"));
    assert_eq!(found, vec![(dir.file("U1__a.sql"), undo.as_str()), (dir.file("more/R__view.sql"), repeatable.as_str())]);
}

#[test]
fn a_down_file_without_its_up_file_is_reported() {
    let dir = TempDir::new(
        "down-alone",
        &[("002_x.down.sql", "DROP TABLE x;"), ("003_y.sql", "-- stepwise:up\nSELECT 1;"), ("003_y.down.sql", "SELECT 2;")],
    );
    let errors = input_errors(load_dir(&dir.0, Some(Layout::Native), Dialect::Postgres));
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].file, dir.file("002_x.down.sql"));
    assert!(errors[0].message.starts_with(&format!("no up migration for `{}`", dir.file("002_x.down.sql"))), "{}", errors[0].message);
    assert_eq!(errors[1].file, dir.file("003_y.down.sql"));
    assert!(errors[1].message.contains("single-file migration"), "{}", errors[1].message);

    let dir = TempDir::new("undo-alone", &[("V1__a.sql", "SELECT 1;"), ("U2__b.sql", "SELECT 2;")]);
    let errors = input_errors(load_dir(&dir.0, None, Dialect::Postgres));
    assert_eq!(errors[0].file, dir.file("U2__b.sql"));
    assert!(errors[0].message.starts_with("no up migration for"));
}

#[test]
fn every_bad_file_is_reported_with_parse_errors_unchanged() {
    let bad_sql = "-- stepwise:up\nSELECT 1;\n-- stepwise:phase soon\n";
    let dir = TempDir::new(
        "all-errors",
        &[("001_ok.sql", "SELECT 1;"), ("002_bad.sql", bad_sql), ("003_bad.up.sql", "SELECT $$ never closed;"), ("notes.sql", "")],
    );
    let errors = input_errors(load_dir(&dir.0, Some(Layout::Native), Dialect::Postgres));
    let files: Vec<&str> = errors.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(files, vec![dir.file("002_bad.sql"), dir.file("003_bad.up.sql"), dir.file("notes.sql")]);
    let file = std::sync::Arc::new(stepwise_sql::SourceFile { name: dir.file("002_bad.sql"), text: bad_sql.into() });
    let direct =
        stepwise_sql::parse_file(file, stepwise_sql::FileRole::Combined, Dialect::Postgres, stepwise_sql::Flavor::Native).unwrap_err();
    assert_eq!(errors[0], direct);
    assert_eq!((errors[1].line, errors[1].col), (1, 8));
    let shown = LoadError::Input(errors.clone()).to_string();
    assert_eq!(shown.lines().collect::<Vec<_>>(), errors.iter().map(ToString::to_string).collect::<Vec<_>>());
}

#[test]
fn layout_specific_name_errors() {
    let dir = TempDir::new("golang-plain", &[("000001_x.sql", "SELECT 1;")]);
    let errors = input_errors(load_dir(&dir.0, Some(Layout::GolangMigrate), Dialect::Postgres));
    assert!(errors[0].message.contains("does not end in `.up.sql` or `.down.sql`"), "{}", errors[0].message);

    let dir = TempDir::new("flyway-bad", &[("V1__a.sql", "SELECT 1;"), ("sub/create_b.sql", "SELECT 2;"), ("V1.x__c.sql", "")]);
    let errors = input_errors(load_dir(&dir.0, None, Dialect::Postgres));
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].file, dir.file("V1.x__c.sql"));
    assert!(errors[0].message.contains("`1.x` is not a version"), "{}", errors[0].message);
    assert_eq!(errors[1].file, dir.file("sub/create_b.sql"));
    assert!(errors[1].message.contains("does not match Flyway's naming"), "{}", errors[1].message);
}

#[test]
fn missing_empty_and_ignored() {
    let missing = std::env::temp_dir().join(format!("stepwise-source-missing-{}", std::process::id()));
    match load_dir(&missing, None, Dialect::Postgres) {
        Err(e @ LoadError::Io { .. }) => assert!(e.to_string().starts_with(&format!("cannot read {}: ", missing.display())), "{e}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let empty = TempDir::new("empty", &[]);
    let set = load_dir(&empty.0, None, Dialect::Postgres).unwrap();
    assert_eq!((set.layout, set.migrations.len()), (Layout::Native, 0));
    let dir = TempDir::new(
        "ignored",
        &[
            ("001_a.sql", "SELECT 1;"),
            (".002_hidden.sql", "nonsense"),
            ("README.md", "hi"),
            ("sub/003_b.sql", "SELECT 1;"),
            ("not_a_migration.sql.bak", ""),
        ],
    );
    let set = load_dir(&dir.0, Some(Layout::Native), Dialect::Postgres).unwrap();
    assert_eq!(set.migrations.len(), 1);
}

#[test]
fn phase_comes_from_the_up_file() {
    let dir = TempDir::new(
        "phase",
        &[
            ("001_drop_legacy.up.sql", "-- stepwise:phase post-deploy\nALTER TABLE t DROP COLUMN legacy;"),
            ("001_drop_legacy.down.sql", "ALTER TABLE t ADD COLUMN legacy text;"),
        ],
    );
    let set = load_dir(&dir.0, None, Dialect::Postgres).unwrap();
    assert_eq!(set.migrations[0].phase, Phase::PostDeploy);
    assert_eq!(down_sqls(&set.migrations[0]), vec!["ALTER TABLE t ADD COLUMN legacy text"]);
}

#[test]
fn files_that_are_not_utf8_are_bad_input() {
    let dir = TempDir::new("latin1", &[("001_a.sql", "SELECT 1;")]);
    fs::write(dir.0.join("001_a.sql"), b"SELECT '\xe9t\xe9';").unwrap();
    let errors = input_errors(load_dir(&dir.0, None, Dialect::Postgres));
    assert!(errors[0].message.contains("not UTF-8"), "{}", errors[0].message);
}

#[test]
fn a_single_file_is_read_whatever_its_name() {
    let dir = TempDir::new(
        "single",
        &[
            ("fix-orders.sql", "UPDATE orders SET status = 'new' WHERE status IS NULL;"),
            (
                "20240101_add_status.up.sql",
                "-- stepwise:up\nALTER TABLE orders ADD COLUMN status text;\n-- stepwise:down\nALTER TABLE orders DROP COLUMN status;",
            ),
            ("00004_goose.sql", "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;"),
        ],
    );
    let m = load_file(&dir.0.join("fix-orders.sql"), Dialect::Postgres).unwrap();
    assert_eq!((m.version.text.as_str(), m.version.key(), m.name.as_str()), ("0", "0".to_string(), "fix-orders"));
    assert_eq!(sqls(&m.up), vec!["UPDATE orders SET status = 'new' WHERE status IS NULL"]);
    assert!(m.down.is_none());
    assert_eq!(m.files, vec![dir.file("fix-orders.sql")]);
    let m = load_file(&dir.0.join("20240101_add_status.up.sql"), Dialect::Postgres).unwrap();
    assert_eq!((m.version.text.as_str(), m.name.as_str()), ("20240101", "add_status"));
    assert_eq!(down_sqls(&m), vec!["ALTER TABLE orders DROP COLUMN status"]);
    let m = load_file(&dir.0.join("00004_goose.sql"), Dialect::Postgres).unwrap();
    assert_eq!((sqls(&m.up), down_sqls(&m)), (vec!["SELECT 1"], vec!["SELECT 2"]));
    assert!(matches!(load_file(&dir.0.join("nope.sql"), Dialect::Postgres), Err(LoadError::Io { .. })));
}
