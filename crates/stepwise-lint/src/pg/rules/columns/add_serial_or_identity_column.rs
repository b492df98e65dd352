//! `add-serial-or-identity-column`: `ADD COLUMN` of a `serial` type, or
//! `GENERATED ... AS IDENTITY`, on an existing table.
//!
//! Both give every existing row a value from a sequence as the column is
//! added, which is a volatile default: PostgreSQL rewrites the whole table
//! and its indexes under an ACCESS EXCLUSIVE lock, which blocks every read
//! and write until it ends.
//!
//! The safe way: a nullable column, a sequence, the default set in the same
//! statement as the ADD (`SET DEFAULT` applies to new rows only, no
//! rewrite), a batched backfill of the existing rows, then NOT NULL through
//! a validated CHECK.

use super::shared::{added_columns, backfill, column_constraint, column_offset, name_of, not_null_recipe, table_sql, type_sql};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::schema::{col_type, is_serial};
use crate::pg::Severity;
use pg_query::protobuf::ConstrType;

pub struct AddSerialOrIdentityColumn;
pub static RULE: AddSerialOrIdentityColumn = AddSerialOrIdentityColumn;

static META: RuleMeta = RuleMeta {
    id: "add-serial-or-identity-column",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ADD COLUMN serial or GENERATED AS IDENTITY rewrites the table: sequence, default, backfill instead",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);",
    bad: "ALTER TABLE orders ADD COLUMN seq_no bigserial;",
    safe: &[
        "CREATE SEQUENCE IF NOT EXISTS orders_seq_no_seq AS bigint;\n\
         SET LOCAL lock_timeout = '2s';\n\
         -- SET DEFAULT in the same statement applies to new rows only: no rewrite.\n\
         ALTER TABLE orders ADD COLUMN IF NOT EXISTS seq_no bigint,\n    ALTER COLUMN seq_no SET DEFAULT nextval('orders_seq_no_seq');\n\
         ALTER SEQUENCE orders_seq_no_seq OWNED BY orders.seq_no;\n\
         -- Then fill the existing rows in small batches, outside the migration:\n\
         --   stepwise backfill orders --set \"seq_no = nextval('orders_seq_no_seq')\" --only-missing --allow-volatile",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_seq_no_not_null CHECK (seq_no IS NOT NULL) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_seq_no_not_null;",
        "SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE orders ALTER COLUMN seq_no SET NOT NULL;\n\
         ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_seq_no_not_null;",
    ],
};

impl Rule for AddSerialOrIdentityColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        for (r, def) in added_columns(cx) {
            let serial = def.type_name.as_ref().is_some_and(is_serial);
            let identity = column_constraint(def, ConstrType::ConstrIdentity).is_some();
            if !serial && !identity {
                continue;
            }
            let table = Cx::name(r);
            let (t, col) = (table_sql(r), ident(&def.colname));
            let ty = def.type_name.as_ref().map(|n| type_sql(&col_type(n))).unwrap_or_else(|| "bigint".into());
            let seq_name = name_of(&[&r.relname, &def.colname, "seq"]);
            let seq = if r.schemaname.is_empty() { ident(&seq_name) } else { format!("{}.{}", ident(&r.schemaname), ident(&seq_name)) };
            let nextval = format!("nextval('{}')", seq.replace('\'', "''"));
            let kind = if serial { "serial" } else { "identity" };
            hits.push(
                Hit::new(
                    format!("adding the {kind} column `{table}.{}` rewrites `{table}`", def.colname),
                    format!(
                        "Every existing row gets a value from the sequence as the column is added: PostgreSQL rewrites `{table}` and all its \
                         indexes under an ACCESS EXCLUSIVE lock, which blocks every read and write of the table until the rewrite ends."
                    ),
                    format!(
                        "CREATE SEQUENCE IF NOT EXISTS {seq} AS {ty};\n\
                         -- SET DEFAULT in the same statement applies to new rows only: no rewrite.\n\
                         ALTER TABLE {t} ADD COLUMN {col} {ty},\n    ALTER COLUMN {col} SET DEFAULT {nextval};\n\
                         ALTER SEQUENCE {seq} OWNED BY {t}.{col};\n{}\n\
                         -- next migration, after the backfill: NOT NULL without a long lock\n{}\n\
                         -- A key? CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX.",
                        backfill(&t, &format!("{col} = {nextval}"), " --only-missing --allow-volatile"),
                        not_null_recipe(cx.pg_version, r, &def.colname)
                    ),
                )
                .at(column_offset(cx.sql(), "ADD", &def.colname))
                .on_table(table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);";
    const ID: &str = "add-serial-or-identity-column";

    #[test]
    fn flags_serial_and_identity_columns() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN seq_no bigserial;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].message, "adding the serial column `orders.seq_no` rewrites `orders`");
        let safe = &f[0].safe;
        for s in [
            "CREATE SEQUENCE IF NOT EXISTS orders_seq_no_seq AS bigint;",
            "ALTER TABLE orders ADD COLUMN seq_no bigint,\n    ALTER COLUMN seq_no SET DEFAULT nextval('orders_seq_no_seq');",
            "ALTER SEQUENCE orders_seq_no_seq OWNED BY orders.seq_no;",
            "stepwise backfill orders --set \"seq_no = nextval('orders_seq_no_seq')\" --only-missing --allow-volatile",
            "VALIDATE CONSTRAINT orders_seq_no_not_null;",
        ] {
            assert!(safe.contains(s), "missing {s:?} in\n{safe}");
        }
        for m in [
            "ALTER TABLE orders ADD COLUMN n serial;",
            "ALTER TABLE orders ADD COLUMN n smallserial;",
            "ALTER TABLE orders ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;",
            "ALTER TABLE orders ADD COLUMN n bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 1000);",
        ] {
            assert_eq!(check(ID, SETUP, m).len(), 1, "{m}");
        }
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN n serial;");
        assert!(f[0].safe.contains("AS integer;"), "{}", f[0].safe);
    }

    #[test]
    fn plain_columns_and_new_tables_pass() {
        for m in [
            "ALTER TABLE orders ADD COLUMN seq_no bigint;",
            "CREATE TABLE items (sku text);\nALTER TABLE items ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;",
            "CREATE TABLE items (id bigserial PRIMARY KEY);",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
