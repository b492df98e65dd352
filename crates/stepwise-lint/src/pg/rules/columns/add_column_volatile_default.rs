//! `add-column-volatile-default`: `ADD COLUMN ... DEFAULT <volatile>` on an
//! existing table (any non-null default before PostgreSQL 11).
//!
//! Since PostgreSQL 11 a non-volatile default (a constant, `now()`, ...) is
//! evaluated once and stored in the catalog: the ADD COLUMN is instant. A
//! volatile default (`clock_timestamp()`, `random()`, `gen_random_uuid()`,
//! `nextval()`, or any function not known to be IMMUTABLE or STABLE) must be
//! evaluated for every existing row, so PostgreSQL rewrites the whole table
//! and its indexes under an ACCESS EXCLUSIVE lock: no reads, no writes until
//! it is done. Before PostgreSQL 11 every non-null default did that.
//!
//! The safe way: add the column without a default, set the default in the
//! same statement (`ALTER COLUMN ... SET DEFAULT` applies to new rows only,
//! no rewrite), and fill the existing rows in batches with `stepwise backfill`.

use super::shared::{added_columns, backfill, column_offset, default_expr, not_null_recipe, table_sql, type_sql, volatile_part};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::schema::col_type;
use crate::pg::Severity;

pub struct AddColumnVolatileDefault;
pub static RULE: AddColumnVolatileDefault = AddColumnVolatileDefault;

static META: RuleMeta = RuleMeta {
    id: "add-column-volatile-default",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ADD COLUMN with a volatile default (any default before PostgreSQL 11) rewrites the table",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);",
    bad: "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
    safe: &["SET LOCAL lock_timeout = '2s';\n\
             -- SET DEFAULT in the same statement applies to new rows only: no rewrite.\n\
             ALTER TABLE orders ADD COLUMN IF NOT EXISTS public_id uuid,\n    ALTER COLUMN public_id SET DEFAULT gen_random_uuid();\n\
             -- Then fill the existing rows in small batches, outside the migration:\n\
             --   stepwise backfill orders --set \"public_id = gen_random_uuid()\" --only-missing --allow-volatile"],
};

impl Rule for AddColumnVolatileDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        for (r, def) in added_columns(cx) {
            let Some(expr) = default_expr(def) else { continue };
            let volatile = volatile_part(expr);
            let reason = match (&volatile, cx.pg_version < 11) {
                (_, true) => format!("before PostgreSQL 11 any non-null default fills every existing row (target: {})", cx.pg_version),
                (Some(v), false) => v.clone(),
                (None, false) => continue,
            };
            let table = Cx::name(r);
            let t = table_sql(r);
            let col = ident(&def.colname);
            let ty = def.type_name.as_ref().map(|n| type_sql(&col_type(n))).unwrap_or_else(|| "<type>".into());
            let default = super::shared::expr_sql(expr).unwrap_or_else(|| "<default>".into());
            let flags = if volatile.is_some() { " --only-missing --allow-volatile" } else { " --only-missing" };
            let mut safe = format!(
                "-- SET DEFAULT in the same statement applies to new rows only: no rewrite.\n\
                 ALTER TABLE {t} ADD COLUMN {col} {ty},\n    ALTER COLUMN {col} SET DEFAULT {default};\n{}",
                backfill(&t, &format!("{col} = {default}"), flags)
            );
            if super::add_column_not_null_without_default::declares_not_null(def) {
                safe.push_str(&format!(
                    "\n-- next migration, after the backfill: NOT NULL without a long lock\n{}",
                    not_null_recipe(cx.pg_version, r, &def.colname)
                ));
            }
            hits.push(
                Hit::new(
                    format!("adding `{table}.{}` with DEFAULT {default} rewrites `{table}`", def.colname),
                    format!(
                        "{reason}: PostgreSQL computes the default for each existing row and rewrites `{table}` and all its indexes \
                         under an ACCESS EXCLUSIVE lock, which blocks every read and write of the table until the rewrite ends."
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
    const ID: &str = "add-column-volatile-default";

    #[test]
    fn flags_volatile_defaults() {
        for d in
            ["gen_random_uuid()", "clock_timestamp()", "random()", "uuid_generate_v4()", "nextval('orders_seq')", "(random() * 10)::int"]
        {
            let f = check(ID, SETUP, &format!("ALTER TABLE orders ADD COLUMN x text DEFAULT {d};"));
            assert_eq!(f.len(), 1, "{d}: {f:?}");
            assert!(f[0].message.contains("orders.x"), "{}", f[0].message);
            assert!(f[0].why.contains("VOLATILE") && f[0].why.contains("ACCESS EXCLUSIVE"), "{}", f[0].why);
            assert!(f[0].safe.contains("ADD COLUMN x text,\n    ALTER COLUMN x SET DEFAULT"), "{}", f[0].safe);
            assert!(f[0].safe.contains("stepwise backfill orders"), "{}", f[0].safe);
        }
    }

    #[test]
    fn points_at_the_added_column() {
        let f = check(ID, SETUP, "-- the id\nALTER TABLE orders\n    ADD COLUMN IF NOT EXISTS token uuid DEFAULT gen_random_uuid();");
        assert_eq!((f[0].line, f[0].col), (3, 5), "{f:?}");
    }

    #[test]
    fn flags_unknown_functions_and_says_so() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN code text DEFAULT app.make_code();");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("`app.make_code()` is not known to be IMMUTABLE or STABLE"), "{}", f[0].why);
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN token uuid DEFAULT extensions.uuid_generate_v4();");
        assert!(f[0].why.contains("`uuid_generate_v4()` is VOLATILE"), "{}", f[0].why);
    }

    #[test]
    fn non_volatile_defaults_pass_on_11_and_later() {
        for d in
            ["'new'", "0", "now()", "CURRENT_TIMESTAMP", "'{}'::jsonb", "lower('A') || 'b'", "NULL", "ARRAY[]::text[]", "pg_catalog.now()"]
        {
            assert!(check(ID, SETUP, &format!("ALTER TABLE orders ADD COLUMN x text DEFAULT {d};")).is_empty(), "{d}");
        }
    }

    #[test]
    fn any_default_rewrites_before_11() {
        let opts = LintOptions { pg_version: 10, ..Default::default() };
        let f = check_with(ID, SETUP, "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';", &opts);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("before PostgreSQL 11"), "{}", f[0].why);
        assert!(
            f[0].safe.contains("VALIDATE CONSTRAINT orders_status_not_null"),
            "a NOT NULL column gets the NOT NULL recipe: {}",
            f[0].safe
        );
        assert!(check_with(ID, SETUP, "ALTER TABLE orders ADD COLUMN status text DEFAULT NULL;", &opts).is_empty());
    }

    #[test]
    fn new_tables_and_set_default_pass() {
        let m = "CREATE TABLE items (id bigint PRIMARY KEY);\nALTER TABLE items ADD COLUMN token uuid DEFAULT gen_random_uuid();";
        assert!(check(ID, SETUP, m).is_empty());
        assert!(check(ID, SETUP, "ALTER TABLE orders ALTER COLUMN total_cents SET DEFAULT random();").is_empty());
    }

    #[test]
    fn the_safe_recipe_passes() {
        let safe = "ALTER TABLE orders ADD COLUMN public_id uuid, ALTER COLUMN public_id SET DEFAULT gen_random_uuid();";
        assert!(check(ID, SETUP, safe).is_empty());
    }
}
