//! What the constraint rules share: the names PostgreSQL gives constraints
//! it names itself, and the statements of the recipes, printed by
//! PostgreSQL's own deparser so names and expressions are quoted right.

use crate::pg::rules::helpers::{constr_type, constraint, deparse, object_name, strings};
use pg_query::protobuf::{AlterTableCmd, AlterTableStmt, AlterTableType, ColumnDef, ConstrType, Constraint, DropBehavior, Node, RangeVar};
use pg_query::{NodeEnum, NodeRef};

/// A marker relation name, replaced by `<partition>` in recipes that must
/// be repeated per partition (the schema model does not list partitions).
const PARTITION_MARKER: &str = "stepwise_partition_marker";

pub(super) fn node(n: NodeEnum) -> Node {
    Node { node: Some(n) }
}

/// The constraints of a column definition, of one kind.
pub(super) fn column_constraints(d: &ColumnDef, kind: ConstrType) -> impl Iterator<Item = &Constraint> {
    d.constraints.iter().filter_map(constraint).filter(move |c| constr_type(c) == kind)
}

/// Whether an added column gets a value in every existing row (`DEFAULT`,
/// or a stored generated expression), which makes PostgreSQL check its
/// foreign key against the whole table.
pub(super) fn column_has_default(d: &ColumnDef) -> bool {
    d.raw_default.is_some()
        || d.constraints
            .iter()
            .filter_map(constraint)
            .any(|c| matches!(constr_type(c), ConstrType::ConstrDefault | ConstrType::ConstrGenerated))
}

/// The column names a constraint lists (foreign key columns, or the keys of
/// UNIQUE / PRIMARY KEY / EXCLUDE); for a column constraint, that column.
pub(super) fn constraint_columns(c: &Constraint, column: Option<&str>) -> Vec<String> {
    if let Some(col) = column {
        return vec![col.to_string()];
    }
    match constr_type(c) {
        ConstrType::ConstrForeign => strings(&c.fk_attrs),
        ConstrType::ConstrExclusion => c
            .exclusions
            .iter()
            .filter_map(|e| match &e.node {
                Some(NodeEnum::List(l)) => l.items.first().and_then(|i| match &i.node {
                    Some(NodeEnum::IndexElem(ie)) if !ie.name.is_empty() => Some(ie.name.clone()),
                    _ => None,
                }),
                _ => None,
            })
            .collect(),
        ConstrType::ConstrCheck => check_columns(c),
        _ => strings(&c.keys),
    }
}

/// The distinct columns a CHECK expression reads, in order.
fn check_columns(c: &Constraint) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    let Some(expr) = c.raw_expr.as_ref().and_then(|e| e.node.as_ref()) else { return cols };
    for (n, ..) in expr.nodes() {
        if let NodeRef::ColumnRef(r) = n {
            if let Some(name) = strings(&r.fields).pop() {
                if !cols.contains(&name) {
                    cols.push(name);
                }
            }
        }
    }
    cols
}

/// The constraint's name: as written, or the one PostgreSQL would choose.
/// `column` is set for a constraint written on a column definition.
pub(super) fn constraint_name(table: &str, c: &Constraint, column: Option<&str>) -> String {
    if !c.conname.is_empty() {
        return c.conname.clone();
    }
    let cols = constraint_columns(c, column);
    match constr_type(c) {
        ConstrType::ConstrForeign => object_name(table, &cols.join("_"), "fkey"),
        // PostgreSQL names a CHECK after its column only when it reads exactly one.
        ConstrType::ConstrCheck if cols.len() == 1 => object_name(table, &cols[0], "check"),
        ConstrType::ConstrCheck => object_name(table, "", "check"),
        ConstrType::ConstrPrimary => object_name(table, "", "pkey"),
        ConstrType::ConstrUnique => object_name(table, &cols.join("_"), "key"),
        ConstrType::ConstrExclusion => object_name(table, &cols.join("_"), "excl"),
        _ => object_name(table, &cols.join("_"), "con"),
    }
}

/// A table-level copy of `c`, named `name`: column constraints get their
/// column, `NOT VALID` is set when `not_valid`.
pub(super) fn table_constraint(c: &Constraint, name: &str, column: Option<&str>, not_valid: bool) -> Constraint {
    let mut c = c.clone();
    c.conname = name.to_string();
    if let Some(col) = column {
        let col = node(NodeEnum::String(pg_query::protobuf::String { sval: col.to_string() }));
        match constr_type(&c) {
            ConstrType::ConstrForeign if c.fk_attrs.is_empty() => c.fk_attrs = vec![col],
            ConstrType::ConstrUnique | ConstrType::ConstrPrimary if c.keys.is_empty() => c.keys = vec![col],
            _ => {}
        }
    }
    if not_valid {
        c.skip_validation = true;
        c.initially_valid = false;
    }
    c
}

pub(super) fn cmd(subtype: AlterTableType, name: &str, def: Option<NodeEnum>) -> AlterTableCmd {
    AlterTableCmd {
        subtype: subtype as i32,
        name: name.to_string(),
        def: def.map(|d| Box::new(node(d))),
        behavior: DropBehavior::DropRestrict as i32,
        ..Default::default()
    }
}

pub(super) fn add_constraint_cmd(c: Constraint) -> AlterTableCmd {
    cmd(AlterTableType::AtAddConstraint, "", Some(NodeEnum::Constraint(Box::new(c))))
}

/// `ALTER TABLE <a's table> <cmds>`, as SQL.
pub(super) fn alter(a: &AlterTableStmt, cmds: Vec<AlterTableCmd>) -> String {
    let mut a = a.clone();
    a.cmds = cmds.into_iter().map(|c| node(NodeEnum::AlterTableCmd(Box::new(c)))).collect();
    deparse(NodeEnum::AlterTableStmt(a)).unwrap_or_else(|| "ALTER TABLE ...".to_string())
}

/// `ALTER TABLE t VALIDATE CONSTRAINT name`, as SQL.
pub(super) fn validate(a: &AlterTableStmt, name: &str) -> String {
    alter(a, vec![cmd(AlterTableType::AtValidateConstraint, name, None)])
}

/// `a` on a stand-in partition: the SQL, with the partition spelled `<partition>`.
pub(super) fn on_partition(a: &AlterTableStmt, cmds: Vec<AlterTableCmd>) -> String {
    let mut a = a.clone();
    a.relation = Some(partition_rel(a.relation.as_ref()));
    partition_sql(&alter(&a, cmds))
}

/// SQL built on `partition_rel`, with the partition spelled `<partition>`.
pub(super) fn partition_sql(sql: &str) -> String {
    sql.replace(PARTITION_MARKER, "<partition>")
}

pub(super) fn partition_rel(r: Option<&RangeVar>) -> RangeVar {
    let mut r = r.cloned().unwrap_or_default();
    r.relname = PARTITION_MARKER.to_string();
    r.schemaname.clear();
    r.inh = true;
    r
}

/// A constraint name for a partition's copy of a constraint.
pub(super) fn partition_name(table: &str, name: &str) -> String {
    match name.strip_prefix(table) {
        Some(rest) if rest.starts_with('_') => format!("{PARTITION_MARKER}{rest}"),
        _ => format!("{PARTITION_MARKER}_{name}"),
    }
}

/// The name of the table a foreign key references, for messages.
pub(super) fn referenced(c: &Constraint) -> String {
    c.pktable.as_ref().map(crate::pg::context::Cx::name).unwrap_or_else(|| "the referenced table".to_string())
}
