//! Bad input: a clear error naming file:line:col, exit 2 (exit 1 for a
//! migration that failed on the server), and nothing half-recorded: no
//! tracking row and nothing created in the database. Passwords never appear
//! in any output.

mod common;
use common::*;
use std::process::Command;

// ---- helpers ----

/// The tables of schema public, sorted, comma-separated.
fn tables(db: &PgDb) -> String {
    db.sql("SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public'")
}

/// Nothing in the database: no table, and no state schema (so no tracking row).
#[track_caller]
fn assert_untouched(db: &PgDb) {
    assert_eq!(tables(db), "", "a table was created");
    assert_eq!(db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'stepwise'"), "0", "the state schema was created");
}

/// `migrate` (text and JSON), `status` and `plan` all refuse the directory
/// with exit 2, and the text output contains every `expected` string.
/// Returns the JSON errors of `migrate --format json`.
#[track_caller]
fn refused(p: &Project, db: &PgDb, expected: &[&str]) -> Vec<serde_json::Value> {
    let r = p.run(&db.url, &["migrate"]);
    r.code(2);
    for e in expected {
        r.contains(e);
    }
    assert!(!r.all().contains("panicked"), "{}", r.all());
    for cmd in [&["status"][..], &["plan"], &["migrate", "--dry-run"]] {
        let r = p.run(&db.url, cmd);
        r.code(2).contains(expected[0]);
    }
    let r = p.run(&db.url, &["migrate", "--format", "json"]);
    r.code(2);
    let lines = r.json_lines();
    let last = lines.last().unwrap_or_else(|| panic!("no JSON error:\n{}", r.all()));
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "invalid_input");
    assert_eq!(last["exit_code"], 2);
    assert_untouched(db);
    last["errors"].as_array().expect("errors").clone()
}

/// A project with a good migration beside the bad one: the good one must not
/// be applied either, since the run is refused as a whole.
fn project_with(file: &str, text: &str) -> Project {
    let p = Project::new();
    p.write("1_ok.sql", "CREATE TABLE ok_t (id int);\n");
    p.write(file, text);
    p
}

// ---- malformed directives ----

#[test]
fn malformed_phase_directive() {
    let db = PgDb::new();
    let p = project_with("2_bad.sql", "-- stepwise:up\nCREATE TABLE bad_t (id int);\n-- stepwise:phase later\n");
    let errors = refused(&p, &db, &["migrations/2_bad.sql:3:19", "`stepwise:phase` expects `pre-deploy` or `post-deploy`, found `later`"]);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0]["file"].as_str(), errors[0]["line"].as_u64(), errors[0]["col"].as_u64()),
        (Some("migrations/2_bad.sql"), Some(3), Some(19))
    );
}

#[test]
fn unknown_directive() {
    let db = PgDb::new();
    let p = project_with("2_bad.sql", "-- stepwise:upp\nCREATE TABLE bad_t (id int);\n");
    refused(&p, &db, &["migrations/2_bad.sql:1:13", "unknown directive `stepwise:upp`"]);
}

#[test]
fn ignore_without_a_reason() {
    let db = PgDb::new();
    let p = project_with("2_bad.sql", "-- stepwise:up\n  -- stepwise:ignore ban-drop-table\nCREATE TABLE bad_t (id int);\n");
    refused(&p, &db, &["migrations/2_bad.sql:2:22", "needs a reason"]);
}

#[test]
fn down_section_without_up_section() {
    let db = PgDb::new();
    let p = project_with("2_bad.sql", "\n-- stepwise:down\nDROP TABLE ok_t;\n");
    refused(&p, &db, &["migrations/2_bad.sql:2:1", "no up section"]);
}

