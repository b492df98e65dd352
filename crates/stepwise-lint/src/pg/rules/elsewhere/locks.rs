//! Which table-level locks a statement takes, as PostgreSQL documents them
//! ("Explicit Locking", and the lock notes of ALTER TABLE, CREATE INDEX,
//! CREATE TRIGGER, REINDEX, ...). Kept as an explicit list: a statement not
//! listed takes no lock stronger than ROW EXCLUSIVE that matters here.

use crate::pg::rules::helpers::{alter_cmds, constr_type, constraint, option_on, strings};
use crate::pg::schema::{range_key, Schema};
use pg_query::protobuf::{AlterTableType, ConstrType, DropBehavior, LockStmt, Node, ObjectType, ReindexObjectType};
use pg_query::NodeEnum;

/// PostgreSQL's table lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lock {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl Lock {
    pub fn name(self) -> &'static str {
        match self {
            Lock::AccessShare => "ACCESS SHARE",
            Lock::RowShare => "ROW SHARE",
            Lock::RowExclusive => "ROW EXCLUSIVE",
            Lock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Lock::Share => "SHARE",
            Lock::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Lock::Exclusive => "EXCLUSIVE",
            Lock::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Conflicts with the ROW EXCLUSIVE lock of INSERT, UPDATE and DELETE:
    /// while it is held, or waits in the queue, the table's writes stop.
    pub fn blocks_traffic(self) -> bool {
        self >= Lock::Share
    }

    /// What waits behind the lock.
    pub fn blocked(self) -> &'static str {
        match self {
            Lock::AccessExclusive => "every read and write",
            Lock::Exclusive => "every write and most reads",
            l if l.blocks_traffic() => "every INSERT, UPDATE and DELETE",
            _ => "other schema changes and VACUUM",
        }
    }

    fn from_lock_stmt(l: &LockStmt) -> Lock {
        // LOCK TABLE's mode numbers are PostgreSQL's lockmode constants.
        match l.mode {
            1 => Lock::AccessShare,
            2 => Lock::RowShare,
            3 => Lock::RowExclusive,
            4 => Lock::ShareUpdateExclusive,
            5 => Lock::Share,
            6 => Lock::ShareRowExclusive,
            7 => Lock::Exclusive,
            _ => Lock::AccessExclusive,
        }
    }
}

/// One lock a statement takes on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableLock {
    /// The schema model's key for the table (`orders`, `app.orders`); for an
    /// index whose table the model does not know, the index's name.
    pub table: String,
    pub lock: Lock,
    /// False when `table` is only an index name (its table is unknown).
    pub resolved: bool,
}

impl TableLock {
    /// The table existed before this migration (or is unknown, so lives in
    /// the database): somebody may be using it.
    pub fn existing(&self, schema: &Schema) -> bool {
        !schema.tables.get(&self.table).is_some_and(|t| t.new)
    }
}

fn on(table: String, lock: Lock) -> TableLock {
    TableLock { table, lock, resolved: true }
}

/// The lock on an index's table; `parts` is the index's name as written.
fn index_table(schema: &Schema, parts: &[String], lock: Lock) -> TableLock {
    match schema.index_table_key(parts) {
        Ok(t) => on(t, lock),
        Err(index) => TableLock { table: index, lock, resolved: false },
    }
}

fn range_vars(nodes: &[Node]) -> impl Iterator<Item = String> + '_ {
    nodes.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::RangeVar(r)) => Some(range_key(r)),
        _ => None,
    })
}

/// `REFERENCES other` in a column or table constraint: SHARE ROW EXCLUSIVE on `other`.
fn referenced(constraints: &[Node], out: &mut Vec<TableLock>) {
    for c in constraints.iter().filter_map(constraint) {
        if constr_type(c) == ConstrType::ConstrForeign {
            if let Some(r) = &c.pktable {
                out.push(on(range_key(r), Lock::ShareRowExclusive));
            }
        }
    }
}

