//! `require-concurrent-index`: `CREATE INDEX` on an existing table without
//! `CONCURRENTLY`.
//!
//! A plain `CREATE INDEX` takes a SHARE lock on the table for the whole build:
//! reads go on, but every INSERT, UPDATE and DELETE waits until the index is
//! built — minutes on a large table. `CREATE INDEX CONCURRENTLY` builds it
//! without blocking writes (it must run outside a transaction).
//!
//! On a partitioned table the build locks every partition, and CONCURRENTLY
//! is refused there: the recipe indexes each partition, then attaches.
//! `CREATE INDEX ... ON ONLY` a partitioned table builds nothing (the index
//! is created INVALID, to be completed by attaching the partitions' indexes)
//! and passes.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct RequireConcurrentIndex;
pub static RULE: RequireConcurrentIndex = RequireConcurrentIndex;

static META: RuleMeta = RuleMeta {
    id: "require-concurrent-index",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "CREATE INDEX on an existing table must use CONCURRENTLY",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);",
    bad: "CREATE INDEX orders_status_idx ON orders (status);",
    safe: &["-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);"],
};

impl Rule for RequireConcurrentIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::IndexStmt(i) = cx.node else { return };
        let Some(r) = &i.relation else { return };
        if i.concurrent || !cx.existing(r) {
            return;
        }
        let partitioned = cx.table(r).is_some_and(|t| t.partitioned);
        if partitioned && !r.inh {
            return;
        }
        let table = Cx::name(r);
        if partitioned {
            hits.push(
                Hit::new(
                    format!("CREATE INDEX without CONCURRENTLY blocks writes to every partition of `{table}` while the index builds"),
                    format!("CREATE INDEX on the partitioned table `{table}` takes a SHARE lock on each of its partitions and keeps them until the last partition is indexed: reads continue, but every INSERT, UPDATE and DELETE waits, which takes minutes on large partitions. CONCURRENTLY is refused on a partitioned table."),
                    super::concurrent_index_on_partitioned_table::partition_recipe(i),
                )
                .on_table(table),
            );
            return;
        }
        let name = if i.idxname.is_empty() { format!("{}_idx", r.relname) } else { i.idxname.clone() };
        let unique = if i.unique { "UNIQUE " } else { "" };
        hits.push(
            Hit::new(
                format!("CREATE INDEX without CONCURRENTLY blocks writes to `{table}` while the index builds"),
                format!("CREATE INDEX takes a SHARE lock on `{table}` for the whole build: reads continue, but every INSERT, UPDATE and DELETE waits until the build ends, which takes minutes on a large table."),
                format!(
                    "-- stepwise:no-transaction\nCREATE {unique}INDEX CONCURRENTLY {} ON {} ...;\n-- If it fails, drop the INVALID leftover before retrying:\n-- DROP INDEX CONCURRENTLY IF EXISTS {};",
                    ident(&name),
                    table,
                    ident(&name)
                ),
            )
            .on_table(table),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);";

    #[test]
    fn flags_a_plain_index_on_an_existing_table() {
        let f = check("require-concurrent-index", SETUP, "CREATE INDEX orders_status_idx ON orders (status);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("orders"));
        assert!(f[0].safe.contains("CREATE INDEX CONCURRENTLY orders_status_idx ON orders"));
        assert_eq!((f[0].line, f[0].col), (1, 1));
    }

    #[test]
    fn the_safe_recipe_passes() {
        let safe = "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);";
        assert!(check("require-concurrent-index", SETUP, safe).is_empty());
    }

    #[test]
    fn a_partitioned_table_gets_the_per_partition_recipe_and_on_only_passes() {
        let setup = "CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);";
        let f = check("require-concurrent-index", setup, "CREATE INDEX events_at_idx ON events (at);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("every partition of `events`"), "{}", f[0].message);
        assert!(f[0].safe.contains("CREATE INDEX IF NOT EXISTS events_at_idx ON ONLY events USING btree (at);"), "{}", f[0].safe);
        assert!(check("require-concurrent-index", setup, "CREATE INDEX events_at_idx ON ONLY events (at);").is_empty());
    }

    #[test]
    fn a_table_created_in_the_same_migration_is_new() {
        let m = "CREATE TABLE items (id bigint PRIMARY KEY, sku text);\nCREATE INDEX items_sku_idx ON items (sku);";
        assert!(check("require-concurrent-index", SETUP, m).is_empty());
    }
}
