//! `mysql-require-algorithm`: an ALTER of an existing table that can run
//! online (INSTANT, NOCOPY or INPLACE with LOCK=NONE) but does not say so.
//!
//! Without `ALGORITHM=`, the server silently picks the best algorithm it
//! can, which is a blocking copy when the table is not what the migration's
//! author assumed: a FULLTEXT index makes ADD COLUMN block writes, a VARCHAR
//! longer in bytes than expected makes a widening copy, MySQL's 64 instant
//! row versions run out. Written out, the server refuses the ALTER at once
//! (`ERROR 1846 ... ALGORITHM=... is not supported`) instead of copying.
//!
//! The safe way: write the algorithm and lock this finding names; it is
//! the one the classifier predicts for the server version in use.

use super::helpers::with_algorithm;
use crate::mysql::ast::{Algorithm, KeyKind, Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct RequireAlgorithm;
pub static RULE: RequireAlgorithm = RequireAlgorithm;

static META: RuleMeta = RuleMeta {
    id: "mysql-require-algorithm",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "write ALGORITHM= (and LOCK=NONE) so the server refuses instead of silently copying",
    setup: "CREATE TABLE accounts (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(50)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER TABLE accounts ADD COLUMN plan varchar(20);",
    safe: &["ALTER TABLE accounts ADD COLUMN plan varchar(20), ALGORITHM=INSTANT;"],
};

impl Rule for RequireAlgorithm {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, v)), Stmt::Alter(_)) = (cx.alter, cx.parsed) else { return };
        // osc decides how an online statement runs; a copy is the other rules'.
        if cx.stmt.online.is_some() || v.written_algorithm.is_some() || !v.verdict.known || v.clauses.is_empty() {
            return;
        }
        if v.verdict.algorithm == Algorithm::Copy || !v.verdict.online() {
            return;
        }
        // A statement another rule replaces with a recipe of its own (which
        // writes the algorithm) gets that finding, not this one too.
        let Stmt::Alter(a) = cx.parsed else { return };
        let pre_deploy = cx.phase != stepwise_sql::Phase::PostDeploy;
        let replaced = a.clauses.iter().any(|c| match &c.op {
            Op::RenameColumn { .. } => true,
            Op::ChangeColumn { old, col, .. } => !old.eq_ignore_ascii_case(&col.name),
            Op::DropColumn { .. } => pre_deploy,
            Op::AddKey(k) => matches!(k.kind, KeyKind::Unique | KeyKind::Primary) && k.columns.iter().any(|c| table.column(c).is_some()),
            _ => false,
        });
        if replaced {
            return;
        }
        let clause = v.verdict.clause(cx.server);
        hits.push(
            Hit::new(
                format!("say `{clause}`: {} would run this ALTER of `{}` that way", cx.server, table.name),
                format!(
                    "{}. Without ALGORITHM=, the server silently falls back to a blocking copy when the table is not what this migration \
                     assumes (a FULLTEXT index, a wider column than expected, an older server); with it, the server refuses at once.",
                    super::blocks_writes::capitalize(&v.verdict.reason)
                ),
                with_algorithm(cx, &v.verdict),
            )
            .on_table(table.name.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::{check, check_on};

    const SETUP: &str = "CREATE TABLE accounts (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(50), n int) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;";
    const ID: &str = "mysql-require-algorithm";

    #[test]
    fn names_the_algorithm_for_the_version() {
        let f = check(ID, SETUP, "ALTER TABLE accounts ADD COLUMN plan varchar(20);");
        assert_eq!(f[0].safe, "ALTER TABLE accounts ADD COLUMN plan varchar(20), ALGORITHM=INSTANT;");
        let f = check(ID, SETUP, "CREATE INDEX idx_n ON accounts (n);");
        assert_eq!(f[0].safe, "CREATE INDEX idx_n ON accounts (n) ALGORITHM=NOCOPY LOCK=NONE;");
        let f = check_on("mysql-8.0.35", ID, SETUP, "CREATE INDEX idx_n ON accounts (n);");
        assert_eq!(f[0].safe, "CREATE INDEX idx_n ON accounts (n) ALGORITHM=INPLACE LOCK=NONE;");
        let f = check_on("mysql-8.0.27", ID, SETUP, "ALTER TABLE accounts ADD COLUMN plan int AFTER id;");
        assert!(f[0].safe.ends_with(", ALGORITHM=INPLACE, LOCK=NONE;"), "{}", f[0].safe);
        // MariaDB's DROP INDEX takes no ALGORITHM: the recipe is the ALTER TABLE.
        let setup = format!("{SETUP}\nCREATE INDEX idx_n ON accounts (n);");
        let f = check(ID, &setup, "DROP INDEX idx_n ON accounts;");
        assert_eq!(f[0].safe, "ALTER TABLE accounts DROP INDEX idx_n, ALGORITHM=NOCOPY, LOCK=NONE;");
        let f = check_on("mysql-8.0.35", ID, &setup, "DROP INDEX idx_n ON accounts;");
        assert_eq!(f[0].safe, "DROP INDEX idx_n ON accounts ALGORITHM=INPLACE LOCK=NONE;");
    }

    #[test]
    fn written_copies_and_new_tables_pass() {
        for ok in [
            "ALTER TABLE accounts ADD COLUMN plan int, ALGORITHM=INSTANT;",
            "ALTER TABLE accounts ADD COLUMN plan int, ALGORITHM=INPLACE;",
            "ALTER TABLE accounts MODIFY n bigint;",
            "CREATE TABLE t (id int PRIMARY KEY);\nALTER TABLE t ADD COLUMN a int;",
            // Their own rules' recipes say it: rename-column, drop-column, mysql-add-unique-key.
            "ALTER TABLE accounts RENAME COLUMN name TO title;",
            "ALTER TABLE accounts DROP COLUMN n;",
            "ALTER TABLE accounts ADD UNIQUE KEY uk (name);",
        ] {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
    }
}
