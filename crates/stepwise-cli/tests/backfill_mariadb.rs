//! `stepwise backfill` on MariaDB, end to end through the binary: the tests
//! of `backfill.rs` again, against MariaDB 10.11 (the server on this
//! machine). A million rows under an application that keeps writing,
//! `kill -9` and resume, the rule that keeps application writes, batched
//! deletes with a backup table, composite keys, and bad input refused before
//! any row changes.
//!
//! MariaDB has no application_name, so where a test counts the backfill's
//! own updates, stepwise runs as a user of its own (`BackfillUser`) and the
//! counting trigger looks at `USER()`.

mod common;
use common::my_session::MySession as Session;
use common::*;

use std::process::Command;
use std::time::{Duration, Instant};

/// Run `sql` in `db` with `$$` as the statement delimiter, for statements
/// with bodies (procedures, triggers); panics on failure.
fn routine(db: &MyDb, sql: &str) {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", "--delimiter=$$", &db.name, "-e", sql])
        .output()
        .expect("run mariadb client");
    assert!(out.status.success(), "mariadb failed: {}\n{sql}", String::from_utf8_lossy(&out.stderr));
}

/// Like `db.sql`, but None when the statement fails (a table not there yet).
fn try_sql(db: &MyDb, sql: &str) -> Option<String> {
    let out =
        Command::new("mariadb").args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", sql]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A MariaDB user for stepwise alone, with every privilege on the test's
/// database; dropped at the end of the test, failed or not.
struct BackfillUser {
    name: String,
    /// The test database's URL as this user.
    url: String,
}

impl BackfillUser {
    fn new(db: &MyDb) -> BackfillUser {
        let name = unique("swbf");
        mysql("", &format!("CREATE USER '{name}'@'%'"));
        let user = BackfillUser { url: format!("mysql://{name}@127.0.0.1:3306/{}", db.name), name };
        mysql("", &format!("GRANT ALL ON `{}`.* TO '{}'@'%'", db.name, user.name));
        user
    }

    /// Connections of this user the server still has.
    fn connections(&self) -> String {
        mysql("", &format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{}'", self.name))
    }
}

impl Drop for BackfillUser {
    fn drop(&mut self) {
        let _ = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", &format!("DROP USER IF EXISTS '{}'@'%'", self.name)])
            .output();
    }
}

/// `items` with `rows` rows whose `total` is to be filled with `a * 10 + b`.
fn setup(db: &MyDb, rows: i64) {
    db.sql(&format!(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, total BIGINT NULL) ENGINE = InnoDB;
         INSERT INTO items SELECT seq, seq % 1000, seq % 7, NULL FROM seq_1_to_{rows};
         ANALYZE TABLE items;"
    ));
}

/// The user stepwise is to run as, and `touched`: how often that user (the
/// backfill, and only it) updated each row of `items`.
fn count_backfill(db: &MyDb) -> BackfillUser {
    let user = BackfillUser::new(db);
    db.sql("CREATE TABLE touched (id BIGINT PRIMARY KEY, n INT NOT NULL) ENGINE = InnoDB");
    routine(
        db,
        &format!(
            "CREATE TRIGGER count_backfill AFTER UPDATE ON items FOR EACH ROW
             IF SUBSTRING_INDEX(USER(), '@', 1) = '{}' THEN
               INSERT INTO touched VALUES (NEW.id, 1) ON DUPLICATE KEY UPDATE n = n + 1;
             END IF",
            user.name
        ),
    );
    user
}

/// An application at a steady pace until `stop` is set: each transaction
/// changes `a` of two random rows and, as the new code does, keeps `total`
/// right itself. MariaDB's single-table UPDATE assigns left to right (no
/// SIMULTANEOUS_ASSIGNMENT in sql_mode), so `total = a * 10 + b` already
/// reads the new `a`; were that wrong, the rows the application changes
/// behind the backfill would be left wrong and the test would fail. It takes
/// the higher key first, against the backfill's order, and holds it a
/// moment, so that a backfill that ever waited for a row lock would be in
/// deadlocks. Any error (1213 deadlock, 1205 lock wait timeout) ends the
/// procedure, and the client exits non-zero.
const APP: &str = "CREATE PROCEDURE app(n BIGINT)
BEGIN
  DECLARE k1, k2 BIGINT;
  WHILE (SELECT stop FROM app_ctl) = 0 DO
    SET k1 = 1 + FLOOR(RAND() * n);
    SET k2 = LEAST(k1 + 1 + FLOOR(RAND() * 50), n);
    START TRANSACTION;
    UPDATE items SET a = a + 1, total = a * 10 + b WHERE id = k2;
    DO SLEEP(0.003);
    UPDATE items SET a = a + 1, total = a * 10 + b WHERE id = k1;
    UPDATE app_ctl SET txns = txns + 1;
    COMMIT;
  END WHILE;
END";

fn start_app(db: &MyDb, rows: i64) -> Bg {
    db.sql("CREATE TABLE app_ctl (stop BOOLEAN NOT NULL, txns BIGINT NOT NULL) ENGINE = InnoDB; INSERT INTO app_ctl VALUES (0, 0)");
    routine(db, APP);
    let mut cmd = Command::new("mariadb");
    cmd.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", &format!("CALL app({rows})")]);
    spawn_bg(cmd)
}

/// Stop the application; returns its transaction count after checking it never failed.
#[track_caller]
fn stop_app(db: &MyDb, app: Bg) -> i64 {
    db.sql("UPDATE app_ctl SET stop = 1");
    let run = app.finish(Duration::from_secs(60));
    assert_eq!(run.code, 0, "an application transaction failed (a deadlock or lock wait timeout?):\n{}", run.all());
    db.sql("SELECT txns FROM app_ctl").parse().unwrap()
}

#[track_caller]
fn assert_all_right(db: &MyDb) {
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE NOT (total <=> a * 10 + b)"), "0", "rows left wrong");
    assert_eq!(db.sql("SELECT COUNT(*) FROM touched WHERE n > 1"), "0", "the backfill updated a row twice");
}

fn state(db: &MyDb, job: &str) -> String {
    db.sql(&format!("SELECT state FROM stepwise_jobs WHERE id = {job}"))
}

/// The furthest rows_done of a backfill job; 0 before there is one.
fn rows_done(db: &MyDb) -> i64 {
    try_sql(db, "SELECT COALESCE(MAX(rows_done), 0) FROM stepwise_jobs WHERE kind = 'backfill'").and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn a_million_rows_are_backfilled_under_a_busy_application_and_a_kill_9_then_resume_loses_nothing_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 1_000_000;
    setup(&db, rows);
    let user = count_backfill(&db);
    let app = start_app(&db, rows);
    assert!(wait_until(Duration::from_secs(10), || db.sql("SELECT txns FROM app_ctl") != "0"), "the application runs");

    // Small batches, so the run is long enough to be killed in the middle.
    let mut run = spawn_bg(p.cmd(&user.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "5000"]));
    let progressed = wait_until(Duration::from_secs(120), || rows_done(&db) >= 300_000 || run.exited());
    assert!(progressed && !run.exited(), "the backfill made progress:\n{}", run.output());
    run.kill9();
    let _ = run.finish(Duration::from_secs(10));
    // The server ends the dead connection (rolling back its open batch)
    // once it reads from it.
    assert!(wait_until(Duration::from_secs(30), || user.connections() == "0"), "the server noticed the kill");

    let job = db.sql("SELECT id FROM stepwise_jobs WHERE kind = 'backfill'");
    assert_eq!(state(&db, &job), "running", "a killed job is left running, to be resumed");
    let cursor: i64 = db.sql(&format!("SELECT JSON_VALUE(cursor_keys, '$[0]') FROM stepwise_jobs WHERE id = {job}")).parse().unwrap();
    assert!(cursor >= 300_000 && cursor < rows, "cursor {cursor}");
    // Everything up to the cursor is done, nothing after it was touched by the backfill.
    assert_eq!(db.sql(&format!("SELECT COUNT(*) FROM items WHERE id <= {cursor} AND NOT (total <=> a * 10 + b)")), "0");
    assert_eq!(db.sql(&format!("SELECT COUNT(*) FROM touched WHERE id > {cursor}")), "0", "the killed batch rolled back whole");
    assert_ne!(db.sql(&format!("SELECT COUNT(*) FROM items WHERE id > {cursor} AND total IS NULL")), "0", "work is left after the cursor");
    p.run(&user.url, &["backfill", "status"]).ok().contains(&format!("job {job} on {}.items: running", db.name));

    let resumed = spawn_bg(p.cmd(&user.url, &["backfill", "resume"])).finish(Duration::from_secs(300));
    resumed.ok().contains("finished");
    let txns = stop_app(&db, app);
    assert!(txns > 100, "the application kept writing during the backfill ({txns} transactions)");
    assert_eq!(state(&db, &job), "finished");
    assert_all_right(&db);
    assert_eq!(db.sql(&format!("SELECT rows_done FROM stepwise_jobs WHERE id = {job}")), rows.to_string(), "every row examined once");
    // Rows the application fixed itself before the backfill got there were left alone.
    let changed: i64 = db.sql(&format!("SELECT rows_changed FROM stepwise_jobs WHERE id = {job}")).parse().unwrap();
    assert_eq!(db.sql("SELECT COUNT(*) FROM touched").parse::<i64>().unwrap(), changed, "rows_changed counts the rows updated");
    assert!(changed < rows && changed > rows / 2, "{changed} rows changed");

    // A second run finds nothing to do.
    p.run(&user.url, &["backfill", "items", "--set", "total = a * 10 + b"]).ok().contains("0 changed");
    assert_all_right(&db);
    assert_eq!(db.sql("SELECT COUNT(*) FROM touched").parse::<i64>().unwrap(), changed, "the second run updated nothing");
}

