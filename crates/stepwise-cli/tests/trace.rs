//! `stepwise trace`: what each statement really did, read off the server.

mod common;
use common::*;

#[test]
fn trace_on_a_database_reports_locks_rewrites_and_scans_and_changes_nothing() {
    let db = PgDb::new();
    db.sql("CREATE TABLE orders (id int PRIMARY KEY, status text, n int); INSERT INTO orders SELECT g, 'new', g FROM generate_series(1, 100) g;");
    let p = Project::new();
    p.write(
        "2_change.sql",
        "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\nALTER TABLE orders ALTER COLUMN n TYPE bigint;\nCREATE TABLE fresh (id int);\n",
    );
    p.write("3_index.sql", "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY orders_n_idx ON orders (n);\n");
    let r = p.run("", &["trace", "--database", &db.url]);
    r.ok()
        .contains("1:1 ALTER TABLE orders ALTER COLUMN status SET NOT NULL")
        .contains("locks: orders ACCESS EXCLUSIVE (table)")
        .contains("scanned: orders")
        .contains("rewrote: orders, orders_pkey")
        .contains("not run: PostgreSQL runs it only outside a transaction")
        .contains("the database is unchanged");
    // Rolled back: nothing of it stayed.
    assert_eq!(
        db.sql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'n'"),
        "integer"
    );
    assert_eq!(db.sql("SELECT to_regclass('fresh') IS NULL AND to_regclass('orders_n_idx') IS NULL"), "t");

    // --commit runs everything (for a throwaway database), CONCURRENTLY sampled while it runs.
    let r = p.run("", &["trace", "--database", &db.url, "--commit", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.all()));
    assert_eq!(v["migrations"][1]["statements"][0]["how"], "sampled", "{v:#}");
    assert_eq!(db.sql("SELECT to_regclass('orders_n_idx') IS NOT NULL"), "t");
}

#[test]
fn a_statement_that_fails_is_reported_and_the_exit_status_says_so() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_bad.sql", "CREATE TABLE a (id int);\nALTER TABLE missing ADD COLUMN x int;\nCREATE TABLE b (id int);\n");
    p.run("", &["trace", "--database", &db.url])
        .code(1)
        .contains("failed: relation \"missing\" does not exist")
        .contains("not run: an earlier statement of this transactional migration failed");
    p.run("", &["trace", "--database", "mysql://root@127.0.0.1:3306/x"]).code(2).contains("PostgreSQL");
}
