//! `mysql-rebuilds-table`: an ALTER of an existing table that rebuilds it
//! while reads and writes go on (ALGORITHM=INPLACE, LOCK=NONE with a
//! rebuild): `ENGINE=InnoDB`, `FORCE`, a new row format, a new primary key,
//! NULL/NOT NULL changes, or an instant column change combined with an index.
//!
//! Writes are not blocked, but the rebuild reads and writes the whole table
//! (time and I/O in proportion to its size, and twice its disk while it
//! runs), the writes made meanwhile are kept in an online log that must fit
//! `innodb_online_alter_log_max_size` or the ALTER fails at the end, and a
//! replica starts the same rebuild only when the primary has finished it:
//! replication lags by the whole duration. Above `large_table_rows` this is
//! an error; below, a warning.
//!
//! The safe way for a large table is `-- stepwise:online` (batched copy,
//! throttled on replica lag); for a small one, write `ALGORITHM=INPLACE,
//! LOCK=NONE` so that the server refuses rather than blocking writes.

use super::blocks_writes::capitalize;
use super::helpers::{body_sql, deciding_offset};
use crate::mysql::ast::{Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct RebuildsTable;
pub static RULE: RebuildsTable = RebuildsTable;

static META: RuleMeta = RuleMeta {
    id: "mysql-rebuilds-table",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "an ALTER that rebuilds the table (replicas lag by as long): on a large table run it with `-- stepwise:online`",
    setup: "CREATE TABLE events (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, kind varchar(20)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    bad: "ALTER TABLE events ROW_FORMAT=DYNAMIC;",
    safe: &["-- stepwise:online\nALTER TABLE events ROW_FORMAT=DYNAMIC;"],
};

impl Rule for RebuildsTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, v)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        // Blocking writes is the other rule's finding.
        if !v.verdict.rebuild || !v.verdict.online() {
            return;
        }
        if v.clauses.iter().all(|(i, _)| matches!(a.clauses[*i].op, Op::AddForeignKey(_) | Op::Unknown { .. })) {
            return;
        }
        let reason = v.clauses.iter().find(|(_, c)| c.rebuild).map(|(_, c)| c.reason.clone()).unwrap_or_else(|| v.verdict.reason.clone());
        let reason = if v.verdict.reason.contains("rebuilt") { v.verdict.reason.clone() } else { reason };
        hits.push(
            Hit::new(
                format!("rebuilds `{}` ({} on {}): replicas lag by the whole rebuild", table.name, v.verdict.clause(cx.server), cx.server),
                format!(
                    "{}. Reads and writes go on, but every row is read and written again (time and I/O in proportion to the table, \
                     twice its disk while it runs), the writes made meanwhile must fit innodb_online_alter_log_max_size or the ALTER \
                     fails at its end, and each replica starts the same rebuild only when the primary has finished: replication lags \
                     by its whole duration. Metadata lock: {}.",
                    capitalize(&reason),
                    v.verdict.metadata_lock()
                ),
                format!(
                    "-- A large table: copy it in throttled batches instead (watches replica lag):\n-- stepwise:online\n{};\n\
                     -- A small one: hold the server to the online algorithm, so that it refuses instead of blocking writes:\n-- {}",
                    body_sql(cx),
                    super::helpers::with_algorithm(cx, &v.verdict)
                ),
            )
            .at(deciding_offset(cx) as i32)
            .on_table(table.name.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    const SETUP: &str = "CREATE TABLE events (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, kind varchar(20), n int) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;";
    const ID: &str = "mysql-rebuilds-table";

    #[test]
    fn flags_in_place_rebuilds() {
        for bad in [
            "ALTER TABLE events ENGINE=InnoDB;",
            "ALTER TABLE events FORCE;",
            "ALTER TABLE events MODIFY kind varchar(20) NOT NULL;",
            "ALTER TABLE events ADD COLUMN x int, ADD INDEX idx_x (x);",
            "ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, n);",
        ] {
            assert_eq!(check(ID, SETUP, bad).len(), 1, "{bad}");
        }
    }

    #[test]
    fn optimize_is_a_rebuild_and_its_recipes_are_alters() {
        let f = check(ID, SETUP, "OPTIMIZE TABLE events;");
        assert!(f[0].safe.contains("-- stepwise:online\nALTER TABLE events FORCE;"), "{}", f[0].safe);
        assert!(f[0].safe.ends_with("-- ALTER TABLE events FORCE, ALGORITHM=INPLACE, LOCK=NONE;"), "{}", f[0].safe);
    }

    #[test]
    fn instant_and_no_rebuild_changes_pass() {
        for ok in [
            "ALTER TABLE events ADD COLUMN x int;",
            "ALTER TABLE events ADD INDEX idx_n (n);",
            "ALTER TABLE events ALTER COLUMN n SET DEFAULT 0;",
        ] {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
    }
}
