//! `stepwise backfill` on MariaDB waits for the replicas: against a real
//! primary and replica of its own (see `common::mariadb_pair`), the backfill
//! stops while the replica's SQL thread is stopped and goes on when it
//! starts again; a user that cannot list the replicas is told so before any
//! row changes. (A server without a binary log, such as this machine's,
//! is never throttled: every test of `backfill_mariadb.rs` runs with the
//! wait on, as a user without replication privileges.)

mod common;
use common::mariadb_pair::MyPair;
use common::*;
use std::time::{Duration, Instant};

/// Rows whose total is not yet `a * 10 + b`.
const WRONG: &str = "SELECT COUNT(*) FROM app.items WHERE NOT (total <=> a * 10 + b)";

fn items(pair: &MyPair, rows: i64) {
    pair.primary(&format!(
        "CREATE DATABASE app;
         CREATE TABLE app.items (id BIGINT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, total BIGINT NULL) ENGINE = InnoDB;
         INSERT INTO app.items SELECT seq, seq % 1000, seq % 7, NULL FROM app.seq_1_to_{rows};"
    ));
    let copied = wait_until(Duration::from_secs(30), || {
        pair.replica("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'items'") == "1"
            && pair.replica("SELECT COUNT(*) FROM app.items") == rows.to_string()
    });
    assert!(copied, "the replica did not get the table");
}

fn rows_done(pair: &MyPair) -> i64 {
    pair.primary("SELECT rows_done FROM app.stepwise_jobs WHERE kind = 'backfill'").parse().expect("rows_done")
}

/// About 10 s of backfill (200,000 rows at 20,000 rows/s) waiting for
/// replicas more than 1 s behind.
fn slow_backfill(p: &Project, url: &str) -> Bg {
    spawn_bg(p.cmd(
        url,
        &[
            "backfill",
            "items",
            "--set",
            "total = a * 10 + b",
            "--batch-rows",
            "1000",
            "--max-rate",
            "20000",
            "--max-replica-lag",
            "1s",
            "--format",
            "json",
        ],
    ))
}

#[test]
fn the_backfill_waits_while_the_replica_applies_nothing_and_goes_on_when_it_does() {
    let (pair, p) = (MyPair::start(), Project::new());
    let url = pair.primary_url("app");
    items(&pair, 200_000);
    pair.replica("STOP SLAVE SQL_THREAD");

    let mut bg = slow_backfill(&p, &url);
    // While the replica applies nothing the backfill stands still.
    let (event, still) = held_by_replica(&mut bg, || rows_done(&pair), 1000, 200_000, "the backfill, while the replica applied nothing");
    assert_eq!(event["replica"], format!("127.0.0.1:{}", pair.replica_port), "{event}");
    assert_eq!(event["max_ms"], 1000, "{event}");
    assert!(event["lag_ms"].as_u64().unwrap_or(0) > 1000, "{event}");

    let started = Instant::now();
    pair.replica("START SLAVE SQL_THREAD");
    assert!(wait_until(Duration::from_secs(5), || rows_done(&pair) > still), "the backfill did not go on after the replica did");
    eprintln!("the backfill went on {} ms after the replica did", started.elapsed().as_millis());
    let run = bg.finish(Duration::from_secs(120));
    run.ok().contains("\"event\":\"finished\"");
    assert_eq!(pair.primary(WRONG), "0", "rows left without their total on the primary");
    // And the replica has every row too.
    assert!(wait_until(Duration::from_secs(30), || pair.replica(WRONG) == "0"), "the replica did not catch up");
}

#[test]
fn a_user_that_cannot_list_the_replicas_is_refused_before_any_row_changes() {
    let (pair, p) = (MyPair::start(), Project::new());
    items(&pair, 5_000);
    pair.primary("CREATE USER app@'127.0.0.1'; GRANT ALL ON app.* TO app@'127.0.0.1';");
    let url = format!("mysql://app@127.0.0.1:{}/app", pair.primary_port);

    let run = p.run(&url, &["backfill", "items", "--set", "total = a * 10 + b"]);
    run.code(1)
        .contains("cannot measure replica lag")
        .contains("REPLICATION MASTER ADMIN")
        .contains("--max-replica-lag off")
        .contains("`stepwise backfill resume` continues it");
    assert_eq!(pair.primary(WRONG), "5000", "rows changed before the refusal");

    // Told what to do, the user turns the wait off (its job is resumed).
    p.run(&url, &["backfill", "resume", "--max-replica-lag", "off"]).ok();
    assert_eq!(pair.primary(WRONG), "0");
    // Granted the privilege, a new backfill measures the replica and runs.
    pair.primary("GRANT REPLICATION MASTER ADMIN ON *.* TO app@'127.0.0.1'; UPDATE app.items SET total = NULL;");
    p.run(&url, &["backfill", "items", "--set", "total = a * 10 + b", "--max-replica-lag", "1s"]).ok();
    assert_eq!(pair.primary(WRONG), "0");
}
