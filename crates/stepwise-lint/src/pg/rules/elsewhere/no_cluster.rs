//! `no-cluster`: CLUSTER.
//!
//! CLUSTER rewrites the table in index order under an ACCESS EXCLUSIVE lock:
//! no reads and no writes for the whole rewrite. Mark the index with
//! `ALTER TABLE ... CLUSTER ON` (a catalog change under SHARE UPDATE
//! EXCLUSIVE, which blocks no reads or writes), then let pg_repack reorder
//! the table online: it orders by the table's clustering index.

use super::no_vacuum_full::online_rewrite;
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct NoCluster;
pub static RULE: NoCluster = NoCluster;

static META: RuleMeta = RuleMeta {
    id: "no-cluster",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "CLUSTER rewrites the table under ACCESS EXCLUSIVE: set CLUSTER ON and reorder with pg_repack",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);\nCREATE INDEX orders_created_at_idx ON orders (created_at);",
    bad: "CLUSTER orders USING orders_created_at_idx;",
    safe: &["-- Catalog only (SHARE UPDATE EXCLUSIVE: reads and writes go on); then, outside the\n\
             -- migration, pg_repack --table=orders reorders the table online by this index.\n\
             ALTER TABLE orders CLUSTER ON orders_created_at_idx;"],
};

impl Rule for NoCluster {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::ClusterStmt(c) = cx.node else { return };
        let Some(r) = &c.relation else {
            hits.push(Hit::new(
                "CLUSTER of every clustered table in the database",
                "CLUSTER without a table rewrites every table that has a clustering index, each under an ACCESS EXCLUSIVE lock (no reads or writes) for its whole rewrite.",
                "-- Not in a migration, table by table and online (ordered by the clustering index):\n--   pg_repack --table=<table>",
            ));
            return;
        };
        if !cx.existing(r) {
            return;
        }
        let table = Cx::name(r);
        let mark =
            if c.indexname.is_empty() { String::new() } else { format!("ALTER TABLE {table} CLUSTER ON {};\n", ident(&c.indexname)) };
        hits.push(
            Hit::new(
                format!("CLUSTER rewrites `{table}` under an ACCESS EXCLUSIVE lock"),
                format!(
                    "CLUSTER writes a new copy of `{table}` in index order, and rebuilds its indexes, while holding an ACCESS EXCLUSIVE lock: every read and write waits for the whole rewrite, minutes to hours on a large table."
                ),
                format!("{mark}{}", online_rewrite(&table, " in the clustering index's order")),
            )
            .on_table(table),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);\nCREATE INDEX orders_created_at_idx ON orders (created_at);";

    #[test]
    fn flags_cluster() {
        let f = check("no-cluster", SETUP, "CLUSTER orders USING orders_created_at_idx;");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].safe.starts_with("ALTER TABLE orders CLUSTER ON orders_created_at_idx;\n"), "{}", f[0].safe);
        assert!(f[0].safe.contains("pg_repack --table=orders"));
        assert_eq!(check("no-cluster", SETUP, "-- stepwise:no-transaction\nCLUSTER;").len(), 1);
    }

    #[test]
    fn cluster_on_and_new_tables_pass() {
        let m = "ALTER TABLE orders CLUSTER ON orders_created_at_idx;\nCREATE TABLE t (id bigint PRIMARY KEY);\nCLUSTER t USING t_pkey;";
        assert!(check("no-cluster", SETUP, m).is_empty());
    }
}