#[test]
fn every_bad_file_is_reported() {
    let db = PgDb::new();
    let p = project_with("2_bad.sql", "-- stepwise:upp\nCREATE TABLE bad_t (id int);\n");
    p.write("3_bad.sql", "-- stepwise:up\nSELECT 1;\n-- stepwise:phase soon\n");
    let errors = refused(&p, &db, &["migrations/2_bad.sql:1:13", "migrations/3_bad.sql:3:19"]);
    assert_eq!(errors.len(), 2);
}

// ---- file names ----

#[test]
fn two_files_with_one_version() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("001_a.sql", "CREATE TABLE a (id int);\n");
    p.write("1_b.sql", "CREATE TABLE b (id int);\n");
    p.write("2_c.sql", "CREATE TABLE c (id int);\n");
    let errors = refused(&p, &db, &["two migrations have version `1`", "migrations/001_a.sql", "migrations/1_b.sql"]);
    assert_eq!(errors.len(), 1);
}

#[test]
fn a_file_name_without_a_version() {
    let db = PgDb::new();
    let p = project_with("add_users.sql", "CREATE TABLE users (id int);\n");
    refused(&p, &db, &["migrations/add_users.sql", "does not start with a version"]);
}

#[test]
fn a_down_file_without_its_up_file() {
    let db = PgDb::new();
    let p = project_with("2_gone.down.sql", "DROP TABLE gone;\n");
    refused(&p, &db, &["migrations/2_gone.down.sql", "no up file has version `2`"]);
}

// ---- unterminated quotes ----

#[test]
fn unterminated_string_is_located_where_it_starts() {
    let db = PgDb::new();
    let p = project_with("2_bad.sql", "CREATE TABLE bad_t (id int);\nINSERT INTO bad_t VALUES (1);\nSELECT 'abc;\nSELECT 2;\n");
    refused(&p, &db, &["migrations/2_bad.sql:3:8", "unterminated string literal"]);
}

#[test]
fn unterminated_dollar_quote_is_located_where_it_starts() {
    let db = PgDb::new();
    let p =
        project_with("2_bad.sql", "CREATE TABLE bad_t (id int);\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1;\n$$ LANGUAGE sql;\n");
    refused(&p, &db, &["migrations/2_bad.sql:2:36", "unterminated dollar-quoted string"]);
}

#[test]
fn unterminated_quoted_identifier_after_multibyte_text() {
    let db = PgDb::new();
    // Columns count characters: `é` is one column though two bytes.
    let p = project_with("2_bad.sql", "CREATE TABLE bad_t (id int);\nSELECT 'é', \"unclosed;\n");
    refused(&p, &db, &["migrations/2_bad.sql:2:13", "unterminated quoted identifier"]);
}

// ---- a syntax error found by the server ----

#[test]
fn server_syntax_error_is_located_in_characters() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_ok.sql", "CREATE TABLE ok_t (id int);\n");
    // Multi-byte characters before the error on its line: one in a comment
    // before the statement (line/column counting), one inside the statement
    // (mapping the server's character position to a byte offset).
    let line3 = "/* café */ CREATE TABLE \"tée\" (id int,, x int);";
    p.write(
        "2_bad.sql",
        &format!("-- stepwise:up\nCREATE TABLE before_error (id int);\n{line3}\n-- stepwise:down\nDROP TABLE before_error;\n"),
    );
    let at = line3.find(",,").unwrap() + 1;
    let col = line3[..at].chars().count() + 1;
    assert_ne!(col, at + 1, "the test needs multi-byte characters before the error");

    let r = p.run(&db.url, &["migrate"]);
    r.code(1).contains(&format!("migrations/2_bad.sql:3:{col}")).contains("SQLSTATE 42601").contains("syntax error at or near \",\"");
    // The caret sits under the error.
    let caret = r.stderr.lines().find(|l| l.trim_end().ends_with('^')).expect("caret line");
    let text = r.stderr.lines().find(|l| l.contains(line3)).expect("source line");
    assert_eq!(caret.chars().position(|c| c == '^'), Some(text.find(line3).unwrap() + col - 1), "{}", r.stderr);

    // 1 applied in its own transaction; 2 failed and kept nothing.
    assert_eq!(tables(&db), "ok_t");
    assert_eq!(db.sql("SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM stepwise.migrations"), "1:applied,2:failed");
    assert_eq!(db.sql("SELECT statements_applied FROM stepwise.migrations WHERE version = '2'"), "0");
    assert!(db.sql("SELECT error FROM stepwise.migrations WHERE version = '2'").contains(&format!("2_bad.sql:3:{col}")));

    // JSON carries the same place and the server's error.
    let r = p.run(&db.url, &["migrate", "--format", "json"]);
    r.code(1);
    let err = r.json_lines().pop().expect("json");
    assert_eq!(err["kind"], "statement_failed");
    let f = &err["failure"];
    assert_eq!((f["line"].as_u64(), f["col"].as_u64()), (Some(3), Some(col as u64)));
    assert_eq!(f["server"]["sqlstate"], "42601");
    assert_eq!(tables(&db), "ok_t");
}

