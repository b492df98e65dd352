//! A down section that runs outside a transaction and fails halfway is
//! recorded (direction `down`), `migrate` refuses to run over it, and the
//! next `rollback` continues at the failed statement without re-running the
//! ones that ran.

mod common;
use common::*;

#[test]
fn a_failed_non_transactional_rollback_is_recorded_and_resumed_on_postgres() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_t.sql", "-- stepwise:up\nCREATE TABLE t (id int, a int);\n-- stepwise:down\nDROP TABLE t;\n");
    let broken = "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE TABLE side (id int);\n\
                  -- stepwise:down\nDROP INDEX CONCURRENTLY t_a;\nDROP TABLE sidee;\n";
    p.write("2_idx.sql", broken);
    p.run(&db.url, &["migrate"]).ok();

    let r = p.run(&db.url, &["rollback"]);
    r.code(1).contains("2_idx.sql:7:1").contains("statements 1 to 1 of the down section were applied").contains("stepwise rollback");
    assert_eq!(
        db.sql("SELECT status, direction, statements_applied, statements_total, in_flight FROM stepwise.migrations WHERE version = '2'"),
        "failed|down|1|2|1"
    );
    assert_eq!(db.sql("SELECT to_regclass('t_a') IS NULL"), "t", "statement 1 of the down ran");
    p.run(&db.url, &["status"]).ok().contains("was being rolled back and stopped after 1 of 2 down statements");
    p.run(&db.url, &["migrate"]).code(1).contains("was being rolled back");

    // Fixed: statement 1 (which would fail if it ran again) is not re-run.
    p.write("2_idx.sql", &broken.replace("sidee", "side"));
    p.run(&db.url, &["rollback"]).ok().contains("resuming at statement 2");
    assert_eq!(db.sql("SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM stepwise.migrations"), "1:applied");
    assert_eq!(db.sql("SELECT to_regclass('side') IS NULL AND to_regclass('t') IS NOT NULL"), "t");
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a'::regclass"), "t");
}

#[test]
fn a_failed_ddl_rollback_is_recorded_and_resumed_on_mariadb() {
    // Tested on MariaDB: DDL commits implicitly, so the down runs statement by statement.
    let db = MyDb::new();
    let p = Project::new();
    p.write(
        "1_t.sql",
        "-- stepwise:up\nCREATE TABLE t (id int);\nCREATE TABLE u (id int);\n-- stepwise:down\nDROP TABLE u;\nDROP TABLE tt;\n",
    );
    p.run(&db.url, &["migrate"]).ok();
    p.run(&db.url, &["rollback"]).code(1).contains("1_t.sql:6");
    assert_eq!(db.sql("SELECT CONCAT_WS('|', status, direction, statements_applied) FROM stepwise_migrations"), "failed|down|1");
    p.write(
        "1_t.sql",
        "-- stepwise:up\nCREATE TABLE t (id int);\nCREATE TABLE u (id int);\n-- stepwise:down\nDROP TABLE u;\nDROP TABLE t;\n",
    );
    // DROP TABLE u would fail if it ran again.
    p.run(&db.url, &["rollback"]).ok().contains("resuming at statement 2");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_migrations"), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('t', 'u')"), "0");
}