/// The table locks `node` takes, strongest per table first not guaranteed;
/// statements that take none above ROW EXCLUSIVE give nothing.
pub(crate) fn table_locks(node: &NodeEnum, schema: &Schema, pg_version: u32) -> Vec<TableLock> {
    let mut out = Vec::new();
    match node {
        NodeEnum::AlterTableStmt(a) if ObjectType::try_from(a.objtype).ok() == Some(ObjectType::ObjectTable) => {
            let Some(r) = &a.relation else { return out };
            let mut strongest: Option<Lock> = None;
            for (kind, cmd) in alter_cmds(a) {
                let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
                let lock = match kind {
                    AlterTableType::AtValidateConstraint
                    | AlterTableType::AtSetStatistics
                    | AlterTableType::AtSetOptions
                    | AlterTableType::AtResetOptions
                    | AlterTableType::AtClusterOn
                    | AlterTableType::AtDropCluster
                    | AlterTableType::AtSetRelOptions
                    | AlterTableType::AtResetRelOptions
                    | AlterTableType::AtDetachPartitionFinalize => Lock::ShareUpdateExclusive,
                    AlterTableType::AtAttachPartition if pg_version >= 12 => {
                        // The partition being attached is locked ACCESS EXCLUSIVE.
                        if let Some(NodeEnum::PartitionCmd(p)) = def {
                            if let Some(part) = &p.name {
                                out.push(on(range_key(part), Lock::AccessExclusive));
                            }
                        }
                        Lock::ShareUpdateExclusive
                    }
                    // The partition is locked ACCESS EXCLUSIVE either way
                    // (CONCURRENTLY: in its second transaction).
                    AlterTableType::AtDetachPartition => match def {
                        Some(NodeEnum::PartitionCmd(p)) => {
                            if let Some(part) = &p.name {
                                out.push(on(range_key(part), Lock::AccessExclusive));
                            }
                            if p.concurrent {
                                Lock::ShareUpdateExclusive
                            } else {
                                Lock::AccessExclusive
                            }
                        }
                        _ => Lock::AccessExclusive,
                    },
                    AlterTableType::AtEnableTrig
                    | AlterTableType::AtEnableAlwaysTrig
                    | AlterTableType::AtEnableReplicaTrig
                    | AlterTableType::AtDisableTrig
                    | AlterTableType::AtEnableTrigAll
                    | AlterTableType::AtDisableTrigAll
                    | AlterTableType::AtEnableTrigUser
                    | AlterTableType::AtDisableTrigUser => Lock::ShareRowExclusive,
                    AlterTableType::AtAddConstraint => match def {
                        Some(NodeEnum::Constraint(c)) if constr_type(c) == ConstrType::ConstrForeign => {
                            if let Some(p) = &c.pktable {
                                out.push(on(range_key(p), Lock::ShareRowExclusive));
                            }
                            Lock::ShareRowExclusive
                        }
                        _ => Lock::AccessExclusive,
                    },
                    AlterTableType::AtAddColumn => {
                        if let Some(NodeEnum::ColumnDef(d)) = def {
                            referenced(&d.constraints, &mut out);
                        }
                        Lock::AccessExclusive
                    }
                    // ALTER TABLE takes ACCESS EXCLUSIVE unless documented otherwise.
                    _ => Lock::AccessExclusive,
                };
                strongest = strongest.max(Some(lock));
            }
            if let Some(lock) = strongest {
                out.insert(0, on(range_key(r), lock));
            }
        }
        NodeEnum::IndexStmt(i) => {
            if let Some(r) = &i.relation {
                out.push(on(range_key(r), if i.concurrent { Lock::ShareUpdateExclusive } else { Lock::Share }));
            }
        }
        NodeEnum::ReindexStmt(x) => {
            let lock = if option_on(&x.params, "concurrently") { Lock::ShareUpdateExclusive } else { Lock::Share };
            match ReindexObjectType::try_from(x.kind).unwrap_or(ReindexObjectType::Undefined) {
                ReindexObjectType::ReindexObjectTable => {
                    if let Some(r) = &x.relation {
                        out.push(on(range_key(r), lock));
                    }
                }
                ReindexObjectType::ReindexObjectIndex => {
                    if let Some(r) = &x.relation {
                        out.push(index_table(schema, &[r.schemaname.clone(), r.relname.clone()], lock));
                    }
                }
                _ => {}
            }
        }
        NodeEnum::DropStmt(d) => {
            let kind = ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined);
            // DROP SCHEMA ... CASCADE drops (ACCESS EXCLUSIVE) every table in it.
            if kind == ObjectType::ObjectSchema && d.behavior == DropBehavior::DropCascade as i32 {
                for o in &d.objects {
                    let Some(NodeEnum::String(name)) = &o.node else { continue };
                    let prefix = format!("{}.", name.sval);
                    let mut tables: Vec<String> = schema.tables.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
                    tables.sort();
                    out.extend(tables.into_iter().map(|t| on(t, Lock::AccessExclusive)));
                }
            }
            for o in &d.objects {
                let Some(NodeEnum::List(l)) = &o.node else { continue };
                let parts = strings(&l.items);
                match kind {
                    // Views are left out: the schema model does not track them, so a
                    // view created in the same migration would look like a live one.
                    ObjectType::ObjectTable | ObjectType::ObjectForeignTable => {
                        if let Some(t) = qualified(&parts) {
                            out.push(on(t, Lock::AccessExclusive));
                        }
                    }
                    ObjectType::ObjectIndex => {
                        let lock = if d.concurrent { Lock::ShareUpdateExclusive } else { Lock::AccessExclusive };
                        out.push(index_table(schema, &parts, lock));
                    }
                    // DROP TRIGGER/RULE/POLICY name ON table: the last part is the object.
                    ObjectType::ObjectTrigger | ObjectType::ObjectRule | ObjectType::ObjectPolicy => {
                        if let Some(t) = qualified(&parts[..parts.len().saturating_sub(1)]) {
                            out.push(on(t, Lock::AccessExclusive));
                        }
                    }
                    _ => {}
                }
            }
        }
        // A domain constraint checked on ADD (not NOT VALID) or by VALIDATE
        // scans every table with a column of the domain under SHARE.
        NodeEnum::AlterDomainStmt(d) => {
            let validates = match (d.subtype.as_str(), d.def.as_ref().and_then(|n| n.node.as_ref())) {
                ("C", Some(NodeEnum::Constraint(c))) => !c.skip_validation,
                ("V", _) => true,
                _ => false,
            };
            if let (true, Some(domain)) = (validates, strings(&d.type_name).last()) {
                let mut tables: Vec<String> = schema.columns_of_type(domain).into_iter().map(|(t, _)| t).collect();
                tables.dedup();
                out.extend(tables.into_iter().map(|t| on(t, Lock::Share)));
            }
        }
        NodeEnum::RenameStmt(rn) => {
            let kind = ObjectType::try_from(rn.rename_type).unwrap_or(ObjectType::Undefined);
            if let (Some(r), true) = (
                &rn.relation,
                matches!(
                    kind,
                    ObjectType::ObjectTable
                        | ObjectType::ObjectColumn
                        | ObjectType::ObjectTabconstraint
                        | ObjectType::ObjectTrigger
                        | ObjectType::ObjectRule
                        | ObjectType::ObjectPolicy
                        | ObjectType::ObjectView
                        | ObjectType::ObjectMatview
                ),
            ) {
                out.push(on(range_key(r), Lock::AccessExclusive));
            }
        }
        NodeEnum::AlterObjectSchemaStmt(s) => {
            if let Some(r) = &s.relation {
                out.push(on(range_key(r), Lock::AccessExclusive));
            }
        }
        NodeEnum::CreateTrigStmt(t) => {
            if let Some(r) = &t.relation {
                out.push(on(range_key(r), Lock::ShareRowExclusive));
            }
        }
        NodeEnum::CreatePolicyStmt(p) => {
            if let Some(r) = &p.table {
                out.push(on(range_key(r), Lock::AccessExclusive));
            }
        }
        NodeEnum::AlterPolicyStmt(p) => {
            if let Some(r) = &p.table {
                out.push(on(range_key(r), Lock::AccessExclusive));
            }
        }
        NodeEnum::RuleStmt(r) => {
            if let Some(r) = &r.relation {
                out.push(on(range_key(r), Lock::AccessExclusive));
            }
        }
        NodeEnum::TruncateStmt(t) => out.extend(range_vars(&t.relations).map(|k| on(k, Lock::AccessExclusive))),
        NodeEnum::LockStmt(l) => {
            let lock = Lock::from_lock_stmt(l);
            out.extend(range_vars(&l.relations).map(|k| on(k, lock)));
        }
        NodeEnum::VacuumStmt(v) => {
            let lock = if v.is_vacuumcmd && option_on(&v.options, "full") { Lock::AccessExclusive } else { Lock::ShareUpdateExclusive };
            for rel in &v.rels {
                if let Some(NodeEnum::VacuumRelation(vr)) = &rel.node {
                    if let Some(r) = &vr.relation {
                        out.push(on(range_key(r), lock));
                    }
                }
            }
        }
        NodeEnum::ClusterStmt(c) => {
            if let Some(r) = &c.relation {
                out.push(on(range_key(r), Lock::AccessExclusive));
            }
        }
        NodeEnum::RefreshMatViewStmt(m) => {
            if let Some(r) = &m.relation {
                out.push(on(range_key(r), if m.concurrent { Lock::Exclusive } else { Lock::AccessExclusive }));
            }
        }
        NodeEnum::CreateStmt(c) => {
            // The new table itself is new; what it points at is not.
            for e in &c.table_elts {
                match &e.node {
                    Some(NodeEnum::ColumnDef(d)) => referenced(&d.constraints, &mut out),
                    Some(NodeEnum::Constraint(_)) => referenced(std::slice::from_ref(e), &mut out),
                    _ => {}
                }
            }
            referenced(&c.constraints, &mut out);
            // CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the parent.
            if c.partbound.is_some() {
                out.extend(range_vars(&c.inh_relations).map(|k| on(k, Lock::AccessExclusive)));
            }
        }
        _ => {}
    }
    out
}

