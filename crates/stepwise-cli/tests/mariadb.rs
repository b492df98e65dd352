//! The runner on MariaDB, end to end through the `stepwise` binary. Tested on
//! MariaDB 10.11 (the server on this machine); MySQL 8 speaks the same
//! protocol but is not available here, so nothing below claims it.
//!
//! Each test works in a database of its own (`MyDb`).

mod common;
use common::*;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// A `mariadb` client session kept open (a child with piped stdin), to hold
/// locks in an open transaction. `-n` flushes its output after each query,
/// so a test can wait for an answer.
struct MariaSession {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// CONNECTION_ID() of the session.
    id: u64,
}

impl MariaSession {
    fn open(db: &str) -> MariaSession {
        let mut child = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", "-n", db])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mariadb client");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("mariadb stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = MariaSession { child, stdin, lines, id: 0 };
        s.id = s.query("SELECT CONNECTION_ID();").parse().expect("connection id");
        s
    }

    fn send(&mut self, sql: &str) {
        let stdin = self.stdin.as_mut().expect("mariadb stdin open");
        writeln!(stdin, "{sql}").expect("write to mariadb");
        stdin.flush().expect("flush mariadb stdin");
    }

    /// Run `sql`, then wait (at most 30 s) for a marker after it: the lines
    /// the session printed before the marker.
    fn query(&mut self, sql: &str) -> String {
        let marker = format!("__done_{}", unique("m"));
        self.send(&format!("{sql}\nSELECT '{marker}';"));
        let mut out = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line == marker => return out.join("\n"),
                Ok(line) => out.push(line),
                Err(_) => panic!("mariadb session did not answer within 30s: {sql}"),
            }
        }
    }
}

