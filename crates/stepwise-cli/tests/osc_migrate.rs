//! `-- stepwise:online` inside a migration: `stepwise migrate` runs the
//! ALTER TABLE after it as an online schema change (osc) against the real
//! PostgreSQL while another session writes, resumes the same job after a
//! `kill -9`, and refuses what it cannot run online (exit 2) before anything
//! runs (MariaDB's online changes are in `osc_mariadb.rs`).

mod common;
use common::osc::*;
use common::*;
use std::time::Duration;

const WIDEN: &str = "-- stepwise:up
ALTER TABLE orders ADD COLUMN status text;
-- stepwise:online
ALTER TABLE orders ALTER COLUMN id TYPE bigint;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
-- stepwise:down
DROP INDEX CONCURRENTLY orders_status_idx;
ALTER TABLE orders DROP COLUMN status;
";

fn id_type(db: &PgDb) -> String {
    db.sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'")
}

/// The migration's tracking row: status, statements applied, osc job in flight.
fn tracking(db: &PgDb, version: &str) -> String {
    db.sql(&format!(
        "SELECT string_agg(status || ' ' || statements_applied || '/' || statements_total || ' ' || coalesce(osc_job::text, '-'), '; ')
           FROM stepwise.migrations WHERE version = '{version}'"
    ))
}

#[test]
fn an_online_alter_in_a_migration_runs_through_osc_under_writes_and_is_recorded_after_the_swap() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 200_000);
    p.write("20251110090000_widen_orders_id.sql", WIDEN);

    // The plan says how the statement will run; nothing runs.
    p.run(&db.url, &["migrate", "--dry-run"])
        .ok()
        .contains("(no transaction: statement by statement, progress recorded; 1 online change)")
        .contains("online: osc copies orders with `ALTER COLUMN id TYPE bigint` applied");
    assert_eq!(id_type(&db), "integer");

    // Lint does not report the rewrite osc avoids (and would without the directive).
    let lint = p.run(&db.url, &["lint"]);
    lint.ok();
    assert!(!lint.all().contains("alter-column-type"), "{}", lint.all());
    // The same file without the directive (and marked no-transaction, as the
    // directive made it) is an error for the rewrite alone.
    let plain = format!("-- stepwise:no-transaction\n{}", WIDEN.replace("-- stepwise:online\n", ""));
    p.write("plain/1_plain.sql", &plain);
    p.run(&db.url, &["lint", "migrations/plain"]).code(1).contains("error[alter-column-type]");
    std::fs::remove_dir_all(p.migrations().join("plain")).expect("remove plain");

    let writer = Writer::start(&db.url, 200_000);
    let run = bounded(&p, &db.url, &["migrate"]);
    std::thread::sleep(Duration::from_millis(300));
    let (writes, errors) = writer.stop();
    eprintln!("{}\nwriter transactions: {writes}", run.all());
    run.ok()
        .contains("statement 2 (line 4): ALTER TABLE orders (online")
        .contains("osc job 1: copying public.orders")
        .contains("verified ")
        .contains("swapped: ")
        .contains("statement 3 (line 5): CREATE INDEX")
        .contains("`stepwise osc finish --job 1` drops it")
        .contains("`stepwise osc revert --job 1` swaps it back")
        .contains("Applied 1 migration");
    assert!(writes > 20, "the writer ran only {writes} transactions");
    assert!(errors.is_empty(), "an application transaction failed: {errors}");

    // Every row, including those written during the copy, and the change.
    assert_equal_to_control(&db);
    assert_eq!(id_type(&db), "bigint");
    assert_eq!(
        db.sql("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0 AND NOT attisdropped"),
        "id,customer,note,code,status"
    );
    assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_status_idx'::regclass"), "t");
    // Recorded once, fully applied, no job left in flight; the job swapped
    // and keeps the old table until `osc finish`.
    assert_eq!(tracking(&db, "20251110090000"), "applied 3/3 -");
    assert_eq!(db.sql("SELECT string_agg(id || ' ' || state, ',') FROM stepwise.jobs"), "1 swapped");
    assert_eq!(leftovers(&db), kept(1));
    p.run(&db.url, &["migrate"]).ok().contains("Nothing to apply");
    p.run(&db.url, &["osc", "finish", "--job", "1"]).ok();
    assert_eq!(leftovers(&db), "");
    assert_equal_to_control(&db);
}