#[test]
fn server_error_in_a_non_transactional_migration_records_where_it_stopped() {
    let db = PgDb::new();
    let p = Project::new();
    let line4 = "  CREATE TABLE \"né\" (id int,, x int);";
    let text =
        |l4: &str| format!("-- stepwise:no-transaction\n-- stepwise:up\nCREATE TABLE n1 (id int);\n{l4}\nCREATE TABLE n3 (id int);\n");
    p.write("1_nt.sql", &text(line4));
    let col = line4[..line4.find(",,").unwrap() + 1].chars().count() + 1;

    let r = p.run(&db.url, &["migrate"]);
    r.code(1).contains(&format!("migrations/1_nt.sql:4:{col}")).contains("SQLSTATE 42601").contains("statements 1 to 1");
    // Statement 1 ran and is recorded; 3 did not run.
    assert_eq!(tables(&db), "n1");
    assert_eq!(db.sql("SELECT status, statements_applied, in_flight FROM stepwise.migrations WHERE version = '1'"), "failed|1|1");

    // Fixed: the next run continues at statement 2 (n1 is not created twice).
    p.write("1_nt.sql", &text("  CREATE TABLE \"né\" (id int, x int);"));
    p.run(&db.url, &["migrate"]).ok().contains("resuming at statement 2 of 3");
    assert_eq!(tables(&db), "n1,n3,né");
    assert_eq!(db.sql("SELECT status, statements_applied, in_flight IS NULL FROM stepwise.migrations WHERE version = '1'"), "applied|3|t");
}

#[test]
fn a_bad_down_section_refuses_the_rollback_before_anything_runs() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "-- stepwise:up\nCREATE TABLE a (id int);\n-- stepwise:down\nDROP TABLE a;\nDROP INDEX CONCURRENTLY a_idx;\n");
    p.write("2_b.sql", "-- stepwise:up\nCREATE TABLE b (id int);\n-- stepwise:down\nDROP TABLE b;\n");
    p.run(&db.url, &["migrate"]).ok();
    // 2 would roll back first; 1's down cannot run in a transaction.
    let r = p.run(&db.url, &["rollback", "--step", "2"]);
    r.code(2).contains("migrations/1_a.sql:5:1").contains("DROP INDEX CONCURRENTLY");
    assert_eq!(tables(&db), "a,b");
    assert_eq!(db.sql("SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM stepwise.migrations"), "1:applied,2:applied");
}

// ---- bad settings ----