impl Drop for MariaSession {
    fn drop(&mut self) {
        // End of input ends the session; an open transaction rolls back.
        drop(self.stdin.take());
        if !wait_until(Duration::from_secs(5), || matches!(self.child.try_wait(), Ok(Some(_)))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The tracking row of `version`: the named columns, tab-separated.
fn row(db: &MyDb, cols: &str, version: &str) -> String {
    db.sql(&format!("SELECT {cols} FROM stepwise_migrations WHERE version = '{version}'"))
}

fn json_status(p: &Project, db: &MyDb) -> Vec<(String, String)> {
    let run = p.run(&db.url, &["status", "--format", "json"]);
    run.ok();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("status json");
    v["migrations"]
        .as_array()
        .expect("migrations array")
        .iter()
        .map(|m| (m["version"].as_str().unwrap_or("").to_string(), m["state"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const USERS: &str =
    "-- stepwise:up\nCREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL);\n-- stepwise:down\nDROP TABLE users;\n";
const ORDERS: &str = "-- stepwise:up\nCREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL);\nCREATE INDEX orders_user_id ON orders (user_id);\n-- stepwise:down\nDROP TABLE orders;\n";
const SEED: &str = "-- stepwise:up\nINSERT INTO users (id, email) VALUES (1, 'a@example.com');\nINSERT INTO users (id, email) VALUES (2, 'b@example.com');\n-- stepwise:down\nDELETE FROM users WHERE id IN (1, 2);\n";

/// Apply, status, rollback by step and by version, drift, out-of-order and a
/// missing file, with the tracking rows checked column by column. Tested on MariaDB.
#[test]
fn apply_status_rollback_drift_and_order_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("10_users.sql", USERS).write("20_orders.sql", ORDERS).write("30_seed.sql", SEED);

    let run = p.run(&db.url, &["migrate"]);
    run.ok().contains("Applied 3 migrations").contains("MariaDB");
    assert_eq!(db.sql("SELECT COUNT(*) FROM users"), "2");
    // DDL runs statement by statement (transactional = 0); the DML-only seed in one transaction.
    let cols = "status, statements_total, statements_applied, transactional, in_flight IS NULL, error IS NULL, \
                duration_ms IS NOT NULL AND duration_ms >= 0, finished_at >= started_at, phase, name";
    assert_eq!(row(&db, cols, "10"), "applied\t1\t1\t0\t1\t1\t1\t1\tpre-deploy\tusers");
    assert_eq!(row(&db, cols, "20"), "applied\t2\t2\t0\t1\t1\t1\t1\tpre-deploy\torders");
    assert_eq!(row(&db, cols, "30"), "applied\t2\t2\t1\t1\t1\t1\t1\tpre-deploy\tseed");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_migrations WHERE LENGTH(checksum) = 64 AND applied_by LIKE '%stepwise%'"), "3");
    // Times are stored in UTC (status prints them with a Z).
    assert_eq!(
        db.sql("SELECT COUNT(*) FROM stepwise_migrations WHERE ABS(TIMESTAMPDIFF(SECOND, finished_at, UTC_TIMESTAMP())) < 300"),
        "3"
    );
    assert_eq!(json_status(&p, &db), pairs(&[("10", "applied"), ("20", "applied"), ("30", "applied")]));
    p.run(&db.url, &["migrate"]).ok().contains("Nothing to apply");

    // Rollback by step: the newest one.
    p.run(&db.url, &["rollback"]).ok().contains("Rolled back 1 migration");
    assert_eq!(db.sql("SELECT COUNT(*) FROM users"), "0");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(version ORDER BY version) FROM stepwise_migrations"), "10,20");
    assert_eq!(json_status(&p, &db), pairs(&[("10", "applied"), ("20", "applied"), ("30", "pending")]));

    // Rollback by version: everything after 10.
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    p.run(&db.url, &["rollback", "--to", "10"]).ok().contains("Rolled back 2 migrations");
    assert_eq!(
        db.sql("SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"),
        "stepwise_migrations,users"
    );
    assert_eq!(json_status(&p, &db), pairs(&[("10", "applied"), ("20", "pending"), ("30", "pending")]));
    p.run(&db.url, &["rollback", "--step", "2"]).ok().contains("Rolled back 1 migration");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_migrations"), "0");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 3 migrations");

    // Drift: an applied file changed. status says so, migrate refuses.
    p.write("20_orders.sql", &ORDERS.replace("user_id int NOT NULL", "user_id bigint NOT NULL"));
    p.write("40_more.sql", "-- stepwise:up\nCREATE TABLE more (id int);\n-- stepwise:down\nDROP TABLE more;\n");
    p.run(&db.url, &["status"]).ok().contains("drifted").contains("20_orders.sql");
    p.run(&db.url, &["migrate"]).code(1).contains("checksum drift").contains("20");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'more'"), "0");
    p.write("20_orders.sql", ORDERS);
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");

    // Out of order: a pending migration older than the newest applied one.
    p.write("25_late.sql", "-- stepwise:up\nCREATE TABLE late (id int);\n-- stepwise:down\nDROP TABLE late;\n");
    p.run(&db.url, &["migrate"])
        .code(1)
        .contains("out of order")
        .contains("25")
        .contains("25 (migrations/25_late.sql) is older than applied 30");
    assert_eq!(row(&db, "COUNT(*)", "25"), "0");
    p.run(&db.url, &["migrate", "--allow-out-of-order"]).ok().contains("Applied 1 migration");
    assert_eq!(row(&db, "status", "25"), "applied");

    // A missing file: applied, but gone from the directory.
    p.remove("40_more.sql");
    p.run(&db.url, &["status"]).ok().contains("no file").contains("40 is applied but its file is missing");
}

/// A migration with DDL runs statement by statement; its 3rd statement fails
/// on the 2nd line of a statement that starts on file line 5. The error names
/// file line 6; statements 1-2 stay committed (DDL commits implicitly) and
/// are not run again when the fixed file is migrated. Tested on MariaDB.
#[test]
fn failed_ddl_migration_points_at_the_line_and_resumes_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_log.sql", "-- stepwise:up\nCREATE TABLE log (id int AUTO_INCREMENT PRIMARY KEY, msg varchar(50) NOT NULL);\n-- stepwise:down\nDROP TABLE log;\n");
    let broken = "-- stepwise:up
INSERT INTO log (msg) VALUES ('statement 1 ran');
CREATE TABLE b1 (id int PRIMARY KEY);
-- statement 3 starts on the next line; its error is on the line after
ALTER TABLE b1
  ADD COLUMN x int NOT NUL,
  ADD COLUMN y int;
CREATE TABLE b3 (id int);
-- stepwise:down
DROP TABLE b3;
DROP TABLE b1;
";
    p.write("2_steps.sql", broken);
    let run = p.run(&db.url, &["migrate"]);
    run.code(1).contains("2_steps.sql:6:").contains("NOT NUL,").contains("1064");
    assert!(!run.all().contains("2_steps.sql:5:"), "error should point at line 6, not the statement start:\n{}", run.all());
    assert_eq!(
        row(&db, "status, statements_total, statements_applied, in_flight, transactional, error LIKE '%2_steps.sql:6:%'", "2"),
        "failed\t4\t2\t2\t0\t1"
    );
    assert_eq!(db.sql("SELECT COUNT(*) FROM log"), "1");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_NAME IN ('b1', 'b3') AND TABLE_SCHEMA = DATABASE()"), "b1");
    p.run(&db.url, &["status"]).ok().contains("FAILED").contains("after 2 of 4 statements");

    // Fix the file; migrate continues at statement 3.
    p.write("2_steps.sql", &broken.replace("NOT NUL,", "NOT NULL DEFAULT 0,"));
    let run = p.run(&db.url, &["migrate"]);
    run.ok().contains("resuming at statement 3 of 4").contains("Applied 1 migration");
    assert!(!run.all().contains("statement 1 (line 2)"), "statement 1 ran again:\n{}", run.all());
    assert_eq!(db.sql("SELECT COUNT(*) FROM log"), "1", "the INSERT of statement 1 ran twice");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'b1'"), "id,x,y");
    assert_eq!(
        row(&db, "status, statements_applied, in_flight IS NULL, error IS NULL, duration_ms IS NOT NULL, finished_at IS NOT NULL", "2"),
        "applied\t4\t1\t1\t1\t1"
    );
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'b3' AND TABLE_SCHEMA = DATABASE()"), "1");
}

/// A DML-only migration runs in one transaction: when its 2nd statement
/// fails, nothing of the 1st is left. Tested on MariaDB.
#[test]
fn dml_only_migration_is_one_transaction_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_tables.sql", "-- stepwise:up\nCREATE TABLE log (msg varchar(50) NOT NULL);\nCREATE TABLE uniq (id int PRIMARY KEY);\nINSERT INTO uniq VALUES (1);\n");
    p.write("2_dml.sql", "-- stepwise:up\nINSERT INTO log (msg) VALUES ('first');\nINSERT INTO uniq (id) VALUES (2), (1);\n");
    let run = p.run(&db.url, &["migrate"]);
    run.code(1).contains("2_dml.sql:3:").contains("Duplicate entry").contains("in one transaction");
    assert_eq!(db.sql("SELECT COUNT(*) FROM log"), "0", "the first INSERT was kept");
    assert_eq!(db.sql("SELECT COUNT(*) FROM uniq"), "1");
    assert_eq!(row(&db, "status, transactional, statements_applied", "2"), "failed\t1\t0");
    assert_eq!(row(&db, "status", "1"), "applied");

    // Fixed, it applies whole, in one transaction.
    p.write("2_dml.sql", "-- stepwise:up\nINSERT INTO log (msg) VALUES ('first');\nINSERT INTO uniq (id) VALUES (2), (3);\n");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert_eq!(db.sql("SELECT COUNT(*) FROM log"), "1");
    assert_eq!(row(&db, "status, transactional, statements_applied, error IS NULL", "2"), "applied\t1\t2\t1");
}

/// `DELIMITER` blocks: a trigger and a procedure with `;` in their bodies
/// apply, the trigger fires, and the down drops both. Tested on MariaDB.
#[test]
fn delimiter_blocks_create_trigger_and_procedure_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write(
        "1_items.sql",
        "-- stepwise:up
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, doubled int NOT NULL DEFAULT 0);

DELIMITER $$
CREATE TRIGGER items_double BEFORE INSERT ON items FOR EACH ROW
BEGIN
  SET NEW.doubled = NEW.qty * 2;
END$$

CREATE PROCEDURE add_item(IN p_id int, IN p_qty int)
BEGIN
  INSERT INTO items (id, qty) VALUES (p_id, p_qty);
  INSERT INTO items (id, qty) VALUES (p_id + 100, p_qty);
END$$
DELIMITER ;

-- stepwise:down
DELIMITER $$
DROP PROCEDURE add_item$$
DELIMITER ;
DROP TRIGGER items_double;
DROP TABLE items;
",
    );
    let run = p.run(&db.url, &["migrate"]);
    run.ok().contains("3 statements").contains("CREATE TRIGGER").contains("CREATE PROCEDURE");
    assert_eq!(row(&db, "status, statements_total, statements_applied", "1"), "applied\t3\t3");
    db.sql("CALL add_item(1, 21)");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(CONCAT(id, ':', doubled) ORDER BY id) FROM items"), "1:42,101:42");

    p.run(&db.url, &["rollback"]).ok().contains("Rolled back 1 migration");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items'"), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_migrations"), "0");

    // An error inside a DELIMITER block points at its line in the file.
    p.write(
        "2_bad_trigger.sql",
        "-- stepwise:up
DELIMITER $$
CREATE TRIGGER items_bad BEFORE INSERT ON items FOR EACH ROW
BEGIN
  SET NEW.doubled = 0;
  SETT NEW.qty = 1;
END$$
DELIMITER ;
",
    );
    p.run(&db.url, &["migrate"]).code(1).contains("2_bad_trigger.sql:6:").contains("SETT NEW.qty = 1;");
    assert_eq!(row(&db, "status, statements_applied", "2"), "failed\t0");
}

/// Another session holds a metadata lock on `t` in an open transaction: the
/// ALTER times out after lock_wait_timeout, is retried, the output names the
/// blocking connection, and once it commits the migration goes through.
/// Tested on MariaDB.
#[test]
fn lock_wait_retries_names_the_blocker_and_succeeds_after_commit_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_t.sql", "-- stepwise:up\nCREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);\n");
    p.run(&db.url, &["migrate"]).ok();
    p.write(
        "2_alter.sql",
        "-- stepwise:up\nALTER TABLE t ADD COLUMN note varchar(20);\n-- stepwise:down\nALTER TABLE t DROP COLUMN note;\n",
    );

    let mut blocker = MariaSession::open(&db.name);
    assert_eq!(blocker.query("START TRANSACTION; SELECT COUNT(*) FROM t;"), "1");

    let mut bg = spawn_bg(p.cmd(&db.url, &["migrate", "--lock-timeout", "1s", "--lock-retries", "3"]));
    let named = format!("blocked by pid {} ", blocker.id);
    assert!(bg.wait_for(&named, 1, Duration::from_secs(30)), "no retry naming the blocker {}:\n{}", blocker.id, bg.output());
    assert!(bg.output().contains("attempt 1/4 failed"), "{}", bg.output());
    assert!(bg.output().contains("idle in transaction"), "{}", bg.output());
    assert_eq!(row(&db, "status", "2"), "running", "the statement should still be pending while blocked");

    blocker.query("COMMIT;");
    let run = bg.finish(Duration::from_secs(60));
    run.ok().contains("Applied 1 migration");
    assert_eq!(
        db.sql(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND COLUMN_NAME = 'note'"
        ),
        "1"
    );
    assert_eq!(row(&db, "status, statements_applied", "2"), "applied\t1");
}

