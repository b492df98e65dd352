//! `prefer-jsonb`: a `json` column.
//!
//! `json` keeps the input text and parses it again on every access. It has no
//! equality operator (so no DISTINCT, GROUP BY, UNION or unique index on it)
//! and no GIN index support. `jsonb` is parsed once, compares, and indexes.
//! Converting the column later rewrites the table under an ACCESS EXCLUSIVE
//! lock. Keep `json` only when the exact input text (key order, duplicate
//! keys, whitespace) must be returned as written.

use super::flag_columns;
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;

pub struct PreferJsonb;
pub static RULE: PreferJsonb = PreferJsonb;

static META: RuleMeta = RuleMeta {
    id: "prefer-jsonb",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "Use jsonb instead of json",
    setup: "CREATE TABLE customers (id bigint PRIMARY KEY);",
    bad: "CREATE TABLE IF NOT EXISTS webhooks (id bigint PRIMARY KEY, payload json NOT NULL);",
    safe: &["CREATE TABLE IF NOT EXISTS webhooks (id bigint PRIMARY KEY, payload jsonb NOT NULL);"],
};

impl Rule for PreferJsonb {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        flag_columns(cx, hits, |col| {
            (col.ty.base == "json").then(|| {
                (
                    format!("`{}` is json: use jsonb", col.label()),
                    format!(
                        "json is stored as text and parsed again on every access; it has no equality operator (no DISTINCT, GROUP BY or unique index) and no GIN indexing. Converting `{}` later rewrites the table under an ACCESS EXCLUSIVE lock. Keep json only if the exact input text must come back.",
                        Cx::name(col.table)
                    ),
                )
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);";

    #[test]
    fn flags_json_columns() {
        let m = "ALTER TABLE customers ADD COLUMN prefs json DEFAULT '{}', ADD COLUMN history json[];";
        let f = check("prefer-jsonb", SETUP, m);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("`customers.prefs` is json"));
        assert!(f[0].safe.contains("ADD COLUMN prefs jsonb DEFAULT '{}'"), "{}", f[0].safe);
        assert!(f[1].safe.contains("history jsonb[]"), "{}", f[1].safe);
        assert_eq!(f[0].col, m.find("prefs").unwrap() + 1);
    }

    #[test]
    fn jsonb_passes() {
        assert!(check("prefer-jsonb", SETUP, "CREATE TABLE hooks (id bigint PRIMARY KEY, payload jsonb, raw text);").is_empty());
    }
}
