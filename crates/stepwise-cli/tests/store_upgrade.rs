//! A tracking table made by an earlier stepwise (before the `direction`
//! column) is read as it is, and upgraded in place by the next locked run.

mod common;
use common::*;

#[test]
fn a_store_without_the_direction_column_is_read_and_upgraded() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "-- stepwise:up\nCREATE TABLE a (id int);\n-- stepwise:down\nDROP TABLE a;\n");
    p.write("2_b.sql", "-- stepwise:up\nCREATE TABLE b (id int);\n-- stepwise:down\nDROP TABLE b;\n");
    p.run(&db.url, &["migrate", "--to", "1"]).ok();
    db.sql("ALTER TABLE stepwise.migrations DROP COLUMN direction");

    p.run(&db.url, &["status"]).ok().contains("applied").contains("pending");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert_eq!(db.sql("SELECT string_agg(version || ':' || direction, ',' ORDER BY version) FROM stepwise.migrations"), "1:up,2:up");
}

#[test]
fn a_mariadb_store_without_the_direction_column_is_read_and_upgraded() {
    // Tested on MariaDB.
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_a.sql", "-- stepwise:up\nCREATE TABLE a (id int);\n-- stepwise:down\nDROP TABLE a;\n");
    p.write("2_b.sql", "-- stepwise:up\nCREATE TABLE b (id int);\n-- stepwise:down\nDROP TABLE b;\n");
    p.run(&db.url, &["migrate", "--to", "1"]).ok();
    db.sql("ALTER TABLE stepwise_migrations DROP COLUMN direction");

    p.run(&db.url, &["status"]).ok().contains("pending");
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(db.sql("SELECT GROUP_CONCAT(CONCAT(version, ':', direction) ORDER BY version) FROM stepwise_migrations"), "1:up,2:up");
}
