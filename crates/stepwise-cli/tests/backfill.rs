//! `stepwise backfill` on PostgreSQL, end to end through the binary: a
//! million rows under an application that keeps writing, `kill -9` and
//! resume, the rule that keeps application writes, batched deletes with a
//! backup table, and bad input refused before any row changes.

mod common;
use common::*;
use std::time::Duration;

/// `items` with `rows` rows whose `total` is to be filled with `a * 10 + b`,
/// and `touched`: how often the backfill (and only it) updated each row.
fn setup(db: &PgDb, rows: i64) {
    db.sql(&format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, total bigint);
         INSERT INTO items SELECT i, i % 1000, i % 7, NULL FROM generate_series(1, {rows}) i;
         CREATE TABLE touched (id bigint PRIMARY KEY, n int NOT NULL);
         CREATE FUNCTION count_backfill() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF current_setting('application_name') = 'stepwise backfill' THEN
             INSERT INTO touched VALUES (NEW.id, 1) ON CONFLICT (id) DO UPDATE SET n = touched.n + 1;
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER count_backfill AFTER UPDATE ON items FOR EACH ROW EXECUTE FUNCTION count_backfill();"
    ));
    db.sql("VACUUM ANALYZE items");
}

/// An application at a steady pace until `stop` is set: each transaction
/// changes `a` of two random rows and, as the new code does, keeps `total`
/// right itself. It takes the higher key first, against the backfill's
/// order, and holds it a moment, so that deadlocks with the backfill are
/// likely if the backfill ever waited long enough to be in one. Any error
/// ends the block and psql reports it.
const APP: &str = "DO $$
DECLARE k1 bigint; k2 bigint;
BEGIN
  WHILE NOT (SELECT stop FROM app_ctl) LOOP
    k1 := 1 + floor(random() * ROWS)::bigint;
    k2 := least(k1 + 1 + floor(random() * 50)::bigint, ROWS);
    UPDATE items SET a = a + 1, total = (a + 1) * 10 + b WHERE id = k2;
    PERFORM pg_sleep(0.003);
    UPDATE items SET a = a + 1, total = (a + 1) * 10 + b WHERE id = k1;
    UPDATE app_ctl SET txns = txns + 1;
    COMMIT;
  END LOOP;
END $$;";

fn start_app(db: &PgDb, rows: i64) -> Bg {
    db.sql("CREATE TABLE app_ctl (stop boolean NOT NULL, txns bigint NOT NULL); INSERT INTO app_ctl VALUES (false, 0)");
    let mut cmd = std::process::Command::new("psql");
    cmd.args([db.url.as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &APP.replace("ROWS", &rows.to_string())]);
    spawn_bg(cmd)
}

/// Stop the application; returns its transaction count after checking it never failed.
#[track_caller]
fn stop_app(db: &PgDb, app: Bg) -> i64 {
    db.sql("UPDATE app_ctl SET stop = true");
    let run = app.finish(Duration::from_secs(60));
    assert_eq!(run.code, 0, "an application transaction failed (a deadlock or lock timeout?):\n{}", run.all());
    db.sql("SELECT txns FROM app_ctl").parse().unwrap()
}

#[track_caller]
fn assert_all_right(db: &PgDb) {
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS DISTINCT FROM a * 10 + b"), "0", "rows left wrong");
    assert_eq!(db.sql("SELECT count(*) FROM touched WHERE n > 1"), "0", "the backfill updated a row twice");
}

/// A query on stepwise.jobs that is 0 while the table does not exist yet
/// (the backfill process creates it after it starts).
fn jobs_count(db: &PgDb, sql: &str) -> i64 {
    if db.sql("SELECT to_regclass('stepwise.jobs') IS NULL") == "t" {
        return 0;
    }
    db.sql(sql).parse().unwrap_or(0)
}

fn state(db: &PgDb, job: &str) -> String {
    db.sql(&format!("SELECT state FROM stepwise.jobs WHERE id = {job}"))
}

