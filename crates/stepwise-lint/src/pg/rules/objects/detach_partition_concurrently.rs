//! `detach-partition-concurrently`: `ALTER TABLE ... DETACH PARTITION`
//! without `CONCURRENTLY`.
//!
//! A plain detach takes an ACCESS EXCLUSIVE lock on the partitioned table
//! and on the partition: every query on any partition waits, and the lock
//! request waits behind every running query first. From PostgreSQL 14,
//! `DETACH PARTITION ... CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE on the
//! parent (ACCESS EXCLUSIVE only on the partition being detached) in two
//! transactions; it cannot run inside a transaction block, nor when the
//! parent has a default partition.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, ident};
use crate::pg::Severity;
use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

pub struct DetachPartitionConcurrently;
pub static RULE: DetachPartitionConcurrently = DetachPartitionConcurrently;

static META: RuleMeta = RuleMeta {
    id: "detach-partition-concurrently",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::LockQueue,
    summary: "DETACH PARTITION locks the whole partitioned table: detach CONCURRENTLY (PostgreSQL 14+)",
    setup: "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n\
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    bad: "ALTER TABLE events DETACH PARTITION events_2025;",
    safe: &["-- stepwise:no-transaction\nSET lock_timeout = '2s';\nALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY;"],
};

impl Rule for DetachPartitionConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(parent) = &a.relation else { return };
        if !cx.existing(parent) {
            return;
        }
        for (kind, cmd) in alter_cmds(a) {
            let Some(NodeEnum::PartitionCmd(p)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
            if kind != AlterTableType::AtDetachPartition || p.concurrent {
                continue;
            }
            let part = p.name.as_ref().map(Cx::name).unwrap_or_default();
            let table = Cx::name(parent);
            let (why, safe) = if cx.pg_version >= 14 {
                (
                    format!("The ACCESS EXCLUSIVE lock on `{table}` stops every read and write of every partition, and while it waits behind a running query, all queries after it wait too. DETACH PARTITION ... CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on `{table}` instead (it cannot be used when `{table}` has a default partition)."),
                    format!(
                        "-- stepwise:no-transaction\n-- The partition itself is still locked ACCESS EXCLUSIVE at the end: keep the wait short.\nSET lock_timeout = '2s';\nALTER TABLE {} DETACH PARTITION {} CONCURRENTLY;",
                        ident_path(parent),
                        p.name.as_ref().map(ident_path).unwrap_or_default()
                    ),
                )
            } else {
                (
                    format!("The ACCESS EXCLUSIVE lock on `{table}` stops every read and write of every partition. CONCURRENTLY needs PostgreSQL 14; before it, detach in a quiet moment under a short lock_timeout."),
                    format!(
                        "SET LOCAL lock_timeout = '2s';\nALTER TABLE {} DETACH PARTITION {};",
                        ident_path(parent),
                        p.name.as_ref().map(ident_path).unwrap_or_default()
                    ),
                )
            };
            hits.push(
                Hit::new(format!("DETACH PARTITION `{part}` without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on `{table}`"), why, safe)
                    .on_table(table),
            );
        }
    }
}

fn ident_path(r: &pg_query::protobuf::RangeVar) -> String {
    if r.schemaname.is_empty() {
        ident(&r.relname)
    } else {
        format!("{}.{}", ident(&r.schemaname), ident(&r.relname))
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const SETUP: &str = "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');";

    #[test]
    fn flags_a_plain_detach_and_says_concurrently() {
        let f = check("detach-partition-concurrently", SETUP, "ALTER TABLE events DETACH PARTITION events_2025;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("DETACH PARTITION events_2025 CONCURRENTLY"), "{}", f[0].safe);
    }

    #[test]
    fn before_14_there_is_no_concurrently_to_advise() {
        let opts = LintOptions { pg_version: 13, ..Default::default() };
        let f = check_with("detach-partition-concurrently", SETUP, "ALTER TABLE events DETACH PARTITION events_2025;", &opts);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(!f[0].safe.contains("CONCURRENTLY") && f[0].why.contains("needs PostgreSQL 14"), "{:?}", f[0]);
    }

    #[test]
    fn concurrently_and_new_tables_pass() {
        assert!(check(
            "detach-partition-concurrently",
            SETUP,
            "-- stepwise:no-transaction\nALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY;"
        )
        .is_empty());
        let m = "CREATE TABLE logs (at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE logs_1 PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\nALTER TABLE logs DETACH PARTITION logs_1;";
        assert!(check("detach-partition-concurrently", "SELECT 1;", m).is_empty());
    }
}
