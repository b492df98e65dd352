//! Small readers of parse trees shared by the rules.

use pg_query::protobuf::{AlterTableCmd, AlterTableStmt, AlterTableType, ConstrType, Constraint, Node, ObjectType};
use pg_query::NodeEnum;

/// The ALTER TABLE commands of a statement, with their kind.
pub fn alter_cmds(a: &AlterTableStmt) -> impl Iterator<Item = (AlterTableType, &AlterTableCmd)> {
    a.cmds.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::AlterTableCmd(c)) => Some((AlterTableType::try_from(c.subtype).unwrap_or(AlterTableType::Undefined), c.as_ref())),
        _ => None,
    })
}

/// The table ALTER TABLE works on, if the statement is one (not ALTER INDEX/VIEW/...).
pub fn alter_table(node: &NodeEnum) -> Option<&AlterTableStmt> {
    match node {
        NodeEnum::AlterTableStmt(a) if ObjectType::try_from(a.objtype).ok() == Some(ObjectType::ObjectTable) => Some(a),
        _ => None,
    }
}

/// The constraint a node holds, if any.
pub fn constraint(n: &Node) -> Option<&Constraint> {
    match &n.node {
        Some(NodeEnum::Constraint(c)) => Some(c),
        _ => None,
    }
}

pub fn constr_type(c: &Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

/// The plain string values of a list of nodes (names).
pub fn strings(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// Quote an identifier for a recipe only when it needs it.
pub fn ident(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}
