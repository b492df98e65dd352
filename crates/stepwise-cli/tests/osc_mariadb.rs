//! `stepwise osc` on MariaDB 10.11, end to end through the binary, against
//! the real server while an application writes: inserts beyond the copy's
//! cursor, updates, primary-key updates and deletes, each mirrored into a
//! control table in the same transaction. Afterwards the table equals the
//! control row for row, with the change applied; a `kill -9` during the copy
//! then `resume` loses nothing; `cancel` leaves nothing; a duplicate the
//! application makes during the copy fails the job at verification with the
//! original untouched.

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

/// Like `db.sql`, but None when the statement fails (a table not there yet).
fn try_sql(db: &MyDb, sql: &str) -> Option<String> {
    let out =
        Command::new("mariadb").args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", sql]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// rows_done of the copying job, 0 before there is one.
fn copied(db: &MyDb) -> i64 {
    try_sql(db, "SELECT COALESCE(MAX(rows_done), 0) FROM stepwise_jobs WHERE state = 'copying'").and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn setup(db: &MyDb, rows: i64) {
    db.sql(&format!(
        "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, b VARCHAR(40) NULL, email VARCHAR(60) NULL) ENGINE = InnoDB;
         INSERT INTO items (id, a, b, email) SELECT seq, seq % 1000, IF(seq % 5 = 0, NULL, MD5(seq)), CONCAT('u', seq, '@x') FROM seq_1_to_{rows};
         CREATE TABLE control LIKE items;
         INSERT INTO control SELECT * FROM items;
         ANALYZE TABLE items;"
    ));
}

/// The application: plain statements, one small transaction at a time,
/// each change to `items` made to `control` too (a stored procedure would
/// not do: MariaDB keeps the tables of the triggers a procedure's statement
/// once fired in its cached lock list, and after the swap opens the copy by
/// its old name). Inserts take new keys (beyond the copy's cursor), updates
/// and deletes random ones, and a key update moves a row to the negative
/// key range. With `dup`, every insert repeats the email of row 1 (for the
/// unique key test). The client stops at the first error, and reports it.
fn app_script(rows: i64, dup: bool, txns: usize) -> String {
    // A seed of its own per run: the emails of one run's inserts must not
    // repeat another's (the unique key test adds the key after two runs).
    let salt = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d ^ salt;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out = String::new();
    for i in 0..txns {
        let k = 1 + (next() % rows as u64) as i64;
        let op = next() % 10;
        out.push_str("START TRANSACTION;\n");
        match op {
            0..=2 => {
                let email = if dup { "'u1@x'".to_string() } else { format!("'n{salt}-{i}@x'") };
                out.push_str(&format!("INSERT INTO items (a, b, email) VALUES ({k}, 'new', {email});\n"));
                out.push_str("INSERT INTO control (id, a, b, email) SELECT id, a, b, email FROM items WHERE id = LAST_INSERT_ID();\n");
            }
            3..=5 => {
                for t in ["items", "control"] {
                    out.push_str(&format!("UPDATE {t} SET a = a + 1, b = CONCAT('u', a) WHERE id = {k};\n"));
                }
            }
            6 | 7 => {
                for t in ["items", "control"] {
                    out.push_str(&format!("DELETE FROM {t} WHERE id = {k};\n"));
                }
            }
            _ => {
                for t in ["items", "control"] {
                    out.push_str(&format!("UPDATE {t} SET id = -id WHERE id = {k};\n"));
                }
            }
        }
        out.push_str("UPDATE app_ctl SET txns = txns + 1;\nCOMMIT;\nDO SLEEP(0.001);\n");
    }
    out
}

fn start_app(db: &MyDb, rows: i64, dup: bool) -> Bg {
    db.sql("DROP TABLE IF EXISTS app_ctl; CREATE TABLE app_ctl (txns BIGINT NOT NULL) ENGINE = InnoDB; INSERT INTO app_ctl VALUES (0)");
    let script = std::env::temp_dir().join(format!("{}-app.sql", db.name));
    std::fs::write(&script, app_script(rows, dup, 200_000)).expect("write the application's script");
    let mut cmd = Command::new("mariadb");
    cmd.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", &format!("source {}", script.display())]);
    spawn_bg(cmd)
}

/// Stop the application; its transaction count, after checking none failed
/// (the client was still running, and said nothing).
#[track_caller]
fn stop_app(db: &MyDb, mut app: Bg) -> i64 {
    assert!(!app.exited(), "the application stopped early:\n{}", app.output());
    app.kill9();
    let run = app.finish(Duration::from_secs(60));
    assert!(!run.all().contains("ERROR"), "an application transaction failed:\n{}", run.all());
    db.sql("SELECT txns FROM app_ctl").parse().unwrap()
}

/// `items` equals `control` row for row (the copied columns).
#[track_caller]
fn assert_equal_to_control(db: &MyDb) {
    let sum = |t: &str| db.sql(&format!("SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', id, a, b, email, ISNULL(b)))) FROM {t}"));
    assert_eq!(sum("items"), sum("control"), "items differs from control");
    assert_eq!(
        db.sql("SELECT COUNT(*) FROM items i LEFT JOIN control c ON c.id = i.id WHERE c.id IS NULL OR NOT (i.a <=> c.a AND i.b <=> c.b AND i.email <=> c.email)"),
        "0"
    );
}

/// Tables and triggers osc made that are still there.
fn leftovers(db: &MyDb) -> String {
    db.osc_leftovers()
}

fn column_type(db: &MyDb, column: &str) -> String {
    db.sql(&format!(
        "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = '{column}'"
    ))
}

#[test]
fn three_changes_under_an_application_that_writes_leave_the_table_equal_to_its_control_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    // The size: a million rows, the copy sized by its own batch timing.
    let rows = 1_000_000;
    setup(&db, rows);
    for (alter, check) in [
        ("MODIFY id BIGINT NOT NULL AUTO_INCREMENT", ("id", "bigint(20)")),
        ("ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'none'", ("note", "varchar(20)")),
        ("ADD UNIQUE KEY uk_email (email)", ("email", "varchar(60)")),
    ] {
        let max_before: i64 = db.sql("SELECT MAX(id) FROM items").parse().unwrap();
        let app = start_app(&db, rows as i64, false);
        std::thread::sleep(Duration::from_millis(300));
        let run = p.run(&db.url, &["osc", "items", "--alter", alter]);
        let txns = stop_app(&db, app);
        eprintln!("{alter}: application transactions {txns}\n{}", run.all());
        run.ok().contains("verified ").contains("swapped: ");
        assert!(txns > 50, "the application ran only {txns} transactions");
        assert_equal_to_control(&db);
        assert_eq!(column_type(&db, check.0), check.1, "{alter}");
        // Finish drops the old table; nothing of osc is left.
        p.run(&db.url, &["osc", "finish"]).ok().contains("finished");
        assert_eq!(leftovers(&db), "|");
        // AUTO_INCREMENT continues past the old maximum.
        db.sql("INSERT INTO items (a) VALUES (0); INSERT INTO control (id, a, b, email) SELECT id, a, b, email FROM items WHERE id = LAST_INSERT_ID()");
        let new_id: i64 = db.sql("SELECT MAX(id) FROM items").parse().unwrap();
        assert!(new_id > max_before, "{alter}: new id {new_id} not past {max_before}");
    }
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND INDEX_NAME = 'uk_email'"), "1");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_jobs WHERE state = 'finished'"), "3");
}

