//! `attach-partition-without-check`: `ALTER TABLE ... ATTACH PARTITION` of
//! an existing table that has no valid CHECK constraint.
//!
//! Attaching proves that every row of the table fits the partition bound:
//! PostgreSQL scans the whole table under an ACCESS EXCLUSIVE lock on it
//! (and SHARE UPDATE EXCLUSIVE on the parent), unless a valid CHECK
//! constraint on the table implies the bound, in which case the scan is
//! skipped. The recipe adds that CHECK NOT VALID, validates it (a scan under
//! SHARE UPDATE EXCLUSIVE, reads and writes go on), attaches, and drops it.
//!
//! The model cannot prove that a CHECK implies the bound: any valid CHECK
//! on the table is taken as the recipe's, and the finding says what to check.

use crate::pg::context::Cx;
use crate::pg::relations::ConstraintKind;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, object_name};
use crate::pg::schema::range_key;
use crate::pg::Severity;
use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

pub struct AttachPartitionWithoutCheck;
pub static RULE: AttachPartitionWithoutCheck = AttachPartitionWithoutCheck;

static META: RuleMeta = RuleMeta {
    id: "attach-partition-without-check",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ATTACH PARTITION scans the table under ACCESS EXCLUSIVE: add a matching CHECK NOT VALID and validate it first",
    setup: "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n\
            CREATE TABLE events_2026 (id bigint NOT NULL, at date NOT NULL);",
    bad: "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE events_2026 ADD CONSTRAINT events_2026_bound CHECK (at >= '2026-01-01' AND at < '2027-01-01') NOT VALID;",
        "ALTER TABLE events_2026 VALIDATE CONSTRAINT events_2026_bound;",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n\
         ALTER TABLE events_2026 DROP CONSTRAINT events_2026_bound;",
    ],
};

impl Rule for AttachPartitionWithoutCheck {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(parent) = &a.relation else { return };
        for (kind, cmd) in alter_cmds(a) {
            let Some(NodeEnum::PartitionCmd(p)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
            let Some(part) = &p.name else { continue };
            if kind != AlterTableType::AtAttachPartition || !cx.existing(part) {
                continue;
            }
            let key = range_key(part);
            let checked = cx.schema.constraints.get(&key).is_some_and(|m| m.values().any(|c| c.kind == ConstraintKind::Check && c.valid));
            if checked {
                continue;
            }
            let table = Cx::name(part);
            let name = object_name(&part.relname, "", "bound");
            let bound = bound_text(cx.sql());
            hits.push(
                Hit::new(
                    format!("ATTACH PARTITION `{table}` scans it under an ACCESS EXCLUSIVE lock to check the partition bound"),
                    format!(
                        "Before `{table}` joins `{}`, PostgreSQL reads every row of it to prove each fits {bound}, holding an ACCESS EXCLUSIVE lock on `{table}` (no reads or writes) for the whole scan. A valid CHECK constraint on `{table}` that implies the bound lets it skip the scan; with a default partition, that one is scanned too.",
                        Cx::name(parent)
                    ),
                    format!(
                        "-- A CHECK matching the bound (partition key columns NOT NULL, or add IS NOT NULL):\nALTER TABLE {table} ADD CONSTRAINT {name} CHECK (...) NOT VALID;\n-- next migration (the scan holds SHARE UPDATE EXCLUSIVE: reads and writes go on):\nALTER TABLE {table} VALIDATE CONSTRAINT {name};\n-- next migration (no scan now):\n{};\nALTER TABLE {table} DROP CONSTRAINT {name};",
                        cx.sql().trim_end().trim_end_matches(';')
                    ),
                )
                .on_table(table),
            );
        }
    }
}

/// `FOR VALUES ...` as written, for the message.
fn bound_text(sql: &str) -> String {
    let upper = sql.to_uppercase();
    match upper.find("FOR VALUES").or_else(|| upper.find("DEFAULT")) {
        Some(i) => format!("`{}`", sql[i..].trim_end().trim_end_matches(';').split_whitespace().collect::<Vec<_>>().join(" ")),
        None => "its bound".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, findings_in_sequence};

    const SETUP: &str = "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2026 (id bigint NOT NULL, at date NOT NULL);";
    const ATTACH: &str = "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');";

    #[test]
    fn flags_attaching_a_table_without_a_check() {
        let f = check("attach-partition-without-check", SETUP, ATTACH);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"), "{}", f[0].why);
        assert!(f[0].safe.contains("VALIDATE CONSTRAINT events_2026_bound"), "{}", f[0].safe);
    }

    #[test]
    fn a_validated_check_and_a_new_table_pass() {
        let f = findings_in_sequence(&[
            SETUP,
            "ALTER TABLE events_2026 ADD CONSTRAINT events_2026_bound CHECK (at >= '2026-01-01' AND at < '2027-01-01') NOT VALID;",
            "ALTER TABLE events_2026 VALIDATE CONSTRAINT events_2026_bound;",
            ATTACH,
        ]);
        assert!(f.iter().all(|f| f.rule != "attach-partition-without-check"), "{f:#?}");
        // NOT VALID alone is not enough: the attach would still scan.
        let f = findings_in_sequence(&[
            SETUP,
            "ALTER TABLE events_2026 ADD CONSTRAINT events_2026_bound CHECK (at >= '2026-01-01' AND at < '2027-01-01') NOT VALID;",
            ATTACH,
        ]);
        assert!(f.iter().any(|f| f.rule == "attach-partition-without-check"), "{f:#?}");
        let m = "CREATE TABLE events_2027 (id bigint NOT NULL, at date NOT NULL);\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');";
        assert!(check("attach-partition-without-check", SETUP, m).is_empty());
    }
}
