//! Before DDL on a table, migrate names the transactions older than the
//! lock timeout that hold a lock on that table (and only that table where
//! the server says who holds what), so the operator knows what the
//! statement is about to queue behind.

mod common;

use common::my_session::MySession;
use common::*;
use std::time::Duration;

#[test]
fn postgres_names_the_old_transaction_on_the_table_and_not_one_on_another_table() {
    let db = PgDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY); INSERT INTO items VALUES (1)");
    p.write("1_add_c.sql", "-- stepwise:up\nALTER TABLE items ADD COLUMN c int;\n");
    let mut on_items = PsqlSession::open(&db.url, "test on items");
    on_items.query("BEGIN;");
    on_items.query("SELECT count(*) FROM items;");
    let mut on_other = PsqlSession::open(&db.url, "test on other");
    on_other.query("BEGIN;");
    on_other.query("SELECT count(*) FROM other;");
    std::thread::sleep(Duration::from_millis(1300));
    let r = bounded(&p, &db.url, &["migrate", "--lock-retries", "0"]);
    eprintln!("{}", r.all());
    r.code(1).contains("note: transaction open for").contains(&format!(
        "holds AccessShareLock on items (pid {}, user postgres, application test on items, idle in transaction; last query: SELECT count(*) FROM items;)",
        on_items.pid
    ));
    r.contains(&format!("pg_terminate_backend({})", on_items.pid));
    assert!(!r.all().contains(&format!("pid {},", on_other.pid)), "the transaction on another table is not named:\n{}", r.all());
    // Once it ends, nothing is named and the migration runs.
    on_items.query("COMMIT;");
    let r = bounded(&p, &db.url, &["migrate"]);
    r.ok();
    assert!(!r.all().contains("transaction open for"), "{}", r.all());
}

#[test]
fn mariadb_with_metadata_lock_info_names_only_the_transaction_holding_the_table() {
    if mysql("", "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO'") == "0" {
        let _ = std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", "INSTALL SONAME 'metadata_lock_info'"])
            .output();
    }
    let db = MyDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY); INSERT INTO items VALUES (1)");
    p.write("1_add_c.sql", "-- stepwise:up\nALTER TABLE items ADD COLUMN c int;\n");
    let mut on_items = MySession::open(&db);
    let items_id = on_items.query("SELECT CONNECTION_ID();");
    on_items.query("BEGIN; SELECT COUNT(*) FROM items;");
    let mut on_other = MySession::open(&db);
    let other_id = on_other.query("SELECT CONNECTION_ID();");
    on_other.query("BEGIN; SELECT COUNT(*) FROM other;");
    std::thread::sleep(Duration::from_millis(2200));
    let r = bounded(&p, &db.url, &["migrate", "--lock-retries", "0"]);
    eprintln!("{}", r.all());
    r.code(1)
        .contains(&format!("(thread {items_id}, root@"))
        .contains("it holds a metadata lock on the table")
        .contains(&format!("`KILL {items_id}`"));
    assert!(!r.all().contains(&format!("thread {other_id},")), "{}", r.all());
}