#[test]
fn kill_9_during_the_copy_then_resume_loses_nothing_and_cancel_leaves_nothing_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 100_000;
    setup(&db, rows);
    let app = start_app(&db, rows as i64, false);
    // Slow enough to be killed in the middle.
    let mut bg = spawn_bg(p.cmd(
        &db.url,
        &["osc", "items", "--alter", "MODIFY id BIGINT NOT NULL AUTO_INCREMENT", "--batch-rows", "500", "--max-rate", "20000"],
    ));
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 10_000), "the copy did not start:\n{}", bg.output());
    bg.kill9();
    let _ = bg.finish(Duration::from_secs(10));
    let done: i64 = db.sql("SELECT rows_done FROM stepwise_jobs").parse().unwrap();
    assert!(done < rows as i64, "the copy finished before the kill");
    p.run(&db.url, &["osc", "status"]).ok().contains("copying");
    std::thread::sleep(Duration::from_millis(300));
    p.run(&db.url, &["osc", "resume"]).ok().contains("swapped: ");
    let txns = stop_app(&db, app);
    assert!(txns > 50, "the application ran only {txns} transactions");
    assert_equal_to_control(&db);
    assert_eq!(column_type(&db, "id"), "bigint(20)");
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_eq!(leftovers(&db), "|");

    // Cancel during a copy: the triggers and the copy go, the table is as it was.
    let mut bg = spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--batch-rows", "500", "--max-rate", "20000"]));
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 0));
    bg.kill9();
    let _ = bg.finish(Duration::from_secs(10));
    p.run(&db.url, &["osc", "cancel"]).ok().contains("cancelled");
    assert_eq!(leftovers(&db), "|");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'z'"), "0");
    assert_equal_to_control(&db);
}