#[test]
fn a_row_the_application_changes_during_its_batch_is_computed_from_the_applications_value_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 2_000);
    let user = count_backfill(&db);
    // The application changes a source column of row 500 and holds the
    // transaction open while the backfill reaches that row.
    let mut app = Session::open(&db);
    app.query("START TRANSACTION; UPDATE items SET a = 4242 WHERE id = 500;");
    let mut run = spawn_bg(p.cmd(&user.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "100"]));
    assert!(run.wait_for("gave way to the application's row locks", 1, Duration::from_secs(30)), "{}", run.output());

    // Smaller and smaller batches get up to the held row, not past it. The
    // range lock also takes the row just after its range (InnoDB's
    // next-key locking), so the last batch that fits ends a little short of
    // 499: measure where it stops, and that it stays there.
    let filled = || {
        let s = db.sql("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM items WHERE total IS NOT NULL");
        let (count, max) = s.split_once('\t').unwrap();
        (count.parse::<i64>().unwrap(), max.parse::<i64>().unwrap())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let reached = loop {
        let before = filled();
        std::thread::sleep(Duration::from_millis(1500));
        let after = filled();
        if before == after {
            break after;
        }
        assert!(Instant::now() < deadline, "the backfill never settled behind the held row: {after:?}\n{}", run.output());
    };
    assert!(!run.exited(), "it waits, it does not give up:\n{}", run.output());
    assert_eq!(reached.0, reached.1, "the rows filled are the ones before the held row, none skipped");
    assert!(reached.1 < 500 && reached.1 >= 450, "it filled up to just before the held row, got to {}", reached.1);
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE id >= 500 AND total IS NOT NULL"), "0", "nothing at or past the held row");
    assert_eq!(db.sql("SELECT COUNT(*) FROM touched"), reached.0.to_string());

    app.query("COMMIT;");
    let run = run.finish(Duration::from_secs(120));
    run.ok().contains("gave way to the application's row locks").contains("2000 rows examined, 2000 changed");
    assert_eq!(db.sql("SELECT a, total FROM items WHERE id = 500"), format!("4242\t{}", 4242 * 10 + 500 % 7));
    assert_all_right(&db);
    assert_eq!(db.sql("SELECT COUNT(*) FROM touched"), "2000");
    assert_eq!(app.errors(), "");
}

