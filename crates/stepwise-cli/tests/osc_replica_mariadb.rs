//! `stepwise osc` on MariaDB waits for the replicas, as backfill does:
//! against a real primary and replica of its own (see
//! `common::mariadb_pair`), the copy stands still while the replica's SQL
//! thread is stopped, and goes on (to the swap) when it starts again.

mod common;
use common::mariadb_pair::MyPair;
use common::*;
use std::time::Duration;

#[test]
fn the_copy_waits_while_the_replica_applies_nothing_and_goes_on_when_it_does_on_mariadb() {
    let (pair, p) = (MyPair::start(), Project::new());
    let url = pair.primary_url("app");
    pair.primary(
        "CREATE DATABASE app;
         CREATE TABLE app.items (id BIGINT PRIMARY KEY, a INT NOT NULL) ENGINE = InnoDB;
         INSERT INTO app.items SELECT seq, seq % 1000 FROM app.seq_1_to_200000;",
    );
    assert!(
        wait_until(Duration::from_secs(30), || pair
            .replica("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'items'")
            == "1"
            && pair.replica("SELECT COUNT(*) FROM app.items") == "200000"),
        "the replica did not get the table"
    );
    pair.replica("STOP SLAVE SQL_THREAD");
    let rows_done = || pair.primary("SELECT COALESCE(MAX(rows_done), 0) FROM app.stepwise_jobs").parse::<i64>().unwrap_or(0);
    let mut bg = spawn_bg(p.cmd(
        &url,
        &[
            "osc",
            "items",
            "--alter",
            "MODIFY a BIGINT NOT NULL",
            "--batch-rows",
            "1000",
            "--max-rate",
            "20000",
            "--max-replica-lag",
            "1s",
            "--format",
            "json",
        ],
    ));
    let (event, still) = held_by_replica(&mut bg, rows_done, 1000, 200_000, "the copy, while the replica applied nothing");
    assert_eq!(event["replica"], format!("127.0.0.1:{}", pair.replica_port), "{event}");
    pair.replica("START SLAVE SQL_THREAD");
    assert!(wait_until(Duration::from_secs(10), || rows_done() > still), "the copy did not go on after the replica did");
    bg.finish(Duration::from_secs(120)).ok().contains("\"event\":\"swapped\"");
    assert_eq!(
        pair.primary(
            "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'items' AND COLUMN_NAME = 'a'"
        ),
        "bigint"
    );
    assert_eq!(pair.primary("SELECT COUNT(*) FROM app.items"), "200000");
}
