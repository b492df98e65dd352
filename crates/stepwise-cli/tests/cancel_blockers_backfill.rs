//! `backfill --cancel-blockers-after`: once batches have been held up by an
//! application's row lock that long, the session holding the rows is
//! cancelled, then (with --terminate) ended; the backfill completes with
//! every row changed once. On PostgreSQL and MariaDB.

mod common;

use common::my_session::MySession;
use common::*;

#[test]
fn postgres_backfill_ends_the_idle_transaction_holding_its_rows_and_completes() {
    let db = PgDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL); INSERT INTO t SELECT g, g FROM generate_series(1, 2000) g");
    let mut holder = PsqlSession::open(&db.url, "test row holder");
    holder.query("BEGIN;");
    holder.query("UPDATE t SET a = a WHERE id = 1500;");
    let r = bounded(
        &p,
        &db.url,
        &["backfill", "t", "--set", "a = a + 1", "--batch-rows", "200", "--cancel-blockers-after", "1s", "--terminate"],
    );
    eprintln!("{}", r.all());
    r.ok().contains(&format!("blocker: cancelled the statement of session {} (user postgres, application test row holder", holder.pid));
    r.contains(&format!("blocker: terminated session {}", holder.pid));
    assert_eq!(db.sql("SELECT count(*) FROM t WHERE a = id + 1"), "2000", "every row changed exactly once");
}

#[test]
fn mariadb_backfill_kills_the_transaction_holding_its_rows_and_completes() {
    let db = MyDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL); INSERT INTO t SELECT seq, seq FROM seq_1_to_2000");
    let mut holder = MySession::open(&db);
    let holder_id = holder.query("SELECT CONNECTION_ID();");
    holder.query("BEGIN; UPDATE t SET a = a WHERE id = 1500;");
    let r = bounded(
        &p,
        &db.url,
        &["backfill", "t", "--set", "a = a + 1", "--batch-rows", "200", "--cancel-blockers-after", "1s", "--terminate"],
    );
    eprintln!("{}", r.all());
    r.ok().contains(&format!("blocker: terminated session {holder_id}"));
    assert_eq!(db.sql("SELECT COUNT(*) FROM t WHERE a = id + 1"), "2000", "every row changed exactly once");
}
