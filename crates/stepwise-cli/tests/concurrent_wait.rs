//! `CREATE INDEX CONCURRENTLY` waits for every transaction older than it,
//! blocking no one meanwhile. stepwise gives it its own long timeout and
//! reports which transactions it is waiting for.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn concurrent_index_reports_the_older_transaction_it_waits_for() {
    let db = PgDb::new();
    db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g; CREATE TABLE other (x int)",
    );
    let p = Project::new();
    p.write(
        "2_index.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n-- stepwise:down\nDROP INDEX CONCURRENTLY t_a_idx;\n",
    );

    // An old transaction on another table: it holds no lock CIC conflicts
    // with, but CIC must wait for it to end.
    let mut holder = Command::new("psql")
        .args([db.url.as_str(), "-X", "-q", "-v", "application_name=old_report"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start psql");
    let mut stdin = holder.stdin.take().expect("stdin");
    // REPEATABLE READ keeps its snapshot while idle, which is what CIC waits for.
    writeln!(stdin, "SET application_name = 'old_report'; BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM other;").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'old_report' AND state = 'idle in transaction'") != "1" {
        assert!(Instant::now() < deadline, "the holding transaction did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    // lock_timeout is short, but CONCURRENTLY gets its own long timeout.
    let child = p.cmd(&db.url, &["migrate", "--lock-timeout", "300ms"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(6500));
    writeln!(stdin, "COMMIT;").unwrap();
    drop(stdin);
    let _ = holder.wait();
    let run = Run::from(child.wait_with_output().unwrap());
    run.ok().contains("waiting for 1 older transaction").contains("old_report");
    assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass"), "t");
    assert_eq!(db.sql("SELECT status FROM stepwise.migrations WHERE version = '2'"), "applied");
}
