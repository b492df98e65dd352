//! The columns a statement creates (CREATE TABLE, ALTER TABLE ... ADD
//! COLUMN), with what their definitions say about keys. Several rules ask;
//! [`Cx::new_columns`](super::context::Cx::new_columns) works it out once per
//! statement.

use super::context::Cx;
use super::rules::helpers::{alter_cmds, constr_type, constraint, strings};
use super::schema::{col_type, ColType};
use pg_query::protobuf::{AlterTableType, ColumnDef, ConstrType, RangeVar};
use pg_query::NodeEnum;

/// A column that a statement creates.
pub struct NewColumn<'a> {
    pub table: &'a RangeVar,
    /// The column's name (`def.colname`, or the column ALTER COLUMN TYPE names).
    pub name: &'a str,
    pub def: &'a ColumnDef,
    pub ty: ColType,
    /// In CREATE TABLE (not ADD COLUMN).
    pub in_create: bool,
    /// Not created: ALTER COLUMN ... TYPE gives it this type.
    pub retyped: bool,
    /// Part of the primary key, inline or in a table-level PRIMARY KEY.
    pub primary_key: bool,
    /// Part of a foreign key, inline (REFERENCES) or table-level.
    pub foreign_key: bool,
    /// What the foreign key points at, when it is one.
    pub references: Option<Reference<'a>>,
}

/// The target of a foreign-key column.
pub struct Reference<'a> {
    pub table: &'a RangeVar,
    /// The referenced column; `None` when the key names only the table (its
    /// primary key).
    pub column: Option<String>,
}

/// What `column` of a table references, by the constraints `list` holds
/// (column-level ones have no `fk_attrs`: they are the column's own).
fn reference_in<'a>(list: impl Iterator<Item = &'a pg_query::protobuf::Node>, column: &str, own: bool) -> Option<Reference<'a>> {
    list.filter_map(constraint).filter(|k| constr_type(k) == ConstrType::ConstrForeign).find_map(|k| {
        let table = k.pktable.as_ref()?;
        let referenced = strings(&k.pk_attrs);
        if own {
            return Some(Reference { table, column: referenced.into_iter().next() });
        }
        let at = strings(&k.fk_attrs).iter().position(|a| a == column)?;
        Some(Reference { table, column: referenced.get(at).cloned() })
    })
}

impl NewColumn<'_> {
    pub fn not_null(&self) -> bool {
        self.def.is_not_null || self.primary_key || inline(self.def, ConstrType::ConstrNotnull)
    }

    pub fn has_default(&self) -> bool {
        self.def.raw_default.is_some() || inline(self.def, ConstrType::ConstrDefault)
    }

    /// `orders.status` for messages.
    pub fn label(&self) -> String {
        format!("{}.{}", Cx::name(self.table), self.name)
    }
}

/// Whether the column definition carries a constraint of `kind`.
fn inline(def: &ColumnDef, kind: ConstrType) -> bool {
    def.constraints.iter().filter_map(constraint).any(|k| constr_type(k) == kind)
}

/// The columns that CREATE TABLE or ALTER TABLE ... ADD COLUMN creates.
pub fn new_columns(node: &NodeEnum) -> Vec<NewColumn<'_>> {
    let mut out = Vec::new();
    match node {
        NodeEnum::CreateStmt(c) => {
            let Some(table) = &c.relation else { return out };
            // Columns named in a table-level PRIMARY KEY (...) or FOREIGN KEY (...).
            let table_level = |kind: ConstrType| -> Vec<String> {
                c.table_elts
                    .iter()
                    .chain(&c.constraints)
                    .filter_map(constraint)
                    .filter(|k| constr_type(k) == kind)
                    .flat_map(|k| strings(if kind == ConstrType::ConstrForeign { &k.fk_attrs } else { &k.keys }))
                    .collect()
            };
            let (pk, fk) = (table_level(ConstrType::ConstrPrimary), table_level(ConstrType::ConstrForeign));
            for e in &c.table_elts {
                let Some(NodeEnum::ColumnDef(def)) = &e.node else { continue };
                let Some(t) = &def.type_name else { continue };
                out.push(NewColumn {
                    table,
                    name: &def.colname,
                    def,
                    ty: col_type(t),
                    in_create: true,
                    retyped: false,
                    primary_key: inline(def, ConstrType::ConstrPrimary) || pk.contains(&def.colname),
                    foreign_key: inline(def, ConstrType::ConstrForeign) || fk.contains(&def.colname),
                    references: reference_in(def.constraints.iter(), &def.colname, true)
                        .or_else(|| reference_in(c.table_elts.iter().chain(&c.constraints), &def.colname, false)),
                });
            }
        }
        NodeEnum::AlterTableStmt(a) => {
            let Some(table) = &a.relation else { return out };
            for (kind, cmd) in alter_cmds(a) {
                if kind != AlterTableType::AtAddColumn {
                    continue;
                }
                let Some(NodeEnum::ColumnDef(def)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
                let Some(t) = &def.type_name else { continue };
                out.push(NewColumn {
                    table,
                    name: &def.colname,
                    def,
                    ty: col_type(t),
                    in_create: false,
                    retyped: false,
                    primary_key: inline(def, ConstrType::ConstrPrimary),
                    foreign_key: inline(def, ConstrType::ConstrForeign),
                    references: reference_in(def.constraints.iter(), &def.colname, true),
                });
            }
        }
        _ => {}
    }
    out
}

/// The columns ALTER TABLE ... ALTER COLUMN ... TYPE gives a new type: the
/// type advice judges the type they get as it judges a new column's.
pub fn retyped_columns(node: &NodeEnum) -> Vec<NewColumn<'_>> {
    let mut out = Vec::new();
    let NodeEnum::AlterTableStmt(a) = node else { return out };
    let Some(table) = &a.relation else { return out };
    for (kind, cmd) in alter_cmds(a) {
        if kind != AlterTableType::AtAlterColumnType {
            continue;
        }
        let Some(NodeEnum::ColumnDef(def)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
        let Some(t) = &def.type_name else { continue };
        out.push(NewColumn {
            table,
            name: &cmd.name,
            def,
            ty: col_type(t),
            in_create: false,
            retyped: true,
            primary_key: false,
            foreign_key: false,
            references: None,
        });
    }
    out
}
