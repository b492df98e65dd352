//! `set-not-null`: `ALTER COLUMN ... SET NOT NULL` on an existing table.
//!
//! PostgreSQL checks every row for NULLs while it holds an ACCESS EXCLUSIVE
//! lock on the table: every read and write waits for the whole scan. Since
//! PostgreSQL 12 the scan is skipped when a validated `CHECK (col IS NOT
//! NULL)` already proves it, and such a check can be added without blocking:
//! `ADD CONSTRAINT ... NOT VALID` (instant), then `VALIDATE CONSTRAINT` in a
//! later migration (scans under SHARE UPDATE EXCLUSIVE, which lets reads and
//! writes go on), then `SET NOT NULL` (instant) and drop the check.
//!
//! The schema model tracks those checks, so the last step of the recipe
//! passes: SET NOT NULL is not flagged once a valid check exists (12+).

use super::shared::{column_offset, not_null_recipe, table_sql};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, ident};
use crate::pg::schema::range_key;
use crate::pg::Severity;
use pg_query::protobuf::AlterTableType;

pub struct SetNotNull;
pub static RULE: SetNotNull = SetNotNull;

static META: RuleMeta = RuleMeta {
    id: "set-not-null",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock: prove it with a validated CHECK first",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);",
    bad: "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_status_not_null CHECK (status IS NOT NULL) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;",
        "-- The valid CHECK proves the NOT NULL: no scan (PostgreSQL 12+).\n\
         SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n\
         ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_not_null;",
    ],
};

impl Rule for SetNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        let table = Cx::name(r);
        for (kind, cmd) in alter_cmds(a) {
            if kind != AlterTableType::AtSetNotNull {
                continue;
            }
            // Already NOT NULL: PostgreSQL has nothing to check.
            if cx.table(r).and_then(|t| t.column(&cmd.name)).is_some_and(|c| c.not_null) {
                continue;
            }
            let check = cx.schema.not_null_check(&range_key(r), &cmd.name);
            if cx.pg_version >= 12 && check.is_some_and(|c| c.valid) {
                continue;
            }
            let mut why = format!(
                "SET NOT NULL reads every row of `{table}` to look for NULLs while holding an ACCESS EXCLUSIVE lock on it: \
                 every read and write of the table waits for the whole scan."
            );
            let safe = match check {
                _ if cx.pg_version < 12 => {
                    why.push_str(&format!(
                        " PostgreSQL {} scans even when a valid CHECK proves the column has no NULL (12+ does not).",
                        cx.pg_version
                    ));
                    not_null_recipe(cx.pg_version, r, &cmd.name)
                }
                Some(c) => {
                    why.push_str(&format!(" The CHECK `{}` is NOT VALID yet, and PostgreSQL only trusts a validated one.", c.name));
                    let (t, name) = (table_sql(r), ident(&c.name));
                    format!(
                        "ALTER TABLE {t} VALIDATE CONSTRAINT {name};\n-- next migration (the valid CHECK proves it: no scan):\n\
                         ALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL;\nALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name};",
                        col = ident(&cmd.name)
                    )
                }
                None => {
                    why.push_str(&format!(
                        " A validated CHECK ({} IS NOT NULL) lets PostgreSQL 12+ skip the scan, and it can be added and validated without blocking.",
                        ident(&cmd.name)
                    ));
                    not_null_recipe(cx.pg_version, r, &cmd.name)
                }
            };
            hits.push(
                Hit::new(format!("SET NOT NULL on `{table}.{}` scans the table under an ACCESS EXCLUSIVE lock", cmd.name), why, safe)
                    .at(column_offset(cx.sql(), "ALTER", &cmd.name))
                    .on_table(&table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with, findings_in_sequence};
    use crate::pg::LintOptions;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);";
    const ID: &str = "set-not-null";

    #[test]
    fn flags_set_not_null_on_an_existing_table() {
        let f = check(ID, SETUP, "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("orders.status"), "{}", f[0].message);
        let safe = &f[0].safe;
        let steps = [
            "ADD CONSTRAINT orders_status_not_null CHECK (status IS NOT NULL) NOT VALID;\n-- next migration",
            "VALIDATE CONSTRAINT orders_status_not_null;\n-- next migration",
            "ALTER COLUMN status SET NOT NULL;\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_not_null;",
        ];
        for s in steps {
            assert!(safe.contains(s), "missing {s:?} in\n{safe}");
        }
    }

    #[test]
    fn a_check_that_is_not_valid_yet_does_not_help() {
        let setup = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\n\
                     ALTER TABLE orders ADD CONSTRAINT status_present CHECK (status IS NOT NULL) NOT VALID;";
        let f = check(ID, setup, "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("`status_present` is NOT VALID yet"), "{}", f[0].why);
        assert!(f[0].safe.starts_with("ALTER TABLE orders VALIDATE CONSTRAINT status_present;"), "{}", f[0].safe);
    }

    #[test]
    fn a_valid_check_makes_it_safe_on_12_and_later() {
        let seq = |last: &'static str| {
            findings_in_sequence(&[
                SETUP,
                "ALTER TABLE orders ADD CONSTRAINT c CHECK (status IS NOT NULL) NOT VALID;",
                "ALTER TABLE orders VALIDATE CONSTRAINT c;",
                last,
            ])
            .into_iter()
            .filter(|f| f.rule == ID)
            .count()
        };
        assert_eq!(seq("ALTER TABLE orders ALTER COLUMN status SET NOT NULL;"), 0);
        // Dropped before the SET NOT NULL: the scan is back.
        assert_eq!(seq("ALTER TABLE orders DROP CONSTRAINT c;\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;"), 1);
        // A check added valid (it scanned then) proves it too; a renamed column keeps it.
        let setup = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\n\
                     ALTER TABLE orders ADD CONSTRAINT c CHECK (status IS NOT NULL);\n\
                     ALTER TABLE orders RENAME COLUMN status TO state;";
        assert!(check(ID, setup, "ALTER TABLE orders ALTER COLUMN state SET NOT NULL;").is_empty());
        let opts = LintOptions { pg_version: 11, ..Default::default() };
        let f = check_with(ID, setup, "ALTER TABLE orders ALTER COLUMN state SET NOT NULL;", &opts);
        assert_eq!(f.len(), 1, "PostgreSQL 11 scans anyway: {f:?}");
        assert!(f[0].safe.contains("keep the CHECK as the guarantee"), "{}", f[0].safe);
    }

    #[test]
    fn new_tables_and_not_null_columns_pass() {
        let m = "CREATE TABLE items (id bigint PRIMARY KEY, sku text);\nALTER TABLE items ALTER COLUMN sku SET NOT NULL;";
        assert!(check(ID, SETUP, m).is_empty());
        assert!(check(ID, SETUP, "ALTER TABLE orders ALTER COLUMN id SET NOT NULL;").is_empty());
        let created_with_check = "CREATE TABLE orders (id bigint PRIMARY KEY, status text CHECK (status IS NOT NULL));";
        assert!(check(ID, created_with_check, "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;").is_empty());
    }
}
