//! `drop-column` (MySQL/MariaDB): `ALTER TABLE ... DROP COLUMN` of an
//! existing table before the deploy. The same question as on PostgreSQL
//! (`crate::breaking`): running code still names the column, and ORMs list
//! every column they know in INSERTs; from the commit on those fail with
//! "Unknown column". The data is gone for good.
//!
//! The safe way: deploy code that ignores the column, then drop it in a
//! migration marked `-- stepwise:phase post-deploy`, which is not flagged.

use super::helpers::{body_sql, q};
use crate::breaking::{drop_column_steps, drop_column_why};
use crate::mysql::ast::{Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct DropColumn;
pub static RULE: DropColumn = DropColumn;

static META: RuleMeta = RuleMeta {
    id: "drop-column",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "DROP COLUMN breaks running code that still uses the column: drop it after the deploy",
    setup: "CREATE TABLE orders (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, legacy_note varchar(200)) ENGINE=InnoDB;",
    bad: "ALTER TABLE orders DROP COLUMN legacy_note;",
    safe: &["-- stepwise:phase post-deploy\nALTER TABLE orders DROP COLUMN legacy_note, ALGORITHM=INSTANT;"],
};

impl Rule for DropColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if cx.phase == stepwise_sql::Phase::PostDeploy {
            return;
        }
        let (Some((table, _)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        for clause in &a.clauses {
            let Op::DropColumn { name } = &clause.op else { continue };
            if table.column(name).is_none() && !table.columns.is_empty() {
                continue;
            }
            hits.push(
                Hit::new(
                    format!("dropping `{}.{name}` breaks the running code that still uses it", table.name),
                    drop_column_why(name, false),
                    format!("{}-- stepwise:phase post-deploy\n{};", drop_column_steps(&q(name)), body_sql(cx)),
                )
                .at(clause.offset as i32)
                .on_table(table.name.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, legacy_note text, fax text);";

    #[test]
    fn flags_each_drop_before_the_deploy() {
        let f = check("drop-column", SETUP, "ALTER TABLE orders DROP COLUMN legacy_note,\n  DROP fax;");
        assert_eq!(f.iter().map(|f| (f.line, f.col)).collect::<Vec<_>>(), [(1, 20), (2, 3)]);
        assert!(f[0].why.contains("Unknown column"), "{}", f[0].why);
        assert!(check("drop-column", SETUP, "-- stepwise:phase post-deploy\nALTER TABLE orders DROP COLUMN fax;").is_empty());
        assert!(check("drop-column", SETUP, "CREATE TABLE t (id int, x int);\nALTER TABLE t DROP COLUMN x;").is_empty());
    }
}
