//! `stepwise adopt`: a database another tool migrated (dbmate, golang-migrate,
//! goose, sqlx, Flyway) is taken over without applying anything twice. The
//! other tool's history table is created the way that tool creates it, and
//! its migrations are run the way it runs them (through psql or the mariadb
//! client), from the sample directories in
//! `crates/stepwise-migrate/tests/layouts/`.

mod common;
use common::*;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn layout_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../stepwise-migrate/tests/layouts").join(name)
}

/// Copy a sample layout (with its subdirectories) into the project's `migrations/`.
fn copy_layout(p: &Project, name: &str) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create dir");
        for entry in std::fs::read_dir(from).expect("read layout dir") {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            if path.is_dir() {
                copy(&path, &to.join(entry.file_name()));
            } else {
                std::fs::copy(&path, to.join(entry.file_name())).expect("copy migration");
            }
        }
    }
    copy(&layout_dir(name), &p.migrations());
}

fn read_layout(name: &str, file: &str) -> String {
    std::fs::read_to_string(layout_dir(name).join(file)).expect("read sample migration")
}

/// The text between the line starting with `start` and the line starting with `end`.
fn between(text: &str, start: &str, end: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with(start) {
            inside = true;
        } else if line.starts_with(end) {
            inside = false;
        } else if inside && !line.starts_with("-- +goose") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Run a script through psql as a file (each statement on its own unless the
/// script says BEGIN), stopping at the first error.
fn psql_script(url: &str, script: &str) {
    let mut child = Command::new("psql")
        .args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn psql");
    child.stdin.take().expect("psql stdin").write_all(script.as_bytes()).expect("write script");
    let out = child.wait_with_output().expect("wait for psql");
    assert!(out.status.success(), "psql failed: {}\n{script}", String::from_utf8_lossy(&out.stderr));
}

/// `adopt --format json`'s report.
fn adopt_json(p: &Project, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["adopt", "--format", "json"];
    args.extend_from_slice(extra);
    let run = p.run(url, &args);
    run.ok();
    run.json_lines().into_iter().find(|v| v["event"] == "result").expect("adopt result line")["adopt"].clone()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
}

/// `status --format json` as (version, state) pairs.
fn states(p: &Project, url: &str) -> Vec<(String, String)> {
    let run = p.run(url, &["status", "--format", "json"]);
    run.ok();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("status json");
    v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| (m["version"].as_str().unwrap_or("").to_string(), m["state"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const DBMATE: [&str; 3] =
    ["20240101120000_create_users.sql", "20240102090000_add_users_email_index.sql", "20240103150000_add_users_last_login_at.sql"];

/// A PostgreSQL database dbmate migrated: adopt, then migrate applies only the
/// new migration, and nothing of the old ones runs again.
#[test]
fn dbmate_database_is_adopted_and_nothing_runs_twice() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "dbmate");
    // What dbmate does: its table, then each up section (in a transaction
    // unless `transaction:false`) with its version recorded.
    db.sql("CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)");
    for file in DBMATE {
        let text = read_layout("dbmate", file);
        let up = between(&text, "-- migrate:up", "-- migrate:down");
        let version = file.split('_').next().unwrap_or_default();
        let record = format!("INSERT INTO schema_migrations (version) VALUES ('{version}');");
        if text.contains("-- migrate:up transaction:false") {
            psql_script(&db.url, &format!("{up}\n{record}\n"));
        } else {
            psql_script(&db.url, &format!("BEGIN;\n{up}\n{record}\nCOMMIT;\n"));
        }
    }
    db.sql("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')");
    p.write(
        "20240201100000_add_users_name.sql",
        "-- migrate:up\nALTER TABLE users ADD COLUMN name text;\n\n-- migrate:down\nALTER TABLE users DROP COLUMN name;\n",
    );

    // Before adopt, stepwise sees four pending migrations.
    assert_eq!(states(&p, &db.url).iter().filter(|(_, s)| s == "pending").count(), 4);
    let run = p.run(&db.url, &["adopt"]);
    run.ok().contains("Adopted 3 migration(s) from dbmate/rails (0 already recorded)");
    assert_eq!(
        db.sql("SELECT string_agg(version || ':' || status || ':' || applied_by, ',' ORDER BY version) FROM stepwise.migrations"),
        "20240101120000:applied:adopted from dbmate/rails,20240102090000:applied:adopted from dbmate/rails,20240103150000:applied:adopted from dbmate/rails"
    );

    let run = p.run(&db.url, &["migrate"]);
    run.ok().contains("Applied 1 migration").contains("add_users_name");
    assert!(!run.all().contains("create_users"), "an adopted migration ran again:\n{}", run.all());
    assert_eq!(db.sql("SELECT count(*) FROM users"), "2");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"), "1");
    assert_eq!(
        states(&p, &db.url),
        pairs(&[
            ("20240101120000", "applied"),
            ("20240102090000", "applied"),
            ("20240103150000", "applied"),
            ("20240201100000", "applied")
        ])
    );
    p.run(&db.url, &["migrate"]).ok().contains("Nothing to apply");
    // Adopting again finds everything recorded already.
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
    assert_eq!(strings(&r["already"]), ["20240101120000", "20240102090000", "20240103150000"]);
}

/// golang-migrate's single row: versions up to it are applied; `migrate` then
/// applies only the newer files.
#[test]
fn golang_migrate_database_is_adopted_up_to_its_version() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "golang-migrate");
    db.sql("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)");
    for file in ["000001_create_users.up.sql", "000002_add_users_email_index.up.sql"] {
        psql_script(&db.url, &read_layout("golang-migrate", file));
    }
    db.sql("INSERT INTO schema_migrations (version, dirty) VALUES (2, false)");
    db.sql("INSERT INTO users (email) VALUES ('a@example.com')");

    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(r["tool"], "golang-migrate");
    assert_eq!(strings(&r["imported"]), ["000001", "000002"]);
    assert_eq!(strings(&r["failed"]), Vec::<String>::new());
    assert_eq!(db.sql("SELECT string_agg(version, ',' ORDER BY version) FROM stepwise.migrations"), "1,2");

    let run = p.run(&db.url, &["migrate", "--format", "json"]);
    run.ok();
    let result = run.json_lines().into_iter().find(|v| v["event"] == "result").expect("result");
    let applied: Vec<&str> = result["applied"].as_array().expect("applied").iter().map(|a| a["version"].as_str().unwrap_or("")).collect();
    assert_eq!(applied, ["000003"]);
    assert_eq!(db.sql("SELECT count(*) FROM users"), "1");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'last_login_at'"), "1");
    assert_eq!(states(&p, &db.url), pairs(&[("000001", "applied"), ("000002", "applied"), ("000003", "applied")]));

    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
    assert_eq!(strings(&r["already"]), ["000001", "000002"]);
}

/// A dirty golang-migrate version failed halfway: it is not imported, and the
/// output says so.
#[test]
fn golang_migrate_dirty_version_is_not_imported() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "golang-migrate");
    db.sql("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)");
    psql_script(&db.url, &read_layout("golang-migrate", "000001_create_users.up.sql"));
    db.sql("INSERT INTO schema_migrations (version, dirty) VALUES (2, true)");

    let run = p.run(&db.url, &["adopt"]);
    run.ok().contains("Adopted 1 migration(s) from golang-migrate").contains("failed or dirty").contains("000002");
    assert_eq!(db.sql("SELECT string_agg(version, ',' ORDER BY version) FROM stepwise.migrations"), "1");
    assert_eq!(states(&p, &db.url), pairs(&[("000001", "applied"), ("000002", "pending"), ("000003", "pending")]));
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["failed"]), ["000002"]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
}

