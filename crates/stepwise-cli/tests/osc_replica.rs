//! `stepwise osc` waits for the standbys: against a real primary and
//! standby of its own (see `common::standby`), the copy stops while the
//! standby's replay is paused and goes on when it resumes; a WAL archiver
//! and a logical subscriber never hold it up, however far behind; a role
//! that cannot see the standbys is told so; and a server without standbys
//! is never throttled.

mod common;
use common::osc::*;
use common::standby::Pair;
use common::*;
use std::time::{Duration, Instant};

/// Everything in `items`, as one line: equal before and after the change.
const CONTENT: &str = "SELECT count(*) || ' ' || sum(id) || ' ' || md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM items";

fn items(url: &str, rows: i64) -> String {
    psql(
        url,
        &format!(
            "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
             INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, {rows}) g;
             ANALYZE items;"
        ),
    );
    psql(url, CONTENT)
}

/// A copy of about 10 s (200,000 rows at 20,000 rows/s) waiting for
/// standbys more than `max_lag` behind.
fn slow_osc(p: &Project, url: &str, max_lag: &str) -> Bg {
    spawn_bg(p.cmd(
        url,
        &[
            "osc",
            "items",
            "--alter",
            "ALTER COLUMN id TYPE bigint",
            "--batch-rows",
            "1000",
            "--max-rate",
            "20000",
            "--max-replica-lag",
            max_lag,
            "--format",
            "json",
        ],
    ))
}

fn rows_done(url: &str) -> i64 {
    psql(url, "SELECT rows_done FROM stepwise.jobs WHERE kind = 'osc'").parse().expect("rows_done")
}

#[test]
fn the_copy_waits_while_the_standby_replay_is_paused_and_goes_on_when_it_resumes() {
    let (pair, p) = (Pair::start(), Project::new());
    let url = pair.primary_url();
    let before = items(&url, 200_000);
    assert!(wait_until(Duration::from_secs(30), || psql(&pair.standby_url(), "SELECT to_regclass('items') IS NOT NULL") == "t"));
    psql(&pair.standby_url(), "SELECT pg_wal_replay_pause()");

    let mut bg = slow_osc(&p, &url, "1s");
    // While the standby is paused the copy stands still.
    let (event, _) = held_by_replica(&mut bg, || rows_done(&url), 1000, 200_000, "the copy, while the standby was paused");
    assert_eq!(event["replica"], "walreceiver (127.0.0.1)", "{event}");
    assert_eq!(event["max_ms"], 1000, "{event}");
    assert!(event["lag_ms"].as_u64().unwrap_or(0) > 1000, "{event}");

    // A pause is heard during the wait (osc looks at its job every few
    // seconds of it); a resumed job waits again.
    spawn_bg(p.cmd(&url, &["osc", "pause"])).finish(Duration::from_secs(30)).ok();
    bg.finish(Duration::from_secs(15)).ok();
    assert_eq!(psql(&url, "SELECT state FROM stepwise.jobs"), "paused");
    let mut bg = spawn_bg(
        p.cmd(&url, &["osc", "resume", "--max-replica-lag", "1s", "--batch-rows", "1000", "--max-rate", "20000", "--format", "json"]),
    );
    assert!(bg.wait_for(THROTTLED, 1, Duration::from_secs(30)), "no throttled event after resume:\n{}", bg.output());
    let still = rows_done(&url);

    let resumed = Instant::now();
    psql(&pair.standby_url(), "SELECT pg_wal_replay_resume()");
    // Within the standby's own status interval (10 s): stepwise asks for a fresh report.
    assert!(wait_until(Duration::from_secs(5), || rows_done(&url) > still), "the copy did not go on after the standby resumed");
    eprintln!("the copy went on {} ms after the standby resumed", resumed.elapsed().as_millis());
    let run = bg.finish(Duration::from_secs(120));
    run.ok();
    let events = run.json_lines();
    assert!(events.iter().any(|e| e["event"] == "swapped"), "{}", run.all());
    assert_eq!(psql(&url, CONTENT), before, "the table changed");
    assert_eq!(
        psql(&url, "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'id'"),
        "bigint"
    );
    spawn_bg(p.cmd(&url, &["osc", "finish"])).finish(Duration::from_secs(60)).ok().contains("finished");
    // The standby has it all too.
    assert!(wait_until(Duration::from_secs(30), || psql(&pair.standby_url(), CONTENT) == before), "the standby did not catch up");
}

