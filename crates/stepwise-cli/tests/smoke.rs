mod common;
use common::*;

#[test]
fn applies_and_rolls_back_on_postgres() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "-- stepwise:up\nCREATE TABLE a (id int);\n-- stepwise:down\nDROP TABLE a;\n");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert_eq!(db.sql("SELECT status FROM stepwise.migrations WHERE version = '1'"), "applied");
    p.run(&db.url, &["rollback"]).ok();
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations"), "0");
    assert_eq!(db.sql("SELECT to_regclass('a') IS NULL"), "t");
}