#[test]
fn a_million_rows_are_backfilled_under_a_busy_application_and_a_kill_9_then_resume_loses_nothing() {
    let (db, p) = (PgDb::new(), Project::new());
    let rows = 1_000_000;
    setup(&db, rows);
    let app = start_app(&db, rows);
    assert!(wait_until(Duration::from_secs(10), || db.sql("SELECT txns FROM app_ctl") != "0"), "the application runs");

    // Small batches, so the run is long enough to be killed in the middle.
    let mut run = spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "5000"]));
    let progressed = wait_until(Duration::from_secs(120), || {
        jobs_count(&db, "SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs WHERE kind = 'backfill'") >= 300_000
    });
    assert!(progressed, "the backfill made progress:\n{}", run.output());
    run.kill9();
    let _ = run.finish(Duration::from_secs(10));

    let job = db.sql("SELECT id FROM stepwise.jobs WHERE kind = 'backfill'");
    assert_eq!(state(&db, &job), "running", "a killed job is left running, to be resumed");
    let cursor: i64 = db.sql(&format!("SELECT cursor[1] FROM stepwise.jobs WHERE id = {job}")).parse().unwrap();
    // Everything up to the cursor is done, nothing after it was touched by the backfill.
    assert_eq!(db.sql(&format!("SELECT count(*) FROM items WHERE id <= {cursor} AND total IS DISTINCT FROM a * 10 + b")), "0");
    assert_eq!(db.sql(&format!("SELECT count(*) FROM touched WHERE id > {cursor}")), "0", "the killed batch rolled back whole");
    p.run(&db.url, &["backfill", "status"]).ok().contains(&format!("job {job} on public.items: running"));

    let resumed = spawn_bg(p.cmd(&db.url, &["backfill", "resume"])).finish(Duration::from_secs(300));
    resumed.ok().contains("finished");
    let txns = stop_app(&db, app);
    assert!(txns > 100, "the application kept writing during the backfill ({txns} transactions)");
    assert_eq!(state(&db, &job), "finished");
    assert_all_right(&db);
    // Rows the application fixed itself before the backfill got there were left alone.
    let changed: i64 = db.sql(&format!("SELECT rows_changed FROM stepwise.jobs WHERE id = {job}")).parse().unwrap();
    assert_eq!(db.sql("SELECT count(*) FROM touched").parse::<i64>().unwrap(), changed, "rows_changed counts the rows updated");
    assert!(changed < rows && changed > rows / 2, "{changed} rows changed");

    // A second run finds nothing to do.
    p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b"]).ok().contains("0 changed");
    assert_all_right(&db);
}

#[test]
fn a_row_the_application_changes_during_its_batch_is_computed_from_the_applications_value() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 2_000);
    // The application changes a source column of row 500 and holds the
    // transaction open while the backfill reaches that row.
    let mut app = PsqlSession::open(&db.url, "app");
    app.query("BEGIN; UPDATE items SET a = 4242 WHERE id = 500;");
    let run = spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "100"]));
    // Smaller and smaller batches get up to the held row, not past it.
    assert!(
        wait_until(Duration::from_secs(30), || db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL") == "499"),
        "the backfill reached the held row"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL"), "499", "it waits behind the application's row");
    app.query("COMMIT;");
    let run = run.finish(Duration::from_secs(60));
    run.ok().contains("gave way to the application's row locks");
    assert_eq!(db.sql("SELECT a, total FROM items WHERE id = 500"), format!("4242|{}", 4242 * 10 + 500 % 7));
    assert_all_right(&db);
    assert_eq!(app.errors(), "");
}

#[test]
fn only_missing_keeps_values_the_application_set_and_fills_the_rest() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 1_000);
    db.sql("UPDATE items SET total = -1 WHERE id % 100 = 0");
    p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--only-missing"]).ok().contains("990 changed");
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total = -1"), "10");
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS DISTINCT FROM a * 10 + b"), "10");
}

#[test]
fn a_batched_delete_keeps_every_deleted_row_in_the_backup_table_and_nothing_else_changes() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 200_000);
    db.sql(
        "CREATE TABLE expect_gone AS SELECT * FROM items WHERE a < 100; CREATE TABLE expect_kept AS SELECT * FROM items WHERE NOT a < 100",
    );
    p.run(&db.url, &["backfill", "items", "--delete", "--where", "a < 100", "--backup-table", "items_purged", "--batch-rows", "7000"])
        .ok()
        .contains("20000 changed");
    let diff = |x: &str, y: &str| db.sql(&format!("SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y}) d"));
    assert_eq!(diff("items_purged", "expect_gone"), "0");
    assert_eq!(diff("expect_gone", "items_purged"), "0", "every deleted row is in the backup table");
    assert_eq!(diff("items", "expect_kept"), "0");
    assert_eq!(diff("expect_kept", "items"), "0", "rows not matching the condition are untouched");
}

