//! Normalized schema dumps of real databases on a scratch server.

use stepwise_db::pg::PgConn;
use stepwise_db::schema_dump::{diff_lines, dump_schema, dump_schema_raw};
use stepwise_db::scratch::{Scratch, ScratchOptions};
use stepwise_db::DbUrl;

const EXCLUDED: &[&str] = &["stepwise", "Audit Log"];

/// One schema, built in the natural order.
const FORWARD: &[&str] = &[
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE SEQUENCE invoice_no START 1000",
    "CREATE TABLE customers (
        id bigserial PRIMARY KEY,
        email text NOT NULL CONSTRAINT customers_email_key UNIQUE,
        mood mood DEFAULT 'ok',
        created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE orders (
        id serial PRIMARY KEY,
        customer_id bigint CONSTRAINT orders_customer_fk REFERENCES customers (id) ON DELETE CASCADE,
        total numeric(10,2) CONSTRAINT orders_total_check CHECK (total >= 0),
        status text DEFAULT 'new',
        invoice int DEFAULT nextval('invoice_no'),
        updated_at timestamptz)",
    "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "CREATE INDEX orders_open_idx ON orders (status) WHERE status <> 'done'",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
     begin
       -- keep updated_at current;

       new.updated_at := now();
       return new;
     end;
     $$",
    "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
    "CREATE VIEW open_orders AS SELECT id, customer_id, total FROM orders WHERE status <> 'done'",
    "COMMENT ON TABLE orders IS 'one row per order;
two lines'",
    "COMMENT ON COLUMN customers.mood IS 'how they feel'",
    "CREATE SCHEMA stepwise",
    "CREATE TABLE stepwise.migrations (version text PRIMARY KEY)",
    "CREATE SCHEMA \"Audit Log\"",
    "CREATE TABLE \"Audit Log\".entries (id int)",
];

/// The same schema (and excluded schemas with other contents), built in another order.
const SHUFFLED: &[&str] = &[
    "CREATE TABLE pushes_the_oids_along (x int)",
    "CREATE SCHEMA stepwise",
    "CREATE TABLE stepwise.jobs (id int)",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
     begin
       -- keep updated_at current;

       new.updated_at := now();
       return new;
     end;
     $$",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "DROP TABLE pushes_the_oids_along",
    "CREATE SEQUENCE invoice_no START 1000",
    "CREATE TABLE orders (
        id serial PRIMARY KEY,
        customer_id bigint,
        total numeric(10,2) CONSTRAINT orders_total_check CHECK (total >= 0),
        status text DEFAULT 'new',
        invoice int DEFAULT nextval('invoice_no'),
        updated_at timestamptz)",
    "COMMENT ON TABLE orders IS 'one row per order;
two lines'",
    "CREATE VIEW open_orders AS SELECT id, customer_id, total FROM orders WHERE status <> 'done'",
    "CREATE INDEX orders_open_idx ON orders (status) WHERE status <> 'done'",
    "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
    "CREATE TABLE customers (
        id bigserial PRIMARY KEY,
        email text NOT NULL,
        mood mood,
        created_at timestamptz NOT NULL DEFAULT now())",
    "ALTER TABLE customers ALTER COLUMN mood SET DEFAULT 'ok'",
    "COMMENT ON COLUMN customers.mood IS 'how they feel'",
    "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE",
    "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email)",
];