/// A DML-only migration waits for a row lock: the lock wait times out on its
/// 2nd statement, MariaDB rolls back only that statement, and the retry runs
/// the whole transaction again. The 1st statement's increment must land once.
/// Tested on MariaDB.
#[test]
fn row_lock_retry_reruns_the_whole_transaction_once_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE r (id int PRIMARY KEY, v int NOT NULL); INSERT INTO r VALUES (1, 0), (2, 0)");
    p.write("1_bump.sql", "-- stepwise:up\nUPDATE r SET v = v + 1 WHERE id = 2;\nUPDATE r SET v = v + 1 WHERE id = 1;\n");

    let mut blocker = MariaSession::open(&db.name);
    assert_eq!(blocker.query("START TRANSACTION; SELECT v FROM r WHERE id = 1 FOR UPDATE;"), "0");
    let mut bg = spawn_bg(p.cmd(&db.url, &["migrate", "--lock-timeout", "1s", "--lock-retries", "5"]));
    assert!(bg.wait_for("attempt 1/6 failed", 1, Duration::from_secs(30)), "no retry:\n{}", bg.output());
    assert!(bg.output().contains(&format!("blocked by pid {} ", blocker.id)), "{}", bg.output());
    blocker.query("COMMIT;");
    bg.finish(Duration::from_secs(60)).ok().contains("in one transaction").contains("Applied 1 migration");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(CONCAT(id, '=', v) ORDER BY id) FROM r"), "1=1,2=1");
    assert_eq!(row(&db, "status, transactional, statements_applied", "1"), "applied\t1\t2");
}

