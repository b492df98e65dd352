//! `require-if-exists` (opt-in, for teams that run migrations by hand first
//! and record them later): CREATE TABLE or INDEX without IF NOT EXISTS, DROP
//! TABLE or INDEX without IF EXISTS.
//!
//! A migration that was already applied by hand, or that failed halfway
//! outside a transaction (a concurrent index build), fails again on the
//! object that is already there (or already gone). With IF [NOT] EXISTS it
//! can be run again safely.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{object_name, strings};
use crate::pg::Severity;
use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

pub struct RequireIfExists;
pub static RULE: RequireIfExists = RequireIfExists;

static META: RuleMeta = RuleMeta {
    id: "require-if-exists",
    severity: Severity::Warning,
    default_on: false,
    cost: Cost::Advice,
    summary: "CREATE with IF NOT EXISTS and DROP with IF EXISTS, so a migration can run again (opt-in)",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY);",
    bad: "CREATE TABLE audit_log (id bigint PRIMARY KEY, entry jsonb NOT NULL);",
    safe: &["CREATE TABLE IF NOT EXISTS audit_log (id bigint PRIMARY KEY, entry jsonb NOT NULL);"],
};

/// The statement with IF [NOT] EXISTS added, as SQL.
fn idempotent(node: &NodeEnum) -> String {
    let mut node = node.clone();
    match &mut node {
        NodeEnum::CreateStmt(c) => c.if_not_exists = true,
        NodeEnum::CreateTableAsStmt(c) => c.if_not_exists = true,
        NodeEnum::IndexStmt(i) => {
            i.if_not_exists = true;
            // IF NOT EXISTS needs a name.
            if i.idxname.is_empty() {
                let table = i.relation.as_ref().map(|r| r.relname.clone()).unwrap_or_default();
                let cols: Vec<String> = i
                    .index_params
                    .iter()
                    .filter_map(|p| match &p.node {
                        Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => Some(e.name.clone()),
                        _ => None,
                    })
                    .collect();
                i.idxname = object_name(&table, &cols.join("_"), if i.unique { "key" } else { "idx" });
            }
        }
        NodeEnum::DropStmt(d) => d.missing_ok = true,
        _ => {}
    }
    // CONCURRENTLY runs outside a transaction only.
    let concurrent = matches!(&node, NodeEnum::IndexStmt(i) if i.concurrent) || matches!(&node, NodeEnum::DropStmt(d) if d.concurrent);
    let marker = if concurrent { "-- stepwise:no-transaction\n" } else { "" };
    format!("{marker}{};", super::sql_of(&node))
}

impl Rule for RequireIfExists {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (what, name) = match cx.node {
            NodeEnum::CreateStmt(c) if !c.if_not_exists => ("CREATE TABLE without IF NOT EXISTS", c.relation.as_ref().map(Cx::name)),
            NodeEnum::CreateTableAsStmt(c) if !c.if_not_exists && ObjectType::try_from(c.objtype).ok() == Some(ObjectType::ObjectTable) => {
                ("CREATE TABLE AS without IF NOT EXISTS", c.into.as_ref().and_then(|i| i.rel.as_ref()).map(Cx::name))
            }
            NodeEnum::IndexStmt(i) if !i.if_not_exists => {
                ("CREATE INDEX without IF NOT EXISTS", Some(if i.idxname.is_empty() { "(unnamed)".to_string() } else { i.idxname.clone() }))
            }
            NodeEnum::DropStmt(d) if !d.missing_ok => {
                let what = match ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined) {
                    ObjectType::ObjectTable => "DROP TABLE without IF EXISTS",
                    ObjectType::ObjectIndex => "DROP INDEX without IF EXISTS",
                    _ => return,
                };
                let names: Vec<String> = d
                    .objects
                    .iter()
                    .filter_map(|o| match &o.node {
                        Some(NodeEnum::List(l)) => Some(strings(&l.items).join(".")),
                        _ => None,
                    })
                    .collect();
                (what, Some(names.join(", ")))
            }
            _ => return,
        };
        let name = name.unwrap_or_default();
        hits.push(Hit::new(
            format!("{what}: `{name}`"),
            "A migration applied by hand before it is recorded, or retried after failing halfway outside a transaction, fails again on the object that already exists (or is already gone).",
            idempotent(cx.node),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\nCREATE INDEX orders_status_idx ON orders (status);";
    const ID: &str = "require-if-exists";

    #[test]
    fn flags_create_and_drop_without_if_exists() {
        let m = "CREATE TABLE audit (id bigint PRIMARY KEY);\nDROP TABLE audit;\nDROP INDEX orders_status_idx;\nCREATE TABLE t2 AS SELECT 1 AS a;";
        let f = check(ID, SETUP, m);
        let got: Vec<(&str, &str)> = f.iter().map(|f| (f.message.as_str(), f.safe.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("CREATE TABLE without IF NOT EXISTS: `audit`", "CREATE TABLE IF NOT EXISTS audit (id bigint PRIMARY KEY);"),
                ("DROP TABLE without IF EXISTS: `audit`", "DROP TABLE IF EXISTS audit;"),
                ("DROP INDEX without IF EXISTS: `orders_status_idx`", "DROP INDEX IF EXISTS orders_status_idx;"),
                ("CREATE TABLE AS without IF NOT EXISTS: `t2`", "CREATE TABLE IF NOT EXISTS t2 AS SELECT 1 AS a;"),
            ]
        );
    }

    #[test]
    fn an_unnamed_index_gets_a_name() {
        let f = check(ID, SETUP, "-- stepwise:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY ON orders (status);");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].safe,
            "-- stepwise:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_status_key ON orders USING btree (status);"
        );
    }

    #[test]
    fn if_exists_everywhere_passes() {
        let m = "CREATE TABLE IF NOT EXISTS audit (id bigint PRIMARY KEY);\nDROP TABLE IF EXISTS audit;\nDROP INDEX IF EXISTS orders_status_idx;\nDROP VIEW v;\nCREATE VIEW v AS SELECT 1;";
        assert!(check(ID, SETUP, m).is_empty());
    }
}