#[test]
fn a_wal_archiver_and_a_stalled_logical_subscriber_do_not_hold_up_the_copy() {
    let (pair, p) = (Pair::start(), Project::new());
    let url = pair.primary_url();
    let before = items(&url, 200_000);
    // A WAL archiver: streams WAL and replays none.
    let wal = pair.dir.join("archive");
    std::fs::create_dir(&wal).expect("create the archive directory");
    let port = pair.primary_port.to_string();
    let mut archiver = pair.client("pg_receivewal");
    archiver.args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", &path_str(&wal), "--no-loop"]);
    let _archiver = spawn_bg(archiver);
    // A logical subscriber (in another database of the same server), stuck
    // on a lock while it applies a change: its walsender reports no progress.
    psql(&url, "CREATE DATABASE sub");
    psql(&url, "CREATE TABLE ticks (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE ticks;");
    psql(&url, "SELECT pg_create_logical_replication_slot('sub', 'pgoutput')");
    let sub = format!("postgres://postgres@127.0.0.1:{port}/sub");
    psql(&sub, "CREATE TABLE ticks (id int PRIMARY KEY)");
    psql(
        &sub,
        &format!(
            "CREATE SUBSCRIPTION sub CONNECTION 'host=127.0.0.1 port={port} dbname=postgres user=postgres' PUBLICATION pub
                 WITH (create_slot = false, slot_name = 'sub', copy_data = false)"
        ),
    );
    let consumers = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'";
    assert!(wait_until(Duration::from_secs(30), || psql(&url, consumers) == "3"), "the archiver and the subscriber did not connect");
    let mut lock = PsqlSession::open(&sub, "blocks_the_subscriber");
    lock.query("BEGIN; LOCK TABLE ticks;");
    psql(&url, "INSERT INTO ticks VALUES (1)");
    let stuck = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication worker' AND wait_event_type = 'Lock'";
    assert!(wait_until(Duration::from_secs(30), || psql(&sub, stuck) == "1"), "the subscriber did not get stuck");

    let run = slow_osc(&p, &url, "3s").finish(Duration::from_secs(120));
    run.ok();
    assert!(!run.stdout.contains(THROTTLED), "throttled with no standby behind:\n{}", run.all());
    assert_eq!(psql(&url, CONTENT), before);
    // They did fall behind, both: it was not for lack of lag that nothing waited.
    let behind = psql(
        &url,
        "SELECT string_agg(application_name || ' ' || coalesce((pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 1000000)::text, 'no replay'), ', ' ORDER BY application_name)
           FROM pg_stat_replication WHERE application_name <> 'walreceiver'",
    );
    assert_eq!(behind, "pg_receivewal no replay, sub true");
    lock.query("COMMIT;");
}

#[test]
fn a_role_that_cannot_see_the_standbys_is_told_and_resumes_with_the_wait_off() {
    let (pair, p) = (Pair::start(), Project::new());
    psql(&pair.primary_url(), "CREATE ROLE app LOGIN");
    psql(&pair.primary_url(), "CREATE DATABASE app OWNER app");
    let app = format!("postgres://app@127.0.0.1:{}/app", pair.primary_port);
    let before = items(&app, 5000);
    let run = spawn_bg(p.cmd(&app, &["osc", "items", "--alter", "ADD COLUMN x int"])).finish(Duration::from_secs(60));
    run.code(1).contains("cannot read pg_stat_replication; grant it pg_monitor");
    spawn_bg(p.cmd(&app, &["osc", "resume", "--max-replica-lag", "off"])).finish(Duration::from_secs(60)).ok().contains("swapped");
    assert_eq!(psql(&app, CONTENT), before);
}

#[test]
fn without_standbys_nothing_is_throttled() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 20_000);
    let run = osc(&p, &db, &["osc", "orders", "--alter", "ALTER COLUMN id TYPE bigint", "--max-replica-lag", "1ms", "--format", "json"]);
    run.ok();
    assert!(!run.stdout.contains(THROTTLED), "{}", run.all());
    assert!(run.json_lines().iter().any(|e| e["event"] == "swapped"), "{}", run.all());
}

#[test]
fn a_bad_max_replica_lag_is_refused_with_exit_2() {
    let p = Project::new();
    let url = "postgres://postgres@127.0.0.1:5432/postgres";
    p.run(url, &["osc", "items", "--alter", "ADD COLUMN x int", "--max-replica-lag", "soon"]).code(2).contains("not a duration");
    p.run(url, &["osc", "items", "--alter", "ADD COLUMN x int", "--max-replica-lag", "5"]).code(2).contains("needs a unit");
    p.run(url, &["migrate", "--online-max-replica-lag", "fast"]).code(2).contains("not a duration");
    let mut cmd = p.cmd(url, &["migrate"]);
    cmd.env("STEPWISE_ONLINE_MAX_REPLICA_LAG", "5x");
    Run::from(cmd.output().expect("run stepwise")).code(2).contains("`x` is not a duration unit");
    std::fs::write(p.root.join("stepwise.toml"), "[online]\nmax_replica_lag = \"later\"\n").expect("write stepwise.toml");
    p.run(url, &["migrate"]).code(2).contains("online.max_replica_lag: `later` is not a duration");
}
