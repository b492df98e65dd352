//! `concurrent-index-on-partitioned-table`: `CREATE INDEX CONCURRENTLY` on a
//! partitioned table.
//!
//! PostgreSQL refuses it ("cannot create index on partitioned table ...
//! concurrently"): the migration fails when it is deployed. Without
//! CONCURRENTLY the build takes a SHARE lock on every partition and blocks
//! their writes until the last one is indexed. The way through: create the
//! parent's index `ON ONLY` the parent (INVALID and empty, so it builds
//! nothing), build each partition's index `CONCURRENTLY`, and attach each
//! with `ALTER INDEX ... ATTACH PARTITION`; once every partition's index is
//! attached, PostgreSQL marks the parent's index valid.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{deparse, ident, object_name};
use crate::pg::Severity;
use pg_query::protobuf::IndexStmt;
use pg_query::NodeEnum;

pub struct ConcurrentIndexOnPartitionedTable;
pub static RULE: ConcurrentIndexOnPartitionedTable = ConcurrentIndexOnPartitionedTable;

static META: RuleMeta = RuleMeta {
    id: "concurrent-index-on-partitioned-table",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::Advice,
    summary: "PostgreSQL cannot index a partitioned table CONCURRENTLY: index each partition, then attach",
    setup: "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, kind text) PARTITION BY RANGE (created_at);\n\
            CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    bad: "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY events_created_at_idx ON events (created_at);",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nCREATE INDEX IF NOT EXISTS events_created_at_idx ON ONLY events (created_at);",
        "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_created_at_idx ON events_2024 (created_at);",
        "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS events_2025_created_at_idx ON events_2025 (created_at);",
        "ALTER INDEX events_created_at_idx ATTACH PARTITION events_2024_created_at_idx;",
        "ALTER INDEX events_created_at_idx ATTACH PARTITION events_2025_created_at_idx;",
    ],
};

/// A stand-in relation name, printed as `<partition>` (the schema model
/// does not list a table's partitions).
const PARTITION: &str = "stepwise_partition_marker";

/// The name PostgreSQL gives an unnamed index: `events_created_at_idx`.
fn index_name(i: &IndexStmt) -> String {
    if !i.idxname.is_empty() {
        return i.idxname.clone();
    }
    let table = i.relation.as_ref().map(|r| r.relname.as_str()).unwrap_or_default();
    let cols: Vec<&str> = i
        .index_params
        .iter()
        .map(|p| match &p.node {
            Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => e.name.as_str(),
            _ => "expr",
        })
        .collect();
    object_name(table, &cols.join("_"), "idx")
}

/// The per-partition recipe for an index on a partitioned table, as SQL
/// migrations separated by `-- next migration:` comments.
pub(super) fn partition_recipe(i: &IndexStmt) -> String {
    let Some(r) = &i.relation else { return String::new() };
    let table = Cx::name(r);
    let name = index_name(i);

    let mut parent = i.clone();
    parent.idxname = name.clone();
    parent.concurrent = false;
    parent.if_not_exists = true;
    if let Some(rel) = parent.relation.as_mut() {
        rel.inh = false;
    }

    let part_name = match name.strip_prefix(&format!("{}_", r.relname)) {
        Some(rest) => format!("{PARTITION}_{rest}"),
        None => format!("{PARTITION}_{name}"),
    };
    let mut part = i.clone();
    part.idxname = part_name.clone();
    part.concurrent = true;
    part.if_not_exists = true;
    if let Some(rel) = part.relation.as_mut() {
        rel.relname = PARTITION.into();
        rel.inh = true;
    }

    let sql = |s: IndexStmt| deparse(NodeEnum::IndexStmt(Box::new(s))).unwrap_or_else(|| "CREATE INDEX ...".into());
    let qualified = |n: &str| if r.schemaname.is_empty() { ident(n) } else { format!("{}.{}", ident(&r.schemaname), ident(n)) };
    format!(
        "-- `{table}` is partitioned. First its own index, created INVALID and empty (it builds nothing):\n{};\n\
         -- next migration, one per partition of `{table}`:\n-- stepwise:no-transaction\n{};\n\
         -- next migration, one per partition; when every partition's index is attached, the index of `{table}` becomes valid:\n\
         ALTER INDEX {} ATTACH PARTITION {};",
        sql(parent),
        sql(part),
        qualified(&name),
        qualified(&part_name),
    )
    .replace(PARTITION, "<partition>")
}

impl Rule for ConcurrentIndexOnPartitionedTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::IndexStmt(i) = cx.node else { return };
        let Some(r) = &i.relation else { return };
        if !i.concurrent || !cx.table(r).is_some_and(|t| t.partitioned) {
            return;
        }
        let table = Cx::name(r);
        hits.push(Hit::new(
            format!("CREATE INDEX CONCURRENTLY on partitioned table `{table}`: PostgreSQL refuses it"),
            format!(
                "PostgreSQL cannot build an index CONCURRENTLY on a partitioned table, so the migration fails when it is deployed. Without CONCURRENTLY the build takes a SHARE lock on every partition of `{table}` and blocks their INSERT, UPDATE and DELETE until the last partition is indexed."
            ),
            partition_recipe(i),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const ID: &str = "concurrent-index-on-partitioned-table";
    const SETUP: &str =
        "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, kind text) PARTITION BY RANGE (created_at);\n\
                         CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');";

    #[test]
    fn flags_concurrently_on_a_partitioned_table() {
        let f = check(ID, SETUP, "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY events_created_at_idx ON events (created_at);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`events`"));
        assert!(f[0].why.contains("SHARE lock"));
        let safe = &f[0].safe;
        assert!(safe.contains("CREATE INDEX IF NOT EXISTS events_created_at_idx ON ONLY events USING btree (created_at);"), "{safe}");
        assert!(
            safe.contains("-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS <partition>_created_at_idx ON <partition> USING btree (created_at);"),
            "{safe}"
        );
        assert!(safe.contains("ALTER INDEX events_created_at_idx ATTACH PARTITION <partition>_created_at_idx;"), "{safe}");
    }

    #[test]
    fn names_an_unnamed_index_and_keeps_its_options() {
        let f =
            check(ID, SETUP, "-- stepwise:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY ON events (id, created_at) WHERE kind <> 'x';");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].safe.contains(
                "CREATE UNIQUE INDEX IF NOT EXISTS events_id_created_at_idx ON ONLY events USING btree (id, created_at) WHERE kind <> 'x';"
            ),
            "{}",
            f[0].safe
        );
    }

    #[test]
    fn partitions_and_plain_tables_pass() {
        let m = "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY events_2025_kind_idx ON events_2025 (kind);";
        assert!(check(ID, SETUP, m).is_empty());
        let m = "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);";
        assert!(check(ID, "CREATE TABLE t (a bigint);", m).is_empty());
    }
}
