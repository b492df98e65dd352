//! `rename-column` (MySQL/MariaDB): `RENAME COLUMN`, or a `CHANGE` that
//! gives a column a new name, on an existing table. The same question as on
//! PostgreSQL (`crate::breaking`): the rename is instant, but no order of
//! deploy and migration works, since the running code and the new code each
//! fail while the other name is in place.
//!
//! The safe way is expand and contract: add the new column, have the code
//! write both, backfill, switch reads, then drop the old column after the deploy.

use super::helpers::q;
use crate::breaking::rename_column_why;
use crate::mysql::ast::{Op, Stmt};
use crate::mysql::classify::type_text;
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct RenameColumn;
pub static RULE: RenameColumn = RenameColumn;

static META: RuleMeta = RuleMeta {
    id: "rename-column",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "RENAME COLUMN breaks the running code: add, dual-write, backfill, switch, drop",
    setup: "CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(100)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER TABLE users RENAME COLUMN name TO full_name;",
    safe: &[
        "ALTER TABLE users ADD COLUMN full_name varchar(100), ALGORITHM=INSTANT;\n\
         -- Deploy code that writes both columns, then:\n\
         -- stepwise:backfill users SET full_name = name WHERE full_name IS NULL",
        "-- After code that reads and writes only full_name is deployed:\n\
         -- stepwise:phase post-deploy\n\
         ALTER TABLE users DROP COLUMN name, ALGORITHM=INSTANT;",
    ],
};

impl Rule for RenameColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, _)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        for clause in &a.clauses {
            let (old, new, ty) = match &clause.op {
                Op::RenameColumn { old, new } => (old, new, table.column(old).map(|c| type_text(&c.ty))),
                Op::ChangeColumn { old, col, .. } if !old.eq_ignore_ascii_case(&col.name) => (old, &col.name, Some(type_text(&col.ty))),
                _ => continue,
            };
            let ty = ty.unwrap_or_else(|| "<type>".into()).to_ascii_lowercase();
            let (t, o, n) = (q(&table.name), q(old), q(new));
            hits.push(
                Hit::new(
                    format!("renaming `{}.{old}` to `{new}` breaks the running code", table.name),
                    rename_column_why(old, new, false),
                    format!(
                        "-- 1. Add the new column (instant), and deploy code that writes both:\n\
                         ALTER TABLE {t} ADD COLUMN {n} {ty}, ALGORITHM=INSTANT;\n\
                         -- 2. Copy the existing values in batches:\n\
                         -- stepwise:backfill {t} SET {n} = {o} WHERE {n} IS NULL\n\
                         -- 3. Deploy code that reads and writes only {n}; then, after that deploy:\n\
                         -- stepwise:phase post-deploy\n\
                         ALTER TABLE {t} DROP COLUMN {o}, ALGORITHM=INSTANT;"
                    ),
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

    const SETUP: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100));";

    #[test]
    fn flags_renames_by_rename_and_by_change() {
        assert_eq!(check("rename-column", SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name;").len(), 1);
        let f = check("rename-column", SETUP, "ALTER TABLE users CHANGE name full_name varchar(120) NOT NULL;");
        assert!(f[0].safe.contains("ADD COLUMN full_name varchar(120), ALGORITHM=INSTANT;"), "{}", f[0].safe);
        assert!(check("rename-column", SETUP, "ALTER TABLE users CHANGE name NAME varchar(100);").is_empty(), "same name, other case");
    }
}
