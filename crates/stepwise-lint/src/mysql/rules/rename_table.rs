//! `rename-table` (MySQL/MariaDB): `RENAME TABLE` or `ALTER TABLE ... RENAME
//! TO` of an existing table before the deploy. The same question as on
//! PostgreSQL (`crate::breaking`): queries on the old name fail from the commit on.
//!
//! The safe way on MySQL and MariaDB: give the table its new name as a view
//! first (a single-table view is updatable: INSERT, UPDATE and DELETE go
//! through it), deploy code that uses the new name, then after the deploy
//! swap the view and the table in one atomic `RENAME TABLE` (which renames
//! views too) and drop the view.

use super::helpers::q;
use crate::breaking::rename_table_why;
use crate::mysql::ast::{Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct RenameTable;
pub static RULE: RenameTable = RenameTable;

static META: RuleMeta = RuleMeta {
    id: "rename-table",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "renaming a table breaks the running code: add the new name as a view, deploy, then swap",
    setup: "CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(100)) ENGINE=InnoDB;",
    bad: "RENAME TABLE users TO accounts;",
    safe: &[
        "CREATE VIEW accounts AS SELECT * FROM users;",
        "-- After code that uses only `accounts` is deployed:\n\
         -- stepwise:phase post-deploy\n\
         RENAME TABLE accounts TO accounts_old_view, users TO accounts;\n\
         DROP VIEW accounts_old_view;",
    ],
};

impl Rule for RenameTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if cx.phase == stepwise_sql::Phase::PostDeploy {
            return;
        }
        let renames: Vec<(String, String, usize)> = match cx.parsed {
            // A swap (`RENAME TABLE t TO t_old, t_new TO t`) keeps the name
            // in place in one atomic statement: running code sees `t` all along.
            Stmt::RenameTable { pairs } => pairs
                .iter()
                .filter(|(from, _)| !pairs.iter().any(|(_, to)| to.eq_ignore_ascii_case(from)))
                .map(|(a, b)| (a.clone(), b.clone(), 0))
                .collect(),
            Stmt::Alter(a) => a
                .clauses
                .iter()
                .filter_map(|c| match &c.op {
                    Op::RenameTable { to } => Some((a.table.clone(), to.clone(), c.offset)),
                    _ => None,
                })
                .collect(),
            _ => return,
        };
        for (from, to, offset) in renames {
            if cx.schema.existing(&from).is_none() {
                continue;
            }
            let (f, t) = (q(&from), q(&to));
            hits.push(
                Hit::new(
                    format!("renaming `{from}` to `{to}` breaks the running code"),
                    rename_table_why(&from, &to, false),
                    format!(
                        "-- 1. The new name as an updatable view:\nCREATE VIEW {t} AS SELECT * FROM {f};\n\
                         -- 2. Deploy code that uses {t}; then, after that deploy, swap them atomically:\n\
                         -- stepwise:phase post-deploy\nRENAME TABLE {t} TO {tv}, {f} TO {t};\nDROP VIEW {tv};",
                        tv = q(&format!("{to}_old_view"))
                    ),
                )
                .at(offset as i32)
                .on_table(from.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    #[test]
    fn flags_both_spellings() {
        let setup = "CREATE TABLE users (id int PRIMARY KEY);";
        assert_eq!(check("rename-table", setup, "RENAME TABLE users TO accounts;").len(), 1);
        assert_eq!(check("rename-table", setup, "ALTER TABLE users RENAME TO accounts;").len(), 1);
        assert!(check("rename-table", setup, "-- stepwise:phase post-deploy\nRENAME TABLE users TO accounts;").is_empty());
        let swap = "CREATE TABLE users_new LIKE users;\nRENAME TABLE users TO users_old, users_new TO users;";
        assert!(check("rename-table", setup, swap).is_empty());
    }
}
