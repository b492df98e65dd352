//! The schema model names unnamed indexes and constraints as PostgreSQL
//! does: the same statements run on the server and through the model, and
//! the names (and which table each belongs to) must agree exactly.

mod common;
use common::*;
use std::collections::BTreeSet;
use stepwise_lint::pg::Schema;

/// Each script runs in a database of its own (names clash across scripts on purpose).
const SCRIPTS: &[&str] = &[
    // Index columns, expressions, INCLUDE, repeats, clashes.
    "CREATE TABLE t (a int, b int, email text, data jsonb);
     CREATE INDEX ON t (a); CREATE INDEX ON t (a, b); CREATE INDEX ON t (lower(email)); CREATE INDEX ON t ((a + b));
     CREATE INDEX ON t ((a::text)); CREATE INDEX ON t ((data->>'k')); CREATE INDEX ON t (a, a); CREATE INDEX ON t (coalesce(a, b));
     CREATE INDEX ON t (b) INCLUDE (a); CREATE INDEX ON t (a); CREATE UNIQUE INDEX ON t (email) WHERE a > 0;
     CREATE INDEX ON t ((('x'::text)));",
    // Constraints of CREATE TABLE and ALTER TABLE, in PostgreSQL's order.
    "CREATE TABLE u (id serial PRIMARY KEY, x int UNIQUE, y int CHECK (y > 0), z int CHECK (z > y), w int REFERENCES u (id),
       CHECK (true), UNIQUE (x, y), EXCLUDE USING btree (x WITH =));
     ALTER TABLE u ADD CHECK (x > 0); ALTER TABLE u ADD UNIQUE (x); ALTER TABLE u ADD COLUMN v bigint GENERATED ALWAYS AS IDENTITY UNIQUE;
     ALTER TABLE u ADD FOREIGN KEY (x, y) REFERENCES u (x, y) NOT VALID;",
    // A long table name and long columns are cut to 63 bytes.
    "CREATE TABLE a_rather_long_table_name_that_goes_on_and_on_for_a_while_xyz (a_rather_long_column_name_that_goes_on_and_on int PRIMARY KEY, b int);
     CREATE INDEX ON a_rather_long_table_name_that_goes_on_and_on_for_a_while_xyz (a_rather_long_column_name_that_goes_on_and_on, b);
     CREATE INDEX ON a_rather_long_table_name_that_goes_on_and_on_for_a_while_xyz (b);
     CREATE INDEX ON a_rather_long_table_name_that_goes_on_and_on_for_a_while_xyz (b);",
    // Renames carry indexes and constraints; drops free names for reuse.
    "CREATE TABLE r (id int PRIMARY KEY, a int UNIQUE, b int);
     CREATE INDEX ON r (b); ALTER TABLE r RENAME TO r2; CREATE INDEX ON r2 (b);
     ALTER INDEX r_b_idx RENAME TO r2_b_old; ALTER TABLE r2 RENAME CONSTRAINT r_a_key TO r2_a_key;
     ALTER TABLE r2 RENAME COLUMN b TO c; CREATE INDEX ON r2 (c);
     DROP INDEX r2_b_idx; CREATE INDEX ON r2 (c); ALTER TABLE r2 DROP COLUMN a; ALTER TABLE r2 ADD COLUMN a int UNIQUE;",
    // Schemas, partitions, USING INDEX, sequences.
    "CREATE SCHEMA app; CREATE TABLE app.e (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
     CREATE INDEX ON app.e (at); CREATE TABLE app.e_2026 PARTITION OF app.e FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
     CREATE TABLE app.k (id int NOT NULL, n int); CREATE UNIQUE INDEX ON app.k (id);
     ALTER TABLE app.k ADD CONSTRAINT k_pk PRIMARY KEY USING INDEX k_id_idx;
     CREATE TABLE app.s (n serial, m bigserial); CREATE SEQUENCE app.s_n_seq1;
     CREATE TABLE app.s2 (n serial);",
];

fn model(script: &str) -> Schema {
    Schema::replay(script).expect("script parses")
}

/// `schema.name` without `public.`.
fn key(ns: &str, name: &str) -> String {
    if ns == "public" {
        name.to_string()
    } else {
        format!("{ns}.{name}")
    }
}

#[test]
fn unnamed_indexes_and_constraints_get_the_names_postgres_gives_them() {
    for script in SCRIPTS {
        let db = PgDb::new();
        db.sql(script);
        let server_indexes: BTreeSet<String> = db
            .sql(
                "SELECT n.nspname || ' ' || i.relname || ' ' || tn.nspname || ' ' || t.relname FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
                 JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
            )
            .lines()
            .map(|l| {
                let p: Vec<&str> = l.split(' ').collect();
                format!("{} on {}", key(p[0], p[1]), key(p[2], p[3]))
            })
            .collect();
        let server_constraints: BTreeSet<String> = db
            .sql(
                "SELECT n.nspname || ' ' || t.relname || ' ' || c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
            )
            .lines()
            .map(|l| {
                let p: Vec<&str> = l.split(' ').collect();
                format!("{} on {}", p[2], key(p[0], p[1]))
            })
            .collect();
        let m = model(script);
        let model_indexes: BTreeSet<String> = m.indexes.iter().map(|(k, i)| format!("{k} on {}", i.table)).collect();
        let model_constraints: BTreeSet<String> =
            m.constraints.iter().flat_map(|(t, of)| of.keys().map(move |n| format!("{n} on {t}"))).collect();
        assert_eq!(model_indexes, server_indexes, "indexes of:\n{script}");
        assert_eq!(model_constraints, server_constraints, "constraints of:\n{script}");
    }
}
