//! `osc --alter` is the clauses of one ALTER TABLE that the copy carries,
//! or nothing runs: a second statement, a RENAME COLUMN (whose column the
//! copy left empty while the verification passed) and a `USING` conversion
//! (which the copy ignored) are refused with exit 2 before anything is
//! created, in `osc`, its `--dry-run` and `-- stepwise:online` migrations.

mod common;
use common::*;

fn setup(db: &PgDb) {
    db.sql(
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, c int);
         INSERT INTO t SELECT g, g, g FROM generate_series(1, 5000) g;
         CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);",
    );
}

/// Nothing of osc's exists and the tables are as they were.
#[track_caller]
fn untouched(db: &PgDb) {
    assert_eq!(db.sql("SELECT count(*) FROM victim"), "1", "victim is there");
    assert_eq!(db.sql("SELECT count(*) || ':' || sum(a) || ':' || sum(c) FROM t"), "5000:12502500:12502500");
    let cols = db.sql("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped");
    assert_eq!(cols, "id,a,c");
    let made = db.sql("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_sw%' OR relname LIKE 'osc\\_%'");
    assert_eq!(made, "0", "osc created something");
    assert_eq!(db.sql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'stepwise%'"), "0");
    if db.sql("SELECT to_regclass('stepwise.jobs') IS NOT NULL") == "t" {
        assert_eq!(db.sql("SELECT count(*) FROM stepwise.jobs"), "0", "a job was recorded");
    }
}

#[test]
fn a_second_statement_in_alter_never_runs_also_in_a_dry_run() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db);
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["osc", "t", "--alter", "ADD COLUMN x int; DROP TABLE victim"];
        args.extend(extra);
        p.run(&db.url, &args).code(2).contains("`;`");
        untouched(&db);
    }
}

#[test]
fn rename_column_is_refused_where_the_copy_left_it_empty() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db);
    p.run(&db.url, &["osc", "t", "--alter", "RENAME COLUMN a TO b"]).code(2).contains("renames");
    untouched(&db);
}

#[test]
fn using_is_refused_where_the_copy_ignored_it() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db);
    p.run(&db.url, &["osc", "t", "--alter", "ALTER COLUMN c TYPE bigint USING c * 10"]).code(2).contains("USING");
    p.run(&db.url, &["osc", "t", "--alter", "ALTER COLUMN c TYPE bigint USING c * 10", "--dry-run"]).code(2);
    untouched(&db);
}

#[test]
fn a_dropped_column_is_carried_and_the_others_are_verified() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db);
    p.run(&db.url, &["osc", "t", "--alter", "DROP COLUMN a, ALTER COLUMN c TYPE bigint"]).ok().contains("swapped");
    assert_eq!(db.sql("SELECT count(*) || ':' || sum(c) FROM t"), "5000:12502500");
    assert_eq!(
        db.sql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'c'"),
        "bigint"
    );
}

#[test]
fn an_online_migration_with_a_clause_osc_cannot_carry_is_refused_at_its_line() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db);
    p.write("20260101000000_conv.sql", "-- stepwise:up\n-- stepwise:online\nALTER TABLE t ALTER COLUMN c TYPE bigint USING c * 10;\n");
    p.run(&db.url, &["plan"]).code(2).contains("20260101000000_conv.sql:3:").contains("USING");
    p.run(&db.url, &["migrate"]).code(2).contains("20260101000000_conv.sql:3:");
    if db.sql("SELECT to_regclass('stepwise.migrations') IS NOT NULL") == "t" {
        assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations"), "0", "the migration was recorded");
    }
    untouched(&db);
}
