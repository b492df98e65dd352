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

/// Names that need quoting all the way: a schema and table with capitals
/// and spaces, a column with a space, an index with a space. osc used to
/// blame the key column and leave a stuck job, and to rename `"my idx"`.
#[test]
fn quoted_schema_table_column_and_index_names_go_through_the_swap() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql(
        r#"CREATE SCHEMA "My Schema";
           CREATE TABLE "My Schema"."My Table" (id bigint PRIMARY KEY, "sp ace" int, "Quo""te" text);
           CREATE INDEX "my idx" ON "My Schema"."My Table" ("sp ace");
           INSERT INTO "My Schema"."My Table" SELECT g, g, 'q' || g FROM generate_series(1, 3000) g;"#,
    );
    let indexes = || {
        db.sql(r#"SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = '"My Schema"."My Table"'::regclass"#)
    };
    let before = indexes();
    fx::osc(&p, &db, &["osc", r#""My Schema"."My Table""#, "--alter", r#"ADD COLUMN "new col" int, ALTER COLUMN "sp ace" TYPE bigint"#])
        .ok();
    fx::osc(&p, &db, &["osc", "finish"]).ok();
    assert_eq!(indexes(), before, "index names kept");
    assert_eq!(
        db.sql(r#"SELECT count(*) || ':' || sum("sp ace") || ':' || count(DISTINCT "Quo""te") FROM "My Schema"."My Table""#),
        "3000:4501500:3000"
    );
    assert_eq!(fx::leftovers(&db), "");
    assert_eq!(db.sql("SELECT string_agg(state, ',') FROM stepwise.jobs"), "finished");
}

/// A column the ALTER adds with its own sequence (serial) is not in the old
/// table: the revert lets its sequence go with the new table. It failed
/// ("column x of relation _sw1_t_old does not exist") while `status` kept
/// offering it.
#[test]
fn revert_after_adding_a_serial_column() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE t (id bigserial PRIMARY KEY, a int); INSERT INTO t (a) SELECT g FROM generate_series(1, 2000) g;");
    fx::osc(&p, &db, &["osc", "t", "--alter", "ADD COLUMN x serial"]).ok();
    db.sql("INSERT INTO t (a) VALUES (-1)");
    fx::osc(&p, &db, &["osc", "revert"]).ok().contains("reverted");
    assert_eq!(db.sql("SELECT count(*) FROM t"), "2001", "the row written after the swap is kept");
    assert_eq!(db.sql("SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'x'"), "0");
    assert_eq!(db.sql("INSERT INTO t (a) VALUES (-2) RETURNING id"), "2002", "the table's own serial goes on");
    assert_eq!(fx::leftovers(&db), "");
}
