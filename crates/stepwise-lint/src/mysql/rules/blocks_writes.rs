//! `mysql-blocks-writes`: an ALTER of an existing table that the server runs
//! with a lock that stops writes (LOCK=SHARED) for as long as it works: a
//! type change, CONVERT TO CHARACTER SET, a FULLTEXT or SPATIAL index, a
//! STORED generated column, an AUTO_INCREMENT column, a CHECK constraint.
//!
//! Most of these copy the table (ALGORITHM=COPY): every row is read and
//! written again while INSERT, UPDATE and DELETE on the table wait, on the
//! primary and then again on every replica. On a table of millions of rows
//! that is minutes to hours of failed writes. The classifier names the
//! algorithm and lock for the server version in use (MariaDB 11.2+ copies
//! without blocking writes in most cases, and then this rule is silent).
//!
//! The safe way is an online schema change: `-- stepwise:online` before the
//! statement makes `migrate` copy the table in short batches with triggers
//! and swap it in, so writes never wait longer than a lock timeout.
//! Foreign keys have their own rule (`mysql-add-foreign-key`).

use super::helpers::{body_sql, deciding_offset};
use crate::mysql::ast::{LockLevel, Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct BlocksWrites;
pub static RULE: BlocksWrites = BlocksWrites;

static META: RuleMeta = RuleMeta {
    id: "mysql-blocks-writes",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "an ALTER that blocks writes while it copies or rebuilds: run it with `-- stepwise:online`",
    setup: "CREATE TABLE orders (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, total int NOT NULL, note varchar(50)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER TABLE orders MODIFY total bigint NOT NULL;",
    safe: &["-- stepwise:online\nALTER TABLE orders MODIFY total bigint NOT NULL;"],
};

impl Rule for BlocksWrites {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, v)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        // The worst clause that is not a foreign key or a clause the reader
        // does not know (those have their own rules).
        let Some((i, worst)) = v
            .clauses
            .iter()
            .filter(|(i, _)| !matches!(a.clauses[*i].op, Op::AddForeignKey(_) | Op::Unknown { .. }))
            .max_by_key(|(_, c)| (c.lock, c.algorithm))
        else {
            return;
        };
        let lock = v.verdict.lock.min(worst.lock);
        if lock < LockLevel::Shared {
            return;
        }
        let algorithm = v.verdict.algorithm_name(cx.server);
        let offset = a.clauses.get(*i).map(|c| c.offset).unwrap_or_else(|| deciding_offset(cx));
        hits.push(
            Hit::new(
                format!("blocks writes to `{}` while it runs: ALGORITHM={algorithm}, LOCK={} on {}", table.name, lock.name(), cx.server),
                format!(
                    "{}. For as long as that takes (it grows with the table: every row is read and written again) every INSERT, \
                     UPDATE and DELETE on `{}` waits, and each replica blocks its writes again while it replays the ALTER. \
                     Metadata lock: {}.",
                    capitalize(&worst.reason),
                    table.name,
                    v.verdict.metadata_lock()
                ),
                format!(
                    "-- Copy the table in short batches with triggers, then swap it in (writes never wait longer than lock_timeout):\n\
                     -- stepwise:online\n{};",
                    body_sql(cx)
                ),
            )
            .at(offset as i32)
            .on_table(table.name.clone()),
        );
    }
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::{check, check_on};

    const SETUP: &str = "CREATE TABLE orders (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, total int NOT NULL, note varchar(50), body text) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;";
    const ID: &str = "mysql-blocks-writes";

    #[test]
    fn flags_what_copies_under_a_shared_lock() {
        for bad in [
            "ALTER TABLE orders MODIFY total bigint NOT NULL;",
            "ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
            "ALTER TABLE orders ADD FULLTEXT INDEX ft_body (body);",
            "ALTER TABLE orders ADD COLUMN total2 int AS (total * 2) STORED;",
            "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0);",
            "ALTER TABLE orders MODIFY note varchar(100);",
        ] {
            let f = check(ID, SETUP, bad);
            assert_eq!(f.len(), 1, "{bad}: {f:#?}");
        }
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN x int,\n  MODIFY total bigint NOT NULL;");
        assert_eq!((f[0].line, f[0].col), (2, 3), "points at the clause that decides");
        assert!(f[0].message.contains("ALGORITHM=COPY, LOCK=SHARED on MariaDB 10.11"), "{}", f[0].message);
        assert!(
            f[0].safe.contains("-- stepwise:online\nALTER TABLE orders ADD COLUMN x int,\n  MODIFY total bigint NOT NULL;"),
            "{}",
            f[0].safe
        );
    }

    #[test]
    fn online_changes_and_new_tables_pass() {
        for ok in [
            "ALTER TABLE orders ADD COLUMN x int;",
            "ALTER TABLE orders MODIFY note varchar(60);",
            "ALTER TABLE orders ADD INDEX idx_total (total);",
            "CREATE TABLE t (id int PRIMARY KEY, a int);\nALTER TABLE t MODIFY a bigint;",
            "-- stepwise:online\nALTER TABLE orders MODIFY total bigint NOT NULL;",
        ] {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn mariadb_11_2_copies_without_blocking_writes() {
        assert!(check_on("mariadb-11.4", ID, SETUP, "ALTER TABLE orders MODIFY total bigint NOT NULL;").is_empty());
        assert_eq!(check_on("mariadb-10.6", ID, SETUP, "ALTER TABLE orders MODIFY total bigint NOT NULL;").len(), 1);
        assert_eq!(check_on("mysql-8.0.35", ID, SETUP, "ALTER TABLE orders MODIFY total bigint NOT NULL;").len(), 1);
    }
}
