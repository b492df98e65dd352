//! `stepwise osc` against the real PostgreSQL: a table changed while another
//! session writes to it (and to a control copy in the same transactions),
//! crashes during the copy and the swap, and input it must refuse.

mod common;
use common::osc::*;
use common::*;
use std::time::Duration;

#[test]
fn int_to_bigint_on_a_million_rows_under_writes_keeps_every_row_the_view_grants_and_the_sequence() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 1_000_000);
    let writer = Writer::start(&db.url, 1_000_000);
    let run = osc(&p, &db, &["osc", "orders", "--alter", "ALTER COLUMN id TYPE bigint"]);
    // Writes go on after the swap, into the new table.
    std::thread::sleep(Duration::from_millis(300));
    let (writes, errors) = writer.stop();
    eprintln!("{}\nwriter transactions: {writes}", run.all());
    run.ok().contains("verified 1").contains("swapped:");
    assert!(writes > 20, "the writer ran only {writes} transactions");
    assert!(errors.is_empty(), "an application transaction failed: {errors}");
    assert_equal_to_control(&db);
    assert_eq!(
        db.sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'"),
        "bigint"
    );
    // The view follows the new table and still reads; the grants hold.
    assert_eq!(db.sql("SELECT count(*) FROM big_orders"), db.sql("SELECT count(*) FROM control WHERE customer > 500"));
    assert_eq!(db.sql("SET ROLE osc_reader; SELECT count(*) > 0 FROM orders, (SELECT 1 FROM big_orders LIMIT 1) v"), "t");
    // The serial's sequence moved with the column, widened: ids past 2^31.
    db.sql("SELECT setval('orders_id_seq', 2147483650)");
    let id = db.sql("INSERT INTO orders (customer) VALUES (1) RETURNING id");
    assert_eq!(id, "2147483651");
    assert_eq!(
        db.sql("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'orders'::regclass ORDER BY 1"),
        "orders_customer_idx\norders_pkey"
    );
    assert_eq!(leftovers(&db), kept(1));
    // finish drops the reverse trigger and the old table.
    osc(&p, &db, &["osc", "finish"]).ok();
    assert_eq!(db.sql("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_sw%'"), "0");
    assert_eq!(leftovers(&db), "");
}

#[test]
fn kill_9_during_the_copy_then_resume_or_cancel_loses_nothing_and_leaves_nothing() {
    for then in ["resume", "cancel"] {
        let (db, p) = (PgDb::new(), Project::new());
        setup(&db, 200_000);
        let writer = Writer::start(&db.url, 200_000);
        let mut bg = spawn_bg(p.cmd(
            &db.url,
            &["osc", "orders", "--alter", "ADD COLUMN region text DEFAULT 'eu'", "--batch-rows", "2000", "--max-rate", "40000"],
        ));
        // The jobs table exists only once stepwise has started.
        assert!(
            wait_until(Duration::from_secs(60), || db.sql("SELECT to_regclass('stepwise.jobs') IS NOT NULL") == "t"),
            "{}",
            bg.output()
        );
        assert!(
            wait_until(Duration::from_secs(60), || db
                .sql("SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs WHERE state = 'copying'")
                .parse::<i64>()
                .unwrap_or(0)
                > 20_000),
            "the copy did not get going: {}",
            bg.output()
        );
        bg.kill9();
        drop(bg);
        let status = osc(&p, &db, &["osc", "status"]);
        status.ok().contains("copying");
        let after = osc(&p, &db, &["osc", then]);
        let (_, errors) = writer.stop();
        after.ok();
        assert!(errors.is_empty(), "an application transaction failed: {errors}");
        assert_equal_to_control(&db);
        assert_eq!(leftovers(&db), if then == "resume" { kept(1) } else { String::new() }, "after {then}");
        let region = db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'region'");
        assert_eq!(region, if then == "resume" { "1" } else { "0" }, "after {then}");
        if then == "resume" {
            assert_eq!(db.sql("SELECT count(*) FROM orders WHERE region IS DISTINCT FROM 'eu'"), "0");
        }
    }
}

