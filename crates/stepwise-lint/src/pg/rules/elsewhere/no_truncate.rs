//! `no-truncate`: TRUNCATE of a table that already exists.
//!
//! TRUNCATE takes an ACCESS EXCLUSIVE lock on the table (and on every table
//! it cascades to). The request waits behind every running query on the
//! table, every read and write queues behind the request, and all of them
//! wait until the migration commits. TRUNCATE is also not MVCC-safe: a
//! transaction whose snapshot is older sees the table empty. Delete the rows
//! in batches with `stepwise backfill <table> --delete`, which only ever
//! holds a few row locks at a time.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::elsewhere::shell_quote;
use crate::pg::rules::helpers::word_offset;
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct NoTruncate;
pub static RULE: NoTruncate = NoTruncate;

static META: RuleMeta = RuleMeta {
    id: "no-truncate",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::LockQueue,
    summary: "TRUNCATE locks out reads and writes: delete in batches with `stepwise backfill --delete`",
    setup: "CREATE TABLE import_rows (id bigint PRIMARY KEY, payload jsonb NOT NULL);",
    bad: "TRUNCATE import_rows;",
    safe: &["-- Empty the table in short batches, outside the migration (row locks only, resumable):\n\
             -- stepwise backfill import_rows --delete --where \"true\"\n\
             SELECT 1;"],
};

impl Rule for NoTruncate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::TruncateStmt(t) = cx.node else { return };
        let cascade = t.behavior == pg_query::protobuf::DropBehavior::DropCascade as i32;
        for r in t.relations.iter().filter_map(|n| match &n.node {
            Some(NodeEnum::RangeVar(r)) => Some(r),
            _ => None,
        }) {
            if !cx.existing(r) {
                continue;
            }
            let table = Cx::name(r);
            let also = if cascade { " (and on every table that references it, through CASCADE)" } else { "" };
            hits.push(
                Hit::new(
                    format!("TRUNCATE of existing table `{table}` takes an ACCESS EXCLUSIVE lock"),
                    format!(
                        "TRUNCATE takes an ACCESS EXCLUSIVE lock on `{table}`{also}: it waits behind every running query on the table, every read and write queues behind it, and they stay blocked until the migration commits. Transactions with an older snapshot then see the table empty."
                    ),
                    format!(
                        "-- Not in a migration: delete in short batches, each its own transaction:\n--   stepwise backfill {table} --delete --where {}",
                        shell_quote("true")
                    ),
                )
                .at(word_offset(cx.sql(), &[r.relname.as_str()], 0) as i32)
                .on_table(table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str =
        "CREATE TABLE import_rows (id bigint PRIMARY KEY, payload jsonb NOT NULL);\nCREATE TABLE audit (id bigint PRIMARY KEY);";

    #[test]
    fn flags_truncate_of_existing_tables() {
        let f = check("no-truncate", SETUP, "TRUNCATE TABLE import_rows, audit CASCADE;");
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("`import_rows`"));
        assert!(f[0].why.contains("CASCADE"));
        assert!(f[1].message.contains("`audit`"));
        assert_eq!(f[1].col, "TRUNCATE TABLE import_rows, ".len() + 1);
        assert!(f[0].safe.contains("stepwise backfill import_rows --delete --where \"true\""), "{}", f[0].safe);
    }

    #[test]
    fn a_table_created_in_the_same_migration_passes() {
        let m = "CREATE TABLE staging (id bigint PRIMARY KEY);\nTRUNCATE staging;";
        assert!(check("no-truncate", SETUP, m).is_empty());
    }
}
