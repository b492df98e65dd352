//! The schema model: which tables exist, their columns and types, whether a
//! table is new (created by a migration that has not run yet, so nothing can
//! be waiting on it), and how big it is when the catalog says so. Built by
//! replaying migrations in order, or seeded from the live catalog.

use super::by_table::ByTable;
use super::relations::{ConstraintInfo, IndexInfo};
use super::rules::helpers::constraint;
use pg_query::protobuf::{AlterTableType, ObjectType, RangeVar, TypeName};
use pg_query::NodeEnum;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColType {
    /// Canonical base name: `int4`, `int8`, `varchar`, `numeric`, `timestamptz`, `text`, ...
    pub base: String,
    /// Type modifiers: `varchar(20)` -> [20], `numeric(10,2)` -> [10, 2].
    pub mods: Vec<i64>,
    pub array: bool,
}

impl ColType {
    pub fn display(&self) -> String {
        let mut s = self.base.clone();
        if !self.mods.is_empty() {
            s.push_str(&format!("({})", self.mods.iter().map(i64::to_string).collect::<Vec<_>>().join(",")));
        }
        if self.array {
            s.push_str("[]");
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: Option<ColType>,
    pub not_null: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Created by a migration that has not been applied (or earlier in the same file).
    pub new: bool,
    pub partitioned: bool,
    /// Rows, from the catalog's estimate (`--database`).
    pub rows: Option<i64>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub tables: HashMap<String, Table>,
    /// Indexes by key (`name`, or `schema.name` outside `public`, in their
    /// table's schema), with default names resolved (see `relations.rs`).
    pub indexes: ByTable<IndexInfo>,
    /// Constraints by table key, then name.
    pub constraints: HashMap<String, HashMap<String, ConstraintInfo>>,
    /// How many tables of a schema have a constraint of a name, by
    /// `key(schema, name)`: PostgreSQL's default names avoid those.
    pub constraint_names: HashMap<String, usize>,
    /// Sequences and views by key, with the table owning a sequence.
    pub other_relations: ByTable<Option<String>>,
    /// `CHECK (col IS NOT NULL)` constraints (see `NotNullCheck`).
    pub not_null_checks: Vec<NotNullCheck>,
    /// Keys of tables marked new since the last `settle`: settling touches
    /// only these, not every table of a long history.
    fresh: Vec<String>,
}

/// The model's key for a table: `name`, or `schema.name` outside `public`.
pub fn key(schema: &str, name: &str) -> String {
    if schema.is_empty() || schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

pub fn range_key(r: &RangeVar) -> String {
    key(&r.schemaname, &r.relname)
}

fn names_of(nodes: &[pg_query::protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The canonical name of a type spelled `raw` (lower case): `integer` -> `int4`.
pub fn canonical_type(raw: &str) -> String {
    match raw {
        "int" | "integer" | "int4" | "serial" | "serial4" => "int4",
        "bigint" | "int8" | "bigserial" | "serial8" => "int8",
        "smallint" | "int2" | "smallserial" | "serial2" => "int2",
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "timestamp without time zone" | "timestamp" => "timestamp",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "time with time zone" | "timetz" => "timetz",
        "time without time zone" | "time" => "time",
        "double precision" | "float8" => "float8",
        "real" | "float4" => "float4",
        "decimal" | "numeric" => "numeric",
        "boolean" | "bool" => "bool",
        other => other,
    }
    .to_string()
}

/// A type as the catalog prints it (`format_type`): `character varying(20)`,
/// `numeric(10,2)`, `timestamp without time zone`, `integer[]`.
pub fn col_type_from_text(text: &str) -> ColType {
    let t = text.trim().to_lowercase();
    let (t, array) = match t.strip_suffix("[]") {
        Some(rest) => (rest.to_string(), true),
        None => (t, false),
    };
    // "timestamp(3) without time zone": the modifier sits inside the name.
    let (name, mods) = match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if close > open => {
            let mods = t[open + 1..close].split(',').filter_map(|m| m.trim().parse::<i64>().ok()).collect();
            (format!("{}{}", &t[..open], &t[close + 1..]).split_whitespace().collect::<Vec<_>>().join(" "), mods)
        }
        _ => (t.clone(), vec![]),
    };
    let name = name.rsplit('.').next().unwrap_or(&name).trim_matches('"').to_string();
    ColType { base: canonical_type(&name), mods, array }
}

/// Canonical form of a type name as written (`integer` -> `int4`, `character varying(20)` -> `varchar(20)`).
pub fn col_type(t: &TypeName) -> ColType {
    let names = names_of(&t.names);
    let raw = names.iter().rev().find(|n| n.as_str() != "pg_catalog").cloned().unwrap_or_default().to_lowercase();
    let base = canonical_type(&raw);
    let mods = t
        .typmods
        .iter()
        .filter_map(|m| match &m.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival as i64),
                _ => None,
            },
            _ => None,
        })
        .collect();
    ColType { base, mods, array: !t.array_bounds.is_empty() }
}

/// Whether a type name is `serial`-like (it creates a sequence and a default).
pub fn is_serial(t: &TypeName) -> bool {
    names_of(&t.names)
        .last()
        .is_some_and(|n| matches!(n.as_str(), "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"))
}

fn column_from_def(def: &pg_query::protobuf::ColumnDef) -> Column {
    let not_null = def.is_not_null
        || def.constraints.iter().any(|c| {
            matches!(&c.node, Some(NodeEnum::Constraint(k)) if k.contype == pg_query::protobuf::ConstrType::ConstrNotnull as i32
                || k.contype == pg_query::protobuf::ConstrType::ConstrPrimary as i32)
        });
    Column { name: def.colname.clone(), ty: def.type_name.as_ref().map(col_type), not_null }
}

impl Schema {
    /// The model after `sql` (statements that all exist already: applied).
    pub fn replay(sql: &str) -> Result<Schema, String> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
        let mut schema = Schema::default();
        for node in parsed.protobuf.stmts.iter().filter_map(|raw| raw.stmt.as_ref().and_then(|s| s.node.as_ref())) {
            schema.apply(node, false);
        }
        Ok(schema)
    }