/// goose appends a row per up and per down: a version whose last row is a
/// down is not applied.
#[test]
fn goose_history_with_a_down_row_is_adopted() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "goose");
    // goose's table, as goose creates it, with its initial version-0 row.
    db.sql(
        "CREATE TABLE goose_db_version (id serial NOT NULL PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL DEFAULT now())",
    );
    for file in ["00001_create_users.sql", "00002_add_users_email_index.sql", "00003_add_users_last_login_at.sql"] {
        psql_script(&db.url, &between(&read_layout("goose", file), "-- +goose Up", "-- +goose Down"));
    }
    // ... and 3 was rolled back by goose down.
    psql_script(&db.url, &between(&read_layout("goose", "00003_add_users_last_login_at.sql"), "-- +goose Down", "-- +goose Up"));
    db.sql("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false)");

    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(r["tool"], "goose");
    assert_eq!(strings(&r["imported"]), ["00001", "00002"]);
    assert_eq!(db.sql("SELECT string_agg(version, ',' ORDER BY version) FROM stepwise.migrations"), "1,2");
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
    assert_eq!(strings(&r["already"]), ["00001", "00002"]);
    // 3 was rolled back, so it is the one migrate applies.
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration").contains("add_users_last_login_at");
    assert_eq!(states(&p, &db.url), pairs(&[("00001", "applied"), ("00002", "applied"), ("00003", "applied")]));
}

