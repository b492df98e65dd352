//! `stepwise locks` on the real servers: a session holding a lock, a DDL
//! waiting for it, three queries queued behind the DDL; the tree must have
//! the holder as its root with four sessions behind it, in text and JSON.

mod common;

use common::my_session::MySession;
use common::*;
use std::time::Duration;

fn pg_pile_up(db: &PgDb) -> (PsqlSession, PsqlSession, Vec<PsqlSession>) {
    db.sql("CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 100) g");
    let mut holder = PsqlSession::open(&db.url, "test holder");
    holder.query("BEGIN;");
    assert_eq!(holder.query("SELECT count(*) FROM items WHERE a > 12345;"), "0");
    let mut ddl = PsqlSession::open(&db.url, "test ddl");
    ddl.send("ALTER TABLE items ADD COLUMN c int;");
    let queued: Vec<PsqlSession> = (0..3)
        .map(|i| {
            let mut q = PsqlSession::open(&db.url, &format!("test reader {i}"));
            q.send("SELECT * FROM items WHERE id = 77;");
            q
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(20), || db.sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'items'::regclass")
            == "4"),
        "four sessions should be waiting"
    );
    (holder, ddl, queued)
}

#[test]
fn postgres_tree_has_the_holder_as_root_with_four_behind_it_in_text_and_json() {
    let db = PgDb::new();
    let p = Project::new();
    let (holder, ddl, queued) = pg_pile_up(&db);
    let text = p.run(&db.url, &["locks"]);
    eprintln!("{}", text.all());
    text.ok().contains("1 blocking tree, 4 sessions waiting");
    let lines: Vec<&str> = text.stdout.lines().collect();
    let root = lines.iter().position(|l| l.starts_with(&format!("pid {} [4 waiting behind it]", holder.pid))).expect("root line");
    assert!(lines[root].contains("application test holder") && lines[root].contains("idle in transaction"), "{}", lines[root]);
    let ddl_line = lines.iter().position(|l| l.contains(&format!("└─ pid {} [3 waiting behind it]", ddl.pid))).expect("ddl under the root");
    assert!(ddl_line > root);
    assert!(lines[root..ddl_line].iter().any(|l| l.contains("holds AccessShareLock on public.items")), "{}", text.stdout);
    assert!(text.stdout.contains("waits for AccessExclusiveLock on public.items"));
    for q in &queued {
        assert!(text.stdout.contains(&format!("pid {}: user postgres, application test reader", q.pid)), "{}", text.stdout);
    }
    // Literal values are hidden unless asked for.
    assert!(text.stdout.contains("WHERE a > ?") && !text.stdout.contains("12345"), "{}", text.stdout);
    assert!(p.run(&db.url, &["locks", "--show-queries"]).ok().stdout.contains("WHERE a > 12345"));

    let json: serde_json::Value = serde_json::from_str(p.run(&db.url, &["locks", "--format", "json"]).ok().stdout.trim()).expect("json");
    let trees = json["trees"].as_array().expect("trees");
    assert_eq!(trees.len(), 1, "{json}");
    assert_eq!(trees[0]["id"], holder.pid as i64);
    assert_eq!(trees[0]["waiting_behind"], 4);
    assert_eq!(trees[0]["children"][0]["id"], ddl.pid as i64);
    let mut readers: Vec<i64> = trees[0]["children"][0]["children"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
    readers.sort();
    let mut expected: Vec<i64> = queued.iter().map(|q| q.pid as i64).collect();
    expected.sort();
    assert_eq!(readers, expected);
    assert_eq!(json["exact"], true);

    // --table keeps the tree on items and drops it for another table.
    p.run(&db.url, &["locks", "--table", "items"]).ok().contains("1 blocking tree");
    p.run(&db.url, &["locks", "--table", "public.other"]).ok().contains("no session waits for a lock");
    // --watch redraws; off a terminal each picture is stamped.
    let watched = p.run(&db.url, &["locks", "--watch", "--interval", "100ms", "--count", "2"]);
    assert_eq!(watched.ok().stdout.matches("1 blocking tree, 4 sessions waiting").count(), 2, "{}", watched.stdout);
    drop(queued);
    drop(ddl);
    drop(holder);
}

#[test]
fn postgres_role_without_pg_read_all_stats_is_told_the_grant_and_still_sees_the_tree() {
    let db = PgDb::new();
    let p = Project::new();
    let role = unique("sw_low");
    psql(PG_ADMIN, &format!("CREATE ROLE {role} LOGIN"));
    let (holder, ddl, queued) = pg_pile_up(&db);
    let url = format!("postgres://{role}@127.0.0.1:5432/{}", db.name);
    let r = p.run(&url, &["locks"]);
    eprintln!("{}", r.all());
    r.ok().contains(&format!("GRANT pg_read_all_stats TO {role}")).contains("4 sessions waiting");
    r.contains(&format!("pid {} [4 waiting behind it]", holder.pid)).contains("query: (not visible to this role)");
    drop((holder, ddl, queued));
    psql(PG_ADMIN, &format!("DROP ROLE {role}"));
}

/// MariaDB's metadata_lock_info plugin (shipped with the server) shows who
/// holds each table's metadata lock.
fn ensure_metadata_lock_info() {
    let installed = mysql("", "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO'");
    if installed == "0" {
        // Another test may install it at the same moment; either way it ends up installed.
        let _ = std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", "INSTALL SONAME 'metadata_lock_info'"])
            .output();
    }
}

fn my_pile_up(db: &MyDb) -> (MySession, i64, MySession, i64, Vec<(MySession, i64)>) {
    db.sql("CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items VALUES (1, 1), (2, 2)");
    let mut holder = MySession::open(db);
    let holder_id: i64 = holder.query("SELECT CONNECTION_ID();").parse().unwrap();
    holder.query("BEGIN; SELECT COUNT(*) FROM items WHERE a > 12345;");
    let mut ddl = MySession::open(db);
    let ddl_id: i64 = ddl.query("SELECT CONNECTION_ID();").parse().unwrap();
    ddl.query("SET SESSION lock_wait_timeout = 60;");
    send(&mut ddl, "ALTER TABLE items ADD COLUMN c int;");
    std::thread::sleep(Duration::from_millis(300));
    let queued: Vec<(MySession, i64)> = (0..3)
        .map(|_| {
            let mut q = MySession::open(db);
            let id: i64 = q.query("SELECT CONNECTION_ID();").parse().unwrap();
            send(&mut q, "SELECT * FROM items WHERE id = 2;");
            (q, id)
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(20), || {
            mysql(
                "",
                &format!(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND STATE = 'Waiting for table metadata lock'",
                    db.name
                ),
            ) == "4"
        }),
        "four sessions should be waiting"
    );
    (holder, holder_id, ddl, ddl_id, queued)
}

/// Send without waiting for the answer (the statement blocks).
fn send(s: &mut MySession, sql: &str) {
    s.send(sql);
}

#[test]
fn mariadb_tree_has_the_holder_as_root_with_four_behind_it_in_text_and_json() {
    ensure_metadata_lock_info();
    let db = MyDb::new();
    let p = Project::new();
    let (holder, holder_id, ddl, ddl_id, queued) = my_pile_up(&db);
    let text = p.run(&db.url, &["locks"]);
    eprintln!("{}", text.all());
    text.ok().contains(&format!("thread {holder_id} [4 waiting behind it]")).contains(&format!("└─ thread {ddl_id} [3 waiting behind it]"));
    // The processlist shows no statement for a session idle in its transaction; the readers' literals are hidden.
    text.contains(&format!("holds metadata lock MDL_SHARED_READ on {}.items", db.name)).contains("WHERE id = ?");
    assert!(!text.stdout.contains("id = 2"));
    let json: serde_json::Value = serde_json::from_str(p.run(&db.url, &["locks", "--format", "json"]).ok().stdout.trim()).expect("json");
    let tree = json["trees"].as_array().unwrap().iter().find(|t| t["id"] == holder_id).expect("the holder's tree");
    assert_eq!(tree["waiting_behind"], 4, "{json}");
    assert_eq!(tree["children"][0]["id"], ddl_id);
    let mut readers: Vec<i64> = tree["children"][0]["children"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
    readers.sort();
    assert_eq!(readers, queued.iter().map(|q| q.1).collect::<Vec<_>>());
    assert_eq!(json["exact"], true);
    p.run(&db.url, &["locks", "--table", "items"]).ok().contains(&format!("thread {holder_id} [4 waiting behind it]"));
    drop((holder, ddl, queued));
}

#[test]
fn mariadb_user_without_process_is_told_the_grant_and_sees_its_own_sessions() {
    let db = MyDb::new();
    let p = Project::new();
    let user = unique("sw_low");
    mysql("", &format!("CREATE USER '{user}'@'%'; GRANT SELECT ON {}.* TO '{user}'@'%'", db.name));
    let url = format!("mysql://{user}@127.0.0.1:3306/{}", db.name);
    let r = p.run(&url, &["locks"]);
    eprintln!("{}", r.all());
    r.ok()
        .contains("lacks the PROCESS privilege")
        .contains(&format!("GRANT PROCESS ON *.* TO '{user}'@'%'"))
        .contains("no session waits for a lock");
    mysql("", &format!("DROP USER '{user}'@'%'"));
}
