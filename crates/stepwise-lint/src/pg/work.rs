//! What each statement of a migration makes PostgreSQL do, and under which
//! lock (see [`crate::work`]): the lock list is lint's (`locks.rs`, from
//! PostgreSQL's documentation and checked with `trace`); the kind of work
//! follows the same knowledge as the rules (a type change that rewrites,
//! a SET NOT NULL a valid CHECK proves, a constraint added NOT VALID).

use super::rules::columns::alter_column_type::{classify, plain_using, Change};
use super::rules::columns::shared::{column_constraint, default_expr, volatile_part};
use super::rules::elsewhere::locks::table_locks;
use super::rules::helpers::{alter_cmds, constr_type, option_on, strings};
use super::schema::{col_type, is_serial, range_key, Schema};
use crate::work::{LockTaken, Work, WorkKind};
use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType};
use pg_query::NodeEnum;

/// Reads a migration's statements in order against a schema (the live
/// database's, or what the applied migrations build), keeping it up to date
/// as each statement changes it.
pub struct Planner {
    schema: Schema,
    pg_version: u32,
}

impl Planner {
    pub fn new(schema: Schema, pg_version: u32) -> Planner {
        Planner { schema, pg_version }
    }

    /// The work `sql` (one statement) does; an error when it does not parse.
    pub fn statement(&mut self, sql: &str) -> Result<Work, String> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
        let nodes: Vec<NodeEnum> = parsed.protobuf.stmts.into_iter().filter_map(|raw| raw.stmt.and_then(|s| s.node)).collect();
        let mut work: Option<Work> = None;
        for node in &nodes {
            let w = self.one(node);
            work = Some(match work {
                None => w,
                Some(mut prev) if prev.kind as u8 >= w.kind as u8 => {
                    prev.locks.extend(w.locks);
                    prev
                }
                Some(prev) => Work { locks: [prev.locks, w.locks.clone()].concat(), ..w },
            });
            self.schema.apply(node, true);
        }
        let work = work.unwrap_or_else(|| Work::new(None, WorkKind::Catalog, "changes the catalog only"));
        Ok(work)
    }

    /// Whether the table existed before the migration (or is unknown, so
    /// lives in the database): only then does anyone wait for its lock.
    fn existing(&self, table: &str) -> bool {
        !self.schema.tables.get(table).is_some_and(|t| t.new)
    }

    fn one(&self, node: &NodeEnum) -> Work {
        let (table, kind, reason, key_columns, concurrent) = self.kind(node);
        let locks = table_locks(node, &self.schema, self.pg_version)
            .into_iter()
            .filter(|l| l.resolved && self.existing(&l.table))
            .map(|l| LockTaken {
                during_work: table.as_deref() == Some(l.table.as_str()) && kind != WorkKind::Catalog,
                table: l.table,
                lock: l.lock.name().to_string(),
                blocks: l.lock.blocked().to_string(),
                blocks_writes: l.lock.blocks_traffic(),
            })
            .collect();
        Work { locks, key_columns, concurrent, ..Work::new(table, kind, reason) }
    }

    /// (table, kind, reason, index key columns, concurrently).
    fn kind(&self, node: &NodeEnum) -> (Option<String>, WorkKind, String, Vec<String>, bool) {
        let catalog = |t: Option<String>| (t, WorkKind::Catalog, "changes the catalog only".to_string(), vec![], false);
        match node {
            NodeEnum::AlterTableStmt(a) if ObjectType::try_from(a.objtype).ok() == Some(ObjectType::ObjectTable) => {
                let Some(r) = &a.relation else { return catalog(None) };
                let table = range_key(r);
                let mut worst = catalog(Some(table.clone()));
                for (kind, cmd) in alter_cmds(a) {
                    let (k, reason, keys): (WorkKind, String, Vec<String>) = self.alter_cmd(&table, kind, cmd);
                    if k as u8 > worst.1 as u8 {
                        worst = (Some(table.clone()), k, reason, keys, false);
                    }
                }
                worst
            }
            NodeEnum::IndexStmt(i) => {
                let Some(r) = &i.relation else { return catalog(None) };
                let keys = i
                    .index_params
                    .iter()
                    .filter_map(|n| match &n.node {
                        Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => Some(e.name.clone()),
                        _ => None,
                    })
                    .collect();
                let how = if i.concurrent {
                    "CREATE INDEX CONCURRENTLY reads the table twice and waits for older transactions"
                } else {
                    "CREATE INDEX reads every row and sorts the keys"
                };
                (Some(range_key(r)), WorkKind::IndexBuild, how.into(), keys, i.concurrent)
            }
            NodeEnum::ReindexStmt(x) => {
                let concurrent = option_on(&x.params, "concurrently");
                let table = x.relation.as_ref().map(range_key);
                (table, WorkKind::IndexBuild, "REINDEX builds the index again".into(), vec![], concurrent)
            }
            NodeEnum::VacuumStmt(v) if v.options.iter().any(|o| matches!(&o.node, Some(NodeEnum::DefElem(d)) if d.defname == "full")) => {
                let table = v.rels.iter().find_map(|n| match &n.node {
                    Some(NodeEnum::VacuumRelation(vr)) => vr.relation.as_ref().map(range_key),
                    _ => None,
                });
                (table, WorkKind::Rewrite, "VACUUM FULL writes the table again".into(), vec![], false)
            }
            NodeEnum::ClusterStmt(c) => (
                c.relation.as_ref().map(range_key),
                WorkKind::Rewrite,
                "CLUSTER writes the table again in index order".into(),
                vec![],
                false,
            ),
            NodeEnum::UpdateStmt(u) => (
                u.relation.as_ref().map(range_key),
                WorkKind::RowChanges,
                "UPDATE changes every matching row in one transaction".into(),
                vec![],
                false,
            ),
            NodeEnum::DeleteStmt(d) => (
                d.relation.as_ref().map(range_key),
                WorkKind::RowChanges,
                "DELETE removes every matching row in one transaction".into(),
                vec![],
                false,
            ),
            _ => catalog(None),
        }
    }

    fn alter_cmd(&self, table: &str, kind: AlterTableType, cmd: &pg_query::protobuf::AlterTableCmd) -> (WorkKind, String, Vec<String>) {
        let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
        let catalog = (WorkKind::Catalog, String::new(), vec![]);
        let column = || self.schema.tables.get(table).and_then(|t| t.column(&cmd.name));
        match kind {
            AlterTableType::AtSetNotNull => {
                if column().is_some_and(|c| c.not_null) {
                    return catalog;
                }
                if self.pg_version >= 12 && self.schema.not_null_check(table, &cmd.name).is_some_and(|c| c.valid) {
                    return catalog;
                }
                (WorkKind::Scan, format!("SET NOT NULL checks every row of {table} for NULLs"), vec![])
            }
            AlterTableType::AtValidateConstraint => (WorkKind::Scan, format!("VALIDATE CONSTRAINT checks every row of {table}"), vec![]),
            AlterTableType::AtAddConstraint => match def {
                Some(NodeEnum::Constraint(c)) => match constr_type(c) {
                    ConstrType::ConstrCheck | ConstrType::ConstrForeign if c.skip_validation => catalog,
                    ConstrType::ConstrCheck => (WorkKind::Scan, format!("ADD CHECK checks every row of {table}"), vec![]),
                    ConstrType::ConstrForeign => {
                        (WorkKind::Scan, format!("ADD FOREIGN KEY checks every row of {table} against the referenced table"), vec![])
                    }
                    ConstrType::ConstrPrimary | ConstrType::ConstrUnique if !c.indexname.is_empty() => catalog,
                    ConstrType::ConstrPrimary | ConstrType::ConstrUnique | ConstrType::ConstrExclusion => {
                        let keys = strings(&c.keys);
                        (WorkKind::IndexBuild, format!("the constraint builds a unique index on {table} under its lock"), keys)
                    }
                    _ => catalog,
                },
                _ => catalog,
            },
            AlterTableType::AtAlterColumnType => {
                let Some(NodeEnum::ColumnDef(d)) = def else { return catalog };
                let Some(new) = d.type_name.as_ref().map(col_type) else { return catalog };
                let using = d.raw_default.as_deref().filter(|u| !plain_using(u, &cmd.name, &new));
                let old = column().and_then(|c| c.ty.clone());
                let rewrites = match (old, using) {
                    (_, Some(_)) | (None, _) => true,
                    (Some(old), None) => classify(&old, &new) != Change::NoRewrite,
                };
                if rewrites {
                    (WorkKind::Rewrite, format!("the type change rewrites {table} and rebuilds its indexes"), vec![])
                } else {
                    catalog
                }
            }
            AlterTableType::AtAddColumn => {
                let Some(NodeEnum::ColumnDef(d)) = def else { return catalog };
                let stored = column_constraint(d, ConstrType::ConstrGenerated).is_some();
                let identity = column_constraint(d, ConstrType::ConstrIdentity).is_some() || d.type_name.as_ref().is_some_and(is_serial);
                let volatile = default_expr(d).and_then(volatile_part);
                let old_default = self.pg_version < 11 && default_expr(d).is_some();
                if stored || identity || volatile.is_some() || old_default {
                    (WorkKind::Rewrite, format!("the new column's value is written into every row of {table}"), vec![])
                } else {
                    catalog
                }
            }
            AlterTableType::AtSetTableSpace
            | AlterTableType::AtSetLogged
            | AlterTableType::AtSetUnLogged
            | AlterTableType::AtSetAccessMethod => (WorkKind::Rewrite, format!("{table} is written again"), vec![]),
            _ => catalog,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(setup: &str, statements: &[&str]) -> Vec<Work> {
        let mut p = Planner::new(Schema::replay(setup).expect("setup parses"), 15);
        statements.iter().map(|s| p.statement(s).expect("parses")).collect()
    }

    const SETUP: &str = "CREATE TABLE items (id int PRIMARY KEY, a int, b text, v varchar(10));";

    #[test]
    fn each_kind_of_work_is_named_with_its_lock() {
        let w = plan(
            SETUP,
            &[
                "CREATE INDEX CONCURRENTLY items_a ON items (a)",
                "CREATE INDEX items_b ON items (b)",
                "ALTER TABLE items ALTER COLUMN a SET NOT NULL",
                "ALTER TABLE items ADD CONSTRAINT c CHECK (b IS NOT NULL) NOT VALID",
                "ALTER TABLE items VALIDATE CONSTRAINT c",
                "ALTER TABLE items ALTER COLUMN b SET NOT NULL",
                "ALTER TABLE items ALTER COLUMN v TYPE varchar(20)",
                "ALTER TABLE items ALTER COLUMN id TYPE bigint",
                "ALTER TABLE items ADD COLUMN t timestamptz DEFAULT now()",
                "ALTER TABLE items ADD COLUMN u uuid DEFAULT gen_random_uuid()",
                "UPDATE items SET a = 0 WHERE a IS NULL",
                "CREATE TABLE other (id int)",
            ],
        );
        let kinds: Vec<WorkKind> = w.iter().map(|w| w.kind).collect();
        use WorkKind::*;
        assert_eq!(kinds, [IndexBuild, IndexBuild, Scan, Catalog, Scan, Catalog, Catalog, Rewrite, Catalog, Rewrite, RowChanges, Catalog]);
        assert!(w[0].concurrent && !w[1].concurrent);
        assert_eq!(w[0].key_columns, ["a"]);
        let lock = |w: &Work| w.locks.iter().map(|l| (l.lock.clone(), l.during_work)).collect::<Vec<_>>();
        assert_eq!(lock(&w[0]), [("SHARE UPDATE EXCLUSIVE".to_string(), true)]);
        assert_eq!(lock(&w[1]), [("SHARE".to_string(), true)]);
        assert_eq!(lock(&w[2]), [("ACCESS EXCLUSIVE".to_string(), true)]);
        // A catalog change holds its lock only for a moment.
        assert_eq!(lock(&w[3]), [("ACCESS EXCLUSIVE".to_string(), false)]);
        assert_eq!(lock(&w[4]), [("SHARE UPDATE EXCLUSIVE".to_string(), true)]);
        assert!(w[11].locks.is_empty(), "a new table is nobody's to wait for");
        assert_eq!(w[2].table.as_deref(), Some("items"));
    }

    #[test]
    fn a_table_created_by_the_migration_takes_no_lock_anyone_waits_for() {
        let w = plan("", &["CREATE TABLE t (id int, a int)", "CREATE INDEX t_a ON t (a)", "ALTER TABLE t ALTER COLUMN a SET NOT NULL"]);
        assert!(w.iter().all(|w| w.locks.is_empty()));
    }

    #[test]
    fn online_work_holds_its_lock_only_for_moments() {
        let w = plan(SETUP, &["ALTER TABLE items ALTER COLUMN id TYPE bigint"]).remove(0).online("ACCESS EXCLUSIVE");
        assert_eq!(w.kind, WorkKind::OnlineCopy);
        assert!(w.locks.iter().all(|l| !l.during_work));
    }
}