#[test]
fn bad_input_is_refused_before_any_row_changes() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 100);
    let nothing_changed = || {
        assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL"), "0");
        assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'jobs' AND schemaname = 'stepwise'"), "0", "no job recorded");
    };
    p.run(&db.url, &["backfill", "items", "--set", "total = nosuch + 1"]).code(2).contains("column \"nosuch\" does not exist");
    p.run(&db.url, &["backfill", "items", "--set", "total = a", "--where", "a >"]).code(2).contains("syntax error");
    p.run(&db.url, &["backfill", "items", "--set", "total = a / 0"]).code(2).contains("division by zero");
    p.run(&db.url, &["backfill", "items", "--set", "total = (random() * 10)::int"]).code(2).contains("random() gives a different value");
    p.run(&db.url, &["backfill", "items", "--set", "total = extract(epoch FROM now())"]).code(2).contains("now()");
    p.run(&db.url, &["backfill", "items", "--set", "id = id + 1"]).code(2).contains("key column");
    p.run(&db.url, &["backfill", "items", "--set", "nosuch = 1"]).code(2).contains("no column nosuch");
    p.run(&db.url, &["backfill", "items", "--set", "total 1"]).code(2).contains("--set");
    p.run(&db.url, &["backfill", "items", "--delete"]).code(2).contains("--delete needs --where");
    p.run(&db.url, &["backfill", "items", "--delete", "--where", "a < 100) OR (b = 3"]).code(2).contains("never opened");
    p.run(&db.url, &["backfill", "items", "--set", "total = (a", "--where", "b = 3"]).code(2).contains("never closed");
    p.run(&db.url, &["backfill", "nosuch", "--set", "total = 1"]).code(2).contains("no table named nosuch");
    p.run(&db.url, &["backfill", "items"]).code(2).contains("--set");
    nothing_changed();
    db.sql("CREATE TABLE nokey (a int, b int)");
    p.run(&db.url, &["backfill", "nokey", "--set", "b = a"]).code(1).contains("neither a primary key");
    // Reviewed: volatile on purpose.
    p.run(&db.url, &["backfill", "items", "--set", "total = (random() * 10)::int", "--allow-volatile"]).ok().contains("finished");
}

#[test]
fn pause_status_resume_and_cancel() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 200_000);
    let run =
        spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "1000", "--max-rate", "20000"]));
    assert!(
        wait_until(Duration::from_secs(30), || jobs_count(
            &db,
            "SELECT count(*) FROM stepwise.jobs WHERE kind = 'backfill' AND rows_done > 0"
        ) == 1),
        "{}",
        run.output()
    );
    p.run(&db.url, &["backfill", "pause"]).ok().contains("will pause");
    let paused = run.finish(Duration::from_secs(30));
    paused.ok().contains("paused");
    let job = db.sql("SELECT id FROM stepwise.jobs");
    let done = db.sql("SELECT rows_done FROM stepwise.jobs");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(db.sql("SELECT rows_done FROM stepwise.jobs"), done, "a paused job stays");
    p.run(&db.url, &["backfill", "status"]).ok().contains(&format!("job {job} on public.items: paused")).contains("backfill resume");
    let status = p.run(&db.url, &["backfill", "status", "--format", "json"]);
    assert!(status.stdout.contains("\"state\":\"paused\""), "{}", status.stdout);
    p.run(&db.url, &["backfill", "items", "--set", "total = 0"]).code(1).contains("already has an unfinished backfill job");
    p.run(&db.url, &["backfill", "resume", "--max-rate", "1000000"]).ok().contains("finished");
    assert_all_right(&db);
    p.run(&db.url, &["backfill", "cancel"]).code(2).contains("no unfinished backfill job");

    // Cancel: the next batch never runs; the rows done stay done.
    db.sql("UPDATE items SET total = NULL");
    let run =
        spawn_bg(p.cmd(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "1000", "--max-rate", "20000"]));
    assert!(
        wait_until(Duration::from_secs(30), || db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL") != "0"),
        "{}",
        run.output()
    );
    p.run(&db.url, &["backfill", "cancel"]).ok().contains("cancelled");
    let cancelled = run.finish(Duration::from_secs(30));
    assert_eq!(cancelled.code, 1, "{}", cancelled.all());
    let filled = db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL"), filled);
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL AND total <> a * 10 + b"), "0");
}

