//! `require-concurrent-drop-index`: `DROP INDEX` without `CONCURRENTLY`.
//!
//! A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table.
//! The drop itself is quick, but the lock request waits behind any running
//! query on the table, and every query after it waits behind the request:
//! one slow report stalls all traffic to the table.

use crate::lint::context::Cx;
use crate::lint::rule::{Cost, Hit, Rule, RuleMeta};
use crate::lint::rules::helpers::{ident, strings};
use crate::lint::Severity;
use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

pub struct RequireConcurrentDropIndex;
pub static RULE: RequireConcurrentDropIndex = RequireConcurrentDropIndex;

static META: RuleMeta = RuleMeta {
    id: "require-concurrent-drop-index",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::LockQueue,
    summary: "DROP INDEX must use CONCURRENTLY",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\nCREATE INDEX orders_status_idx ON orders (status);",
    bad: "DROP INDEX orders_status_idx;",
    safe: &["-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;"],
};

impl Rule for RequireConcurrentDropIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::DropStmt(d) = cx.node else { return };
        if d.concurrent || ObjectType::try_from(d.remove_type).ok() != Some(ObjectType::ObjectIndex) {
            return;
        }
        for o in &d.objects {
            let Some(NodeEnum::List(l)) = &o.node else { continue };
            let Some(name) = strings(&l.items).pop() else { continue };
            // An index on a table created in this migration is not in use yet.
            if cx.schema.index_table(&name).is_some_and(|t| t.new) {
                continue;
            }
            let exists = if d.missing_ok { "IF EXISTS " } else { "" };
            hits.push(Hit::new(
                format!("DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table of `{name}`"),
                "The lock waits behind every running query on the table, and all queries after it wait behind the lock: one long query stalls the whole table.",
                format!("-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY {exists}{};", ident(&name)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\nCREATE INDEX orders_status_idx ON orders (status);";

    #[test]
    fn flags_a_plain_drop() {
        let f = check("require-concurrent-drop-index", SETUP, "DROP INDEX orders_status_idx;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("DROP INDEX CONCURRENTLY orders_status_idx"));
    }

    #[test]
    fn the_safe_recipe_passes() {
        let safe = "-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;";
        assert!(check("require-concurrent-drop-index", SETUP, safe).is_empty());
    }
}
