//! `osc --cancel-blockers-after`: the statements that lock the live table
//! (the capture triggers, the swap) cancel exactly the sessions they wait
//! behind once the wait has lasted that long; the change completes and no
//! row is lost. On PostgreSQL and MariaDB.

mod common;

use common::my_session::MySession;
use common::*;

#[test]
fn postgres_swap_terminates_an_idle_reader_and_completes() {
    let db = PgDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 20000) g");
    // A reader idle in its transaction: its ACCESS SHARE lock does not stop
    // the triggers, but it blocks the swap's ACCESS EXCLUSIVE.
    let mut reader = PsqlSession::open(&db.url, "test idle reader");
    reader.query("BEGIN;");
    assert_eq!(reader.query("SELECT count(*) FROM items;"), "20000");
    // Older than the lock timeout (1s) by the time the swap comes.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let r = bounded(&p, &db.url, &["osc", "items", "--alter", "ADD COLUMN c int", "--cancel-blockers-after", "2s", "--terminate"]);
    eprintln!("{}", r.all());
    r.ok().contains("swapped: ");
    r.contains(&format!("blocker: cancelled the statement of session {} (user postgres, application test idle reader", reader.pid));
    r.contains(&format!("blocker: terminated session {}", reader.pid));
    // Before the swap queued, the old reader was named.
    r.contains("to swap the tables, osc needs a lock that a transaction open for")
        .contains(&format!("; pid {}, user postgres, idle in transaction; last query: SELECT count(*) FROM items;)", reader.pid));
    assert_eq!(db.sql("SELECT count(*) FROM items"), "20000");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'c'"), "1");
    p.run(&db.url, &["osc", "finish"]).ok();
}

#[test]
fn mariadb_triggers_kill_an_idle_transaction_holding_the_table_and_complete() {
    if mysql("", "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO'") == "0" {
        let _ = std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", "INSTALL SONAME 'metadata_lock_info'"])
            .output();
    }
    let db = MyDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items SELECT seq, seq FROM seq_1_to_20000");
    let mut holder = MySession::open(&db);
    let holder_id = holder.query("SELECT CONNECTION_ID();");
    holder.query("BEGIN; SELECT COUNT(*) FROM items;");
    // A transaction on another table is not the osc's business.
    db.sql("CREATE TABLE other (id int PRIMARY KEY)");
    let mut bystander = MySession::open(&db);
    let bystander_id = bystander.query("SELECT CONNECTION_ID();");
    bystander.query("BEGIN; SELECT COUNT(*) FROM other;");
    let r = bounded(&p, &db.url, &["osc", "items", "--alter", "ADD COLUMN c int", "--cancel-blockers-after", "2s", "--terminate"]);
    eprintln!("{}", r.all());
    r.ok().contains("swapped: ").contains(&format!("blocker: terminated session {holder_id}"));
    assert!(!r.all().contains(&format!("session {bystander_id} ")), "{}", r.all());
    assert!(!r.all().contains(&format!("pid {bystander_id} ")), "the transaction on another table is not waited out:\n{}", r.all());
    assert_eq!(bystander.query("SELECT COUNT(*) FROM other;"), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items"), "20000");
    p.run(&db.url, &["osc", "finish"]).ok();
}
