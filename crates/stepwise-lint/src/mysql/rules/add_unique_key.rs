//! `mysql-add-unique-key`: a UNIQUE key added to an existing table.
//!
//! The index is built online, but if two rows already share the key's value
//! the ALTER fails with a duplicate-key error after it has read the whole
//! table. Worse, `ALTER IGNORE TABLE` (still accepted by MariaDB) deletes
//! every duplicate but one, silently. The rows that break the key are found
//! by a query, before the migration, not by the migration.
//!
//! The safe way: run the duplicate query first (it must return nothing),
//! then add the key with `ALGORITHM=NOCOPY, LOCK=NONE` (MariaDB) or
//! `ALGORITHM=INPLACE, LOCK=NONE` (MySQL), and mark the reviewed migration
//! with `-- stepwise:ignore mysql-add-unique-key <how duplicates were ruled out>`.

use super::helpers::{body_sql, q};
use crate::mysql::ast::{KeyKind, Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct AddUniqueKey;
pub static RULE: AddUniqueKey = AddUniqueKey;

static META: RuleMeta = RuleMeta {
    id: "mysql-add-unique-key",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "a UNIQUE key on an existing table fails on duplicates (ALTER IGNORE deletes them): find them first",
    setup: "CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, email varchar(100)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER IGNORE TABLE users ADD UNIQUE KEY uk_email (email);",
    safe: &["-- SELECT email FROM users GROUP BY email HAVING COUNT(*) > 1 LIMIT 1;  -- returned nothing\n\
             -- stepwise:ignore mysql-add-unique-key checked for duplicates with the query above\n\
             ALTER TABLE users ADD UNIQUE KEY uk_email (email), ALGORITHM=NOCOPY, LOCK=NONE;"],
};

impl Rule for AddUniqueKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, v)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        for (n, clause) in a.clauses.iter().enumerate() {
            let Op::AddKey(k) = &clause.op else { continue };
            let own = v.clauses.iter().find(|(i, _)| *i == n).map(|(_, c)| c).unwrap_or(&v.verdict);
            if k.kind != KeyKind::Unique && k.kind != KeyKind::Primary {
                continue;
            }
            // A key on columns just added in the same ALTER holds only NULLs or defaults.
            if k.columns.iter().all(|c| table.column(c).is_none()) {
                continue;
            }
            let cols = k.columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
            let query = format!("SELECT {cols} FROM {} GROUP BY {cols} HAVING COUNT(*) > 1 LIMIT 1;", q(&table.name));
            let (message, why) = if a.ignore {
                (
                    format!("ALTER IGNORE deletes the rows of `{}` that repeat ({cols}), silently", table.name),
                    "ALTER IGNORE TABLE keeps the first row of each duplicate group and deletes the others without a word: data is lost, \
                     and the IGNORE also makes the server copy the table."
                        .to_string(),
                )
            } else {
                (
                    format!("a UNIQUE key on ({cols}) fails if `{}` already holds duplicates", table.name),
                    "The key is built while writes go on, but the first duplicate makes the ALTER fail after it has read the whole table, \
                     and the application may be writing new duplicates meanwhile. Find them before the migration runs."
                        .to_string(),
                )
            };
            let body = body_sql(cx);
            let body = if a.ignore { body.replacen("IGNORE ", "", 1).replacen("ignore ", "", 1) } else { body };
            hits.push(
                Hit::new(
                    message,
                    why,
                    format!(
                        "-- Duplicates the key would refuse; this must return nothing:\n-- {query}\n\
                         -- stepwise:ignore mysql-add-unique-key checked for duplicates with the query above\n{body}, {};",
                        if own.online() && own.algorithm != crate::mysql::ast::Algorithm::Copy {
                            own.clause(cx.server)
                        } else {
                            "ALGORITHM=INPLACE, LOCK=NONE".into()
                        }
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

    const SETUP: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100), org int) ENGINE=InnoDB;";
    const ID: &str = "mysql-add-unique-key";

    #[test]
    fn flags_unique_keys_on_existing_columns() {
        let f = check(ID, SETUP, "ALTER TABLE users ADD UNIQUE KEY uk (org, email);");
        assert!(f[0].safe.contains("SELECT org, email FROM users GROUP BY org, email HAVING COUNT(*) > 1 LIMIT 1;"), "{}", f[0].safe);
        assert_eq!(f[0].severity, crate::Severity::Warning);
        let f = check(ID, SETUP, "ALTER IGNORE TABLE users ADD UNIQUE (email);");
        assert!(f[0].message.contains("deletes"), "{}", f[0].message);
        assert!(f[0].safe.ends_with("ALTER TABLE users ADD UNIQUE (email), ALGORITHM=NOCOPY, LOCK=NONE;"), "{}", f[0].safe);
        assert_eq!(check(ID, SETUP, "CREATE UNIQUE INDEX uk ON users (email);").len(), 1);
    }

    #[test]
    fn new_columns_and_plain_indexes_pass() {
        for ok in
            ["ALTER TABLE users ADD COLUMN token char(32), ADD UNIQUE KEY uk_token (token);", "ALTER TABLE users ADD INDEX i (email);"]
        {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
    }
}