#[test]
fn durations_without_a_unit_are_refused() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    p.run(&db.url, &["migrate", "--lock-timeout", "5"]).code(2).contains("lock_timeout").contains("needs a unit");
    p.run(&db.url, &["migrate", "--lock-timeout", "0"]).code(2).contains("lock_timeout");
    p.run(&db.url, &["migrate", "--statement-timeout", "2 weeks"]).code(2).contains("statement_timeout");
    let r = Run::from(p.cmd(&db.url, &["migrate"]).env("STEPWISE_LOCK_WAIT", "soon").output().unwrap());
    r.code(2).contains("lock_wait").contains("not a duration");
    std::fs::write(p.root.join("stepwise.toml"), "concurrent_timeout = \"10\"\n").unwrap();
    p.run(&db.url, &["migrate"]).code(2).contains("concurrent_timeout").contains("needs a unit");
    assert_untouched(&db);
}

#[test]
fn urls_for_other_databases_are_refused() {
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    let r = p.run("sqlite://x", &["migrate"]);
    r.code(2).contains("sqlite://x").contains("must start with postgres://");
    let r = p.run("sqlite://me:hunter2-secret@host/db", &["status", "--verbose"]);
    r.code(2).contains("must start with postgres://");
    assert!(!r.all().contains("hunter2-secret"), "{}", r.all());
    let r = p.run("", &["status"]);
    r.code(2).contains("no database");
    let r = p.run("postgres://postgres:hunter2-secret@127.0.0.1:notaport/db", &["status", "--format", "json"]);
    r.code(2);
    assert!(!r.all().contains("hunter2-secret"), "{}", r.all());
}

// ---- wrong passwords ----

/// A MariaDB user of its own, dropped at the end.
struct MyUser(String);

impl Drop for MyUser {
    fn drop(&mut self) {
        let _ = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", &format!("DROP USER IF EXISTS '{}'@'%'", self.0)])
            .output();
    }
}

#[track_caller]
fn assert_secret_free(r: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!r.all().contains(s), "output shows the password {s:?}:\n{}", r.all());
    }
}

#[test]
fn a_wrong_password_is_never_printed() {
    let my = MyDb::new();
    let user = MyUser(unique("sw_user"));
    mysql("", &format!("CREATE USER '{}'@'%' IDENTIFIED BY 'right-pass-123'", user.0));
    mysql("", &format!("GRANT ALL ON {}.* TO '{}'@'%'", my.name, user.0));
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    let secrets = ["right-pass-123", "wrong-pass-456"];

    // The right password works: the failures below are the password's.
    let good = format!("mysql://{}:right-pass-123@127.0.0.1:3306/{}", user.0, my.name);
    let r = p.run(&good, &["status", "--verbose"]);
    r.ok().contains("MariaDB");
    assert_secret_free(&r, &secrets);

    let bad = format!("mysql://{}:wrong-pass-456@127.0.0.1:3306/{}", user.0, my.name);
    for args in [
        &["status"][..],
        &["status", "--verbose"],
        &["status", "--format", "json"],
        &["status", "--verbose", "--format", "json"],
        &["migrate", "--verbose"],
    ] {
        let r = p.run(&bad, args);
        assert_ne!(r.code, 0, "{args:?} succeeded with a wrong password:\n{}", r.all());
        r.contains("Access denied").contains(&user.0);
        assert_secret_free(&r, &secrets);
        if args.contains(&"json") {
            assert!(r.json_lines().last().is_some_and(|e| e["event"] == "error"), "{}", r.all());
        }
    }
    // Nothing was done as that user.
    assert_eq!(my.sql(&format!("SELECT count(*) FROM information_schema.tables WHERE table_schema = '{}'", my.name)), "0");

    // PostgreSQL: a password in the URL (and in a parameter) to a closed port.
    for url in
        ["postgres://postgres:wrong-pass-456@127.0.0.1:1/postgres", "postgres://postgres@127.0.0.1:1/postgres?password=wrong-pass-456"]
    {
        for args in [&["status"][..], &["status", "--verbose"], &["migrate", "--verbose", "--format", "json"]] {
            let r = p.run(url, args);
            assert_ne!(r.code, 0, "{}", r.all());
            r.contains("cannot connect").contains("127.0.0.1:1");
            assert_secret_free(&r, &secrets);
        }
    }
}
