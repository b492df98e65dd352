//! `migrate --cancel-blockers-after`: once a statement has waited that long,
//! stepwise cancels (then, with --terminate, ends) exactly the sessions that
//! block it, logs each, and leaves alone its own sessions, protected ones,
//! and sessions that merely wait in the same queue. Without the flag nothing
//! is cancelled. On PostgreSQL and MariaDB.

mod common;

use common::my_session::MySession;
use common::*;
use std::time::Duration;

fn pg_setup(db: &PgDb, p: &Project) {
    db.sql("CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 100) g");
    p.write("1_add_c.sql", "-- stepwise:up\nALTER TABLE items ADD COLUMN c int;\n-- stepwise:down\nALTER TABLE items DROP COLUMN c;\n");
}

fn pg_has_c(db: &PgDb) -> bool {
    db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'c'") == "1"
}

/// A session idle in a transaction that updated row 1: it holds the row and
/// a lock on `items` that the ALTER waits for.
fn pg_idle_blocker(db: &PgDb) -> PsqlSession {
    let mut a = PsqlSession::open(&db.url, "test idle blocker");
    a.query("BEGIN;");
    a.query("UPDATE items SET a = a WHERE id = 1;");
    a
}

#[test]
fn postgres_idle_blocker_is_cancelled_then_terminated_and_a_waiting_session_is_untouched() {
    let db = PgDb::new();
    let p = Project::new();
    pg_setup(&db, &p);
    let mut a = pg_idle_blocker(&db);
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate", "--cancel-blockers-after", "2s", "--terminate"]));
    assert!(run.wait_for("lock timeout", 1, Duration::from_secs(30)), "{}", run.output());
    // Another session wants the same row: it waits behind the idle blocker
    // (and, while stepwise's ALTER is queued, behind the ALTER) but blocks no one by holding anything stepwise waits for.
    let mut d = PsqlSession::open(&db.url, "test bystander");
    d.send("UPDATE items SET a = 5 WHERE id = 1 RETURNING id;");
    let r = run.finish(Duration::from_secs(90));
    eprintln!("{}", r.all());
    r.ok().contains("Applied 1 migration");
    r.contains(&format!("cancelled the statement of session {} (user postgres, application test idle blocker, idle in transaction", a.pid));
    r.contains(&format!("terminated session {} (user postgres, application test idle blocker", a.pid));
    r.contains("cancelling its statement did not release the lock");
    assert!(
        !r.all().contains(&format!("session {} (user postgres, application test bystander", d.pid)),
        "the bystander was touched:\n{}",
        r.all()
    );
    assert!(pg_has_c(&db));
    // The bystander's update went through, uncancelled; the blocker's session is gone.
    assert_eq!(d.query("SELECT a FROM items WHERE id = 1;"), "1\n5", "{}", d.errors());
    assert!(!d.errors().contains("cancel"), "{}", d.errors());
    assert_eq!(db.sql(&format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {}", a.pid)), "0");
    let _ = a.query_within("SELECT 1;", Duration::from_secs(2));
    assert!(a.errors().contains("terminat"), "{}", a.errors());
}

#[test]
fn postgres_without_the_flag_nothing_is_cancelled() {
    let db = PgDb::new();
    let p = Project::new();
    pg_setup(&db, &p);
    let mut a = pg_idle_blocker(&db);
    let r = bounded(&p, &db.url, &["migrate", "--lock-retries", "2"]);
    r.code(1).contains(&format!("blocked by pid {}", a.pid));
    assert!(!r.all().contains("cancelled") && !r.all().contains("terminated"), "{}", r.all());
    assert_eq!(a.query("SELECT 1;"), "1", "the blocker's session is intact: {}", a.errors());
    assert!(!pg_has_c(&db));
}

#[test]
fn postgres_idle_blocker_without_terminate_is_reported_still_blocking_and_kept() {
    let db = PgDb::new();
    let p = Project::new();
    pg_setup(&db, &p);
    let mut a = pg_idle_blocker(&db);
    let r = bounded(&p, &db.url, &["migrate", "--lock-retries", "4", "--cancel-blockers-after", "1s"]);
    eprintln!("{}", r.all());
    r.code(1).contains(&format!("cancelled the statement of session {}", a.pid));
    r.contains(&format!("still blocked by session {}", a.pid)).contains("--terminate ends its session");
    assert!(!r.all().contains("terminated session"), "{}", r.all());
    assert_eq!(a.query("SELECT 1;"), "1", "idle in transaction: the cancel had nothing to cancel: {}", a.errors());
}

#[test]
fn postgres_running_blocker_is_cancelled_unless_protected() {
    let db = PgDb::new();
    let p = Project::new();
    pg_setup(&db, &p);
    let mut b = PsqlSession::open(&db.url, "test sleeper");
    b.send("SELECT pg_sleep(30) FROM items LIMIT 1;");
    assert!(wait_until(Duration::from_secs(10), || db
        .sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test sleeper' AND state = 'active'")
        == "1"));
    let r = bounded(&p, &db.url, &["migrate", "--lock-retries", "3", "--cancel-blockers-after", "1s", "--protect", "someone,test sleeper"]);
    eprintln!("{}", r.all());
    r.code(1).contains(&format!("left alone session {}", b.pid)).contains("application test sleeper is protected");
    assert!(!r.all().contains("cancelled the statement"), "{}", r.all());
    let r = bounded(&p, &db.url, &["migrate", "--cancel-blockers-after", "1s", "--format", "json"]);
    r.ok();
    let cancelled: Vec<serde_json::Value> = r.json_lines().into_iter().filter(|e| e["event"] == "blocker_cancelled").collect();
    assert_eq!(cancelled.len(), 1, "{}", r.all());
    assert_eq!(cancelled[0]["cancellation"]["action"], "cancel");
    assert_eq!(cancelled[0]["cancellation"]["session"]["id"], b.pid as i64);
    assert_eq!(cancelled[0]["cancellation"]["session"]["application"], "test sleeper");
    assert_eq!(cancelled[0]["cancellation"]["ok"], true);
    assert!(pg_has_c(&db));
    let _ = b.query("SELECT 1;");
    assert!(b.errors().contains("canceling statement due to user request"), "{}", b.errors());
}

#[test]
fn bad_values_are_usage_errors() {
    let p = Project::new();
    p.run("postgres://postgres@127.0.0.1:5432/postgres", &["migrate", "--cancel-blockers-after", "0"])
        .code(2)
        .contains("must be more than 0");
    p.run("postgres://postgres@127.0.0.1:5432/postgres", &["migrate", "--terminate"]).code(2).contains("--cancel-blockers-after");
}

fn ensure_metadata_lock_info() {
    if mysql("", "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO'") == "0" {
        let _ = std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", "INSTALL SONAME 'metadata_lock_info'"])
            .output();
    }
}

#[test]
fn mariadb_idle_blocker_is_killed_and_a_queued_reader_is_untouched() {
    ensure_metadata_lock_info();
    let db = MyDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items VALUES (1, 1), (2, 2)");
    p.write("1_add_c.sql", "-- stepwise:up\nALTER TABLE items ADD COLUMN c int;\n-- stepwise:down\nALTER TABLE items DROP COLUMN c;\n");
    let mut a = MySession::open(&db);
    let a_id: i64 = a.query("SELECT CONNECTION_ID();").parse().unwrap();
    a.query("BEGIN; SELECT COUNT(*) FROM items;");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate", "--cancel-blockers-after", "2s", "--terminate"]));
    assert!(run.wait_for("lock timeout", 1, Duration::from_secs(30)), "{}", run.output());
    // A reader arriving now queues behind stepwise's ALTER: it waits, but blocks no one.
    let name = db.name.clone();
    let reader = std::thread::spawn(move || mysql(&name, "SELECT CONNECTION_ID(), COUNT(*) FROM items"));
    let r = run.finish(Duration::from_secs(90));
    eprintln!("{}", r.all());
    r.ok().contains("Applied 1 migration");
    r.contains(&format!("cancelled the statement of session {a_id}")).contains(&format!("terminated session {a_id}"));
    let answer = reader.join().expect("the reader's query succeeded");
    let (d_id, count) = answer.split_once('\t').expect("id and count");
    assert_eq!(count, "2");
    assert!(!r.all().contains(&format!("session {d_id} ")), "{}", r.all());
    assert_eq!(db.sql(&format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {a_id}")), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'c'"), "1");
}