#[test]
fn only_missing_keeps_values_the_application_set_and_fills_the_rest_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 1_000);
    db.sql("UPDATE items SET total = -1 WHERE id % 100 = 0");
    p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--only-missing"]).ok().contains("990 changed");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total = -1"), "10");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE NOT (total <=> a * 10 + b)"), "10");
}

/// A DECIMAL target rounds what it stores: the expression is compared
/// rounded the same way, so a rerun finds every row equal and updates none.
/// (MariaDB reports a row set to the value it holds as unchanged either
/// way; the row was still locked and its triggers fired, which is what the
/// trigger here counts.)
#[test]
fn a_decimal_target_filled_from_an_unrounded_expression_is_not_updated_again_by_a_rerun_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 1_000);
    db.sql("ALTER TABLE items ADD COLUMN share DECIMAL(10,2) NULL; CREATE TABLE fired (n INT NOT NULL); INSERT INTO fired VALUES (0)");
    routine(&db, "CREATE TRIGGER items_updated AFTER UPDATE ON items FOR EACH ROW UPDATE fired SET n = n + 1");
    p.run(&db.url, &["backfill", "items", "--set", "share = (a * 10 + b) / 3"]).ok().contains("1000 changed");
    assert_eq!(db.sql("SELECT n FROM fired"), "1000");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE share <> ROUND((a * 10 + b) / 3, 2)"), "0");
    p.run(&db.url, &["backfill", "items", "--set", "share = (a * 10 + b) / 3"]).ok().contains(" 0 changed");
    assert_eq!(db.sql("SELECT n FROM fired"), "1000", "the rerun updated rows whose value was already right");
}

