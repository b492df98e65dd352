//! Indexes, constraints and the other relations of the schema model, with
//! the names PostgreSQL gives them when a migration does not (see
//! `names.rs`): every `DROP INDEX`, `ALTER INDEX`, `DROP CONSTRAINT` and
//! `RENAME CONSTRAINT` is resolved to its table, the way the server will.
//!
//! Keys are the model's (`key(schema, name)`): an index or sequence lives in
//! its table's schema; constraint names are per table, but PostgreSQL
//! avoids a default name used anywhere in the schema, so that is tracked too.

use super::by_table::Owned;
use super::names::{choose_name, columns_read, index_column_names, name_addition};
use super::rules::helpers::strings;
use super::schema::{key, range_key, Schema};
use pg_query::protobuf::{AlterTableType, ConstrType, Constraint, Node, ObjectType, RangeVar};
use pg_query::NodeEnum;

/// What kind of constraint, and so whether an index carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Primary,
    Unique,
    Exclusion,
    Check,
    ForeignKey,
}

impl ConstraintKind {
    /// Primary keys, unique and exclusion constraints are indexes too, of the same name.
    pub fn has_index(self) -> bool {
        matches!(self, ConstraintKind::Primary | ConstraintKind::Unique | ConstraintKind::Exclusion)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// The model's key of the index's table.
    pub table: String,
    /// Its columns, as PostgreSQL names them (`expr` for an expression).
    pub columns: Vec<String>,
    /// The constraint this index carries (primary key, unique, exclusion).
    pub constraint: Option<ConstraintKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintInfo {
    pub kind: ConstraintKind,
    /// The columns it is on (empty when not known, as for most CHECKs).
    pub columns: Vec<String>,
    /// Checked against every row: not added NOT VALID, or validated since.
    pub valid: bool,
}

/// The schema part of a model key (`""` for `public`).
pub fn namespace(table_key: &str) -> &str {
    table_key.split_once('.').map_or("", |(s, _)| s)
}

fn relname(table_key: &str) -> &str {
    table_key.split_once('.').map_or(table_key, |(_, n)| n)
}

impl Owned for IndexInfo {
    fn owner(&self) -> Option<&str> {
        Some(&self.table)
    }
    fn set_owner(&mut self, owner: &str) {
        self.table = owner.to_string();
    }
}

fn kind_of(c: &Constraint) -> Option<ConstraintKind> {
    Some(match ConstrType::try_from(c.contype).ok()? {
        ConstrType::ConstrPrimary => ConstraintKind::Primary,
        ConstrType::ConstrUnique => ConstraintKind::Unique,
        ConstrType::ConstrExclusion => ConstraintKind::Exclusion,
        ConstrType::ConstrCheck => ConstraintKind::Check,
        ConstrType::ConstrForeign => ConstraintKind::ForeignKey,
        _ => return None,
    })
}

impl Schema {
    /// A relation (table, index, sequence, view) of that name in that schema.
    pub fn relation_taken(&self, ns: &str, name: &str) -> bool {
        let k = key(ns, name);
        self.tables.contains_key(&k) || self.indexes.contains_key(&k) || self.other_relations.contains_key(&k)
    }

    fn constraint_name_taken(&self, ns: &str, name: &str) -> bool {
        self.constraint_names.get(&key(ns, name)).is_some_and(|n| *n > 0)
    }

    /// The index `name` (as written in a statement: `name` or `schema.name`).
    pub fn index(&self, schema: &str, name: &str) -> Option<&IndexInfo> {
        self.indexes.get(&key(schema, name))
    }

    /// The constraint `name` of a table.
    pub fn constraint(&self, table: &str, name: &str) -> Option<&ConstraintInfo> {
        self.constraints.get(table)?.get(name)
    }

    fn add_index(&mut self, table: &str, name: String, columns: Vec<String>, constraint: Option<ConstraintKind>) {
        self.indexes.insert(key(namespace(table), &name), IndexInfo { table: table.to_string(), columns, constraint });
    }

    fn add_constraint(&mut self, table: &str, name: String, info: ConstraintInfo) {
        if info.kind.has_index() {
            self.add_index(table, name.clone(), info.columns.clone(), Some(info.kind));
        }
        *self.constraint_names.entry(key(namespace(table), &name)).or_default() += 1;
        self.constraints.entry(table.to_string()).or_default().insert(name, info);
    }

    fn drop_constraint(&mut self, table: &str, name: &str) {
        if let Some(info) = self.take_constraint(table, name) {
            if let Some(n) = self.constraint_names.get_mut(&key(namespace(table), name)) {
                *n = n.saturating_sub(1);
            }
            if info.kind.has_index() {
                self.indexes.remove(&key(namespace(table), name));
            }
        }
    }

    fn take_constraint(&mut self, table: &str, name: &str) -> Option<ConstraintInfo> {
        let of_table = self.constraints.get_mut(table)?;
        let info = of_table.remove(name);
        if of_table.is_empty() {
            self.constraints.remove(table);
        }
        info
    }

    fn drop_index(&mut self, index_key: &str) {
        if let Some(info) = self.indexes.remove(index_key) {
            let name = relname(index_key).to_string();
            if info.constraint.is_some() {
                self.drop_constraint(&info.table.clone(), &name);
            }
        }
    }

    /// An index from the live catalog that carries no constraint (those
    /// come with [`Schema::seed_constraint`]).
    pub fn seed_index(&mut self, table: &str, name: &str, columns: Vec<String>) {
        self.add_index(table, name.to_string(), columns, None);
    }

    /// A constraint from the live catalog, by its `pg_constraint.contype`
    /// (kinds the model does not track are skipped).
    pub fn seed_constraint(&mut self, table: &str, name: &str, contype: &str, columns: Vec<String>, valid: bool) {
        let kind = match contype {
            "p" => ConstraintKind::Primary,
            "u" => ConstraintKind::Unique,
            "x" => ConstraintKind::Exclusion,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            _ => return,
        };
        self.add_constraint(table, name.to_string(), ConstraintInfo { kind, columns, valid });
    }

    /// The name PostgreSQL gives an unnamed index-backed constraint or index.
    fn index_name(&self, table: &str, columns: &[String], label: &str) -> String {
        let ns = namespace(table).to_string();
        let constraint = label != "idx";
        let addition = (label != "pkey").then(|| name_addition(columns));
        choose_name(relname(table), addition.as_deref(), label, |n| {
            self.relation_taken(&ns, n) || (constraint && self.constraint_name_taken(&ns, n))
        })
    }

    /// Add a table or column constraint to `table`; `column` is the column
    /// it was written on, if any.
    fn add_constraint_def(&mut self, table: &str, c: &Constraint, column: Option<&str>, in_create: bool) {
        // CREATE TABLE checks its constraints on no rows: valid, NOT VALID or not.
        let valid = in_create || !c.skip_validation;
        let Some(kind) = kind_of(c) else { return };
        let columns: Vec<String> = match kind {
            ConstraintKind::Primary | ConstraintKind::Unique => {
                let mut cols = strings(&c.keys);
                if cols.is_empty() {
                    cols.extend(column.map(str::to_string));
                }
                cols.extend(strings(&c.including));
                cols
            }
            ConstraintKind::Exclusion => {
                let elems: Vec<Node> = c
                    .exclusions
                    .iter()
                    .filter_map(|pair| match &pair.node {
                        Some(NodeEnum::List(l)) => l.items.first().cloned(),
                        _ => None,
                    })
                    .collect();
                index_column_names(&elems)
            }
            ConstraintKind::ForeignKey => {
                let cols = strings(&c.fk_attrs);
                if cols.is_empty() {
                    column.map(|c| vec![c.to_string()]).unwrap_or_default()
                } else {
                    cols
                }
            }
            // Even a column's CHECK is named by the columns its expression reads.
            ConstraintKind::Check => c.raw_expr.as_ref().and_then(|e| e.node.as_ref()).map(columns_read).unwrap_or_default(),
        };
        // ADD CONSTRAINT name PRIMARY KEY USING INDEX idx: the index becomes
        // the constraint's (renamed to the constraint's name when one is given).
        if !c.indexname.is_empty() {
            let from = key(namespace(table), &c.indexname);
            let name = if c.conname.is_empty() { c.indexname.clone() } else { c.conname.clone() };
            let columns = self.indexes.remove(&from).map(|i| i.columns).unwrap_or_default();
            self.add_constraint(table, name, ConstraintInfo { kind, columns, valid });
            return;
        }
        let name = if !c.conname.is_empty() {
            c.conname.clone()
        } else {
            let ns = namespace(table).to_string();
            match kind {
                ConstraintKind::Primary => self.index_name(table, &columns, "pkey"),
                ConstraintKind::Unique => self.index_name(table, &columns, "key"),
                ConstraintKind::Exclusion => self.index_name(table, &columns, "excl"),
                ConstraintKind::Check => {
                    let col = (columns.len() == 1).then(|| columns[0].as_str());
                    choose_name(relname(table), col, "check", |n| self.constraint_name_taken(&ns, n))
                }
                ConstraintKind::ForeignKey => {
                    choose_name(relname(table), Some(&name_addition(&columns)), "fkey", |n| self.constraint_name_taken(&ns, n))
                }
            }
        };
        let columns = if kind == ConstraintKind::Check { vec![] } else { columns };
        self.add_constraint(table, name, ConstraintInfo { kind, columns, valid });
    }

    /// `serial` columns and identity columns own a sequence `<table>_<column>_seq`.
    fn add_column_sequence(&mut self, table: &str, d: &pg_query::protobuf::ColumnDef) {
        let identity = d
            .constraints
            .iter()
            .any(|c| matches!(&c.node, Some(NodeEnum::Constraint(k)) if k.contype == ConstrType::ConstrIdentity as i32));
        let serial = d.type_name.as_ref().is_some_and(super::schema::is_serial);
        if identity || serial {
            let ns = namespace(table).to_string();
            let name = choose_name(relname(table), Some(&d.colname), "seq", |n| self.relation_taken(&ns, n));
            self.other_relations.insert(key(&ns, &name), Some(table.to_string()));
        }
    }

    /// The constraints of a column definition, in the order PostgreSQL names
    /// them: checks when the table is made, then indexes, then foreign keys.
    fn column_constraints(d: &pg_query::protobuf::ColumnDef) -> impl Iterator<Item = &Constraint> {
        d.constraints.iter().filter_map(|c| match &c.node {
            Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
            _ => None,
        })
    }

    fn create_table<'n>(&mut self, r: &RangeVar, elts: impl Iterator<Item = &'n Node>, partition_of: Option<String>) {
        let table = range_key(r);
        let mut cols: Vec<(&pg_query::protobuf::ColumnDef, &Constraint)> = Vec::new();
        let mut table_constraints: Vec<&Constraint> = Vec::new();
        for e in elts {
            match &e.node {
                Some(NodeEnum::ColumnDef(d)) => {
                    self.add_column_sequence(&table, d);
                    cols.extend(Self::column_constraints(d).map(|c| (d.as_ref(), c)));
                }
                Some(NodeEnum::Constraint(c)) => table_constraints.push(c),
                _ => {}
            }
        }
        let all: Vec<(Option<&str>, &Constraint)> =
            cols.iter().map(|(d, c)| (Some(d.colname.as_str()), *c)).chain(table_constraints.iter().map(|c| (None, *c))).collect();
        let order = [
            &[ConstraintKind::Check][..],
            &[ConstraintKind::Primary],
            &[ConstraintKind::Unique, ConstraintKind::Exclusion],
            &[ConstraintKind::ForeignKey],
        ];
        for kinds in order {
            for (column, c) in &all {
                if kind_of(c).is_some_and(|k| kinds.contains(&k)) {
                    self.add_constraint_def(&table, c, *column, true);
                }
            }
        }
        // A partition gets a copy of each of its parent's indexes, named for itself.
        if let Some(parent) = partition_of {
            let inherited: Vec<IndexInfo> = self.indexes.keys_of(&parent).iter().filter_map(|k| self.indexes.get(k)).cloned().collect();
            for i in inherited {
                match i.constraint {
                    Some(kind) => {
                        let label = match kind {
                            ConstraintKind::Primary => "pkey",
                            ConstraintKind::Exclusion => "excl",
                            _ => "key",
                        };
                        let name = self.index_name(&table, &i.columns, label);
                        self.add_constraint(&table, name, ConstraintInfo { kind, columns: i.columns, valid: true });
                    }
                    None => {
                        let name = self.index_name(&table, &i.columns, "idx");
                        self.add_index(&table, name, i.columns, None);
                    }
                }
            }
        }
    }

    fn drop_table(&mut self, table: &str) {
        self.indexes.remove_table(table);
        let ns = namespace(table);
        for name in self.constraints.remove(table).unwrap_or_default().into_keys() {
            if let Some(n) = self.constraint_names.get_mut(&key(ns, &name)) {
                *n = n.saturating_sub(1);
            }
        }
        self.other_relations.remove_table(table);
    }

    fn rename_table(&mut self, from: &str, to: &str) {
        self.indexes.rename_table(from, to);
        if let Some(moved) = self.constraints.remove(from) {
            self.constraints.insert(to.to_string(), moved);
        }
        self.other_relations.rename_table(from, to);
    }

    /// An index renamed (ALTER INDEX ... RENAME, or the constraint it carries
    /// renamed): the index and its constraint keep the same name.
    fn rename_index(&mut self, ns: &str, from: &str, to: &str) {
        let Some(info) = self.indexes.remove(&key(ns, from)) else { return };
        if info.constraint.is_some() {
            if let Some(c) = self.take_constraint(&info.table, from) {
                if let Some(n) = self.constraint_names.get_mut(&key(ns, from)) {
                    *n = n.saturating_sub(1);
                }
                *self.constraint_names.entry(key(ns, to)).or_default() += 1;
                self.constraints.entry(info.table.clone()).or_default().insert(to.to_string(), c);
            }
        }
        self.indexes.insert(key(ns, to), info);
    }

    /// Keep indexes, constraints and sequences in step with a statement.
    /// Runs before the table model changes (a dropped table's indexes are
    /// found by the table's key while it still has it).
    pub(super) fn track_relations(&mut self, node: &NodeEnum) {
        match node {
            NodeEnum::CreateStmt(c) => {
                let Some(r) = &c.relation else { return };
                if c.if_not_exists && self.tables.contains_key(&range_key(r)) {
                    return;
                }
                let parent = if c.partbound.is_some() {
                    c.inh_relations.iter().find_map(|n| match &n.node {
                        Some(NodeEnum::RangeVar(p)) => Some(range_key(p)),
                        _ => None,
                    })
                } else {
                    None
                };
                // Borrowed, not cloned: this runs for every CREATE TABLE of a history.
                self.create_table(r, c.table_elts.iter().chain(&c.constraints), parent);
            }
            NodeEnum::IndexStmt(i) => {
                let Some(r) = &i.relation else { return };
                let table = range_key(r);
                let elems: Vec<Node> = i.index_params.iter().chain(&i.index_including_params).cloned().collect();
                let columns = index_column_names(&elems);
                let name = if i.idxname.is_empty() { self.index_name(&table, &columns, "idx") } else { i.idxname.clone() };
                if i.if_not_exists && self.relation_taken(namespace(&table), &name) {
                    return;
                }
                self.add_index(&table, name, columns, None);
            }
            NodeEnum::AlterTableStmt(a) => {
                let Some(r) = &a.relation else { return };
                let table = range_key(r);
                if a.objtype != ObjectType::ObjectTable as i32 && a.objtype != ObjectType::ObjectForeignTable as i32 {
                    return;
                }
                for cmd in &a.cmds {
                    let Some(NodeEnum::AlterTableCmd(cmd)) = &cmd.node else { continue };
                    let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
                    match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
                        AlterTableType::AtAddConstraint => {
                            if let Some(NodeEnum::Constraint(c)) = def {
                                self.add_constraint_def(&table, c, None, false);
                            }
                        }
                        AlterTableType::AtAddColumn => {
                            if let Some(NodeEnum::ColumnDef(d)) = def {
                                self.add_column_sequence(&table, d);
                                let mut cs: Vec<&Constraint> = Self::column_constraints(d).collect();
                                cs.sort_by_key(|c| match kind_of(c) {
                                    Some(ConstraintKind::Check) => 0,
                                    Some(ConstraintKind::ForeignKey) => 2,
                                    _ => 1,
                                });
                                for c in cs {
                                    self.add_constraint_def(&table, c, Some(&d.colname), false);
                                }
                            }
                        }
                        AlterTableType::AtDropConstraint => self.drop_constraint(&table, &cmd.name),
                        AlterTableType::AtValidateConstraint => {
                            if let Some(c) = self.constraints.get_mut(&table).and_then(|m| m.get_mut(&cmd.name)) {
                                c.valid = true;
                            }
                        }
                        AlterTableType::AtDropColumn => {
                            // Indexes and constraints on the column go with it.
                            let gone: Vec<String> = self
                                .indexes
                                .keys_of(&table)
                                .into_iter()
                                .filter(|k| self.indexes.get(k).is_some_and(|i| i.columns.contains(&cmd.name)))
                                .collect();
                            for k in gone {
                                self.drop_index(&k);
                            }
                            let gone: Vec<String> = self
                                .constraints
                                .get(&table)
                                .into_iter()
                                .flatten()
                                .filter(|(_, c)| c.columns.contains(&cmd.name))
                                .map(|(n, _)| n.clone())
                                .collect();
                            for n in gone {
                                self.drop_constraint(&table, &n);
                            }
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::RenameStmt(rn) => {
                let kind = ObjectType::try_from(rn.rename_type).unwrap_or(ObjectType::Undefined);
                let Some(r) = &rn.relation else { return };
                let k = range_key(r);
                match kind {
                    ObjectType::ObjectTable => self.rename_table(&k, &key(&r.schemaname, &rn.newname)),
                    ObjectType::ObjectIndex => self.rename_index(&r.schemaname, &r.relname, &rn.newname),
                    ObjectType::ObjectTabconstraint => {
                        let ns = namespace(&k).to_string();
                        match self.constraint(&k, &rn.subname).map(|c| c.kind) {
                            Some(kind) if kind.has_index() => self.rename_index(&ns, &rn.subname, &rn.newname),
                            Some(_) => {
                                if let Some(c) = self.take_constraint(&k, &rn.subname) {
                                    if let Some(n) = self.constraint_names.get_mut(&key(&ns, &rn.subname)) {
                                        *n = n.saturating_sub(1);
                                    }
                                    *self.constraint_names.entry(key(&ns, &rn.newname)).or_default() += 1;
                                    self.constraints.entry(k).or_default().insert(rn.newname.clone(), c);
                                }
                            }
                            None => {}
                        }
                    }
                    ObjectType::ObjectColumn => {
                        self.indexes.update_of(&k, |i| {
                            for c in i.columns.iter_mut().filter(|c| **c == rn.subname) {
                                c.clone_from(&rn.newname);
                            }
                        });
                        for c in self.constraints.get_mut(&k).into_iter().flat_map(|m| m.values_mut()) {
                            for col in c.columns.iter_mut().filter(|c| **c == rn.subname) {
                                col.clone_from(&rn.newname);
                            }
                        }
                    }
                    ObjectType::ObjectSequence | ObjectType::ObjectView | ObjectType::ObjectMatview => {
                        if let Some(owner) = self.other_relations.remove(&k) {
                            self.other_relations.insert(key(&r.schemaname, &rn.newname), owner);
                        }
                    }
                    _ => {}
                }
            }
            NodeEnum::DropStmt(d) => {
                let kind = ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined);
                for o in &d.objects {
                    let Some(NodeEnum::List(l)) = &o.node else { continue };
                    let k = match strings(&l.items).as_slice() {
                        [name] => key("", name),
                        [schema, name] => key(schema, name),
                        _ => continue,
                    };
                    match kind {
                        ObjectType::ObjectTable | ObjectType::ObjectForeignTable => self.drop_table(&k),
                        ObjectType::ObjectIndex => self.drop_index(&k),
                        ObjectType::ObjectSequence | ObjectType::ObjectView | ObjectType::ObjectMatview => {
                            self.other_relations.remove(&k);
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::CreateSeqStmt(s) => {
                if let Some(r) = &s.sequence {
                    self.other_relations.insert(range_key(r), None);
                }
            }
            NodeEnum::ViewStmt(v) => {
                if let Some(r) = &v.view {
                    self.other_relations.insert(range_key(r), None);
                }
            }
            _ => {}
        }
    }
}