#[test]
fn a_duplicate_the_application_makes_during_the_copy_fails_the_job_before_the_swap_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 50_000;
    setup(&db, rows);
    // The rows hold the key when osc starts (its check passes); then every
    // insert repeats row 1's email, and the key cannot hold.
    let bg = spawn_bg(
        p.cmd(&db.url, &["osc", "items", "--alter", "ADD UNIQUE KEY uk_email (email)", "--batch-rows", "500", "--max-rate", "20000"]),
    );
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 0));
    let app = start_app(&db, rows as i64, true);
    let run = bg.finish(Duration::from_secs(120));
    let txns = stop_app(&db, app);
    assert!(txns > 0, "the application ran only {txns} transactions");
    // Whichever sees it first: the trigger that cannot write the duplicate
    // into the copy, or the verification of a range the copy skipped a row of.
    let out = run.code(1).all();
    assert!(out.contains("verification failed") || out.contains("could not be written into the new table"), "{out}");
    assert_eq!(db.sql("SELECT state FROM stepwise_jobs"), "failed");
    // The original is untouched: every row the application wrote is there.
    assert_equal_to_control(&db);
    p.run(&db.url, &["osc", "resume"]).code(1).contains("failed");
    p.run(&db.url, &["osc", "cancel"]).ok();
    assert_eq!(leftovers(&db), "|");
}

#[test]
fn the_auto_increment_counter_is_carried_past_deleted_rows_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 1000);
    // The newest rows are gone; their ids must not come back.
    db.sql("DELETE FROM items WHERE id > 900");
    p.run(&db.url, &["osc", "items", "--alter", "FORCE"]).ok().contains("swapped: ");
    p.run(&db.url, &["osc", "finish"]).ok();
    db.sql("INSERT INTO items (a) VALUES (0)");
    assert_eq!(db.sql("SELECT MAX(id) FROM items"), "1001");
}