/// sqlx's `_sqlx_migrations`: successful rows are imported, a failed one is not.
#[test]
fn sqlx_history_is_adopted() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "sqlx");
    // The table as sqlx creates it.
    db.sql(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
            success BOOLEAN NOT NULL,
            checksum BYTEA NOT NULL,
            execution_time BIGINT NOT NULL
        )",
    );
    db.sql(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
            (20240101120000, 'create users', true, '\\x00', 1000),
            (20240102090000, 'add users email index', true, '\\x01', 1000),
            (20240103150000, 'add users last login at', false, '\\x02', 1000)",
    );
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(r["tool"], "sqlx");
    assert_eq!(strings(&r["imported"]), ["20240101120000", "20240102090000"]);
    assert_eq!(strings(&r["failed"]), ["20240103150000"]);
    assert_eq!(db.sql("SELECT string_agg(version, ',' ORDER BY version) FROM stepwise.migrations"), "20240101120000,20240102090000");
    let r = adopt_json(&p, &db.url, &["--from", "sqlx"]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
    assert_eq!(strings(&r["already"]), ["20240101120000", "20240102090000"]);
}

/// Flyway's `flyway_schema_history`: versioned rows are imported (1.1 from a
/// subdirectory's `V1_1__` file), the repeatable row (no version) is not.
#[test]
fn flyway_history_is_adopted() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "flyway");
    // The table as Flyway creates it.
    db.sql(
        "CREATE TABLE flyway_schema_history (
            installed_rank integer NOT NULL PRIMARY KEY,
            version varchar(50),
            description varchar(200) NOT NULL,
            type varchar(20) NOT NULL,
            script varchar(1000) NOT NULL,
            checksum integer,
            installed_by varchar(100) NOT NULL,
            installed_on timestamp NOT NULL DEFAULT now(),
            execution_time integer NOT NULL,
            success boolean NOT NULL
        )",
    );
    db.sql(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
            (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 123, 'app', 10, true),
            (2, '1.1', 'add users email index', 'SQL', 'indexes/V1_1__add_users_email_index.sql', 456, 'app', 10, true),
            (3, '2', 'add users last login at', 'SQL', 'V2__add_users_last_login_at.sql', 789, 'app', 10, true),
            (4, NULL, 'active users view', 'SQL', 'R__active_users_view.sql', 42, 'app', 10, true)",
    );
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(r["tool"], "flyway");
    assert_eq!(strings(&r["imported"]), ["1", "1_1", "2"]);
    assert_eq!(strings(&r["failed"]), Vec::<String>::new());
    assert_eq!(db.sql("SELECT string_agg(version, ',' ORDER BY version) FROM stepwise.migrations"), "1,1.1,2");
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
    assert_eq!(strings(&r["already"]), ["1", "1_1", "2"]);
}

