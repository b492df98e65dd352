//! `--format json` on every command that answered in text regardless:
//! `init`, the osc and backfill dry runs, `lint --list-rules`, and the
//! results of osc pause/resume/cancel/finish/revert and backfill
//! pause/cancel. Every line of stdout is a JSON object.

mod common;
use common::*;
use std::time::Duration;

/// Every stdout line parsed; panics on a line that is not JSON.
#[track_caller]
fn json(r: &Run) -> Vec<serde_json::Value> {
    assert!(!r.stdout.trim().is_empty(), "no output:\n{}", r.all());
    r.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", r.all()))).collect()
}

#[track_caller]
fn result(r: &Run) -> serde_json::Value {
    let last = json(r).pop().unwrap();
    assert_eq!(last["event"], "result", "{last}");
    last
}

#[test]
fn init_dry_runs_and_the_rule_list() {
    let (db, p) = (PgDb::new(), Project::new());
    std::fs::remove_dir_all(p.migrations()).unwrap();
    let init = result(p.run(&db.url, &["init", "--format", "json"]).ok());
    assert_eq!(init["action"], "init");
    assert_eq!(init["store"], "stepwise.migrations");
    db.sql("CREATE TABLE items (id bigint PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 100) g;");
    let plan = result(p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN b int", "--dry-run", "--format", "json"]).ok());
    assert!(plan["plan"].as_str().unwrap().contains("ADD COLUMN b int"), "{plan}");
    let plan = result(p.run(&db.url, &["backfill", "items", "--set", "a = 1", "--dry-run", "--format", "json"]).ok());
    assert_eq!(plan["dry_run"], true);
    let rules = json(p.run(&db.url, &["lint", "--list-rules", "--format", "json"]).ok());
    assert!(rules.len() > 20 && rules.iter().all(|r| r["rule"].is_string()), "{rules:?}");
}

#[test]
fn osc_and_backfill_job_actions() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id bigint PRIMARY KEY, a int); INSERT INTO items SELECT g, g FROM generate_series(1, 3000) g;");
    let slow = ["--batch-rows", "100", "--max-rate", "500", "--format", "json"];
    let osc = spawn_bg(p.cmd(&db.url, &[&["osc", "items", "--alter", "ADD COLUMN b int"][..], &slow].concat()));
    let copying = || {
        db.sql("SELECT to_regclass('stepwise.jobs') IS NOT NULL") == "t"
            && db.sql("SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs") != "0"
    };
    assert!(wait_until(Duration::from_secs(30), copying));
    assert_eq!(result(p.run(&db.url, &["osc", "pause", "--format", "json"]).ok())["state"], "paused");
    json(&osc.finish(Duration::from_secs(60)));
    let resumed = result(p.run(&db.url, &["osc", "resume", "--max-rate", "100000", "--format", "json"]).ok());
    assert_eq!((resumed["action"].as_str(), resumed["state"].as_str()), (Some("resume"), Some("swapped")));
    assert_eq!(result(p.run(&db.url, &["osc", "revert", "--format", "json"]).ok())["state"], "reverted");

    let bf = spawn_bg(p.cmd(&db.url, &[&["backfill", "items", "--set", "a = 0"][..], &slow].concat()));
    let running = || db.sql("SELECT count(*) FROM stepwise.jobs WHERE kind = 'backfill' AND rows_done > 0") == "1";
    assert!(wait_until(Duration::from_secs(30), running));
    assert_eq!(result(p.run(&db.url, &["backfill", "pause", "--format", "json"]).ok())["state"], "paused");
    json(&bf.finish(Duration::from_secs(60)));
    assert_eq!(result(p.run(&db.url, &["backfill", "cancel", "--format", "json"]).ok())["state"], "cancelled");

    let osc = spawn_bg(p.cmd(&db.url, &[&["osc", "items", "--alter", "ADD COLUMN c int"][..], &slow].concat()));
    let copying = || db.sql("SELECT count(*) FROM stepwise.jobs WHERE kind = 'osc' AND state = 'copying' AND rows_done > 0") == "1";
    assert!(wait_until(Duration::from_secs(30), copying));
    assert_eq!(result(p.run(&db.url, &["osc", "cancel", "--format", "json"]).ok())["state"], "cancelled");
    json(&osc.finish(Duration::from_secs(60)));
    p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN c int", "--format", "json"]).ok();
    assert_eq!(result(p.run(&db.url, &["osc", "finish", "--format", "json"]).ok())["state"], "finished");
}