#[test]
fn a_batched_delete_keeps_every_deleted_row_in_the_backup_table_and_nothing_else_changes_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 200_000);
    // Values in every column, so that a column copied wrong shows.
    db.sql(
        "UPDATE items SET total = id * 3;
         CREATE TABLE expect_gone AS SELECT * FROM items WHERE a < 100;
         CREATE TABLE expect_kept AS SELECT * FROM items WHERE NOT a < 100",
    );
    p.run(&db.url, &["backfill", "items", "--delete", "--where", "a < 100", "--backup-table", "items_purged", "--batch-rows", "7000"])
        .ok()
        .contains("20000 changed");
    let diff = |x: &str, y: &str| db.sql(&format!("SELECT COUNT(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y}) d"));
    assert_eq!(db.sql("SELECT COUNT(*) FROM items_purged"), "20000");
    assert_eq!(diff("items_purged", "expect_gone"), "0");
    assert_eq!(diff("expect_gone", "items_purged"), "0", "every deleted row is in the backup table");
    assert_eq!(diff("items", "expect_kept"), "0");
    assert_eq!(diff("expect_kept", "items"), "0", "rows not matching the condition are untouched");
}

#[test]
fn bad_input_is_refused_before_any_row_changes_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 100);
    let nothing_changed = || {
        assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL"), "0");
        assert_eq!(
            db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'stepwise_jobs'"),
            "0",
            "no job recorded"
        );
    };
    p.run(&db.url, &["backfill", "items", "--set", "total = nosuch + 1"]).code(2).contains("Unknown column 'nosuch'");
    p.run(&db.url, &["backfill", "items", "--set", "total = a", "--where", "a >"]).code(2).contains("syntax");
    p.run(&db.url, &["backfill", "items", "--set", "total = FLOOR(RAND() * 10)"]).code(2).contains("rand()").contains("--allow-volatile");
    p.run(&db.url, &["backfill", "items", "--set", "total = UNIX_TIMESTAMP(NOW())"]).code(2).contains("now()");
    p.run(&db.url, &["backfill", "items", "--set", "id = id + 1"]).code(2).contains("key column");
    p.run(&db.url, &["backfill", "items", "--set", "nosuch = 1"]).code(2).contains("no column nosuch");
    p.run(&db.url, &["backfill", "items", "--set", "total 1"]).code(2).contains("--set");
    p.run(&db.url, &["backfill", "items", "--delete"]).code(2).contains("--delete needs --where");
    p.run(&db.url, &["backfill", "nosuch", "--set", "total = 1"]).code(2).contains("no table named nosuch");
    p.run(&db.url, &["backfill", "items"]).code(2).contains("--set");
    nothing_changed();
    // A unique index on a nullable column is no key to walk by.
    db.sql("CREATE TABLE nokey (a INT, b INT, UNIQUE KEY (a))");
    p.run(&db.url, &["backfill", "nokey", "--set", "b = a"]).code(1).contains("neither a primary key");
    // Reviewed: volatile on purpose.
    p.run(&db.url, &["backfill", "items", "--set", "total = FLOOR(RAND() * 10)", "--allow-volatile"]).ok().contains("finished");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total BETWEEN 0 AND 9"), "100");
    let before = db.sql("SELECT GROUP_CONCAT(total ORDER BY id) FROM items");

    // Division by zero is an error only where a row is written (strict
    // mode); a SELECT warns. The check counts the warning as the error it
    // would be, so it is refused before any batch, and no job is left.
    let jobs = db.sql("SELECT COUNT(*) FROM stepwise_jobs");
    p.run(&db.url, &["backfill", "items", "--set", "total = a / 0"]).code(2).contains("Division by 0");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(total ORDER BY id) FROM items"), before, "nothing changed");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_jobs"), jobs, "no job recorded");
    // A condition that would escape its parentheses (and the batch's key range) is refused.
    p.run(&db.url, &["backfill", "items", "--set", "total = 1", "--where", "a < 100) OR (b = 3"]).code(2).contains("never opened");
}

