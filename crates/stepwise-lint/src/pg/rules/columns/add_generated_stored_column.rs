//! `add-generated-stored-column`: `ADD COLUMN ... GENERATED ALWAYS AS (...)
//! STORED` on an existing table.
//!
//! A stored generated column is computed for every existing row when it is
//! added: PostgreSQL rewrites the whole table and its indexes under an
//! ACCESS EXCLUSIVE lock, which blocks every read and write until it ends.
//!
//! The safe way: a plain column, a trigger that computes it for new and
//! changed rows, and a batched backfill of the existing rows. On PostgreSQL
//! 18+, a VIRTUAL generated column (computed on read) adds no rewrite at all.

use super::shared::{
    added_columns, backfill, before_row_trigger, column_constraint, column_offset, expr_sql, expr_sql_on_new, name_of, table_sql,
    trigger_function, type_sql,
};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::schema::col_type;
use crate::pg::Severity;
use pg_query::protobuf::ConstrType;

pub struct AddGeneratedStoredColumn;
pub static RULE: AddGeneratedStoredColumn = AddGeneratedStoredColumn;

static META: RuleMeta = RuleMeta {
    id: "add-generated-stored-column",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ADD COLUMN ... GENERATED ... STORED rewrites the table: a plain column, a trigger and a backfill instead",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, net_cents bigint, tax_cents bigint);",
    bad: "ALTER TABLE orders ADD COLUMN gross_cents bigint GENERATED ALWAYS AS (net_cents + tax_cents) STORED;",
    safe: &["SET LOCAL lock_timeout = '2s';\n\
             ALTER TABLE orders ADD COLUMN IF NOT EXISTS gross_cents bigint;\n\
             CREATE OR REPLACE FUNCTION orders_gross_cents_fill() RETURNS trigger LANGUAGE plpgsql AS $$\n\
             BEGIN\n  NEW.gross_cents := NEW.net_cents + NEW.tax_cents;\n  RETURN NEW;\nEND\n$$;\n\
             CREATE OR REPLACE TRIGGER orders_gross_cents_fill BEFORE INSERT OR UPDATE ON orders\n    \
             FOR EACH ROW EXECUTE FUNCTION orders_gross_cents_fill();\n\
             -- Then fill the existing rows in small batches, outside the migration:\n\
             --   stepwise backfill orders --set \"gross_cents = net_cents + tax_cents\""],
};

impl Rule for AddGeneratedStoredColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        for (r, def) in added_columns(cx) {
            let Some(generated) = column_constraint(def, ConstrType::ConstrGenerated) else { continue };
            // VIRTUAL (PostgreSQL 18+) is computed on read: nothing is rewritten.
            if generated.generated_kind != "s" {
                continue;
            }
            let table = Cx::name(r);
            let (t, col) = (table_sql(r), ident(&def.colname));
            let ty = def.type_name.as_ref().map(|n| type_sql(&col_type(n))).unwrap_or_else(|| "<type>".into());
            let expr = generated.raw_expr.as_deref();
            let plain = expr.and_then(expr_sql).unwrap_or_else(|| "<expression>".into());
            let on_new = expr.and_then(expr_sql_on_new).unwrap_or_else(|| "<expression on NEW>".into());
            let fill = name_of(&[&r.relname, &def.colname, "fill"]);
            let mut safe = String::new();
            if cx.pg_version >= 18 {
                safe.push_str(&format!(
                    "-- If it need not be indexed: a VIRTUAL column is computed on read, nothing is rewritten:\n\
                     ALTER TABLE {t} ADD COLUMN {col} {ty} GENERATED ALWAYS AS ({plain}) VIRTUAL;\n-- Otherwise:\n"
                ));
            }
            safe.push_str(&format!(
                "-- A plain column, computed by a trigger for new and changed rows:\n\
                 ALTER TABLE {t} ADD COLUMN {col} {ty};\n{}\n{}\n{}",
                trigger_function(&fill, &format!("  NEW.{col} := {on_new};\n")),
                before_row_trigger(cx.pg_version, &fill, &t, &fill),
                backfill(&t, &format!("{col} = {}", plain.replace('"', "\\\"")), "")
            ));
            hits.push(
                Hit::new(
                    format!("adding the stored generated column `{table}.{}` rewrites `{table}`", def.colname),
                    format!(
                        "PostgreSQL computes the expression for every existing row and rewrites `{table}` and all its indexes under an \
                         ACCESS EXCLUSIVE lock, which blocks every read and write of the table until the rewrite ends."
                    ),
                    safe,
                )
                .at(column_offset(cx.sql(), "ADD", &def.colname))
                .on_table(table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, net_cents bigint, tax_cents bigint, email text);";
    const ID: &str = "add-generated-stored-column";

    #[test]
    fn flags_a_stored_generated_column() {
        let f = check(
            ID,
            SETUP,
            "ALTER TABLE orders ADD COLUMN gross_cents bigint GENERATED ALWAYS AS (net_cents + coalesce(tax_cents, 0)) STORED;",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].message, "adding the stored generated column `orders.gross_cents` rewrites `orders`");
        let safe = &f[0].safe;
        for s in [
            "ALTER TABLE orders ADD COLUMN gross_cents bigint;",
            "NEW.gross_cents := new.net_cents + COALESCE(new.tax_cents, 0);",
            "CREATE OR REPLACE TRIGGER orders_gross_cents_fill BEFORE INSERT OR UPDATE ON orders",
            "stepwise backfill orders --set \"gross_cents = net_cents + COALESCE(tax_cents, 0)\"",
        ] {
            assert!(safe.contains(s), "missing {s:?} in\n{safe}");
        }
        assert!(!safe.contains("VIRTUAL"), "{safe}");
        let pg18 = LintOptions { pg_version: 18, ..Default::default() };
        let f = check_with(ID, SETUP, "ALTER TABLE orders ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED;", &pg18);
        assert!(f[0].safe.contains("ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) VIRTUAL;"), "{}", f[0].safe);
    }

    #[test]
    fn virtual_columns_new_tables_and_plain_columns_pass() {
        for m in [
            "ALTER TABLE orders ADD COLUMN gross_cents bigint GENERATED ALWAYS AS (net_cents + tax_cents) VIRTUAL;",
            "ALTER TABLE orders ADD COLUMN gross_cents bigint;",
            "CREATE TABLE items (id bigint, n bigint);\nALTER TABLE items ADD COLUMN n2 bigint GENERATED ALWAYS AS (n * 2) STORED;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
