//! `mysql-algorithm-refused`: an ALTER whose written `ALGORITHM=` or `LOCK=`
//! asks for more than the server can do for this change, so the server
//! will refuse it (`ERROR 1846 (0A000): ALGORITHM=INSTANT is not supported
//! for this operation`). Better to know in review than at deploy.
//!
//! The safe way: the finding names what the change needs on the server
//! version in use; if that blocks writes, run the change with
//! `-- stepwise:online` instead.

use super::helpers::{body_sql, with_algorithm};
use crate::mysql::ast::Stmt;
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct AlgorithmRefused;
pub static RULE: AlgorithmRefused = AlgorithmRefused;

static META: RuleMeta = RuleMeta {
    id: "mysql-algorithm-refused",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::Advice,
    summary: "the written ALGORITHM=/LOCK= is more than the server can do for this change: it will refuse the ALTER",
    setup: "CREATE TABLE payments (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, amount int NOT NULL) ENGINE=InnoDB;",
    bad: "ALTER TABLE payments MODIFY amount bigint NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;",
    safe: &["-- stepwise:online\nALTER TABLE payments MODIFY amount bigint NOT NULL;"],
};

impl Rule for AlgorithmRefused {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, v)), Stmt::Alter(_)) = (cx.alter, cx.parsed) else { return };
        let Some(needed) = &v.refused else { return };
        let offset = v.written_algorithm.map(|(_, o)| o).or(v.written_lock.map(|(_, o)| o)).unwrap_or(0);
        let safe = if needed.online() {
            with_algorithm(cx, needed)
        } else {
            format!("-- It copies and blocks writes here: copy it online instead.\n-- stepwise:online\n{};", body_sql(cx))
        };
        hits.push(
            Hit::new(
                format!("{} will refuse this ALTER of `{}`: it needs {}", cx.server, table.name, needed.clause(cx.server)),
                format!(
                    "{}. The written ALGORITHM=/LOCK= asks for more, so the server refuses the statement and the migration fails.",
                    super::blocks_writes::capitalize(&needed.reason)
                ),
                safe,
            )
            .at(offset as i32)
            .on_table(table.name.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::{check, check_on};

    const SETUP: &str = "CREATE TABLE p (id bigint PRIMARY KEY, amount int NOT NULL, note varchar(10)) ENGINE=InnoDB;";
    const ID: &str = "mysql-algorithm-refused";

    #[test]
    fn flags_what_the_server_cannot_do() {
        assert_eq!(check(ID, SETUP, "ALTER TABLE p MODIFY amount bigint NOT NULL, ALGORITHM=INPLACE;").len(), 1);
        assert_eq!(check(ID, SETUP, "ALTER TABLE p ADD INDEX i (note), ALGORITHM=INSTANT;").len(), 1);
        let f = check_on("mysql-8.0.27", ID, SETUP, "ALTER TABLE p ADD COLUMN x int FIRST, ALGORITHM=INSTANT;");
        assert!(f[0].safe.ends_with("ALTER TABLE p ADD COLUMN x int FIRST, ALGORITHM=INPLACE, LOCK=NONE;"), "{}", f[0].safe);
        assert!(check(ID, SETUP, "ALTER TABLE p ADD COLUMN x int FIRST, ALGORITHM=INSTANT;").is_empty());
        assert!(check(ID, SETUP, "ALTER TABLE p ADD INDEX i (note), ALGORITHM=INPLACE, LOCK=NONE;").is_empty());
    }
}