#[test]
fn a_composite_unique_key_without_a_primary_key_is_walked_whole_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    // Several y per x, so batches end inside an x; quotes and backslashes in
    // the key values the cursor carries.
    db.sql(
        r"CREATE TABLE k2 (x INT NOT NULL, y VARCHAR(10) NOT NULL, v INT NULL, UNIQUE KEY (x, y)) ENGINE = InnoDB;
          INSERT INTO k2 SELECT seq % 50, CONCAT(ELT(seq % 3 + 1, 'a''', 'b\\', 'c'), seq), NULL FROM seq_1_to_5000;",
    );
    assert_eq!(db.sql(r"SELECT COUNT(*) FROM k2 WHERE y LIKE 'b\\\\%' OR y LIKE 'a''%'"), "3333", "the awkward keys are there");
    let run = p.run(&db.url, &["backfill", "k2", "--set", "v = x * 100 + CHAR_LENGTH(y)", "--batch-rows", "333"]);
    run.ok().contains("5000 rows examined, 5000 changed");
    assert_eq!(db.sql("SELECT COUNT(*) FROM k2 WHERE NOT (v <=> x * 100 + CHAR_LENGTH(y))"), "0", "every row right");
    assert_eq!(db.sql("SELECT rows_done, rows_changed, state FROM stepwise_jobs"), "5000\t5000\tfinished");
}

#[test]
fn pause_status_resume_and_cancel_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 200_000);
    let run =
        spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "1000", "--max-rate", "20000"]));
    assert!(wait_until(Duration::from_secs(30), || rows_done(&db) > 0), "{}", run.output());
    p.run(&db.url, &["backfill", "pause"]).ok().contains("will pause");
    let paused = run.finish(Duration::from_secs(30));
    paused.ok().contains("paused");
    let job = db.sql("SELECT id FROM stepwise_jobs");
    let done = db.sql("SELECT rows_done FROM stepwise_jobs");
    assert_ne!(done, "200000", "paused before the end");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(db.sql("SELECT rows_done FROM stepwise_jobs"), done, "a paused job stays");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL"), done, "the rows done are the rows filled");
    p.run(&db.url, &["backfill", "status"]).ok().contains(&format!("job {job} on {}.items: paused", db.name)).contains("backfill resume");
    let status = p.run(&db.url, &["backfill", "status", "--format", "json"]);
    assert!(status.stdout.contains("\"state\":\"paused\""), "{}", status.stdout);
    p.run(&db.url, &["backfill", "items", "--set", "total = 0"]).code(1).contains("already has an unfinished backfill job");
    p.run(&db.url, &["backfill", "resume", "--max-rate", "1000000"]).ok().contains("finished");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE NOT (total <=> a * 10 + b)"), "0");
    p.run(&db.url, &["backfill", "cancel"]).code(2).contains("no unfinished backfill job");

    // Cancel: the next batch never runs; the rows done stay done.
    db.sql("UPDATE items SET total = NULL");
    let run =
        spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "1000", "--max-rate", "20000"]));
    assert!(
        wait_until(Duration::from_secs(30), || db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL") != "0"),
        "{}",
        run.output()
    );
    p.run(&db.url, &["backfill", "cancel"]).ok().contains("cancelled");
    let cancelled = run.finish(Duration::from_secs(30));
    assert_eq!(cancelled.code, 1, "{}", cancelled.all());
    let filled = db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL");
    assert_ne!(filled, "200000", "cancelled before the end");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL"), filled);
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL AND total <> a * 10 + b"), "0");
    assert_eq!(db.sql("SELECT state FROM stepwise_jobs ORDER BY id DESC LIMIT 1"), "cancelled");
}

#[test]
fn json_events_and_a_dry_run_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 5_000);
    let dry = p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--where", "b = 3", "--dry-run"]);
    dry.ok()
        .contains(&format!(
            "SELECT COUNT(*) FROM `{0}`.`items` FORCE INDEX (`PRIMARY`) WHERE ((`id` < 1000) OR (`id` = 1000)) FOR UPDATE NOWAIT;\n\
             UPDATE `{0}`.`items` SET `total` = (a * 10 + b) WHERE ((`id` < 1000) OR (`id` = 1000)) AND (b = 3) AND (NOT (`total` <=> (a * 10 + b)))",
            db.name
        ));
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE total IS NOT NULL"), "0", "a dry run changes nothing");
    let run = p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--format", "json"]);
    run.ok();
    let events = run.json_lines();
    assert_eq!(events.first().and_then(|e| e["event"].as_str()), Some("started"), "{}", run.stdout);
    let last = events.last().expect("events");
    assert_eq!(last["event"], "finished");
    assert_eq!(last["rows_changed"], 5000);
    assert_eq!(last["rows_done"], 5000);
}
