//! A real project's history, adopted with zero configuration: a synthetic
//! history in the shapes and layouts real projects use (see
//! `common/history.rs`) applies from scratch with `stepwise migrate` (its
//! lint gate on), rolls back to an empty schema, and applies again.

mod common;
use common::history::{history, write, Style};
use common::*;

/// User relations, types and functions outside stepwise's own schema.
fn user_objects(db: &PgDb) -> String {
    db.sql(
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public')
             || ' relations, ' || (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                                    WHERE n.nspname = 'public' AND t.typtype = 'e') || ' enums, '
             || (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public') || ' functions'",
    )
}

fn applied(db: &PgDb) -> String {
    db.sql("SELECT count(*) FROM stepwise.migrations WHERE status = 'applied'")
}

fn round_trip(style: Style, base_tables: usize, features: usize) {
    let db = PgDb::new();
    let p = Project::new();
    let migs = history(base_tables, features);
    let n = write(&p.migrations(), &migs, style);
    let run = p.run(&db.url, &["migrate"]);
    assert_eq!(run.code, 0, "{style:?}: migrate from scratch:\n{}", run.all());
    assert_eq!(applied(&db), n.to_string(), "{style:?}");
    // Deploy-time output stays short: warnings are counted, not listed.
    assert!(run.all().lines().filter(|l| l.contains("warning")).count() <= 1, "{style:?}: {}", run.all());
    let full = user_objects(&db);
    assert_ne!(full, "0 relations, 0 enums, 0 functions");

    let back = p.run(&db.url, &["rollback", "--step", &n.to_string()]);
    assert_eq!(back.code, 0, "{style:?}: rollback:\n{}", back.all());
    assert_eq!(applied(&db), "0", "{style:?}");
    assert_eq!(user_objects(&db), "0 relations, 0 enums, 0 functions", "{style:?}: rollback leaves an empty schema");

    let again = p.run(&db.url, &["migrate"]);
    assert_eq!(again.code, 0, "{style:?}: migrate again:\n{}", again.all());
    assert_eq!(applied(&db), n.to_string(), "{style:?}");
    assert_eq!(user_objects(&db), full, "{style:?}: the second apply builds the same schema");
}

#[test]
fn a_501_migration_golang_migrate_history_applies_rolls_back_and_applies_again() {
    assert_eq!(history(30, 50).len(), 501);
    round_trip(Style::GolangMigrate, 30, 50);
}

#[test]
fn the_same_history_in_dbmate_goose_and_flyway_layouts() {
    for style in [Style::Dbmate, Style::Goose, Style::Flyway] {
        round_trip(style, 5, 6);
    }
}

/// Linted against an empty database, every migration is pending: the gate
/// `migrate` runs, seen from `stepwise lint` in CI.
#[test]
fn lint_of_the_whole_history_against_an_empty_database_has_no_errors() {
    let db = PgDb::new();
    let p = Project::new();
    write(&p.migrations(), &history(30, 50), Style::GolangMigrate);
    let r = p.run("", &["lint", "--database", &db.url, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.all()));
    assert_eq!(v["summary"]["unparseable"], 0, "{:#}", v["errors"]);
    assert_eq!(v["summary"]["cannot_run"], 0, "{:#}", v["errors"]);
    let errors: Vec<&serde_json::Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(r.code, 0, "{}", r.all());
}