#[test]
fn a_transaction_holding_the_table_makes_the_swap_wait_and_name_it_without_stalling_readers_on_mariadb() {
    use common::my_session::MySession;
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 20_000);
    let mut bg = spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--lock-timeout", "1s", "--max-rate", "10000"]));
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 0), "the copy did not start:\n{}", bg.output());
    // During the copy, a transaction reads the table and stays open: it
    // holds the table's metadata lock until it ends.
    let mut holder = MySession::open(&db);
    let holder_id = holder.query("SELECT CONNECTION_ID();");
    holder.query("START TRANSACTION; SELECT COUNT(*) FROM items WHERE id = 1;");
    // Until the holder is named: other tests' transactions on this server
    // may make osc wait before the holder is old enough to be named.
    assert!(bg.wait_for(&format!("pid {holder_id} "), 1, Duration::from_secs(60)), "the swap did not wait:\n{}", bg.output());
    let waits = bg.output();
    // The wait comes before the swap's RENAME, or before the reverse
    // triggers it needs are created on the copy (each takes a metadata lock).
    assert!(waits.contains("swap in the new table") || waits.contains("create a trigger on"), "{waits}");
    assert!(waits.contains(&format!("pid {holder_id} ")), "the holder (pid {holder_id}) is not named:\n{waits}");
    // osc waits the holder out instead of queueing a RENAME behind it: readers go on.
    let t0 = std::time::Instant::now();
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE id <= 100"), "100");
    assert!(t0.elapsed() < Duration::from_secs(2), "a reader waited {:?} behind the swap", t0.elapsed());
    assert!(!bg.exited(), "osc gave up:\n{}", bg.output());
    // Once the holder ends, the swap goes through.
    holder.query("COMMIT;");
    let run = bg.finish(Duration::from_secs(60));
    run.ok().contains("swapped: ");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'z'"), "1");
    assert_equal_to_control(&db);
}

#[test]
fn an_old_transaction_makes_osc_wait_before_its_triggers_and_name_it_on_mariadb() {
    use common::my_session::MySession;
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 2_000);
    let mut holder = MySession::open(&db);
    let holder_id = holder.query("SELECT CONNECTION_ID();");
    holder.query("START TRANSACTION; SELECT COUNT(*) FROM items WHERE id = 1;");
    std::thread::sleep(Duration::from_millis(1500));
    // Never released: osc gives up after its retries, having created nothing.
    let run = p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--lock-timeout", "1s", "--lock-retries", "2"]);
    run.code(1).contains("waiting out older transactions").contains(&format!("pid {holder_id} ")).contains("nothing was left behind");
    assert_eq!(leftovers(&db), "|");
    assert_eq!(db.sql("SELECT state FROM stepwise_jobs"), "cancelled");
}

const MIGRATION: &str = "-- stepwise:up
ALTER TABLE items ADD COLUMN flag TINYINT NOT NULL DEFAULT 0;
-- stepwise:online
ALTER TABLE items MODIFY id BIGINT NOT NULL AUTO_INCREMENT;
CREATE INDEX items_flag ON items (flag);
-- stepwise:down
DROP INDEX items_flag ON items;
ALTER TABLE items DROP COLUMN flag;
";

#[test]
fn an_online_alter_in_a_migration_runs_through_osc_and_a_kill_9_resumes_the_same_job_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 100_000;
    setup(&db, rows);
    p.write("20251110090000_widen_items_id.sql", MIGRATION);
    // The plan says how it runs; lint does not report the rewrite osc avoids.
    p.run(&db.url, &["migrate", "--dry-run"]).ok().contains("online: osc copies items");
    let app = start_app(&db, rows as i64, false);
    // Slow enough to be killed in the middle of the copy.
    let mut bg = spawn_bg(p.cmd(&db.url, &["migrate", "--online-batch-rows", "500", "--online-max-rate", "20000"]));
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 10_000), "the copy did not start:\n{}", bg.output());
    bg.kill9();
    let _ = bg.finish(Duration::from_secs(10));
    // The migration's row names the job; the next migrate resumes it.
    assert_eq!(db.sql("SELECT CONCAT(status, ' ', COALESCE(osc_job, '-')) FROM stepwise_migrations"), "running 1");
    let run = p.run(&db.url, &["migrate"]);
    let txns = stop_app(&db, app);
    eprintln!("{}\napplication transactions: {txns}", run.all());
    run.ok()
        .contains("resuming osc job 1")
        .contains("swapped: ")
        .contains("Kept the old table")
        .contains("(osc job 1) in sync: once the change is confirmed, `stepwise osc finish --job 1` drops it")
        .contains("Applied 1 migration");
    assert!(txns > 50, "the application ran only {txns} transactions");
    // One job only: the same one, resumed.
    assert_eq!(db.sql("SELECT GROUP_CONCAT(CONCAT(id, ' ', state)) FROM stepwise_jobs"), "1 swapped");
    assert_eq!(db.sql("SELECT CONCAT(status, ' ', COALESCE(osc_job, '-')) FROM stepwise_migrations"), "applied -");
    assert_eq!(column_type(&db, "id"), "bigint(20)");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND INDEX_NAME = 'items_flag'"), "1");
    assert_equal_to_control(&db);
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_eq!(leftovers(&db), "|");
}