#[test]
fn kill_9_during_the_copy_then_migrate_again_resumes_the_same_job_and_loses_nothing() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 200_000);
    p.write(
        "20251110090000_add_region.sql",
        "ALTER TABLE orders ADD COLUMN status text;\n-- stepwise:online\nALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';\nALTER TABLE orders ADD COLUMN after_online int;\n",
    );
    let writer = Writer::start(&db.url, 200_000);
    // A slow copy (flags; STEPWISE_ONLINE_* or [online] in stepwise.toml do the same).
    let mut bg = spawn_bg(p.cmd(&db.url, &["migrate", "--online-batch-rows", "2000", "--online-max-rate", "20000"]));
    let copying = || {
        db.sql("SELECT to_regclass('stepwise.jobs') IS NOT NULL") == "t"
            && db.sql("SELECT coalesce(max(rows_done), 0) FROM stepwise.jobs WHERE state = 'copying'").parse::<i64>().unwrap_or(0) > 20_000
    };
    assert!(wait_until(Duration::from_secs(60), copying), "the copy did not get going: {}", bg.output());
    bg.kill9();
    let before = bg.output();
    drop(bg);
    // The row says where it stopped: the first statement ran, the online one
    // is in flight with its job recorded.
    assert_eq!(tracking(&db, "20251110090000"), "running 1/3 1");
    p.run(&db.url, &["status"]).ok().contains("interrupted").contains("runs as osc job 1: `stepwise migrate` resumes that job");
    let copied: i64 = db.sql("SELECT rows_done FROM stepwise.jobs WHERE id = 1").parse().expect("rows_done");
    assert!(copied < 200_000, "killed too late to test a resume: {copied} rows copied\n{before}");

    let again = bounded(&p, &db.url, &["migrate"]);
    std::thread::sleep(Duration::from_millis(300));
    let (writes, errors) = writer.stop();
    eprintln!("{before}\n--- again:\n{}\nwriter transactions: {writes}", again.all());
    again
        .ok()
        .contains("resuming at statement 2 of 3")
        .contains("resuming osc job 1 (copying")
        .contains("swapped: ")
        .contains("Applied 1 migration");
    assert!(!again.all().contains("osc job 2"), "a second job was started: {}", again.all());
    assert!(errors.is_empty(), "an application transaction failed: {errors}");
    // The same job, continued (not started over), swapped; nothing lost.
    assert_eq!(db.sql("SELECT string_agg(id || ' ' || state, ',') FROM stepwise.jobs"), "1 swapped");
    assert_equal_to_control(&db);
    assert_eq!(db.sql("SELECT count(*) FROM orders WHERE region IS DISTINCT FROM 'eu'"), "0");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name IN ('status', 'region', 'after_online')"), "3");
    // Recorded once, as applied.
    assert_eq!(tracking(&db, "20251110090000"), "applied 3/3 -");
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations"), "1");
    assert_eq!(leftovers(&db), kept(1));
}

#[test]
fn a_second_online_change_waits_for_osc_finish_of_the_first_and_then_runs() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'x' FROM generate_series(1, 5000) g;");
    p.write("1_widen.sql", "-- stepwise:online\nALTER TABLE items ALTER COLUMN id TYPE bigint;\n");
    p.write("2_flag.sql", "-- stepwise:online\nALTER TABLE public.items ADD COLUMN flag boolean NOT NULL DEFAULT false;\n");
    // The first swaps and keeps its old table: osc allows one unfinished job
    // per table, so the second is refused with what settles it.
    bounded(&p, &db.url, &["migrate"])
        .code(1)
        .contains("migrations/2_flag.sql:2:1")
        .contains("still keeps the old table of osc job 1")
        .contains("`stepwise osc finish --job 1`");
    assert_eq!(db.sql("SELECT string_agg(version || ' ' || status, ',' ORDER BY version) FROM stepwise.migrations"), "1 applied,2 failed");
    p.run(&db.url, &["osc", "finish", "--job", "1"]).ok();
    bounded(&p, &db.url, &["migrate"]).ok().contains("osc job 2: copying public.items");
    assert_eq!(db.sql("SELECT string_agg(version || ' ' || status, ',' ORDER BY version) FROM stepwise.migrations"), "1 applied,2 applied");
    assert_eq!(db.sql("SELECT count(*) FILTER (WHERE NOT flag) || ' ' || pg_typeof(min(id)) FROM items"), "5000 bigint");
}

#[test]
fn online_where_it_cannot_run_is_refused_with_exit_2_before_anything_runs() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE t (id int PRIMARY KEY)");
    // Not an ALTER TABLE: file, line and column of the statement.
    p.write("1_bad.sql", "-- stepwise:up\n-- stepwise:online\nCREATE INDEX t_id ON t (id);\n");
    for args in [&["migrate"][..], &["plan"], &["lint"]] {
        p.run(&db.url, args)
            .code(2)
            .contains("migrations/1_bad.sql:3:1")
            .contains("`-- stepwise:online` (line 2) applies to the next statement, which must be an `ALTER TABLE` on one table");
    }
    // On the last line with nothing after it, and in a down section.
    p.write("1_bad.sql", "ALTER TABLE t ADD COLUMN a int;\n-- stepwise:online\n");
    p.run(&db.url, &["migrate"]).code(2).contains("migrations/1_bad.sql:2:1").contains("no statement follows");
    p.write(
        "1_bad.sql",
        "-- stepwise:up\nALTER TABLE t ADD COLUMN a int;\n-- stepwise:down\n-- stepwise:online\nALTER TABLE t DROP COLUMN a;\n",
    );
    p.run(&db.url, &["migrate"]).code(2).contains("migrations/1_bad.sql:4:1").contains("belongs in an up section");
    // Nothing ran, nothing was created.
    assert_eq!(db.sql("SELECT to_regclass('stepwise.migrations') IS NULL AND to_regclass('stepwise.jobs') IS NULL"), "t");
    assert_eq!(db.sql("SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0"), "1");
}

