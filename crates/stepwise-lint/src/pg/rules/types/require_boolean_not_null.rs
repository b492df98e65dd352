//! `require-boolean-not-null` (opt-in): a new boolean column that allows NULL.
//!
//! A nullable boolean has three values. `WHERE NOT archived` skips the rows
//! where `archived` is NULL, `count(*) FILTER (WHERE flag)` and
//! `... WHERE flag = false` disagree about them, and application code reads
//! NULL as false in one place and as "unknown" in another. Declare the
//! column NOT NULL with a default: on PostgreSQL 11 and later, adding a
//! column with a constant default to an existing table changes only the
//! catalog.

use super::{nullable_boolean, recipe};
use crate::pg::context::Cx;
use crate::pg::new_columns::NewColumn;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::word_offset;
use crate::pg::Severity;

pub struct RequireBooleanNotNull;
pub static RULE: RequireBooleanNotNull = RequireBooleanNotNull;

static META: RuleMeta = RuleMeta {
    id: "require-boolean-not-null",
    severity: Severity::Warning,
    default_on: false,
    cost: Cost::Advice,
    summary: "New boolean columns should be NOT NULL with a default (opt-in)",
    setup: "CREATE TABLE customers (id bigint PRIMARY KEY);",
    bad: "CREATE TABLE IF NOT EXISTS subscriptions (id bigint PRIMARY KEY, active boolean);",
    safe: &["CREATE TABLE IF NOT EXISTS subscriptions (id bigint PRIMARY KEY, active boolean NOT NULL DEFAULT true);"],
};

fn safe_way(cx: &Cx, col: &NewColumn) -> String {
    let sql = recipe(cx, true);
    if !col.in_create && cx.existing(col.table) && cx.pg_version < 11 {
        // Before PostgreSQL 11 any default rewrites the table.
        return format!(
            "-- Before PostgreSQL 11 a default rewrites the table: add the column without one,\n-- backfill it (stepwise backfill), then add a NOT NULL check NOT VALID and validate it.\n{sql}"
        );
    }
    sql
}

impl Rule for RequireBooleanNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        for col in cx.typed_columns() {
            if !nullable_boolean(col) {
                continue;
            }
            hits.push(
                Hit::new(
                    format!("boolean column `{}` allows NULL: make it NOT NULL with a default", col.label()),
                    "A nullable boolean has three values: `WHERE NOT flag` skips the NULL rows, and code reads NULL as false in one place and as unknown in another. NOT NULL with a constant default costs nothing (on PostgreSQL 11 and later, adding it to an existing table changes only the catalog).",
                    safe_way(cx, col),
                )
                .at(word_offset(cx.sql(), &[col.name], 0) as i32),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);";

    #[test]
    fn flags_nullable_booleans() {
        let m = "CREATE TABLE subscriptions (id bigint PRIMARY KEY, active boolean, trial bool DEFAULT true);\nALTER TABLE customers ADD COLUMN vip boolean;";
        let f = check("require-boolean-not-null", SETUP, m);
        assert_eq!(f.len(), 3, "{f:#?}");
        assert!(f[0].safe.contains("active boolean NOT NULL DEFAULT false"), "{}", f[0].safe);
        assert!(f[1].safe.contains("trial bool NOT NULL DEFAULT true"), "{}", f[1].safe);
        assert!(f[2].message.contains("`customers.vip`"));
        assert!(f[2].safe.contains("ADD COLUMN vip boolean NOT NULL DEFAULT false"), "{}", f[2].safe);
    }

    #[test]
    fn an_explicit_null_gives_way_to_not_null() {
        let f = check("require-boolean-not-null", SETUP, "ALTER TABLE customers ADD COLUMN vip boolean NULL;");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].safe, "ALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false;");
    }

    #[test]
    fn not_null_booleans_pass() {
        let m = "CREATE TABLE subscriptions (id bigint PRIMARY KEY, active boolean NOT NULL, trial boolean NOT NULL DEFAULT false);\nALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false;";
        assert!(check("require-boolean-not-null", SETUP, m).is_empty());
    }

    #[test]
    fn it_is_opt_in() {
        let on = crate::pg::rules::all().into_iter().find(|r| r.meta().id == "require-boolean-not-null").map(|r| r.meta().default_on);
        assert_eq!(on, Some(false));
    }
}