#[test]
fn revert_after_the_swap_returns_every_row_written_since_and_a_value_that_cannot_go_back_closes_it_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 20_000;
    setup(&db, rows);
    p.run(&db.url, &["osc", "items", "--alter", "MODIFY id BIGINT NOT NULL AUTO_INCREMENT, ADD COLUMN note VARCHAR(10) NULL"])
        .ok()
        .contains("swapped: ");
    // The application writes the new table: inserts, updates, key updates, deletes.
    let app = start_app(&db, rows as i64, false);
    std::thread::sleep(Duration::from_millis(1500));
    let txns = stop_app(&db, app);
    assert!(txns > 50, "the application ran only {txns} transactions");
    assert_equal_to_control(&db);
    // Back to the original: every row written since is there, in the old types.
    p.run(&db.url, &["osc", "revert"]).ok().contains("reverted");
    assert_eq!(column_type(&db, "id"), "int(11)");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'note'"), "0");
    assert_equal_to_control(&db);
    assert_eq!(leftovers(&db), "|");
    // The table works as before, triggers gone.
    db.sql("INSERT INTO items (a) VALUES (1); INSERT INTO control (id, a, b, email) SELECT id, a, b, email FROM items WHERE id = LAST_INSERT_ID()");
    assert_equal_to_control(&db);

    // A value the old table cannot hold: the application's write succeeds,
    // and the way back closes, saying why.
    p.run(&db.url, &["osc", "items", "--alter", "MODIFY id BIGINT NOT NULL AUTO_INCREMENT"]).ok();
    db.sql("INSERT INTO items (id, a) VALUES (5000000000, 7)");
    assert_eq!(db.sql("SELECT a FROM items WHERE id = 5000000000"), "7");
    p.run(&db.url, &["osc", "status"]).ok().contains("revert is no longer possible");
    p.run(&db.url, &["osc", "revert"]).code(1).contains("cannot be reverted").contains("could not be written back");
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_eq!(leftovers(&db), "|");
}

/// `n` sessions each running `SELECT SLEEP(secs)`: that many more threads running.
fn sleepers(db: &MyDb, n: usize, secs: u32) -> Vec<Bg> {
    let v: Vec<Bg> = (0..n)
        .map(|_| {
            let mut c = Command::new("mariadb");
            c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", &format!("SELECT SLEEP({secs})")]);
            spawn_bg(c)
        })
        .collect();
    let running =
        || db.sql("SHOW GLOBAL STATUS LIKE 'Threads_running'").split_whitespace().last().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    assert!(wait_until(Duration::from_secs(10), || running() > n), "the sleepers did not start");
    v
}

#[test]
fn the_copy_waits_while_the_server_is_loaded_and_pauses_itself_at_the_critical_load_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 20_000);
    // Above --max-load: the copy waits, says so, and goes on once the load is gone.
    let load = sleepers(&db, 12, 4);
    let run = p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--max-load", "5", "--critical-load", "0"]);
    run.ok().contains("waiting for the server's load").contains("Threads_running, --max-load 5").contains("swapped: ");
    for s in load {
        s.finish(Duration::from_secs(30));
    }
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_equal_to_control(&db);

    // At --critical-load: the job pauses itself before copying on; resume continues it.
    let load = sleepers(&db, 12, 3);
    let run = p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN y INT", "--critical-load", "8"]);
    run.code(1).contains("at or above --critical-load 8").contains("paused itself");
    assert_eq!(db.sql("SELECT state FROM stepwise_jobs WHERE id = 2"), "paused");
    for s in load {
        s.finish(Duration::from_secs(30));
    }
    p.run(&db.url, &["osc", "resume"]).ok().contains("job 2 is swapped");
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_equal_to_control(&db);
    assert_eq!(leftovers(&db), "|");
}