    pub fn table(&self, r: &RangeVar) -> Option<&Table> {
        self.tables.get(&range_key(r))
    }

    /// (table key, column) of every column whose type is `type_name` (a domain or enum), in name order.
    pub fn columns_of_type(&self, type_name: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .tables
            .iter()
            .flat_map(|(k, t)| {
                t.columns.iter().filter(|c| c.ty.as_ref().is_some_and(|ty| ty.base == type_name)).map(move |c| (k.clone(), c.name.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// Whether the table is new (safe to lock: nothing uses it yet).
    pub fn is_new(&self, r: &RangeVar) -> bool {
        self.table(r).is_some_and(|t| t.new)
    }

    /// The table of an index, by its name as a statement writes it
    /// (`[schema, name]` or `[name]`): `Err(key)` when the model does not
    /// know the index (created outside the migrations linted).
    pub fn index_table_key(&self, parts: &[String]) -> Result<String, String> {
        let k = match parts {
            [.., schema, name] => key(schema, name),
            [name] => key("", name),
            [] => String::new(),
        };
        self.indexes.get(&k).map(|i| i.table.clone()).ok_or(k)
    }

    /// The table an index belongs to, when the model knows it.
    pub fn index_table(&self, parts: &[String]) -> Option<&Table> {
        self.index_table_key(parts).ok().and_then(|k| self.tables.get(&k))
    }

    /// After a migration that has been applied (or is treated so), its new
    /// tables are existing tables for the migrations after it.
    pub fn settle(&mut self) {
        for k in self.fresh.drain(..) {
            if let Some(t) = self.tables.get_mut(&k) {
                t.new = false;
            }
        }
    }

    /// Insert a table, remembering it for `settle` when it is new.
    fn insert(&mut self, key: String, table: Table) {
        if table.new {
            self.fresh.push(key.clone());
        }
        self.tables.insert(key, table);
    }

    /// Apply one statement's effect on the model. `new` marks created tables.
    pub fn apply(&mut self, node: &NodeEnum, new: bool) {
        self.track_not_null_checks(node);
        self.track_relations(node);
        match node {
            NodeEnum::CreateStmt(c) => {
                let Some(r) = &c.relation else { return };
                let columns = c
                    .table_elts
                    .iter()
                    .filter_map(|e| match &e.node {
                        Some(NodeEnum::ColumnDef(d)) => Some(column_from_def(d)),
                        _ => None,
                    })
                    .collect();
                let k = range_key(r);
                if c.if_not_exists && self.tables.contains_key(&k) {
                    return;
                }
                self.insert(k, Table { name: r.relname.clone(), columns, new, partitioned: c.partspec.is_some(), rows: None });
            }
            NodeEnum::CreateTableAsStmt(c) => {
                if let Some(r) = c.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.insert(range_key(r), Table { name: r.relname.clone(), new, ..Default::default() });
                }
            }
            NodeEnum::AlterTableStmt(a) => {
                let Some(r) = &a.relation else { return };
                let Some(t) = self.tables.get_mut(&range_key(r)) else { return };
                for cmd in &a.cmds {
                    let Some(NodeEnum::AlterTableCmd(cmd)) = &cmd.node else { continue };
                    let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
                    match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
                        AlterTableType::AtAddColumn => {
                            if let Some(NodeEnum::ColumnDef(d)) = def {
                                t.columns.retain(|c| c.name != d.colname);
                                t.columns.push(column_from_def(d));
                            }
                        }
                        AlterTableType::AtDropColumn => t.columns.retain(|c| c.name != cmd.name),
                        AlterTableType::AtAlterColumnType => {
                            if let (Some(NodeEnum::ColumnDef(d)), Some(c)) = (def, t.columns.iter_mut().find(|c| c.name == cmd.name)) {
                                c.ty = d.type_name.as_ref().map(col_type);
                            }
                        }
                        AlterTableType::AtSetNotNull => {
                            if let Some(c) = t.columns.iter_mut().find(|c| c.name == cmd.name) {
                                c.not_null = true;
                            }
                        }
                        AlterTableType::AtDropNotNull => {
                            if let Some(c) = t.columns.iter_mut().find(|c| c.name == cmd.name) {
                                c.not_null = false;
                            }
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::RenameStmt(rn) => {
                let Some(r) = &rn.relation else { return };
                let k = range_key(r);
                match ObjectType::try_from(rn.rename_type).unwrap_or(ObjectType::Undefined) {
                    ObjectType::ObjectTable => {
                        if let Some(mut t) = self.tables.remove(&k) {
                            t.name = rn.newname.clone();
                            self.insert(key(&r.schemaname, &rn.newname), t);
                        }
                    }
                    ObjectType::ObjectColumn => {
                        if let Some(c) = self.tables.get_mut(&k).and_then(|t| t.columns.iter_mut().find(|c| c.name == rn.subname)) {
                            c.name = rn.newname.clone();
                        }
                    }
                    _ => {}
                }
            }
            NodeEnum::DropStmt(d) => {
                let kind = ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined);
                for o in &d.objects {
                    let Some(NodeEnum::List(l)) = &o.node else { continue };
                    let parts = names_of(&l.items);
                    let k = match parts.as_slice() {
                        [name] => key("", name),
                        [schema, name] => key(schema, name),
                        _ => continue,
                    };
                    if kind == ObjectType::ObjectTable {
                        self.tables.remove(&k);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A `CHECK (col IS NOT NULL)` constraint. Once it is valid, PostgreSQL 12+
/// proves `ALTER COLUMN ... SET NOT NULL` from it instead of scanning the
/// table, which is how a NOT NULL is added to a large table safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotNullCheck {
    /// The model's key of the table.
    pub table: String,
    pub name: String,
    pub column: String,
    /// Validated (added without NOT VALID, or by VALIDATE CONSTRAINT).
    pub valid: bool,
}

/// The column `expr` proves not null: `col IS NOT NULL`.
fn not_null_column(expr: Option<&pg_query::protobuf::Node>) -> Option<String> {
    let Some(NodeEnum::NullTest(t)) = expr.and_then(|e| e.node.as_ref()) else { return None };
    if t.nulltesttype != pg_query::protobuf::NullTestType::IsNotNull as i32 {
        return None;
    }
    let Some(NodeEnum::ColumnRef(c)) = t.arg.as_ref().and_then(|a| a.node.as_ref()) else { return None };
    match names_of(&c.fields).as_slice() {
        [col] => Some(col.clone()),
        _ => None,
    }
}

impl Schema {
    /// The `CHECK (column IS NOT NULL)` constraint on a table, valid ones first.
    pub fn not_null_check(&self, table: &str, column: &str) -> Option<&NotNullCheck> {
        let mut found = self.not_null_checks.iter().filter(|c| c.table == table && c.column == column);
        let first = found.next()?;
        Some(if first.valid { first } else { found.find(|c| c.valid).unwrap_or(first) })
    }

    /// `in_create`: CREATE TABLE validates its checks (on no rows), NOT VALID or not.
    fn add_not_null_check(&mut self, table: &str, c: &pg_query::protobuf::Constraint, column_of_def: Option<&str>, in_create: bool) {
        if c.contype != pg_query::protobuf::ConstrType::ConstrCheck as i32 {
            return;
        }
        let Some(column) = not_null_column(c.raw_expr.as_deref()) else { return };
        if column_of_def.is_some_and(|d| d != column) {
            return;
        }
        let relname = table.rsplit('.').next().unwrap_or(table);
        // PostgreSQL's name for an unnamed one-column check.
        let name = if c.conname.is_empty() { format!("{relname}_{column}_check") } else { c.conname.clone() };
        self.not_null_checks.retain(|k| !(k.table == table && k.name == name));
        self.not_null_checks.push(NotNullCheck { table: table.to_string(), name, column, valid: in_create || !c.skip_validation });
    }

    /// Keep `not_null_checks` in step with a statement.
    fn track_not_null_checks(&mut self, node: &NodeEnum) {
        match node {
            NodeEnum::CreateStmt(c) => {
                let Some(r) = &c.relation else { return };
                let k = range_key(r);
                if c.if_not_exists && self.tables.contains_key(&k) {
                    return;
                }
                self.not_null_checks.retain(|n| n.table != k);
                for e in &c.table_elts {
                    match &e.node {
                        Some(NodeEnum::Constraint(ch)) => self.add_not_null_check(&k, ch, None, true),
                        Some(NodeEnum::ColumnDef(d)) => {
                            for ch in d.constraints.iter().filter_map(constraint) {
                                self.add_not_null_check(&k, ch, Some(&d.colname), true);
                            }
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::AlterTableStmt(a) => {
                let Some(r) = &a.relation else { return };
                let k = range_key(r);
                for cmd in &a.cmds {
                    let Some(NodeEnum::AlterTableCmd(cmd)) = &cmd.node else { continue };
                    let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
                    match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
                        AlterTableType::AtAddConstraint => {
                            if let Some(NodeEnum::Constraint(ch)) = def {
                                self.add_not_null_check(&k, ch, None, false);
                            }
                        }
                        AlterTableType::AtAddColumn => {
                            if let Some(NodeEnum::ColumnDef(d)) = def {
                                for ch in d.constraints.iter().filter_map(constraint) {
                                    self.add_not_null_check(&k, ch, Some(&d.colname), false);
                                }
                            }
                        }
                        AlterTableType::AtValidateConstraint => {
                            for n in self.not_null_checks.iter_mut().filter(|n| n.table == k && n.name == cmd.name) {
                                n.valid = true;
                            }
                        }
                        AlterTableType::AtDropConstraint => self.not_null_checks.retain(|n| !(n.table == k && n.name == cmd.name)),
                        AlterTableType::AtDropColumn => self.not_null_checks.retain(|n| !(n.table == k && n.column == cmd.name)),
                        _ => {}
                    }
                }
            }
            NodeEnum::RenameStmt(rn) => {
                let Some(r) = &rn.relation else { return };
                let k = range_key(r);
                match ObjectType::try_from(rn.rename_type).unwrap_or(ObjectType::Undefined) {
                    ObjectType::ObjectTable => {
                        let to = key(&r.schemaname, &rn.newname);
                        for n in self.not_null_checks.iter_mut().filter(|n| n.table == k) {
                            n.table = to.clone();
                        }
                    }
                    ObjectType::ObjectColumn => {
                        for n in self.not_null_checks.iter_mut().filter(|n| n.table == k && n.column == rn.subname) {
                            n.column = rn.newname.clone();
                        }
                    }
                    ObjectType::ObjectTabconstraint => {
                        for n in self.not_null_checks.iter_mut().filter(|n| n.table == k && n.name == rn.subname) {
                            n.name = rn.newname.clone();
                        }
                    }
                    _ => {}
                }
            }
            NodeEnum::DropStmt(d) if d.remove_type == ObjectType::ObjectTable as i32 => {
                for o in &d.objects {
                    let Some(NodeEnum::List(l)) = &o.node else { continue };
                    let k = match names_of(&l.items).as_slice() {
                        [name] => key("", name),
                        [schema, name] => key(schema, name),
                        _ => continue,
                    };
                    self.not_null_checks.retain(|n| n.table != k);
                }
            }
            _ => {}
        }
    }
}
