//! `mysql-set-not-null`: a MODIFY or CHANGE that makes an existing nullable
//! column NOT NULL.
//!
//! In strict mode (the default since MySQL 5.7 and MariaDB 10.2.4) one NULL
//! makes the ALTER fail, after it has rebuilt most of the table. Outside
//! strict mode (`sql_mode` without STRICT_TRANS_TABLES, still common on old
//! servers and set by some migrations) every NULL silently becomes 0, '' or
//! a zero date: data changes with a warning nobody reads.
//!
//! The safe way: give the NULLs their value first in batches
//! (`-- stepwise:backfill`), then make the column NOT NULL; this rule is
//! silent when a backfill of the column comes first in the migration.

use super::helpers::{body_sql, q};
use crate::mysql::ast::{Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct SetNotNull;
pub static RULE: SetNotNull = SetNotNull;

static META: RuleMeta = RuleMeta {
    id: "mysql-set-not-null",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "making a column NOT NULL fails on a NULL (strict mode) or silently rewrites it: backfill the NULLs first",
    setup: "CREATE TABLE profiles (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, bio varchar(200)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER TABLE profiles MODIFY bio varchar(200) NOT NULL;",
    safe: &["-- stepwise:backfill profiles SET bio = '' WHERE bio IS NULL\n\
             -- stepwise:online\n\
             ALTER TABLE profiles MODIFY bio varchar(200) NOT NULL;"],
};

impl Rule for SetNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, _)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        for clause in &a.clauses {
            let Op::ChangeColumn { old, col, .. } = &clause.op else { continue };
            let Some(cur) = table.column(old) else { continue };
            let in_primary = table.primary().is_some_and(|k| k.columns.iter().any(|c| c.eq_ignore_ascii_case(old)));
            if cur.not_null == Some(true) || in_primary || col.not_null != Some(true) {
                continue;
            }
            if cx.backfilled.iter().any(|(t, c)| t.eq_ignore_ascii_case(&table.name) && c.eq_ignore_ascii_case(old)) {
                continue;
            }
            let mode = if cx.non_strict {
                "This migration set a sql_mode without STRICT_: every NULL silently becomes 0, '' or a zero date."
            } else {
                "In strict mode one NULL makes the ALTER fail after it has rebuilt most of the table; outside strict mode every NULL \
                 silently becomes 0, '' or a zero date."
            };
            let mut hit = Hit::new(
                format!("`{}.{}` becomes NOT NULL: rows holding NULL fail the ALTER or are rewritten", table.name, old),
                mode.to_string(),
                format!(
                    "-- Give the NULLs a value first, in batches, then change the column:\n\
                     -- stepwise:backfill {t} SET {c} = <value> WHERE {c} IS NULL\n{};",
                    body_sql(cx),
                    t = q(&table.name),
                    c = q(old)
                ),
            )
            .at(clause.offset as i32)
            .on_table(table.name.clone());
            if cx.non_strict {
                hit.message.push_str(" (sql_mode is not strict: they are rewritten)");
            }
            hits.push(hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    const SETUP: &str = "CREATE TABLE profiles (id bigint PRIMARY KEY, bio varchar(200), n int NOT NULL) ENGINE=InnoDB;";
    const ID: &str = "mysql-set-not-null";

    #[test]
    fn flags_nullable_to_not_null() {
        assert_eq!(check(ID, SETUP, "ALTER TABLE profiles MODIFY bio varchar(200) NOT NULL;").len(), 1);
        assert_eq!(check(ID, SETUP, "ALTER TABLE profiles CHANGE bio bio text NOT NULL;").len(), 1);
        let f =
            check(ID, SETUP, "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';\nALTER TABLE profiles MODIFY bio varchar(200) NOT NULL;");
        assert!(f[0].message.contains("not strict"), "{}", f[0].message);
    }

    #[test]
    fn backfilled_and_already_not_null_columns_pass() {
        for ok in [
            "ALTER TABLE profiles MODIFY n bigint NOT NULL;",
            "ALTER TABLE profiles MODIFY bio varchar(300);",
            "-- stepwise:backfill profiles SET bio = '' WHERE bio IS NULL\nALTER TABLE profiles MODIFY bio varchar(200) NOT NULL;",
        ] {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
    }
}
