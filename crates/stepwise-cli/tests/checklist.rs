//! `stepwise plan --checklist` on the real servers: for a migration with an
//! index build, a NOT NULL change and an online ALTER against a table of
//! 1,000,000 rows, the checklist names each statement's lock, and its
//! duration estimate is within a factor of three of what the statement took
//! when `migrate` ran it (the `statement_done` events). The two engines'
//! tests take turns, so that neither's timing is the other's noise.

mod common;

use common::*;
use serde_json::Value;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The estimates of the only pending migration's statements, in seconds,
/// and the checklist itself.
fn estimates(p: &Project, url: &str) -> (Vec<f64>, Value) {
    let r = bounded(p, url, &["plan", "--checklist", "--format", "json"]);
    r.ok();
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    let m = &v["checklist"]["migrations"][0];
    let secs = m["statements"].as_array().unwrap().iter().map(|s| s["estimate"]["seconds"].as_f64().expect("an estimate")).collect();
    (secs, m.clone())
}

/// What each statement took when migrate ran it, in seconds.
fn actual(p: &Project, url: &str) -> Vec<f64> {
    let r = bounded(p, url, &["migrate", "--format", "json"]);
    r.ok();
    r.json_lines().iter().filter(|e| e["event"] == "statement_done").map(|e| e["duration_ms"].as_u64().unwrap() as f64 / 1000.0).collect()
}

#[track_caller]
fn within_three_times(estimated: &[f64], took: &[f64]) {
    assert_eq!(estimated.len(), took.len(), "estimated {estimated:?}, took {took:?}");
    for (i, (e, t)) in estimated.iter().zip(took).enumerate() {
        eprintln!("statement {}: estimated {e:.3} s, took {t:.3} s", i + 1);
        assert!(e / t <= 3.0 && t / e <= 3.0, "statement {}: estimated {e:.3} s but it took {t:.3} s", i + 1);
    }
}

/// psql updating rows one statement at a time (a server reports a
/// session's row counts between its statements, not inside a DO block).
fn writer(p: &Project, url: &str, rows: usize) -> Bg {
    let script = p.root.join("writer.sql");
    let sql: String = (1..=rows).map(|i| format!("UPDATE items SET a = a + 0 WHERE id = {i};\n")).collect();
    std::fs::write(&script, sql).unwrap();
    let mut c = std::process::Command::new("psql");
    c.args([url, "-X", "-q", "-f"]).arg(&script);
    spawn_bg(c)
}

const PG_CHECKS: &str = "-- stepwise:no-transaction\n-- stepwise:up\n\
CREATE INDEX CONCURRENTLY items_b ON items (b);\n\
-- stepwise:ignore set-not-null the checklist says the scan takes a fraction of a second\n\
ALTER TABLE items ALTER COLUMN a SET NOT NULL;\n\
-- stepwise:online\n\
ALTER TABLE items ALTER COLUMN b SET STATISTICS 200;\n\
-- stepwise:down\nALTER TABLE items ALTER COLUMN a DROP NOT NULL;\nDROP INDEX CONCURRENTLY items_b;\n";

#[test]
fn postgres_checklist_names_the_locks_and_estimates_within_three_times_on_a_million_rows() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::new();
    db.sql(
        "CREATE TABLE items (id int PRIMARY KEY, a int, b text);
         INSERT INTO items SELECT g, g % 1000, md5(g::text) || md5((g + 1)::text) FROM generate_series(1, 1000000) g;
         CREATE INDEX items_a ON items (a);
         ANALYZE items;",
    );
    let p = Project::new();
    p.write("20260101000000_checks.sql", PG_CHECKS);
    // A writer while the checklist measures the write rate.
    let mut writer = writer(&p, &db.url, 4_000);
    let text = bounded(&p, &db.url, &["plan", "--checklist"]);
    text.ok()
        .contains("SHARE UPDATE EXCLUSIVE on items for about")
        .contains("ACCESS EXCLUSIVE on items for about")
        .contains("writes measured over")
        .contains("an index build over 1.0M rows")
        .contains("osc copies the table in batches")
        .contains("[x] down section: rolling back gives the data back")
        .contains("[ ] backup: none configured")
        .contains("stepwise locks --table items --watch");
    let (estimated, m) = estimates(&p, &db.url);
    writer.kill9();
    let s = &m["statements"];
    assert_eq!(s[0]["work"]["kind"], "index_build");
    assert_eq!(s[0]["work"]["locks"][0]["lock"], "SHARE UPDATE EXCLUSIVE");
    assert_eq!(s[1]["work"]["kind"], "scan");
    assert_eq!(s[1]["work"]["locks"][0]["lock"], "ACCESS EXCLUSIVE");
    assert_eq!(s[1]["work"]["locks"][0]["during_work"], true);
    assert_eq!(s[2]["work"]["kind"], "online_copy");
    assert_eq!(s[2]["work"]["locks"][0]["during_work"], false);
    assert_eq!(m["down"]["restores_data"], true);
    let md = bounded(&p, &db.url, &["plan", "--checklist", "--format", "markdown"]);
    md.ok()
        .contains("## Deploy checklist: 1 pending migration")
        .contains("### 1. 20260101000000 checks")
        .contains("- line 5: `ALTER TABLE items ALTER COLUMN a SET NOT NULL`");
    md.contains("  - locks: ACCESS EXCLUSIVE on `items` for about");
    let took = actual(&p, &db.url);
    within_three_times(&estimated, &took);
}

