//! `stepwise osc` on PostgreSQL with keys other than one integer column,
//! under writes: a batch finds its own end in its scan when every key
//! column is an integer (a composite key here), and finds it ahead of the
//! batch otherwise (a text key, whose order an ALTER could change). Each
//! ends equal, row for row, to a control table written in the same
//! transactions.

mod common;
use common::osc::{leftovers, osc, Writer};
use common::*;
use std::time::Duration;

/// `table` altered by osc while `write` runs, then compared with `control`.
fn under_writes(db: &PgDb, table: &str, alter: &str, write: &'static str, batch_rows: &str) {
    let p = Project::new();
    let writer = Writer::running(&db.url, write.to_string());
    std::thread::sleep(Duration::from_millis(100));
    let run = osc(&p, db, &["osc", table, "--alter", alter, "--batch-rows", batch_rows, "--max-rate", "20000"]);
    std::thread::sleep(Duration::from_millis(200));
    let (writes, errors) = writer.stop();
    eprintln!("{}\nwriter transactions: {writes}", run.all());
    run.ok().contains("verified").contains("swapped:");
    assert!(writes > 20, "the writer ran only {writes} transactions");
    assert!(errors.is_empty(), "an application transaction failed: {errors}");
    let differ = db.sql(&format!(
        "SELECT (SELECT count(*) FROM (TABLE {table} EXCEPT TABLE control) a) + (SELECT count(*) FROM (TABLE control EXCEPT TABLE {table}) b)"
    ));
    assert_eq!(differ, "0", "{table} differs from control");
    assert_eq!(db.sql(&format!("SELECT count(*) FROM {table}")), db.sql("SELECT count(*) FROM control"));
    osc(&p, db, &["osc", "finish"]).ok();
    assert_eq!(leftovers(db), "");
}

#[test]
fn a_composite_integer_key_is_copied_in_batches_that_find_their_own_end_and_loses_nothing_under_writes() {
    let db = PgDb::new();
    // 20,000 rows, in batches of 1,000 that divide them exactly: the last
    // batch finds nothing left.
    db.sql(
        "CREATE TABLE lines (tenant int, id bigint, qty int NOT NULL, note text, PRIMARY KEY (tenant, id));
         INSERT INTO lines SELECT t, g, g % 7, 'n' || g FROM generate_series(1, 4) t, generate_series(1, 5000) g;
         CREATE TABLE control AS TABLE lines;",
    );
    // Inserts past the cursor and behind it, an update, a key moved from a
    // copied tenant to one not yet copied, and a delete.
    const WRITE: &str = "DO $$
DECLARE t int := 1 + floor(random() * 4)::int; k bigint := 1 + floor(random() * 5000)::bigint; n bigint := 5000 + floor(random() * 1000000)::bigint;
BEGIN
  INSERT INTO lines VALUES (t, n, 1, 'live') ON CONFLICT DO NOTHING;
  INSERT INTO control SELECT t, n, 1, 'live' WHERE NOT EXISTS (SELECT 1 FROM control WHERE tenant = t AND id = n);
  UPDATE lines SET qty = qty + 1, note = 'upd' WHERE tenant = t AND id = k;
  UPDATE control SET qty = qty + 1, note = 'upd' WHERE tenant = t AND id = k;
  k := 1 + floor(random() * 5000)::bigint;
  UPDATE lines SET tenant = 5 - tenant, id = id + 2000000 WHERE tenant = 1 AND id = k;
  UPDATE control SET tenant = 5 - tenant, id = id + 2000000 WHERE tenant = 1 AND id = k;
  k := 1 + floor(random() * 5000)::bigint;
  DELETE FROM lines WHERE tenant = 5 - t AND id = k;
  DELETE FROM control WHERE tenant = 5 - t AND id = k;
END $$;";
    under_writes(&db, "lines", "ALTER COLUMN tenant TYPE bigint", WRITE, "1000");
    assert_eq!(
        db.sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'lines'::regclass AND attname = 'tenant'"),
        "bigint"
    );
}

#[test]
fn a_text_key_is_copied_in_ranges_found_ahead_and_loses_nothing_under_writes() {
    let db = PgDb::new();
    db.sql(
        "CREATE TABLE codes (code text PRIMARY KEY, n int NOT NULL);
         INSERT INTO codes SELECT 'k' || lpad(g::text, 6, '0'), g FROM generate_series(1, 20000) g;
         CREATE TABLE control AS TABLE codes;",
    );
    const WRITE: &str = "DO $$
DECLARE k text := 'k' || lpad((1 + floor(random() * 20000)::int)::text, 6, '0'); m text := md5(random()::text);
BEGIN
  INSERT INTO codes VALUES (m, 1);
  INSERT INTO control VALUES (m, 1);
  UPDATE codes SET n = n + 1 WHERE code = k;
  UPDATE control SET n = n + 1 WHERE code = k;
  k := 'k' || lpad((1 + floor(random() * 20000)::int)::text, 6, '0');
  UPDATE codes SET code = 'a' || code WHERE code = k;
  UPDATE control SET code = 'a' || code WHERE code = k;
  k := 'k' || lpad((1 + floor(random() * 20000)::int)::text, 6, '0');
  DELETE FROM codes WHERE code = k;
  DELETE FROM control WHERE code = k;
END $$;";
    under_writes(&db, "codes", "ALTER COLUMN n TYPE bigint", WRITE, "700");
}
