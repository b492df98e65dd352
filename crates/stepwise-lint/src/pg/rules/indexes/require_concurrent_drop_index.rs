//! `require-concurrent-drop-index`: `DROP INDEX` without `CONCURRENTLY`.
//!
//! A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table.
//! The drop itself is quick, but the lock request waits behind any running
//! query on the table, and every query after it waits behind the request:
//! one slow report stalls all traffic to the table.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{ident, strings};
use crate::pg::Severity;
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
            let parts = strings(&l.items);
            let Some(name) = parts.last().cloned() else { continue };
            let message = match cx.schema.index_table_key(&parts) {
                // An index on a table created in this migration is not in use yet.
                Ok(t) if cx.schema.tables.get(&t).is_some_and(|t| t.new) => continue,
                Ok(t) => format!("DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on `{t}`, the table of `{name}`"),
                Err(_) => format!(
                    "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table of `{name}`; no migration linted creates that index (it was made outside them), so its table is taken to be in use"
                ),
            };
            let exists = if d.missing_ok { "IF EXISTS " } else { "" };
            let qualified = parts.iter().map(|p| ident(p)).collect::<Vec<_>>().join(".");
            hits.push(Hit::new(
                message,
                "The lock waits behind every running query on the table, and all queries after it wait behind the lock: one long query stalls the whole table.",
                format!("-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY {exists}{qualified};"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\nCREATE INDEX orders_status_idx ON orders (status);";

    #[test]
    fn flags_a_plain_drop() {
        let f = check("require-concurrent-drop-index", SETUP, "DROP INDEX orders_status_idx;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("DROP INDEX CONCURRENTLY orders_status_idx"));
    }

    #[test]
    fn an_unnamed_index_is_found_by_the_name_postgres_gave_it() {
        // On a table the same migration creates: not in use, not flagged.
        let m = "CREATE TABLE proxies (id int, name text);\nCREATE UNIQUE INDEX ON proxies (name);\nDROP INDEX IF EXISTS proxies_name_idx;";
        assert!(check("require-concurrent-drop-index", "SELECT 1;", m).is_empty());
        // On a live table: flagged, naming the table.
        let setup = "CREATE TABLE proxies (id int, name text);\nCREATE UNIQUE INDEX ON proxies (name);\nCREATE INDEX ON proxies (name);";
        let f = check("require-concurrent-drop-index", setup, "DROP INDEX proxies_name_idx1;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("on `proxies`"), "{}", f[0].message);
    }

    #[test]
    fn an_index_no_migration_creates_is_said_to_be_unknown() {
        let f = check("require-concurrent-drop-index", "SELECT 1;", "DROP INDEX app.legacy_idx;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("no migration linted creates that index"), "{}", f[0].message);
        assert!(f[0].safe.contains("DROP INDEX CONCURRENTLY app.legacy_idx"), "{}", f[0].safe);
    }

    #[test]
    fn the_safe_recipe_passes() {
        let safe = "-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;";
        assert!(check("require-concurrent-drop-index", SETUP, safe).is_empty());
    }
}
