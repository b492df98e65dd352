//! `add-column-not-null-without-default`: `ADD COLUMN ... NOT NULL` without a
//! `DEFAULT` on an existing table.
//!
//! PostgreSQL fills the new column with NULL in every existing row, which the
//! NOT NULL refuses: on any table that has rows the migration fails, after
//! it waited for (and held) an ACCESS EXCLUSIVE lock on the table. It passes
//! on an empty development database and fails in production.
//!
//! The safe way: a constant default with the NOT NULL (PostgreSQL 11+ stores
//! it without a rewrite), or a nullable column, a backfill, and the NOT NULL
//! added through a validated CHECK.

use super::shared::{added_columns, backfill, column_constraint, column_offset, default_expr, not_null_recipe, table_sql, type_sql};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::schema::{col_type, is_serial};
use crate::pg::Severity;
use pg_query::protobuf::{ColumnDef, ConstrType};

pub struct AddColumnNotNullWithoutDefault;
pub static RULE: AddColumnNotNullWithoutDefault = AddColumnNotNullWithoutDefault;

static META: RuleMeta = RuleMeta {
    id: "add-column-not-null-without-default",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);",
    bad: "ALTER TABLE orders ADD COLUMN currency text NOT NULL;",
    safe: &["-- A constant default is stored without rewriting the table (PostgreSQL 11+).\n\
             SET LOCAL lock_timeout = '2s';\n\
             ALTER TABLE orders ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'EUR';"],
};

/// Whether the column definition says NOT NULL (or PRIMARY KEY, which implies it).
pub(super) fn declares_not_null(def: &ColumnDef) -> bool {
    def.is_not_null
        || column_constraint(def, ConstrType::ConstrNotnull).is_some()
        || column_constraint(def, ConstrType::ConstrPrimary).is_some()
}

impl Rule for AddColumnNotNullWithoutDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        for (r, def) in added_columns(cx) {
            // Serial, identity and generated columns fill their own values
            // (and have rules of their own).
            let fills_itself = def.type_name.as_ref().is_some_and(is_serial)
                || column_constraint(def, ConstrType::ConstrIdentity).is_some()
                || column_constraint(def, ConstrType::ConstrGenerated).is_some();
            if !declares_not_null(def) || default_expr(def).is_some() || fills_itself {
                continue;
            }
            let table = Cx::name(r);
            let t = table_sql(r);
            let col = ident(&def.colname);
            let ty = def.type_name.as_ref().map(|n| type_sql(&col_type(n))).unwrap_or_else(|| "<type>".into());
            let nullable = format!(
                "ALTER TABLE {t} ADD COLUMN {col} {ty};\n{}\n-- next migration, after the backfill:\n{}",
                backfill(&t, &format!("{col} = <value>"), " --only-missing"),
                not_null_recipe(cx.pg_version, r, &def.colname)
            );
            let safe = if cx.pg_version >= 11 {
                format!(
                    "-- With a constant default (stored without a rewrite on PostgreSQL 11+):\n\
                     ALTER TABLE {t} ADD COLUMN {col} {ty} NOT NULL DEFAULT <constant>;\n\
                     -- Or, when the values must be computed: nullable, backfilled, then NOT NULL:\n{nullable}"
                )
            } else {
                format!("-- Before PostgreSQL 11 a default rewrites the table: add it nullable, backfill, then NOT NULL:\n{nullable}")
            };
            hits.push(
                Hit::new(
                    format!("`{table}.{}` is added NOT NULL without a default: this fails if `{table}` has any row", def.colname),
                    format!(
                        "Existing rows get NULL in the new column, which the NOT NULL refuses: the ALTER fails on any table with rows, \
                         after waiting for an ACCESS EXCLUSIVE lock on `{table}` that blocks its reads and writes meanwhile. \
                         It passes on an empty development database and fails in production."
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

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);";
    const ID: &str = "add-column-not-null-without-default";

    #[test]
    fn flags_not_null_without_default() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN currency text NOT NULL;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("orders.currency"), "{}", f[0].message);
        assert!(f[0].safe.contains("ADD COLUMN currency text NOT NULL DEFAULT <constant>"), "{}", f[0].safe);
        assert!(f[0].safe.contains("VALIDATE CONSTRAINT orders_currency_not_null"), "{}", f[0].safe);
        assert_eq!(check(ID, SETUP, "ALTER TABLE orders ADD COLUMN code bigint PRIMARY KEY;").len(), 1);
        assert_eq!(check(ID, SETUP, "ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT NULL;").len(), 1);
    }

    #[test]
    fn before_11_the_recipe_has_no_default() {
        let opts = LintOptions { pg_version: 10, ..Default::default() };
        let f = check_with(ID, SETUP, "ALTER TABLE orders ADD COLUMN currency text NOT NULL;", &opts);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(!f[0].safe.contains("DEFAULT <constant>"), "{}", f[0].safe);
        assert!(f[0].safe.contains("keep the CHECK as the guarantee"), "{}", f[0].safe);
    }

    #[test]
    fn defaults_self_filled_columns_and_new_tables_pass() {
        for m in [
            "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';",
            "ALTER TABLE orders ADD COLUMN note text;",
            "ALTER TABLE orders ADD COLUMN seq bigserial NOT NULL;",
            "ALTER TABLE orders ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;",
            "ALTER TABLE orders ADD COLUMN double_cents bigint NOT NULL GENERATED ALWAYS AS (total_cents * 2) STORED;",
            "CREATE TABLE items (id bigint PRIMARY KEY);\nALTER TABLE items ADD COLUMN sku text NOT NULL;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
