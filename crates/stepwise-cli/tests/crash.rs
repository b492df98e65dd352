//! `kill -9` of stepwise in the middle of a non-transactional migration,
//! against the PostgreSQL on this machine: the tracking row says where it
//! stopped, and the next `migrate` finishes the job without running anything
//! twice (an index built once and valid, no statement re-run).

mod common;
use common::*;
use std::time::Duration;

/// Rows in `big`: enough for CREATE INDEX CONCURRENTLY on an md5 expression
/// to take a few seconds on this machine.
const BIG_ROWS: u32 = 1_500_000;

/// Migration 1 creates `big` and `log`; migration 2, outside a transaction,
/// logs, builds `big_idx` concurrently, and logs again.
fn big_table_then_concurrent_index(db: &PgDb, p: &Project) {
    p.write(
        "1_big.sql",
        &format!(
            "-- stepwise:up\nCREATE TABLE big AS SELECT g AS id FROM generate_series(1, {BIG_ROWS}) g;\n\
             CREATE TABLE log (id serial PRIMARY KEY, step text NOT NULL);\n"
        ),
    );
    bounded(p, &db.url, &["migrate"]).ok();
    p.write(
        "2_index_big.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nINSERT INTO log (step) VALUES ('before');\n\
         CREATE INDEX CONCURRENTLY big_idx ON big ((md5(id::text)));\n\
         INSERT INTO log (step) VALUES ('after');\n",
    );
}

/// The pid of the stepwise session running a statement that starts with `prefix`, once it runs.
#[track_caller]
fn wait_for_statement(monitor: &mut PsqlSession, run: &mut Bg, prefix: &str) -> i32 {
    let mut pid = String::new();
    let sql = format!(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'stepwise' AND backend_type = 'client backend' AND state = 'active' AND query LIKE '{prefix}%';"
    );
    let found = wait_until(Duration::from_secs(60), || {
        pid = monitor.query(&sql);
        !pid.is_empty() || run.exited()
    });
    assert!(found && !pid.is_empty(), "`{prefix}` never ran:\n{}", run.output());
    pid.parse().expect("pid")
}

#[track_caller]
fn assert_index_built_once(db: &PgDb) {
    assert_eq!(db.sql("SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'big_idx'::regclass"), "t|t");
    assert_eq!(
        db.sql("SELECT string_agg(indexname, ',') FROM pg_indexes WHERE tablename = 'big'"),
        "big_idx",
        "exactly one index on big: no big_idx1 or *_ccnew leftovers"
    );
    assert_eq!(
        db.sql("SELECT status, statements_applied, statements_total, in_flight IS NULL FROM stepwise.migrations WHERE version = '2'"),
        "applied|3|3|t"
    );
    assert_eq!(db.sql("SELECT string_agg(step, ',' ORDER BY id) FROM log"), "before,after", "statement 1 not re-run, statement 3 ran");
    // The index is usable and complete.
    assert_eq!(db.sql("SET enable_seqscan = off; SELECT count(*) FROM big WHERE md5(id::text) = md5('12345')"), "1");
}