#[test]
fn postgres_checklist_sees_the_writes_a_lock_would_hold() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::new();
    db.sql(
        "CREATE TABLE items (id int PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 200000) g; ANALYZE items;",
    );
    let p = Project::new();
    p.write("1_not_null.sql", "-- stepwise:up\nALTER TABLE items ALTER COLUMN a SET NOT NULL;\n");
    let mut writer = writer(&p, &db.url, 20_000);
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The SET NOT NULL is a lint error: the checklist is printed, and the exit is 1 as for `plan`.
    let r = bounded(&p, &db.url, &["plan", "--checklist", "--format", "json"]);
    writer.kill9();
    r.code(1);
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    let m = v["checklist"]["migrations"][0].clone();
    let held = m["statements"][0]["writes_held"].as_f64();
    assert!(held.is_some_and(|n| n > 0.0), "the writer's rows/s times the lock's duration: {m}");
    // The lint's finding is on the checklist.
    assert_eq!(m["findings"][0]["rule"], "set-not-null", "{m}");
}

#[test]
fn mariadb_checklist_names_the_algorithm_and_estimates_within_three_times_on_a_million_rows() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = MyDb::new();
    db.sql(
        "CREATE TABLE items (id int PRIMARY KEY, a int, b varchar(64), KEY items_a (a));
         INSERT INTO items SELECT seq, seq % 1000, CONCAT(MD5(seq), MD5(seq + 1)) FROM seq_1_to_1000000;
         ANALYZE TABLE items;",
    );
    let p = Project::new();
    p.write(
        "20260101000000_checks.sql",
        "-- stepwise:up\nCREATE INDEX items_b ON items (b);\nALTER TABLE items MODIFY a int NOT NULL;\n-- stepwise:online\nALTER TABLE items MODIFY b varchar(80);\n\
         -- stepwise:down\nALTER TABLE items MODIFY a int NULL;\nDROP INDEX items_b ON items;\n",
    );
    let text = bounded(&p, &db.url, &["plan", "--checklist"]);
    text.ok()
        .contains("algorithm: ALGORITHM=NOCOPY, LOCK=NONE")
        .contains("algorithm: ALGORITHM=INPLACE, LOCK=NONE")
        .contains("making a column NOT NULL rebuilds the table in place")
        .contains("exclusive metadata lock on items for moments");
    let (estimated, m) = estimates(&p, &db.url);
    assert_eq!(m["statements"][1]["work"]["kind"], "rewrite");
    let took = actual(&p, &db.url);
    within_three_times(&estimated, &took);
}

#[test]
fn without_a_database_the_checklist_names_locks_the_backup_and_what_a_down_cannot_give_back() {
    let p = Project::new();
    std::fs::write(p.root.join("stepwise.toml"), "[backup]\ndir = \"backups\"\n").unwrap();
    p.write(
        "1_items.sql",
        "-- stepwise:up\nCREATE TABLE items (id int PRIMARY KEY, a int, b text);\n-- stepwise:down\nDROP TABLE items;\n",
    );
    p.write(
        "2_drop_b.sql",
        "-- stepwise:up\n-- stepwise:ignore drop-column the code stopped reading it\nALTER TABLE items DROP COLUMN b;\n-- stepwise:down\nALTER TABLE items ADD COLUMN b text;\n",
    );
    p.write("3_orders.sql", "ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total >= 0);\n");
    let mut c = p.cmd("", &["plan", "--checklist"]);
    c.env_remove("DATABASE_URL");
    let r = spawn_bg(c).finish(std::time::Duration::from_secs(60));
    // The CHECK added without NOT VALID is a lint error: on the checklist, and exit 1.
    r.code(1)
        .contains("check-not-valid (error)")
        .contains("No database configured")
        .contains("[x] backup: taken into backups before the first migration")
        .contains("the up runs DROP COLUMN")
        .contains("only the backup has them")
        .contains("ACCESS EXCLUSIVE on orders for the whole work (size unknown): every read and write wait")
        .contains("[ ] no down section");
    // A table the run creates is nobody's to wait for.
    assert!(!r.stdout.contains("on items for"), "{}", r.stdout);
    let mut c = p.cmd("", &["status", "--format", "markdown"]);
    c.env_remove("DATABASE_URL");
    spawn_bg(c).finish(std::time::Duration::from_secs(60)).code(2).contains("--format markdown is for `stepwise plan --checklist`");
}
