//! `drop-table`: `DROP TABLE` of an existing table.
//!
//! The code running against the database may still read or write the table:
//! from the commit on its queries fail with `relation does not exist`, and
//! the data is gone for good. DROP TABLE also takes an ACCESS EXCLUSIVE lock,
//! which waits behind every running query on the table.
//!
//! The safe way: first deploy code that no longer uses the table, then drop
//! it in a migration that runs after the deploy (`-- stepwise:phase
//! post-deploy`), which this rule does not flag.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{ident, strings, word_offset};
use crate::pg::schema::key;
use crate::pg::Severity;
use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

pub struct DropTable;
pub static RULE: DropTable = DropTable;

static META: RuleMeta = RuleMeta {
    id: "drop-table",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "DROP TABLE breaks running code that still uses the table: drop it after the deploy",
    setup: "CREATE TABLE legacy_events (id bigint PRIMARY KEY, payload jsonb);",
    bad: "DROP TABLE legacy_events;",
    safe: &["-- stepwise:phase post-deploy\n\
             SET LOCAL lock_timeout = '2s';\n\
             DROP TABLE IF EXISTS legacy_events;"],
};

impl Rule for DropTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        // Post-deploy: the code that used the table is gone by then.
        if cx.phase == stepwise_sql::Phase::PostDeploy {
            return;
        }
        let NodeEnum::DropStmt(d) = cx.node else { return };
        if d.remove_type != ObjectType::ObjectTable as i32 {
            return;
        }
        for o in &d.objects {
            let Some(NodeEnum::List(l)) = &o.node else { continue };
            let parts = strings(&l.items);
            let (schema, name) = match parts.as_slice() {
                [name] => ("", name.as_str()),
                [schema, name] => (schema.as_str(), name.as_str()),
                _ => continue,
            };
            let table = key(schema, name);
            // Created earlier in this migration (or an unapplied one): nobody uses it yet.
            if cx.schema.tables.get(&table).is_some_and(|t| t.new) {
                continue;
            }
            let sql = if schema.is_empty() { ident(name) } else { format!("{}.{}", ident(schema), ident(name)) };
            hits.push(
                Hit::new(
                    format!("dropping `{table}` breaks the running code that still uses it"),
                    crate::breaking::drop_table_why(
                        &table,
                        true,
                        "The DROP also waits for an ACCESS EXCLUSIVE lock behind every running query on the table, and blocks all queries after it meanwhile.",
                    ),
                    format!(
                        "-- 1. Deploy code that no longer reads or writes {sql}.\n\
                         -- 2. Then drop it in a migration that runs after that deploy:\n\
                         -- stepwise:phase post-deploy\n\
                         DROP TABLE IF EXISTS {sql};"
                    ),
                )
                .at(i32::try_from(word_offset(cx.sql(), &[name], 0)).unwrap_or(0))
                .on_table(table.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE legacy_events (id bigint PRIMARY KEY, payload jsonb);";
    const ID: &str = "drop-table";

    #[test]
    fn flags_each_dropped_table() {
        let f = check(ID, SETUP, "DROP TABLE legacy_events, audit.old_log;");
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].message, "dropping `legacy_events` breaks the running code that still uses it");
        assert!(f[1].message.contains("`audit.old_log`"), "{}", f[1].message);
        assert!(f[0].safe.contains("-- stepwise:phase post-deploy\n"), "{}", f[0].safe);
        assert!(f[0].safe.ends_with("DROP TABLE IF EXISTS legacy_events;"), "{}", f[0].safe);
    }

    #[test]
    fn new_tables_other_objects_and_reviewed_drops_pass() {
        for m in [
            "CREATE TABLE tmp_import (id bigint);\nDROP TABLE tmp_import;",
            "DROP VIEW IF EXISTS legacy_view;",
            "-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS legacy_events_payload_idx;",
            "-- stepwise:phase post-deploy\nDROP TABLE legacy_events;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