#[test]
fn kill_9_during_create_index_concurrently_then_migrate_waits_for_the_orphan_and_finishes() {
    let db = PgDb::new();
    let p = Project::new();
    big_table_then_concurrent_index(&db, &p);
    let mut monitor = PsqlSession::open(&db.url, "test monitor");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate"]));
    let orphan = wait_for_statement(&mut monitor, &mut run, "CREATE INDEX CONCURRENTLY big_idx");
    run.kill9();
    let killed = run.finish(Duration::from_secs(10));
    assert_eq!(killed.code, -1, "killed by a signal");
    // The row says where it stopped: statement 2 (index 1) in flight, one applied.
    assert_eq!(db.sql("SELECT status, in_flight, statements_applied FROM stepwise.migrations WHERE version = '2'"), "running|1|1");
    // The server keeps building the index for the dead client, and its session keeps the migration lock.
    assert_eq!(
        monitor.query(&format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {orphan} AND state = 'active';")),
        "1",
        "the orphaned CREATE INDEX should still be running; raise BIG_ROWS"
    );
    p.run(&db.url, &["status"]).contains("running");
    let r = bounded(&p, &db.url, &["migrate"]);
    eprintln!("{}", r.all());
    r.ok()
        .contains("Waiting for the migration lock")
        .contains(&format!("held by pid {orphan} "))
        .contains("statement 2: index big_idx exists and is valid")
        .contains("resuming at statement 3 of 3")
        .contains("Applied 1 migration");
    assert!(!r.all().contains("statement 2 (line"), "the index statement was not run again:\n{}", r.all());
    assert_index_built_once(&db);
}

#[test]
fn kill_9_during_create_index_concurrently_and_a_terminated_backend_leave_an_invalid_index_that_is_rebuilt() {
    let db = PgDb::new();
    let p = Project::new();
    big_table_then_concurrent_index(&db, &p);
    let mut monitor = PsqlSession::open(&db.url, "test monitor");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate"]));
    let orphan = wait_for_statement(&mut monitor, &mut run, "CREATE INDEX CONCURRENTLY big_idx");
    // Wait until the build has put big_idx in the catalog (not yet valid).
    assert!(
        wait_until(Duration::from_secs(30), || monitor.query("SELECT count(*) FROM pg_class WHERE relname = 'big_idx';") == "1"),
        "big_idx never appeared in the catalog"
    );
    run.kill9();
    run.finish(Duration::from_secs(10));
    assert_eq!(monitor.query(&format!("SELECT pg_terminate_backend({orphan});")), "t");
    assert!(
        wait_until(Duration::from_secs(30), || monitor.query(&format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {orphan};"))
            == "0"),
        "the terminated backend did not go away"
    );
    assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_idx'::regclass"), "f", "an INVALID index is left behind");
    assert_eq!(db.sql("SELECT status, in_flight, statements_applied FROM stepwise.migrations WHERE version = '2'"), "running|1|1");
    let r = bounded(&p, &db.url, &["migrate"]);
    eprintln!("{}", r.all());
    r.ok()
        .contains("statement 2: dropped invalid index big_idx left by an interrupted build")
        .contains("resuming at statement 2 of 3")
        .contains("statement 2 (line 4)")
        .contains("Applied 1 migration");
    assert_index_built_once(&db);
}

#[test]
fn kill_9_between_statements_resumes_at_the_statement_in_flight_without_rerunning_the_first() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_log.sql", "-- stepwise:up\nCREATE TABLE log (id serial PRIMARY KEY, step text NOT NULL);\n");
    p.write(
        "2_steps.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nINSERT INTO log (step) VALUES ('one');\nSELECT pg_sleep(2);\nINSERT INTO log (step) VALUES ('three');\n",
    );
    let mut monitor = PsqlSession::open(&db.url, "test monitor");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate"]));
    wait_for_statement(&mut monitor, &mut run, "SELECT pg_sleep(2)");
    run.kill9();
    run.finish(Duration::from_secs(10));
    assert_eq!(db.sql("SELECT status, in_flight, statements_applied FROM stepwise.migrations WHERE version = '2'"), "running|1|1");
    assert_eq!(db.sql("SELECT string_agg(step, ',' ORDER BY id) FROM log"), "one");
    let r = bounded(&p, &db.url, &["migrate"]);
    eprintln!("{}", r.all());
    assert_eq!(db.sql("SELECT string_agg(step, ',' ORDER BY id) FROM log"), "one,three", "statement 1 ran once, statement 3 ran");
    r.ok().contains("resuming at statement 2 of 3").contains("statement 2 (line 4)").contains("Applied 1 migration");
    assert!(!r.all().contains("statement 1 (line"), "statement 1 was run again:\n{}", r.all());
    assert_eq!(db.sql("SELECT status, statements_applied, in_flight IS NULL FROM stepwise.migrations WHERE version = '2'"), "applied|3|t");
    assert_eq!(db.sql("SELECT status FROM stepwise.migrations WHERE version = '1'"), "applied");
}