/// dbmate on MariaDB: the same adoption through `schema_migrations(version)`.
/// Tested on MariaDB.
#[test]
fn dbmate_style_database_is_adopted_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    let users = "-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n";
    let email =
        "-- migrate:up\nALTER TABLE users ADD COLUMN email varchar(100);\n\n-- migrate:down\nALTER TABLE users DROP COLUMN email;\n";
    p.write("20240101120000_create_users.sql", users).write("20240102120000_add_email.sql", email);
    db.sql("CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)");
    for (version, text) in [("20240101120000", users), ("20240102120000", email)] {
        db.sql(&between(text, "-- migrate:up", "-- migrate:down"));
        db.sql(&format!("INSERT INTO schema_migrations (version) VALUES ('{version}')"));
    }
    db.sql("INSERT INTO users (id, email) VALUES (1, 'a@example.com')");
    p.write(
        "20240201120000_add_name.sql",
        "-- migrate:up\nALTER TABLE users ADD COLUMN name varchar(100);\n\n-- migrate:down\nALTER TABLE users DROP COLUMN name;\n",
    );

    p.run(&db.url, &["adopt"]).ok().contains("Adopted 2 migration(s) from dbmate/rails");
    assert_eq!(
        db.sql("SELECT GROUP_CONCAT(version ORDER BY version) FROM stepwise_migrations WHERE status = 'applied'"),
        "20240101120000,20240102120000"
    );
    let run = p.run(&db.url, &["migrate"]);
    run.ok().contains("Applied 1 migration").contains("add_name");
    assert!(!run.all().contains("create_users"), "an adopted migration ran again:\n{}", run.all());
    assert_eq!(db.sql("SELECT COUNT(*) FROM users"), "1");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'name'"), "1");
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["imported"]), Vec::<String>::new());
    assert_eq!(strings(&r["already"]), ["20240101120000", "20240102120000"]);
    assert_eq!(states(&p, &db.url), pairs(&[("20240101120000", "applied"), ("20240102120000", "applied"), ("20240201120000", "applied")]));
}

/// A Flyway baseline stands for every version up to it: files at or below the
/// baseline version are imported too (Flyway ignores them), so `migrate` does
/// not find them pending and out of order.
#[test]
fn flyway_baseline_covers_the_versions_below_it() {
    let db = PgDb::new();
    let p = Project::new();
    copy_layout(&p, "flyway");
    db.sql(
        "CREATE TABLE flyway_schema_history (
            installed_rank integer NOT NULL PRIMARY KEY,
            version varchar(50),
            description varchar(200) NOT NULL,
            type varchar(20) NOT NULL,
            script varchar(1000) NOT NULL,
            checksum integer,
            installed_by varchar(100) NOT NULL,
            installed_on timestamp NOT NULL DEFAULT now(),
            execution_time integer NOT NULL,
            success boolean NOT NULL
        )",
    );
    // The schema was there before Flyway: baselined at 1.1, then V2 applied by Flyway.
    psql_script(&db.url, &read_layout("flyway", "V1__create_users.sql"));
    psql_script(&db.url, &read_layout("flyway", "indexes/V1_1__add_users_email_index.sql"));
    psql_script(&db.url, &read_layout("flyway", "V2__add_users_last_login_at.sql"));
    db.sql(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
            (1, '1.1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app', 0, true),
            (2, '2', 'add users last login at', 'SQL', 'V2__add_users_last_login_at.sql', 789, 'app', 10, true)",
    );
    let r = adopt_json(&p, &db.url, &[]);
    assert_eq!(strings(&r["imported"]), ["1", "1_1", "2"]);
    assert_eq!(db.sql("SELECT string_agg(version, ',' ORDER BY version) FROM stepwise.migrations"), "1,1.1,2");
    // Only the repeatable view is left to run.
    let run = p.run(&db.url, &["migrate"]);
    run.ok().contains("Applied 1 migration").contains("active_users_view");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.views WHERE table_name = 'active_users'"), "1");
}