/// A row the copy has passed (and the verifier checked) must stay in the
/// copy: an insert that repeats its value of a new unique key fails the job
/// (REPLACE would have deleted row 1 from the copy, after its range was
/// verified, and the swap would have lost it).
#[test]
fn a_duplicate_of_a_row_already_copied_fails_the_job_and_never_removes_that_row_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 20_000;
    setup(&db, rows);
    let bg = spawn_bg(
        p.cmd(&db.url, &["osc", "items", "--alter", "ADD UNIQUE KEY uk_email (email)", "--batch-rows", "500", "--max-rate", "4000"]),
    );
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 2000), "the copy did not pass row 1:\n{}", bg.output());
    db.sql("INSERT INTO items (a, email) VALUES (7, 'u1@x'); INSERT INTO control (id, a, email) SELECT id, 7, 'u1@x' FROM items WHERE a = 7 AND email = 'u1@x' AND id > 20000");
    let run = bg.finish(Duration::from_secs(120));
    run.code(1).contains("could not be written into the new table");
    assert_eq!(db.sql("SELECT state FROM stepwise_jobs"), "failed");
    // Nothing swapped, nothing lost: both rows are in the original.
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE email = 'u1@x'"), "2");
    assert_equal_to_control(&db);
    p.run(&db.url, &["osc", "cancel"]).ok();
    assert_eq!(leftovers(&db), "|");
}

/// `kill -9` while the swap waits (a transaction holds the table), with the
/// application writing: `resume` swaps with nothing lost; in a second run,
/// `cancel` after the same kill leaves the table as it was and nothing behind.
#[test]
fn kill_9_during_the_swap_then_resume_or_cancel_loses_nothing_on_mariadb() {
    use common::my_session::MySession;
    let (db, p) = (MyDb::new(), Project::new());
    let rows = 20_000;
    setup(&db, rows);
    for (alter, then) in [("ADD COLUMN z INT", "resume"), ("ADD COLUMN y INT", "cancel")] {
        let app = start_app(&db, rows as i64, false);
        let mut holder = MySession::open(&db);
        let mut bg = spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", alter, "--lock-timeout", "1s"]));
        assert!(wait_until(Duration::from_secs(30), || copied(&db) > 0), "the copy did not start:\n{}", bg.output());
        // Held from before the swap: the swap (or the reverse triggers it needs) waits.
        holder.query("START TRANSACTION; SELECT COUNT(*) FROM items WHERE id = 1;");
        assert!(bg.wait_for("lock wait", 1, Duration::from_secs(60)), "the swap did not wait:\n{}", bg.output());
        bg.kill9();
        let _ = bg.finish(Duration::from_secs(10));
        holder.query("COMMIT;");
        std::thread::sleep(Duration::from_millis(300));
        p.run(&db.url, &["osc", "status"]).ok();
        let run = p.run(&db.url, &["osc", then]);
        let txns = stop_app(&db, app);
        assert!(txns > 0, "the application ran only {txns} transactions");
        assert_equal_to_control(&db);
        let column = &alter["ADD COLUMN ".len()..][..1];
        if then == "resume" {
            run.ok().contains("swapped: ");
            assert_eq!(column_type(&db, column), "int(11)");
            p.run(&db.url, &["osc", "finish"]).ok();
        } else {
            run.ok().contains("cancelled");
            assert_eq!(column_type(&db, column), "");
        }
        assert_eq!(leftovers(&db), "|");
    }
}

