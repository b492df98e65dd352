//! A backfill runs the user's expressions only in its batches: neither a
//! dry run nor the check before the first batch evaluates an expression
//! with side effects (with --allow-volatile, `nextval()` used to advance the
//! sequence by 1,000 in a dry run, and again before a real run).

mod common;
use common::*;

#[test]
fn postgres_a_dry_run_and_the_check_never_advance_a_sequence() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id bigint PRIMARY KEY, n bigint); INSERT INTO items SELECT g, NULL FROM generate_series(1, 2000) g; CREATE SEQUENCE s;");
    let set = ["backfill", "items", "--set", "n = nextval('s')", "--allow-volatile"];
    p.run(&db.url, &[&set[..], &["--dry-run"]].concat()).ok();
    assert_eq!(db.sql("SELECT is_called FROM s"), "f", "the dry run advanced the sequence");
    p.run(&db.url, &set).ok();
    // Each batch computes the value to compare and to set (two per row);
    // a trial on the first 1,000 rows took 1,000 more.
    let used: i64 = db.sql("SELECT last_value FROM s").parse().unwrap();
    assert!(used < 5000, "{used} values for 2,000 rows: some were spent on a trial");
}

#[test]
fn mariadb_a_dry_run_and_the_check_never_advance_a_sequence() {
    let (db, p) = (MyDb::new(), Project::new());
    db.sql("CREATE TABLE items (id BIGINT PRIMARY KEY, n BIGINT NULL); INSERT INTO items SELECT seq, NULL FROM seq_1_to_2000; CREATE SEQUENCE s;");
    let set = ["backfill", "items", "--set", "n = NEXTVAL(s)", "--allow-volatile"];
    p.run(&db.url, &[&set[..], &["--dry-run"]].concat()).ok();
    assert_eq!(db.sql("SELECT NEXTVAL(s)"), "1", "the dry run advanced the sequence");
    p.run(&db.url, &set).ok();
    let used: i64 = db.sql("SELECT NEXTVAL(s)").parse().unwrap();
    assert!(used < 5000, "{used} values for 2,000 rows: some were spent on a trial");
}

#[test]
fn mariadb_a_stored_function_that_writes_counts_as_volatile() {
    let (db, p) = (MyDb::new(), Project::new());
    db.sql("CREATE TABLE items (id BIGINT PRIMARY KEY, n BIGINT NULL); INSERT INTO items SELECT seq, NULL FROM seq_1_to_50; CREATE TABLE calls (id INT AUTO_INCREMENT PRIMARY KEY);");
    let out = std::process::Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "--delimiter=$$", &db.name, "-e"])
        .arg("CREATE FUNCTION bump() RETURNS INT DETERMINISTIC MODIFIES SQL DATA BEGIN INSERT INTO calls VALUES (NULL); RETURN 1; END")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    p.run(&db.url, &["backfill", "items", "--set", "n = bump()", "--dry-run"]).code(2).contains("bump()");
    p.run(&db.url, &["backfill", "items", "--set", "n = bump()", "--allow-volatile", "--dry-run"]).ok();
    assert_eq!(db.sql("SELECT COUNT(*) FROM calls"), "0", "a dry run called the function");
}