/// MariaDB/MySQL lock waits take whole seconds: asking for 500ms says that
/// 1s is used instead. Tested on MariaDB.
#[test]
fn sub_second_lock_timeout_is_reported_as_rounded_up_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_t.sql", "-- stepwise:up\nCREATE TABLE t (id int);\n-- stepwise:down\nDROP TABLE t;\n");
    p.run(&db.url, &["migrate", "--lock-timeout", "500ms"]).ok().contains("whole seconds").contains("using 1s for 500ms");
    p.run(&db.url, &["rollback", "--lock-timeout", "1500ms"]).ok().contains("using 2s for 1.5s");
    // A whole number of seconds needs no note.
    let run = p.run(&db.url, &["migrate", "--lock-timeout", "2s"]);
    run.ok();
    assert!(!run.all().contains("whole seconds"), "{}", run.all());
}

/// Four runners on one MariaDB database at once: they all wait on the
/// migration lock (held by the test until all four are waiting), then each
/// migration is applied exactly once. Tested on MariaDB.
#[test]
fn four_concurrent_runners_apply_each_migration_once_on_mariadb() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_log.sql", "-- stepwise:up\nCREATE TABLE log (version varchar(10) NOT NULL);\nINSERT INTO log VALUES ('1');\n");
    p.write("2_dml.sql", "-- stepwise:up\nINSERT INTO log VALUES ('2');\n");
    p.write("3_ddl.sql", "-- stepwise:up\nINSERT INTO log VALUES ('3');\nCREATE TABLE t3 (id int);\nALTER TABLE t3 ADD COLUMN c int;\n");
    p.write("4_slow.sql", "-- stepwise:up\nINSERT INTO log VALUES ('4');\nDO SLEEP(0.3);\n");

    // Hold the migration lock (its name includes the database) so that all four start waiting.
    let mut holder = MariaSession::open(&db.name);
    assert_eq!(holder.query(&format!("SELECT GET_LOCK('stepwise:{}.stepwise', 0);", db.name)), "1");
    let mut runners: Vec<Bg> = (0..4).map(|_| spawn_bg(p.cmd(&db.url, &["migrate", "--format", "json"]))).collect();
    for (i, r) in runners.iter_mut().enumerate() {
        assert!(r.wait_for("lock_waiting", 1, Duration::from_secs(30)), "runner {i} is not waiting for the lock:\n{}", r.output());
    }
    assert!(runners.iter_mut().all(|r| !r.exited()));
    holder.query("DO RELEASE_LOCK(CONCAT('stepwise:', DATABASE(), '.stepwise'));");

    let mut applied: Vec<String> = Vec::new();
    for r in runners {
        let run = r.finish(Duration::from_secs(120));
        run.ok();
        let result = run.json_lines().into_iter().find(|v| v["event"] == "result").expect("a result line");
        applied.extend(result["applied"].as_array().expect("applied list").iter().map(|a| a["version"].as_str().unwrap_or("").to_string()));
    }
    applied.sort();
    assert_eq!(applied, ["1", "2", "3", "4"], "each migration applied by exactly one runner");
    assert_eq!(db.sql("SELECT GROUP_CONCAT(version ORDER BY version) FROM log"), "1,2,3,4");
    assert_eq!(
        db.sql("SELECT GROUP_CONCAT(CONCAT(version, '=', status) ORDER BY version) FROM stepwise_migrations"),
        "1=applied,2=applied,3=applied,4=applied"
    );
}

#[test]
fn a_backfill_step_runs_in_batches_on_mariadb_and_in_the_down_section_too() {
    let (db, p) = (MyDb::new(), Project::new());
    db.sql("CREATE TABLE items (id BIGINT PRIMARY KEY, a INT NOT NULL); INSERT INTO items SELECT seq, seq % 1000 FROM seq_1_to_20000");
    p.write(
        "10_score.sql",
        "-- stepwise:up\nALTER TABLE items ADD COLUMN score BIGINT NULL;\n-- stepwise:backfill items SET score = a * 2 WHERE a <> 7\n\
         -- stepwise:down\n-- stepwise:backfill items SET score = NULL WHERE score IS NOT NULL\nALTER TABLE items DROP COLUMN score;\n",
    );
    p.run(&db.url, &["migrate", "--online-batch-rows", "3000"]).ok().contains("BACKFILL items").contains("19980 changed");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE NOT (score <=> IF(a <> 7, a * 2, NULL))"), "0");
    assert_eq!(db.sql("SELECT COUNT(*), SUM(state = 'finished') FROM stepwise_jobs"), "1\t1");
    p.run(&db.url, &["rollback"]).ok().contains("19980 changed");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'score'"), "0");
}