#[test]
fn a_store_made_before_the_osc_job_column_is_read_and_upgraded_by_migrate_and_rollback() {
    let (db, p) = (PgDb::new(), Project::new());
    let nt = "-- stepwise:no-transaction";
    p.write("1_a.sql", &format!("-- stepwise:up\n{nt}\nCREATE TABLE a (id int);\n-- stepwise:down\n{nt}\nDROP TABLE a;\n"));
    p.write("2_b.sql", &format!("-- stepwise:up\n{nt}\nCREATE TABLE b (id int);\n-- stepwise:down\n{nt}\nDROP TABLE b;\n"));
    let column = "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'stepwise' AND table_name = 'migrations' AND column_name = 'osc_job'";
    p.run(&db.url, &["migrate", "--to", "1"]).ok();
    db.sql("ALTER TABLE stepwise.migrations DROP COLUMN osc_job");
    p.run(&db.url, &["status"]).ok().contains("applied").contains("pending");
    // A rollback that records progress (its down runs outside a transaction) upgrades the store first.
    p.run(&db.url, &["rollback"]).ok().contains("Rolled back 1 migration");
    assert_eq!(db.sql(column), "1");
    db.sql("ALTER TABLE stepwise.migrations DROP COLUMN osc_job");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 2 migrations");
    assert_eq!(db.sql(column), "1");
    assert_eq!(db.sql("SELECT string_agg(version || ' ' || status, ',' ORDER BY version) FROM stepwise.migrations"), "1 applied,2 applied");
}

/// `verify` runs online statements on its scratch database too, and drops
/// their old tables at once (nobody needs the way back there), so the downs
/// are judged on the schema the migrations make.
#[test]
fn verify_runs_online_statements_and_judges_the_downs() {
    let p = Project::new();
    p.write("1_create.sql", "-- stepwise:up\nCREATE TABLE items (id int PRIMARY KEY, name text);\nINSERT INTO items SELECT g, 'x' FROM generate_series(1, 1000) g;\n-- stepwise:down\nDROP TABLE items;\n");
    p.write("2_widen.sql", "-- stepwise:up\n-- stepwise:online\nALTER TABLE items ALTER COLUMN id TYPE bigint, ADD COLUMN flag boolean NOT NULL DEFAULT false;\n-- stepwise:down\nALTER TABLE items DROP COLUMN flag;\n");
    let mut cmd = p.cmd("", &["verify"]);
    cmd.env_remove("DATABASE_URL");
    let run = spawn_bg(cmd).finish(Duration::from_secs(300));
    // The down leaves id bigint: not the schema before the up, and verify says so.
    run.code(1).contains("FAIL     2 widen").contains("+     id bigint NOT NULL").contains("verify: FAILED");
    assert!(!run.all().contains("_sw"), "an old table was kept and compared: {}", run.all());
    p.write("2_widen.sql", "-- stepwise:up\n-- stepwise:online\nALTER TABLE items ALTER COLUMN id TYPE bigint, ADD COLUMN flag boolean NOT NULL DEFAULT false;\n-- stepwise:down\nALTER TABLE items DROP COLUMN flag, ALTER COLUMN id TYPE int;\n");
    let mut cmd = p.cmd("", &["verify"]);
    cmd.env_remove("DATABASE_URL");
    spawn_bg(cmd).finish(Duration::from_secs(300)).ok().contains("ok       2 widen: down restores the schema").contains("verify: ok");
}

/// A publication FOR ALL TABLES would stream osc's own tables (the copy, the
/// change log, the old table) to subscribers that do not have them: the
/// online statement is refused before anything is created, and runs when
/// the flag says the subscribers can take them.
#[test]
fn an_online_alter_under_a_publication_for_all_tables_is_refused_unless_allowed() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 1_000);
    db.sql("CREATE PUBLICATION everything FOR ALL TABLES");
    p.write("20251110090000_widen_orders_id.sql", WIDEN);
    p.run(&db.url, &["migrate"]).code(1).contains("publication everything publishes all tables");
    assert_eq!(id_type(&db), "integer");
    assert_eq!(leftovers(&db), "");
    p.run(&db.url, &["osc", "orders", "--alter", "ALTER COLUMN id TYPE bigint"]).code(1).contains("--allow-all-tables-publication");
    assert_eq!(leftovers(&db), "");
    p.run(&db.url, &["migrate", "--online-allow-all-tables-publication"]).ok();
    assert_eq!(id_type(&db), "bigint");
    // The new table is published like every table.
    assert_eq!(db.sql("SELECT count(*) FROM pg_publication_tables WHERE pubname = 'everything' AND tablename = 'orders'"), "1");
}
