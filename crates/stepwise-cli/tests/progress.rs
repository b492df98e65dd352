//! `stepwise progress` and migrate's own progress lines, on the real servers:
//! a CREATE INDEX CONCURRENTLY on a 2,000,000-row table (with an old
//! snapshot to wait for at the end) and a copying ALTER on MariaDB.

mod common;

use common::*;
use std::time::Duration;

/// The fractions `progress --format json` reported for statements whose command starts with `command`.
fn fractions(out: &str, command: &str) -> Vec<f64> {
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| v["statements"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["command"].as_str().is_some_and(|c| c.starts_with(command)))
        .filter_map(|s| s["fraction"].as_f64())
        .collect()
}

fn assert_grows(f: &[f64], what: &str) {
    let mut distinct = f.to_vec();
    distinct.dedup();
    assert!(distinct.len() >= 3, "{what}: want at least three different fractions, got {f:?}");
    assert!(f.windows(2).all(|w| w[1] + 1e-9 >= w[0]), "{what}: the fraction went back: {f:?}");
}

#[test]
fn postgres_create_index_concurrently_reports_phase_growing_fraction_and_the_snapshot_it_waits_for() {
    let db = PgDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE big (id int PRIMARY KEY, a int, b text); INSERT INTO big SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 2000000) g");
    p.write("1_index.sql", "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY big_b ON big (b);\n-- stepwise:down\nDROP INDEX CONCURRENTLY big_b;\n");
    // An old snapshot: the build's last phase waits for it.
    let mut old = PsqlSession::open(&db.url, "test old snapshot");
    old.query("BEGIN ISOLATION LEVEL REPEATABLE READ;");
    assert_eq!(old.query("SELECT count(*) FROM big WHERE id < 10;"), "9");
    let mut watch = spawn_bg(p.cmd(&db.url, &["progress", "--watch", "--interval", "150ms", "--format", "json"]));
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate"]));
    assert!(watch.wait_for("waiting for old snapshots", 1, Duration::from_secs(120)), "{}\n{}", watch.output(), run.output());
    // Long enough for migrate to report the wait too.
    assert!(run.wait_for("waiting for old snapshots", 1, Duration::from_secs(30)), "{}", run.output());
    let seen = watch.output();
    old.query("COMMIT;");
    let r = run.finish(Duration::from_secs(120));
    drop(watch);
    eprintln!("{}", r.all());
    r.ok().contains("CREATE INDEX CONCURRENTLY big_b on public.big: waiting for old snapshots");
    r.contains(&format!("waiting for session {}", old.pid));
    let f = fractions(&seen, "CREATE INDEX CONCURRENTLY");
    assert_grows(&f, "CREATE INDEX CONCURRENTLY");
    assert!(f.iter().any(|x| *x < 0.5) && f.iter().any(|x| *x >= 0.95), "{f:?}");
    let waiting = seen
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| v["statements"].as_array().cloned().unwrap_or_default())
        .find(|s| s["phase"] == "waiting for old snapshots")
        .expect("the waiting phase");
    assert_eq!(waiting["waiting_for"], serde_json::json!([old.pid]));
    assert_eq!(waiting["table"], "public.big");
    assert_eq!(waiting["index"], "big_b");
}

#[test]
fn postgres_nothing_in_flight_then_an_unfinished_backfill_with_its_rows() {
    let db = PgDb::new();
    let p = Project::new();
    p.run(&db.url, &["progress"]).ok().contains("no long statement or stepwise job in progress");
    db.sql("CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 5000) g");
    // A backfill killed half way stays unfinished, with the rows it did.
    let mut bf =
        spawn_bg(p.cmd(&db.url, &["backfill", "t", "--set", "a = a + 1", "--batch-rows", "100", "--max-rate", "500", "--format", "json"]));
    assert!(bf.wait_for("\"event\":\"batch\"", 5, Duration::from_secs(30)), "{}", bf.output());
    bf.kill9();
    let r = p.run(&db.url, &["progress"]);
    eprintln!("{}", r.all());
    r.ok().contains("backfill job 1 on public.t: running");
    let json: serde_json::Value = serde_json::from_str(p.run(&db.url, &["progress", "--format", "json"]).ok().stdout.trim()).unwrap();
    assert_eq!(json["jobs"][0]["kind"], "backfill");
    assert!(json["jobs"][0]["rows_done"].as_i64().unwrap() >= 500);
}

#[test]
fn mariadb_copying_alter_reports_growing_fraction_in_progress_and_migrate() {
    let db = MyDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE big (id int PRIMARY KEY, a int, b varchar(64)); INSERT INTO big SELECT seq, seq % 1000, md5(seq) FROM seq_1_to_3000000");
    p.write("1_copy.sql", "-- stepwise:up\nALTER TABLE big FORCE, ALGORITHM=COPY;\n");
    let watch = spawn_bg(p.cmd(&db.url, &["progress", "--watch", "--interval", "150ms", "--format", "json"]));
    let r = bounded(&p, &db.url, &["migrate"]);
    std::thread::sleep(Duration::from_millis(300));
    let seen = watch.output();
    drop(watch);
    eprintln!("{}", r.all());
    // Which stage the two-second report lands in depends on the machine's load.
    r.ok().contains("ALTER TABLE on big: ").contains(" (stage ").contains(" of 2), ");
    let f = fractions(&seen, "ALTER TABLE");
    assert_grows(&f, "ALTER TABLE ... ALGORITHM=COPY");
    assert!(f.iter().all(|x| (0.0..=1.0).contains(x)), "{f:?}");
    assert!(seen.contains("copy to tmp table (stage 1 of 2)"), "the copying stage was seen: {seen}");
    assert_eq!(db.sql("SELECT COUNT(*) FROM big"), "3000000");
}