/// The name `table` has after the statements `later` ran (RENAME TO): an
/// earlier statement's lock is on the same table under its new name.
pub(super) fn renamed(table: &str, later: &[&NodeEnum]) -> String {
    let mut name = table.to_string();
    for n in later {
        if let NodeEnum::RenameStmt(rn) = n {
            let is_table = ObjectType::try_from(rn.rename_type).ok() == Some(ObjectType::ObjectTable);
            if let (true, Some(r)) = (is_table, &rn.relation) {
                if range_key(r) == name {
                    name = crate::pg::schema::key(&r.schemaname, &rn.newname);
                }
            }
        }
    }
    name
}

fn qualified(parts: &[String]) -> Option<String> {
    match parts {
        [name] => Some(crate::pg::schema::key("", name)),
        [schema, name] => Some(crate::pg::schema::key(schema, name)),
        [_, schema, name] => Some(crate::pg::schema::key(schema, name)),
        _ => None,
    }
}

/// The locks of `node` that block traffic on tables that existed before
/// this migration, strongest first.
pub(super) fn blocking_locks_on_existing(node: &NodeEnum, schema: &Schema, pg_version: u32) -> Vec<TableLock> {
    let mut locks: Vec<TableLock> =
        table_locks(node, schema, pg_version).into_iter().filter(|l| l.lock.blocks_traffic() && l.existing(schema)).collect();
    locks.sort_by_key(|l| std::cmp::Reverse(l.lock));
    locks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locks(sql: &str) -> Vec<(String, Lock)> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap();
        let node = parsed.protobuf.stmts[0].stmt.as_ref().unwrap().node.as_ref().unwrap().clone();
        let mut schema = Schema::default();
        let setup = pg_query::parse("CREATE INDEX orders_status_idx ON orders (status)", pg_query::ParserOptions::DEFAULT).unwrap();
        schema.apply(setup.protobuf.stmts[0].stmt.as_ref().unwrap().node.as_ref().unwrap(), false);
        table_locks(&node, &schema, 15).into_iter().map(|l| (l.table, l.lock)).collect()
    }

    #[test]
    fn documented_lock_levels() {
        use Lock::*;
        let cases: &[(&str, &[(&str, Lock)])] = &[
            ("ALTER TABLE orders ADD COLUMN note text", &[("orders", AccessExclusive)]),
            ("ALTER TABLE orders VALIDATE CONSTRAINT c", &[("orders", ShareUpdateExclusive)]),
            (
                "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID",
                &[("orders", ShareRowExclusive), ("customers", ShareRowExclusive)],
            ),
            ("ALTER TABLE orders DISABLE TRIGGER t", &[("orders", ShareRowExclusive)]),
            ("ALTER TABLE orders SET (fillfactor = 70), VALIDATE CONSTRAINT c", &[("orders", ShareUpdateExclusive)]),
            ("ALTER TABLE orders VALIDATE CONSTRAINT c, ALTER COLUMN a SET NOT NULL", &[("orders", AccessExclusive)]),
            ("CREATE INDEX i ON orders (a)", &[("orders", Share)]),
            ("CREATE INDEX CONCURRENTLY i ON orders (a)", &[("orders", ShareUpdateExclusive)]),
            ("DROP INDEX orders_status_idx", &[("orders", AccessExclusive)]),
            ("REINDEX INDEX orders_status_idx", &[("orders", Share)]),
            ("DROP TABLE a, app.b", &[("a", AccessExclusive), ("app.b", AccessExclusive)]),
            ("DROP TRIGGER t ON app.orders", &[("app.orders", AccessExclusive)]),
            ("ALTER TABLE orders RENAME COLUMN a TO b", &[("orders", AccessExclusive)]),
            ("CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f()", &[("orders", ShareRowExclusive)]),
            ("TRUNCATE a, b", &[("a", AccessExclusive), ("b", AccessExclusive)]),
            ("LOCK TABLE orders IN SHARE MODE", &[("orders", Share)]),
            ("LOCK orders", &[("orders", AccessExclusive)]),
            ("VACUUM FULL orders", &[("orders", AccessExclusive)]),
            ("VACUUM (ANALYZE) orders", &[("orders", ShareUpdateExclusive)]),
            ("CLUSTER orders USING i", &[("orders", AccessExclusive)]),
            ("REFRESH MATERIALIZED VIEW CONCURRENTLY m", &[("m", Exclusive)]),
            ("CREATE TABLE items (id bigint, order_id bigint REFERENCES orders (id))", &[("orders", ShareRowExclusive)]),
            ("CREATE TABLE p1 PARTITION OF events FOR VALUES FROM (1) TO (2)", &[("events", AccessExclusive)]),
            ("ALTER TABLE events DETACH PARTITION p1", &[("events", AccessExclusive), ("p1", AccessExclusive)]),
            ("ALTER TABLE events DETACH PARTITION p1 CONCURRENTLY", &[("events", ShareUpdateExclusive), ("p1", AccessExclusive)]),
            ("UPDATE orders SET a = 1", &[]),
            ("SELECT * FROM orders", &[]),
        ];
        for (sql, want) in cases {
            let want: Vec<(String, Lock)> = want.iter().map(|(t, l)| (t.to_string(), *l)).collect();
            assert_eq!(locks(sql), want, "{sql}");
        }
    }
}