async fn database(scratch: &Scratch, name: &str, statements: &[&str]) -> (DbUrl, PgConn) {
    let admin = PgConn::connect(&scratch.url(), "stepwise-test").await.unwrap();
    admin.batch(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = scratch.url_for(name);
    let conn = PgConn::connect(&url, "stepwise-test").await.unwrap();
    for sql in statements {
        conn.batch(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (url, conn)
}

#[tokio::test]
async fn same_schema_built_in_other_orders_dumps_equal_and_differences_show() {
    let scratch = Scratch::start(ScratchOptions::default()).await.unwrap();
    let bindir = Some(scratch.bindir());
    let (url_a, _conn_a) = database(&scratch, "forward", FORWARD).await;
    let (url_b, conn_b) = database(&scratch, "shuffled", SHUFFLED).await;

    let a = dump_schema(&url_a, EXCLUDED, bindir).await.unwrap();
    let b = dump_schema(&url_b, EXCLUDED, bindir).await.unwrap();
    assert_eq!(diff_lines(&a, &b), Vec::<String>::new());
    assert_eq!(a, b);

    // Everything a down migration must restore is in the dump.
    for wanted in [
        "CREATE TYPE public.mood AS ENUM",
        "CREATE SEQUENCE public.invoice_no",
        "    mood public.mood DEFAULT 'ok'::public.mood,",
        "ADD CONSTRAINT orders_customer_fk FOREIGN KEY",
        "CONSTRAINT orders_total_check CHECK",
        "CREATE INDEX orders_open_idx ON public.orders USING btree (status) WHERE",
        "-- keep updated_at current;\n\n",
        "CREATE TRIGGER orders_touch",
        "CREATE VIEW public.open_orders AS",
        "COMMENT ON TABLE public.orders IS 'one row per order;\ntwo lines';",
        "COMMENT ON COLUMN public.customers.mood IS 'how they feel';",
    ] {
        assert!(a.contains(wanted), "{wanted:?} missing from\n{a}");
    }
    // Excluded schemas are absent, even from pg_dump's own output.
    let raw = dump_schema_raw(&url_a, EXCLUDED, bindir).await.unwrap();
    for text in [&a, &raw] {
        assert!(!text.contains("stepwise") && !text.contains("Audit Log") && !text.contains("migrations"), "{text}");
    }
    // Without the exclusion they are there (and the two databases differ in them).
    let all_a = dump_schema(&url_a, &[], bindir).await.unwrap();
    assert!(all_a.contains("CREATE TABLE stepwise.migrations") && all_a.contains("CREATE TABLE \"Audit Log\".entries"));

    // Each missing or extra piece shows up in the diff.
    let changes = [
        ("DROP INDEX orders_customer_idx", "- CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id);"),
        ("ALTER TABLE orders ALTER COLUMN status DROP DEFAULT", "-     status text DEFAULT 'new'::text,"),
        ("ALTER TABLE orders DROP CONSTRAINT orders_total_check", "-     CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))"),
        ("ALTER TABLE customers DROP CONSTRAINT customers_email_key", "-     ADD CONSTRAINT customers_email_key UNIQUE (email);"),
        ("ALTER TABLE customers DROP COLUMN mood", "-     mood public.mood DEFAULT 'ok'::public.mood,"),
        ("ALTER TABLE customers ADD COLUMN nickname text", "+     nickname text"),
    ];
    for (change, shown) in changes {
        conn_b.batch(change).await.unwrap();
        let b = dump_schema(&url_b, EXCLUDED, bindir).await.unwrap();
        let diff = diff_lines(&a, &b);
        assert!(diff.iter().any(|l| l == shown), "after {change}: {shown:?} not in\n{}", diff.join("\n"));
    }
    // The dropped column's comment went with it; the table's first line gives the context.
    let diff = diff_lines(&a, &dump_schema(&url_b, EXCLUDED, bindir).await.unwrap());
    assert!(diff.iter().any(|l| l == "- COMMENT ON COLUMN public.customers.mood IS 'how they feel';"), "{}", diff.join("\n"));
    assert!(diff.iter().any(|l| l == "  CREATE TABLE public.customers ("), "{}", diff.join("\n"));
    println!("{}", diff.join("\n"));

    scratch.stop().await.unwrap();
}

#[tokio::test]
async fn errors_name_the_database_but_never_the_password() {
    let scratch = Scratch::start(ScratchOptions::default()).await.unwrap();
    // Trust authentication ignores the password, so it may be anything.
    let with_password =
        |db: &str| DbUrl::parse(&format!("postgres://postgres:hunter2@127.0.0.1:{}/{db}?application_name=dump", scratch.port())).unwrap();
    let dump = dump_schema(&with_password("postgres"), &[], Some(scratch.bindir())).await.unwrap();
    assert!(!dump.contains("SET "));

    let err = dump_schema(&with_password("nope"), &[], Some(scratch.bindir())).await.unwrap_err().to_string();
    assert!(err.contains("postgres://postgres:***@127.0.0.1") && err.contains("\"nope\" does not exist"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    scratch.stop().await.unwrap();
}