#[test]
fn json_events_and_a_dry_run() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 5_000);
    let dry = p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--where", "b = 3", "--dry-run"]);
    dry.ok().contains(
        "UPDATE \"public\".\"items\" SET \"total\" = CAST((a * 10 + b) AS bigint) WHERE ROW(\"id\") <= ROW('1000'::bigint) AND (b = 3)",
    );
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL"), "0", "a dry run changes nothing");
    let run = p.run(&db.url, &["backfill", "items", "--set", "total = a * 10 + b", "--format", "json"]);
    run.ok();
    let events = run.json_lines();
    assert_eq!(events.first().and_then(|e| e["event"].as_str()), Some("started"), "{}", run.stdout);
    let last = events.last().expect("events");
    assert_eq!(last["event"], "finished");
    assert_eq!(last["rows_changed"], 5000);
    assert_eq!(last["rows_done"], 5000);
}

/// The add-column, backfill, NOT NULL sequence in one reviewed migration.
const MIGRATION: &str = "-- stepwise:up
ALTER TABLE items ADD COLUMN score bigint;
-- stepwise:backfill items SET score = a * 10 + b WHERE b <> 3
-- stepwise:backfill items SET score = 0 WHERE b = 3
ALTER TABLE items ADD CONSTRAINT items_score_not_null CHECK (score IS NOT NULL) NOT VALID;
ALTER TABLE items VALIDATE CONSTRAINT items_score_not_null;
ALTER TABLE items ALTER COLUMN score SET NOT NULL;
ALTER TABLE items DROP CONSTRAINT items_score_not_null;
-- stepwise:down
ALTER TABLE items DROP COLUMN score;
";

#[test]
fn migrate_runs_a_backfill_step_and_resumes_it_after_a_kill_9() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 300_000);
    p.write("20260101000000_score.sql", MIGRATION);
    let plan = p.run(&db.url, &["plan"]);
    plan.ok().contains("3: -- stepwise:backfill items SET score = a * 10 + b WHERE b <> 3");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate", "--online-batch-rows", "2000", "--online-max-rate", "100000"]));
    let started =
        wait_until(Duration::from_secs(60), || jobs_count(&db, "SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs") >= 40_000);
    assert!(started, "the backfill step ran:\n{}", run.output());
    run.kill9();
    let _ = run.finish(Duration::from_secs(10));
    let job = db.sql("SELECT id FROM stepwise.jobs");
    let rerun = p.run(&db.url, &["migrate"]);
    rerun.ok().contains(&format!("backfill job {job}: resuming public.items")).contains("finished");
    assert_eq!(
        db.sql("SELECT string_agg(spec->>'condition' || ': ' || state, ', ' ORDER BY id) FROM stepwise.jobs"),
        "b <> 3: finished, b = 3: finished",
        "the interrupted job was resumed, not started again"
    );
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE b <> 3 AND score <> a * 10 + b"), "0");
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE b = 3 AND score <> 0"), "0");
    assert_eq!(db.sql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'score'"), "t");
    assert_eq!(db.sql("SELECT count(*) FROM touched WHERE n > 1"), "0", "no row updated twice by the backfill");
    p.run(&db.url, &["status"]).ok().contains("20260101000000");
}

#[test]
fn a_bad_backfill_step_is_refused_with_its_file_line_and_column() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 10);
    p.write("20260101000000_bad.sql", "-- stepwise:up\n-- stepwise:backfill items SET = 1\n");
    p.run(&db.url, &["migrate"]).code(2).contains("20260101000000_bad.sql:2:");
    p.write("20260101000000_bad.sql", "-- stepwise:up\n-- stepwise:backfill items SET total = nosuch\n");
    let run = p.run(&db.url, &["migrate"]);
    run.code(1).contains("20260101000000_bad.sql:2").contains("column \"nosuch\" does not exist");
    assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS NOT NULL"), "0");
}
