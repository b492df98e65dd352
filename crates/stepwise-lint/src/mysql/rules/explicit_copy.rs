//! `mysql-explicit-copy`: an ALTER of an existing table that asks for
//! `ALGORITHM=COPY` or `LOCK=SHARED`/`LOCK=EXCLUSIVE`.
//!
//! Written out, these force the worst case even where the server could do
//! better: COPY rebuilds the table row by row, and the locks stop writes
//! (SHARED) or reads and writes (EXCLUSIVE) for the whole ALTER. They are
//! sometimes copied from an old runbook or from a server that needed them.
//!
//! The safe way: write the algorithm the change really needs (the finding
//! names it for the server version in use), or `-- stepwise:online` when the
//! change needs a copy.

use super::helpers::with_algorithm;
use crate::mysql::ast::{Algorithm, LockLevel, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct ExplicitCopy;
pub static RULE: ExplicitCopy = ExplicitCopy;

static META: RuleMeta = RuleMeta {
    id: "mysql-explicit-copy",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ALGORITHM=COPY or LOCK=SHARED|EXCLUSIVE forces a blocking copy: write the algorithm the change needs",
    setup: "CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, email varchar(100)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=COPY;",
    safe: &["ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=NOCOPY, LOCK=NONE;"],
};

impl Rule for ExplicitCopy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, v)), Stmt::Alter(_)) = (cx.alter, cx.parsed) else { return };
        let copy = v.written_algorithm.filter(|(a, _)| *a == Algorithm::Copy);
        let lock = v.written_lock.filter(|(l, _)| *l >= LockLevel::Shared);
        let Some(offset) = copy.map(|(_, o)| o).or(lock.map(|(_, o)| o)) else { return };
        let asked = match (copy, lock) {
            (Some(_), Some((l, _))) => format!("ALGORITHM=COPY, LOCK={}", l.name()),
            (Some(_), None) => "ALGORITHM=COPY".to_string(),
            (None, Some((l, _))) => format!("LOCK={}", l.name()),
            (None, None) => return,
        };
        let safe = if v.verdict.online() && v.verdict.algorithm != Algorithm::Copy {
            format!("-- {} can do this with {}:\n{}", cx.server, v.verdict.clause(cx.server), with_algorithm(cx, &v.verdict))
        } else {
            format!(
                "-- This change copies the table on {}: copy it online instead.\n-- stepwise:online\n{};",
                cx.server,
                super::helpers::body_sql(cx)
            )
        };
        hits.push(
            Hit::new(
                format!("{asked} forces a blocking rebuild of `{}`", table.name),
                format!(
                    "{asked} makes the server copy the table row by row and stop {} for the whole ALTER, even where it could do better \
                     ({} would use {}).",
                    if asked.contains("EXCLUSIVE") { "reads and writes" } else { "writes" },
                    cx.server,
                    v.verdict.clause(cx.server)
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
    use crate::mysql::rules::testing::check;

    const SETUP: &str = "CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, email varchar(100), n int) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;";
    const ID: &str = "mysql-explicit-copy";

    #[test]
    fn flags_copy_and_blocking_locks() {
        let f = check(ID, SETUP, "ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=COPY;");
        assert_eq!(f.len(), 1);
        assert!(f[0].safe.ends_with("ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=NOCOPY, LOCK=NONE;"), "{}", f[0].safe);
        assert_eq!(f[0].col, 48);
        assert_eq!(check(ID, SETUP, "ALTER TABLE users ADD COLUMN x int, LOCK=EXCLUSIVE;").len(), 1);
        assert_eq!(check(ID, SETUP, "CREATE INDEX idx_n ON users (n) ALGORITHM=INPLACE LOCK=SHARED;").len(), 1);
        let f = check(ID, SETUP, "ALTER TABLE users MODIFY n bigint, ALGORITHM=COPY;");
        assert!(f[0].safe.contains("-- stepwise:online\nALTER TABLE users MODIFY n bigint;"), "{}", f[0].safe);
    }

    #[test]
    fn online_algorithms_pass() {
        for ok in
            ["ALTER TABLE users ADD COLUMN x int, ALGORITHM=INSTANT;", "ALTER TABLE users ADD INDEX i (n), ALGORITHM=INPLACE, LOCK=NONE;"]
        {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
    }
}
