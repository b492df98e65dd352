//! One process at a time works an osc job: a `resume` while the job runs,
//! or two `resume`s at once after a `kill -9`, leave exactly one process
//! working it; the other is refused with the one that has it, and the job
//! completes with every row.

mod common;
use common::osc::{self as fx, Writer};
use common::*;
use std::time::Duration;

const ROWS: i64 = 40_000;

fn rows_done(db: &PgDb) -> i64 {
    if db.sql("SELECT to_regclass('stepwise.jobs') IS NULL") == "t" {
        return 0;
    }
    db.sql("SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs").parse().unwrap_or(0)
}

#[test]
fn a_resume_while_the_job_runs_is_refused_and_the_job_completes() {
    let (db, p) = (PgDb::new(), Project::new());
    fx::setup(&db, ROWS);
    let writer = Writer::start(&db.url, ROWS);
    let first =
        spawn_bg(p.cmd(&db.url, &["osc", "orders", "--alter", "ADD COLUMN flag int", "--batch-rows", "1000", "--max-rate", "10000"]));
    assert!(wait_until(Duration::from_secs(60), || rows_done(&db) > 0), "the copy started");
    let second = p.run(&db.url, &["osc", "resume"]);
    second.code(1).contains("is being worked by another process (pid ");
    first.finish(Duration::from_secs(120)).ok().contains("swapped");
    let (_, errors) = writer.stop();
    assert_eq!(errors, "");
    fx::assert_equal_to_control(&db);
    fx::osc(&p, &db, &["osc", "finish"]).ok();
    assert_eq!(fx::leftovers(&db), "");
}

#[test]
fn two_resumes_at_once_after_a_kill_9_one_works_the_job() {
    let (db, p) = (PgDb::new(), Project::new());
    fx::setup(&db, ROWS);
    let writer = Writer::start(&db.url, ROWS);
    let mut first =
        spawn_bg(p.cmd(&db.url, &["osc", "orders", "--alter", "ADD COLUMN flag int", "--batch-rows", "1000", "--max-rate", "10000"]));
    assert!(wait_until(Duration::from_secs(60), || rows_done(&db) > 2000), "the copy started");
    first.kill9();
    let _ = first.finish(Duration::from_secs(10));
    let a = spawn_bg(p.cmd(&db.url, &["osc", "resume", "--max-rate", "20000"]));
    let b = spawn_bg(p.cmd(&db.url, &["osc", "resume", "--max-rate", "20000"]));
    let (a, b) = (a.finish(Duration::from_secs(120)), b.finish(Duration::from_secs(120)));
    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(codes, [0, 1], "exactly one resume worked the job:\n{}\n---\n{}", a.all(), b.all());
    let refused = if a.code == 1 { &a } else { &b };
    assert!(
        refused.all().contains("is being worked by another process") || refused.all().contains("nothing to resume"),
        "{}",
        refused.all()
    );
    assert_eq!(db.sql("SELECT state FROM stepwise.jobs"), "swapped");
    let (_, errors) = writer.stop();
    assert_eq!(errors, "");
    fx::assert_equal_to_control(&db);
    fx::osc(&p, &db, &["osc", "finish"]).ok();
    assert_eq!(fx::leftovers(&db), "");
}
