//! `drop-table` (MySQL/MariaDB): `DROP TABLE` of an existing table before
//! the deploy: running code fails from the commit on, and the rows are gone
//! for good (`crate::breaking`). On MySQL and MariaDB the drop also takes
//! the table's metadata lock exclusively, and dropping a large InnoDB table
//! can stall the server while its pages are freed.
//!
//! The safe way: deploy code that no longer uses the table, keep a backup,
//! then drop it in a `-- stepwise:phase post-deploy` migration.

use super::helpers::q;
use crate::breaking::drop_table_why;
use crate::mysql::ast::Stmt;
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct DropTable;
pub static RULE: DropTable = DropTable;

static META: RuleMeta = RuleMeta {
    id: "drop-table",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "DROP TABLE breaks running code that still uses the table: drop it after the deploy",
    setup: "CREATE TABLE legacy_events (id bigint PRIMARY KEY) ENGINE=InnoDB;",
    bad: "DROP TABLE legacy_events;",
    safe: &["-- stepwise:phase post-deploy\nDROP TABLE IF EXISTS legacy_events;"],
};

impl Rule for DropTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if cx.phase == stepwise_sql::Phase::PostDeploy {
            return;
        }
        let Stmt::DropTable { tables } = cx.parsed else { return };
        for t in tables.iter().filter(|t| cx.schema.existing(t).is_some()) {
            hits.push(
                Hit::new(
                    format!("dropping `{t}` breaks the running code that still uses it"),
                    drop_table_why(
                        t,
                        false,
                        "The DROP also waits for the table's metadata lock behind every open transaction that touched it, and every query on the table waits behind it.",
                    ),
                    format!(
                        "-- 1. Deploy code that no longer uses {0}; keep a backup of it.\n\
                         -- 2. Then drop it in a migration that runs after that deploy:\n\
                         -- stepwise:phase post-deploy\nDROP TABLE IF EXISTS {0};",
                        q(t)
                    ),
                )
                .on_table(t.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    #[test]
    fn flags_existing_tables_only() {
        let setup = "CREATE TABLE a (id int PRIMARY KEY);";
        assert_eq!(check("drop-table", setup, "DROP TABLE IF EXISTS a, missing;").len(), 1);
        assert!(check("drop-table", setup, "CREATE TABLE b (id int);\nDROP TABLE b;").is_empty());
    }
}
