//! `require-index-name`: an index without an explicit name.
//!
//! PostgreSQL picks a name (`orders_status_idx`, `orders_status_idx1`, ...).
//! When a concurrent build fails it leaves an INVALID index under that
//! generated name; a retry then builds another one beside it. With an explicit
//! name the leftover is findable, `IF NOT EXISTS` works, and the down
//! migration can drop it.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct RequireIndexName;
pub static RULE: RequireIndexName = RequireIndexName;

static META: RuleMeta = RuleMeta {
    id: "require-index-name",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "Name every index explicitly",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);",
    bad: "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY ON orders (status);",
    safe: &["-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);"],
};

impl Rule for RequireIndexName {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::IndexStmt(i) = cx.node else { return };
        let Some(r) = &i.relation else { return };
        if !i.idxname.is_empty() {
            return;
        }
        hits.push(Hit::new(
            format!("index on `{}` without an explicit name", Cx::name(r)),
            "A failed concurrent build leaves an INVALID index under a generated name; a retry builds another beside it, and nobody finds the leftover. A name makes it findable and droppable.",
            format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {}_<columns>_idx ON {} (...);", r.relname, Cx::name(r)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    #[test]
    fn flags_an_unnamed_index() {
        assert_eq!(check("require-index-name", "CREATE TABLE t (a int);", "CREATE INDEX ON t (a);").len(), 1);
    }

    #[test]
    fn a_named_index_passes() {
        assert!(check(
            "require-index-name",
            "CREATE TABLE t (a int);",
            "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a);"
        )
        .is_empty());
    }
}
