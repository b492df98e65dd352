//! Settings the servers would refuse, or that mean nothing, are usage
//! errors (exit 2) before anything is recorded or created, never a panic
//! and never a migration recorded FAILED at `file:1:1`; and a resumed job
//! keeps the throttle it was started with.

mod common;
use common::*;
use std::time::Duration;

fn project() -> Project {
    let p = Project::new();
    p.write("20260101000000_t.sql", "-- stepwise:up\nCREATE TABLE t (id bigint PRIMARY KEY, a int);\n");
    p
}

/// No state schema (so no tracking row and no job) and no table.
#[track_caller]
fn nothing_recorded(db: &PgDb) {
    assert_eq!(db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'stepwise'"), "0", "the state schema was created");
    assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'items'"), "0");
}

#[track_caller]
fn usage_error(r: &Run) {
    assert_eq!(r.code, 2, "expected exit 2:\n{}", r.all());
    assert!(!r.all().contains("panicked"), "{}", r.all());
}

#[test]
fn huge_or_unrepresentable_durations_are_refused_before_connecting() {
    let (db, p) = (PgDb::new(), project());
    for flag in ["--lock-timeout", "--statement-timeout", "--concurrent-timeout", "--lock-wait"] {
        for value in ["99999999999999999999h", "9999999999999999999s9999999999999999999s", "3000h"] {
            usage_error(&p.run(&db.url, &["migrate", flag, value]));
        }
    }
    std::fs::write(p.root.join("stepwise.toml"), "lock_timeout = \"9999999999999999999s9999999999999999999s\"\n").unwrap();
    usage_error(&p.run(&db.url, &["migrate"]));
    std::fs::write(p.root.join("stepwise.toml"), "[online]\nmax_rate = 1e-20\n").unwrap();
    usage_error(&p.run(&db.url, &["migrate"]));
    nothing_recorded(&db);
}

#[test]
fn a_role_the_server_does_not_have_is_a_usage_error_and_nothing_is_recorded() {
    let (db, p) = (PgDb::new(), project());
    let r = p.run(&db.url, &["migrate", "--role", "no_such_role_here"]);
    usage_error(&r);
    assert!(r.all().contains("no_such_role_here"), "{}", r.all());
    nothing_recorded(&db);
    p.run(&db.url, &["migrate"]).ok();
}

#[test]
fn rates_and_batch_sizes_that_mean_nothing_are_refused() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id bigint PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 100) g;");
    for rate in ["0", "-5", "NaN", "1e-20", "inf"] {
        usage_error(&p.run(&db.url, &["backfill", "items", "--set", "a = 1", "--max-rate", rate]));
        usage_error(&p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN b int", "--max-rate", rate]));
        usage_error(&p.run(&db.url, &["migrate", "--online-max-rate", rate]));
    }
    usage_error(&p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN b int", "--batch-rows", "0"]));
    usage_error(&p.run(&db.url, &["backfill", "items", "--set", "a = 1", "--batch-rows", "0"]));
    nothing_recorded(&db);
    assert_eq!(db.sql("SELECT sum(a) FROM items"), "5050");
}

#[test]
fn a_resumed_backfill_keeps_its_rate() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id bigint PRIMARY KEY, a int); INSERT INTO items SELECT g, 0 FROM generate_series(1, 20000) g;");
    let mut run = spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "a = 1", "--batch-rows", "500", "--max-rate", "2000"]));
    let started = wait_until(Duration::from_secs(30), || {
        db.sql("SELECT to_regclass('stepwise.jobs') IS NOT NULL") == "t"
            && db.sql("SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs") != "0"
    });
    assert!(started, "{}", run.output());
    run.kill9();
    let _ = run.finish(Duration::from_secs(10));
    let throttle = db.sql("SELECT spec->'throttle'->>'max_rate' || ',' || (spec->'throttle'->>'batch_rows') FROM stepwise.jobs");
    assert_eq!(throttle, "2000.0,500", "the job stores its throttle");
    let left: f64 = db.sql("SELECT count(*) FROM items WHERE a = 0").parse().unwrap();
    let resumed = spawn_bg(p.cmd(&db.url, &["backfill", "resume"]));
    let t0 = std::time::Instant::now();
    resumed.finish(Duration::from_secs(120)).ok();
    let took = t0.elapsed().as_secs_f64();
    // At 2,000 rows/s the rest takes left/2000 s; unthrottled it took well under a second.
    assert!(took > 0.7 * left / 2000.0, "resumed without its rate: {left} rows in {took:.2}s");
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE a = 0"), "0");
}