/// A table keyed by a unique index on NOT NULL columns, with no primary
/// key: the copy, the verification and the swap read ranges through it.
#[test]
fn a_table_keyed_by_a_unique_index_without_a_primary_key_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    db.sql(
        "CREATE TABLE codes (code INT NOT NULL, a INT NULL, UNIQUE KEY uk_code (code)) ENGINE = InnoDB;
         INSERT INTO codes SELECT seq * 3, seq FROM seq_1_to_30000;",
    );
    let before = db.sql("SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', code, a))) FROM codes");
    p.run(&db.url, &["osc", "codes", "--alter", "ADD COLUMN z INT", "--batch-rows", "1000"]).ok().contains("swapped: ");
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_eq!(db.sql("SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', code, a))) FROM codes"), before);
    assert_eq!(leftovers(&db), "|");
}

/// A capture trigger dropped behind osc's back after rows were copied:
/// changes may be missing from the copy, so `resume` fails the job rather
/// than swap it in, and `cancel` cleans up with the table untouched.
#[test]
fn a_capture_trigger_gone_after_rows_were_copied_fails_the_job_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db, 50_000);
    let mut bg = spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--batch-rows", "500", "--max-rate", "10000"]));
    assert!(wait_until(Duration::from_secs(30), || copied(&db) > 2000), "the copy did not start:\n{}", bg.output());
    bg.kill9();
    let _ = bg.finish(Duration::from_secs(10));
    db.sql("DROP TRIGGER _sw1_items_del; DELETE FROM items WHERE id = 5; DELETE FROM control WHERE id = 5");
    p.run(&db.url, &["osc", "resume"]).code(1).contains("capture triggers on the table are gone");
    assert_eq!(db.sql("SELECT state FROM stepwise_jobs"), "failed");
    p.run(&db.url, &["osc", "cancel"]).ok();
    assert_eq!(leftovers(&db), "|");
    assert_equal_to_control(&db);
}

/// Swaps and reverts, one after another, while four clients update rows:
/// no application statement may fail, and every update lands. (With
/// helper tables named before the table, `_sw<job>_<table>_...`, the RENAME
/// took their metadata locks first and statements inside the table failed
/// with "Table ... doesn't exist": 11 failures in 5 rounds of this load.
/// Their names now begin with the table's.)
#[test]
fn swaps_and_reverts_under_writes_never_fail_an_application_statement_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    db.sql("CREATE TABLE items (id INT PRIMARY KEY, a INT NOT NULL) ENGINE = InnoDB; INSERT INTO items SELECT seq, 0 FROM seq_1_to_2000;");
    const PER_CLIENT: u64 = 2_000;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut script = String::new();
    for _ in 0..PER_CLIENT {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        script
            .push_str(&format!("START TRANSACTION; UPDATE items SET a = a + 1 WHERE id = {}; DO SLEEP(0.001); COMMIT;\n", 1 + seed % 2000));
    }
    let file = std::env::temp_dir().join(format!("{}-updates.sql", db.name));
    std::fs::write(&file, script).expect("write the clients' script");
    let mut clients: Vec<Bg> = (0..4)
        .map(|_| {
            let mut cmd = Command::new("mariadb");
            cmd.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", "--force", &db.name, "-e"]);
            cmd.arg(format!("source {}", file.display()));
            spawn_bg(cmd)
        })
        .collect();
    let mut rounds = 0;
    while rounds < 40 && clients.iter_mut().any(|c| !c.exited()) {
        p.run(&db.url, &["osc", "items", "--alter", "FORCE"]).ok().contains("swapped: ");
        p.run(&db.url, &["osc", "revert"]).ok().contains("reverted");
        rounds += 1;
    }
    assert!(rounds >= 3, "only {rounds} rounds ran beside the clients");
    for c in clients {
        let run = c.finish(Duration::from_secs(120));
        assert!(!run.all().contains("ERROR"), "an application statement failed:\n{}", run.all());
    }
    assert_eq!(db.sql("SELECT SUM(a) FROM items"), (4 * PER_CLIENT).to_string(), "updates were lost");
    assert_eq!(leftovers(&db), "|");
}
