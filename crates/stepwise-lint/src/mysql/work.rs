//! What each statement of a migration makes MySQL/MariaDB do, and under
//! which lock (see [`crate::work`]), from the classifier's verdict: the
//! algorithm the server picks, what its metadata lock lets through while it
//! works, and whether the table is rebuilt.

use super::ast::{Algorithm, LockLevel, Op, Stmt};
use super::classify::{alter, Env};
use super::reader::read;
use super::schema::Schema;
use super::server::Server;
use crate::work::{LockTaken, Work, WorkKind};

/// Reads a migration's statements in order against a schema, keeping it up
/// to date as each statement changes it.
pub struct Planner {
    schema: Schema,
    server: Server,
    fk_checks_off: bool,
}

impl Planner {
    pub fn new(schema: Schema, server: Server) -> Planner {
        Planner { schema, server, fk_checks_off: false }
    }

    /// The work `sql` (one statement) does; an error when it cannot be read.
    pub fn statement(&mut self, sql: &str) -> Result<Work, String> {
        let parsed = read(sql).map_err(|e| e.message)?;
        let work = self.work(&parsed);
        if let Stmt::Set { name, value } = &parsed {
            if name == "foreign_key_checks" {
                self.fk_checks_off = matches!(value.to_ascii_uppercase().as_str(), "0" | "OFF");
            }
        }
        self.schema.apply(&parsed, true);
        Ok(work)
    }

    fn work(&self, parsed: &Stmt) -> Work {
        let existing = |t: &str| self.schema.get(t).filter(|t| !t.new);
        match parsed {
            Stmt::Alter(a) => {
                let Some(table) = existing(&a.table) else {
                    return Work::new(Some(a.table.clone()), WorkKind::Catalog, "changes a table this migration creates");
                };
                let v = alter(a, Env { server: self.server, table: Some(table), fk_checks_off: self.fk_checks_off });
                // What is written and weaker than the best is what the server does.
                let mut verdict = v.verdict.clone();
                if let Some((written, _)) = v.written_algorithm.filter(|(w, _)| *w > verdict.algorithm) {
                    verdict.algorithm = written;
                    if written == Algorithm::Copy {
                        verdict.rebuild = true;
                        verdict.lock = verdict.lock.max(LockLevel::Shared);
                    }
                }
                if let Some((written, _)) = v.written_lock {
                    verdict.lock = verdict.lock.max(written);
                }
                let keys: Vec<String> = a
                    .clauses
                    .iter()
                    .filter_map(|c| match &c.op {
                        Op::AddKey(k) => Some(k.columns.clone()),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                let kind = if verdict.rebuild || verdict.algorithm == Algorithm::Copy {
                    WorkKind::Rewrite
                } else if !keys.is_empty() && verdict.algorithm != Algorithm::Instant {
                    WorkKind::IndexBuild
                } else {
                    WorkKind::Catalog
                };
                let mut reason =
                    if verdict.reason.is_empty() { "changes the table's definition".to_string() } else { verdict.reason.clone() };
                if let Some(r) = &v.refused {
                    reason = format!("the server refuses the ALGORITHM=/LOCK= written ({}: {})", r.clause(self.server), r.reason);
                }
                let blocks = match verdict.lock {
                    _ if kind == WorkKind::Catalog => "every query on the table",
                    LockLevel::None => "every query on the table (at its start and end; reads and writes go on while it works)",
                    LockLevel::Shared => "every write to the table",
                    LockLevel::Exclusive => "every read and write of the table",
                };
                let lock = LockTaken {
                    table: a.table.clone(),
                    lock: format!("metadata lock {}", verdict.metadata_lock()),
                    blocks: blocks.to_string(),
                    // The moments of exclusive lock at the start and end hold writes too.
                    blocks_writes: true,
                    during_work: kind != WorkKind::Catalog && verdict.lock != LockLevel::None,
                };
                Work {
                    locks: vec![lock],
                    key_columns: if kind == WorkKind::IndexBuild { keys } else { vec![] },
                    algorithm: Some(format!("ALGORITHM={}, LOCK={}", verdict.algorithm_name(self.server), verdict.lock.name())),
                    ..Work::new(Some(a.table.clone()), kind, reason)
                }
            }
            Stmt::Data { table, .. } => {
                Work::new(Some(table.clone()), WorkKind::RowChanges, "changes every matching row in one transaction")
            }
            Stmt::DropTable { tables } => Work::new(tables.first().cloned(), WorkKind::Catalog, "drops the table"),
            Stmt::Truncate { table } => Work::new(Some(table.clone()), WorkKind::Catalog, "empties the table"),
            Stmt::RenameTable { pairs } => Work::new(pairs.first().map(|p| p.0.clone()), WorkKind::Catalog, "renames the table"),
            Stmt::CreateTable(c) if c.select => Work::new(Some(c.table.clone()), WorkKind::RowChanges, "fills the new table from a query"),
            _ => Work::new(None, WorkKind::Catalog, "changes the catalog only"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(setup: &[&str], statements: &[&str]) -> Vec<Work> {
        let mut schema = Schema::default();
        for s in setup {
            schema.apply(&read(s).expect("setup reads"), false);
        }
        let mut p = Planner::new(schema, Server::default());
        statements.iter().map(|s| p.statement(s).expect("reads")).collect()
    }

    #[test]
    fn each_kind_of_work_is_named_with_the_algorithm_and_lock() {
        let w = plan(
            &["CREATE TABLE items (id int PRIMARY KEY, a int, b varchar(64))"],
            &[
                "ALTER TABLE items ADD INDEX ia (a)",
                "ALTER TABLE items MODIFY a int NOT NULL",
                "ALTER TABLE items ADD COLUMN c int",
                "ALTER TABLE items MODIFY b varchar(64) NOT NULL, ALGORITHM=COPY",
                "UPDATE items SET a = 1",
                "CREATE TABLE t (id int)",
                "ALTER TABLE t ADD INDEX (id)",
            ],
        );
        use WorkKind::*;
        assert_eq!(w.iter().map(|w| w.kind).collect::<Vec<_>>(), [IndexBuild, Rewrite, Catalog, Rewrite, RowChanges, Catalog, Catalog]);
        assert_eq!(w[0].algorithm.as_deref(), Some("ALGORITHM=NOCOPY, LOCK=NONE"));
        assert_eq!(w[0].key_columns, ["a"]);
        assert!(!w[0].locks[0].during_work, "LOCK=NONE: reads and writes go on while it works");
        assert_eq!(w[1].algorithm.as_deref(), Some("ALGORITHM=INPLACE, LOCK=NONE"));
        assert_eq!(w[3].algorithm.as_deref(), Some("ALGORITHM=COPY, LOCK=SHARED"));
        assert_eq!(w[3].locks[0].blocks, "every write to the table");
        assert!(w[3].locks[0].during_work);
        assert!(!w[2].locks[0].during_work);
        assert!(w[6].locks.is_empty(), "a table this migration creates");
    }

    /// MariaDB's catalog says `int(11)` for a column written `int`: the
    /// display width is no type change (the server makes this NOT NULL in
    /// place, LOCK=NONE; the classifier used to say COPY).
    #[test]
    fn an_integer_display_width_is_not_a_type_change() {
        let w = plan(&["CREATE TABLE items (id int(11) PRIMARY KEY, a int(11))"], &["ALTER TABLE items MODIFY a int NOT NULL"]);
        assert_eq!(w[0].kind, WorkKind::Rewrite);
        assert_eq!(w[0].algorithm.as_deref(), Some("ALGORITHM=INPLACE, LOCK=NONE"));
    }
}
