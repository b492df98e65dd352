//! Fixtures for the `stepwise osc` tests: a table and its control copy, an
//! application writing to both in the same transactions, and checks that
//! nothing was lost or left behind.

use super::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What a swapped job keeps until `finish` or `revert`: the reverse trigger
/// (and its function) that keeps the old table in sync.
pub fn kept(job: i64) -> String {
    format!("osc_{job}_rev, stepwise_osc_{job}_rev, stepwise_osc_{job}_rev_trunc")
}

/// `orders` and an identical `control` (but for `orders.code`, unique and
/// never written by the application), `rows` rows each, a view and a grant.
pub fn setup(db: &PgDb, rows: i64) {
    db.sql(&format!(
        "CREATE TABLE orders (id serial PRIMARY KEY, customer int NOT NULL, note text, code text);
         CREATE INDEX orders_customer_idx ON orders (customer);
         INSERT INTO orders (customer, note, code) SELECT g % 1000, 'n' || g, 'c' || g FROM generate_series(1, {rows}) g;
         CREATE TABLE control (id bigint PRIMARY KEY, customer int NOT NULL, note text);
         INSERT INTO control SELECT id, customer, note FROM orders;
         CREATE VIEW big_orders AS SELECT id, customer FROM orders WHERE customer > 500;
         DO $$ BEGIN CREATE ROLE osc_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         GRANT SELECT ON orders, big_orders TO osc_reader;
         ANALYZE orders;"
    ));
}

/// One application transaction: an insert past the copy cursor, an update,
/// a primary-key update and a delete, each also applied to `control`.
pub const WRITE: &str = "DO $$
DECLARE k bigint; n record;
BEGIN
  INSERT INTO orders (customer, note) VALUES (1, 'live') RETURNING id, customer, note INTO n;
  INSERT INTO control VALUES (n.id, n.customer, n.note);
  k := 1 + floor(random() * ROWS)::bigint;
  UPDATE orders SET customer = customer + 1, note = 'upd' WHERE id = k;
  UPDATE control SET customer = customer + 1, note = 'upd' WHERE id = k;
  k := 1 + floor(random() * ROWS)::bigint;
  UPDATE orders SET id = id + 10000000 WHERE id = k;
  UPDATE control SET id = id + 10000000 WHERE id = k;
  k := 1 + floor(random() * ROWS)::bigint;
  DELETE FROM orders WHERE id = k;
  DELETE FROM control WHERE id = k;
END $$;";

/// A session writing at a steady rate until stopped; returns the number of
/// transactions and what psql reported as errors (there must be none).
pub struct Writer {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    handle: std::thread::JoinHandle<String>,
}

impl Writer {
    pub fn start(url: &str, rows: i64) -> Writer {
        Writer::running(url, WRITE.replace("ROWS", &rows.to_string()))
    }

    /// A session running `sql` (one application transaction) over and over.
    pub fn running(url: &str, sql: String) -> Writer {
        let (stop, done) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (s, d, url) = (stop.clone(), done.clone(), url.to_string());
        let handle = std::thread::spawn(move || {
            let mut psql = PsqlSession::open(&url, "app_writer");
            while !s.load(Ordering::SeqCst) {
                psql.query(&sql);
                d.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
            psql.errors()
        });
        Writer { stop, done, handle }
    }

    pub fn stop(self) -> (u64, String) {
        self.stop.store(true, Ordering::SeqCst);
        let errors = self.handle.join().expect("writer thread");
        (self.done.load(Ordering::SeqCst), errors)
    }
}

/// The table equals the control copy row for row.
pub fn assert_equal_to_control(db: &PgDb) {
    let diff = db.sql(
        "SELECT (SELECT count(*) FROM (SELECT id, customer, note FROM orders EXCEPT SELECT * FROM control) a)
              + (SELECT count(*) FROM (SELECT * FROM control EXCEPT SELECT id, customer, note FROM orders) b)",
    );
    assert_eq!(diff, "0", "orders differs from control");
    assert_eq!(db.sql("SELECT count(*) FROM orders"), db.sql("SELECT count(*) FROM control"));
}

/// What osc left: shadow tables, triggers, functions (after a swap, until
/// `finish` or `revert`, the reverse trigger: see `KEPT`).
pub fn leftovers(db: &PgDb) -> String {
    db.sql(
        "SELECT string_agg(x, ', ') FROM (
            SELECT relname::text AS x FROM pg_class WHERE relname LIKE '\\_sw%\\_new' OR relname LIKE 'osc\\_%\\_log' OR relname LIKE 'osc\\_%\\_replayed'
            UNION ALL SELECT tgname::text FROM pg_trigger WHERE tgname LIKE 'stepwise_osc_%'
            UNION ALL SELECT proname::text FROM pg_proc WHERE proname LIKE 'osc\\_%' ORDER BY 1) t",
    )
}

pub fn osc(p: &Project, db: &PgDb, args: &[&str]) -> Run {
    spawn_bg(p.cmd(&db.url, args)).finish(Duration::from_secs(300))
}

/// The error psql printed for `sql`, which must fail.
pub fn psql_err(db: &PgDb, sql: &str) -> String {
    let out = std::process::Command::new("psql").args([db.url.as_str(), "-X", "-q", "-c", sql]).output().expect("run psql");
    assert!(!out.status.success(), "{sql} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
