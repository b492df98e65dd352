//! `concurrently-in-transaction`: a `CONCURRENTLY` operation in a migration
//! that runs in a transaction.
//!
//! PostgreSQL refuses `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`
//! and `REINDEX ... CONCURRENTLY` inside a transaction block: the migration
//! fails at deploy time. Mark it `-- stepwise:no-transaction` (and keep it to
//! the concurrent statement, so a failure leaves nothing half done).

use crate::lint::context::Cx;
use crate::lint::rule::{Cost, Hit, Rule, RuleMeta};
use crate::lint::rules::helpers::option_on;
use crate::lint::Severity;
use pg_query::NodeEnum;

pub struct ConcurrentlyInTransaction;
pub static RULE: ConcurrentlyInTransaction = ConcurrentlyInTransaction;

static META: RuleMeta = RuleMeta {
    id: "concurrently-in-transaction",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::Advice,
    summary: "CONCURRENTLY cannot run inside a transaction: mark the migration no-transaction",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);",
    bad: "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);",
    safe: &["-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);"],
};

fn is_concurrent(node: &NodeEnum) -> bool {
    match node {
        NodeEnum::IndexStmt(i) => i.concurrent,
        NodeEnum::DropStmt(d) => d.concurrent,
        NodeEnum::ReindexStmt(r) => option_on(&r.params, "concurrently"),
        _ => false,
    }
}

impl Rule for ConcurrentlyInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if cx.in_transaction && is_concurrent(cx.node) {
            hits.push(Hit::new(
                "a CONCURRENTLY operation in a migration that runs in a transaction",
                "PostgreSQL refuses CONCURRENTLY inside a transaction block, so the migration fails when it is deployed.",
                format!("-- stepwise:no-transaction\n{};", cx.sql()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::check;

    const SETUP: &str = "CREATE TABLE t (id int, a int);";

    #[test]
    fn flags_concurrently_in_a_transactional_migration() {
        assert_eq!(check("concurrently-in-transaction", SETUP, "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);").len(), 1);
        assert_eq!(check("concurrently-in-transaction", SETUP, "REINDEX INDEX CONCURRENTLY t_a_idx;").len(), 1);
    }

    #[test]
    fn concurrently_false_is_not_concurrent() {
        assert!(check("concurrently-in-transaction", SETUP, "REINDEX (CONCURRENTLY false) INDEX t_a_idx;").is_empty());
    }

    #[test]
    fn the_safe_recipe_passes() {
        assert!(check("concurrently-in-transaction", SETUP, "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);")
            .is_empty());
    }
}
