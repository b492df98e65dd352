//! After an osc swap: what hangs on the table and points at it is carried
//! over (foreign keys both ways, validated; application triggers; row-level
//! security; replica identity; publications), the old table is kept in sync,
//! and `osc revert` swaps back with every row written since. Against the
//! real PostgreSQL, with an application writing throughout.

mod common;
use common::osc::*;
use common::*;
use std::time::Duration;

/// Around `setup`'s tables: a referencing table (cascading, as the
/// application's primary-key updates and deletes need), a referenced one,
/// an audit trigger, a row-level security policy, replica identity FULL and
/// a publication.
fn dress(db: &PgDb) {
    db.sql(
        "CREATE TABLE customers (id int PRIMARY KEY);
         INSERT INTO customers SELECT g FROM generate_series(0, 200000) g;
         ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer) REFERENCES customers (id);
         CREATE TABLE order_lines (id serial PRIMARY KEY, order_id int NOT NULL
             CONSTRAINT order_lines_order_fk REFERENCES orders (id) ON UPDATE CASCADE ON DELETE CASCADE);
         INSERT INTO order_lines (order_id) SELECT g FROM generate_series(1, 5000) g;
         CREATE TABLE audit (order_id bigint, at timestamptz DEFAULT clock_timestamp());
         CREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN INSERT INTO audit (order_id) VALUES (NEW.id); RETURN NULL; END $$;
         CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit_insert();
         ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
         CREATE POLICY low_customers ON orders FOR SELECT TO osc_reader USING (customer < 500);
         ALTER TABLE orders REPLICA IDENTITY FULL;
         CREATE PUBLICATION osc_pub FOR TABLE orders;",
    );
}

/// Everything `dress` set up holds for whatever table is called `orders` now.
fn assert_dressed(db: &PgDb, writes: u64, when: &str) {
    // Foreign keys both ways point at `orders`, are validated and enforced.
    assert_eq!(
        db.sql(
            "SELECT string_agg(conname || ' ' || convalidated, ', ' ORDER BY conname) FROM pg_constraint
              WHERE contype = 'f' AND 'orders'::regclass IN (conrelid, confrelid)"
        ),
        "order_lines_order_fk true, orders_customer_fk true",
        "{when}"
    );
    assert_eq!(
        db.sql("SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL"),
        "0",
        "{when}: a line lost its order"
    );
    let orphan = psql_err(db, "INSERT INTO order_lines (order_id) VALUES (-1)");
    assert!(orphan.contains("order_lines_order_fk"), "{when}: {orphan}");
    let bad_customer = psql_err(db, "INSERT INTO orders (customer) VALUES (-1)");
    assert!(bad_customer.contains("orders_customer_fk"), "{when}: {bad_customer}");
    // The audit trigger fired once per application insert: on the live
    // table only, never again for the copy kept in sync.
    assert_eq!(db.sql("SELECT count(*) FROM audit"), writes.to_string(), "{when}: audit rows");
    // Row-level security still filters the reader.
    assert_eq!(
        db.sql("SET ROLE osc_reader; SELECT count(*) FROM orders"),
        db.sql("SELECT count(*) FROM control WHERE customer < 500"),
        "{when}"
    );
    assert_eq!(db.sql("SELECT relreplident FROM pg_class WHERE oid = 'orders'::regclass"), "f", "{when}");
    assert_eq!(db.sql("SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = 'osc_pub'"), "orders", "{when}");
}

#[test]
fn revert_after_the_swap_returns_every_row_written_since_and_everything_carried_over_holds() {
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 200_000);
    dress(&db);
    let writer = Writer::start(&db.url, 200_000);
    let run = osc(&p, &db, &["osc", "orders", "--alter", "ALTER COLUMN id TYPE bigint"]);
    eprintln!("{}", run.all());
    run.ok().contains("swapped:").contains("validated foreign key(s)");
    // The application keeps writing into the new table for a while.
    let swapped_at = db.sql("SELECT max(id) FROM control WHERE id < 10000000");
    std::thread::sleep(Duration::from_millis(1500));
    let (writes_before, errors) = writer.stop();
    assert!(errors.is_empty(), "an application transaction failed: {errors}");
    assert_equal_to_control(&db);
    assert_dressed(&db, writes_before, "after the swap");
    assert_eq!(
        db.sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'"),
        "bigint"
    );
    let since = db.sql(&format!("SELECT count(*) FROM control WHERE id > {swapped_at} AND id < 10000000"));
    assert!(since.parse::<i64>().unwrap() > 10, "only {since} rows were written after the swap");
    osc(&p, &db, &["osc", "status"]).ok().contains("swapped").contains("osc revert");

    // Revert while the application writes.
    let writer = Writer::start(&db.url, 200_000);
    std::thread::sleep(Duration::from_millis(300));
    let revert = osc(&p, &db, &["osc", "revert"]);
    eprintln!("{}", revert.all());
    revert.ok().contains("reverted:").contains("validated foreign key(s)");
    std::thread::sleep(Duration::from_millis(500));
    let (writes_after, errors) = writer.stop();
    assert!(errors.is_empty(), "an application transaction failed: {errors}");
    assert_equal_to_control(&db);
    assert_dressed(&db, writes_before + writes_after, "after the revert");
    assert_eq!(
        db.sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'"),
        "integer"
    );
    // The view, the grants, the serial and the index names are the original's.
    assert_eq!(db.sql("SELECT count(*) FROM big_orders"), db.sql("SELECT count(*) FROM control WHERE customer > 500"));
    assert_eq!(db.sql("SET ROLE osc_reader; SELECT count(*) > 0 FROM big_orders"), "t");
    let id: i64 = db.sql("INSERT INTO orders (customer) VALUES (1) RETURNING id").parse().unwrap();
    assert!(id > 200_000);
    assert_eq!(
        db.sql("SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'orders'::regclass"),
        "orders_customer_idx,orders_pkey"
    );
    assert_eq!(leftovers(&db), "");
    assert_eq!(db.sql("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_sw%'"), "0");
    osc(&p, &db, &["osc", "status", "--job", "1"]).ok().contains("reverted");
}

#[test]
fn a_value_that_cannot_go_back_closes_revert_without_failing_the_write() {
    let (db, p) = (PgDb::new(), Project::new());
    db.sql(
        "CREATE TABLE items (id serial PRIMARY KEY, name text); INSERT INTO items (name) SELECT 'x' || g FROM generate_series(1, 5000) g;",
    );
    osc(&p, &db, &["osc", "items", "--alter", "ALTER COLUMN id TYPE bigint"]).ok().contains("swapped");
    // Fits the old int column: written back.
    db.sql("INSERT INTO items (id, name) VALUES (2000000000, 'fits')");
    assert_eq!(db.sql("SELECT name FROM _sw1_items_old WHERE id = 2000000000"), "fits");
    // Does not: the application's write succeeds, revert closes.
    db.sql("INSERT INTO items (id, name) VALUES (3000000000, 'too big')");
    assert_eq!(db.sql("SELECT count(*) FROM items"), "5002");
    osc(&p, &db, &["osc", "status"]).ok().contains("revert is no longer possible").contains("out of range");
    osc(&p, &db, &["osc", "revert"]).code(1).contains("can no longer be reverted");
    assert_eq!(
        db.sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'id'"),
        "bigint"
    );
    osc(&p, &db, &["osc", "finish"]).ok();
    assert_eq!(leftovers(&db), "");
    assert_eq!(db.sql("SELECT count(*) FROM items"), "5002");
}