#[test]
fn kill_9_while_the_swap_waits_for_its_lock_then_resume_swaps() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 50_000);
    // A reader holds the table: the swap waits in the lock queue, retrying.
    let mut reader = PsqlSession::open(&db.url, "long_reader");
    reader.query("BEGIN; SELECT count(*) FROM orders;");
    let mut cmd = p.cmd(&db.url, &["osc", "orders", "--alter", "ALTER COLUMN id TYPE bigint"]);
    cmd.env("STEPWISE_LOCK_TIMEOUT", "300ms");
    let mut bg = spawn_bg(cmd);
    assert!(bg.wait_for("lock wait", 1, Duration::from_secs(60)), "{}", bg.output());
    bg.kill9();
    drop(bg);
    osc(&p, &db, &["osc", "status"]).ok().contains("ready");
    reader.query("COMMIT;");
    osc(&p, &db, &["osc", "resume"]).ok().contains("swapped");
    assert_equal_to_control(&db);
    assert_eq!(leftovers(&db), kept(1));
}

#[test]
fn bad_requests_are_refused_and_leave_nothing() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE logs (at timestamptz, line text); CREATE TABLE items (id bigint PRIMARY KEY, name text);");
    osc(&p, &db, &["osc", "logs", "--alter", "ADD COLUMN x int"]).code(1).contains("neither a primary key nor a unique index");
    osc(&p, &db, &["osc", "nosuch", "--alter", "ADD COLUMN x int"]).code(2).contains("no table named nosuch");
    osc(&p, &db, &["osc", "items", "--alter", "ADD COLUMN x nosuchtype"]).code(2).contains("the ALTER does not apply");
    osc(&p, &db, &["osc", "items"]).code(2).contains("--alter");
    assert_eq!(leftovers(&db), "");
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.jobs WHERE state NOT IN ('cancelled', 'finished')"), "0");
    // A second job on a table with one unfinished is refused; cancel stops
    // the running one at its next batch.
    db.sql("INSERT INTO items SELECT g, 'x' FROM generate_series(1, 2000) g");
    let mut first = spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN y int", "--batch-rows", "10", "--max-rate", "200"]));
    assert!(first.wait_for("copied", 1, Duration::from_secs(60)), "{}", first.output());
    osc(&p, &db, &["osc", "items", "--alter", "ADD COLUMN z int"]).code(1).contains("already has an unfinished job");
    osc(&p, &db, &["osc", "cancel"]).ok().contains("cancelled");
    first.finish(Duration::from_secs(60)).code(1).contains("cancel");
    assert_eq!(leftovers(&db), "");
    // Capture triggers that cannot be installed (a writer's transaction
    // holds the table) leave nothing behind.
    let mut reader = PsqlSession::open(&db.url, "long_writer");
    reader.query("BEGIN; UPDATE items SET name = name WHERE id = 1;");
    let mut cmd = p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN y int"]);
    cmd.env("STEPWISE_LOCK_TIMEOUT", "100ms").env("STEPWISE_LOCK_RETRIES", "1");
    spawn_bg(cmd).finish(Duration::from_secs(60)).code(1).contains("could not install the capture triggers");
    reader.query("COMMIT;");
    assert_eq!(leftovers(&db), "");
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.jobs WHERE state NOT IN ('cancelled', 'finished')"), "0");
}

#[test]
fn dry_run_changes_nothing_and_pause_then_resume_completes() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id bigint PRIMARY KEY, name text); INSERT INTO items SELECT g, 'x' || g FROM generate_series(1, 3000) g;");
    osc(&p, &db, &["osc", "items", "--alter", "ADD COLUMN price numeric", "--dry-run"])
        .ok()
        .contains("ALTER TABLE \"public\".\"_sw0_items_new\" ADD COLUMN price numeric;");
    assert_eq!(db.sql("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_sw%' OR relname = 'jobs'"), "0");
    let mut first =
        spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN price numeric", "--batch-rows", "10", "--max-rate", "300"]));
    assert!(first.wait_for("copied", 1, Duration::from_secs(60)), "{}", first.output());
    osc(&p, &db, &["osc", "pause"]).ok().contains("will pause");
    first.finish(Duration::from_secs(60)).ok().contains("paused");
    osc(&p, &db, &["osc", "status"]).ok().contains("paused").contains("osc resume");
    osc(&p, &db, &["osc", "resume"]).ok().contains("swapped");
    assert_eq!(db.sql("SELECT count(*), count(price) FROM items"), "3000|0");
    assert_eq!(leftovers(&db), kept(1));
}
