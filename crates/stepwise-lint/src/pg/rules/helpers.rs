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

/// Byte offset in `sql` of the `nth` (from 0) occurrence of `words` as
/// consecutive keywords (case-insensitive; comments and strings are skipped),
/// or 0 (the statement's start) when there is none. Parse-tree locations
/// cannot serve here: they count from the start of the parsed text, which
/// is the whole section, not the statement.
pub fn word_offset(sql: &str, words: &[&str], nth: usize) -> usize {
    use stepwise_sql::lexer::{tokenize, TokenKind};
    let Ok(tokens) = tokenize(sql, stepwise_sql::Dialect::Postgres) else { return 0 };
    let toks: Vec<_> = tokens.iter().filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment)).collect();
    let mut seen = 0;
    for i in 0..toks.len() {
        let hit = words
            .iter()
            .enumerate()
            .all(|(k, w)| toks.get(i + k).is_some_and(|t| t.kind == TokenKind::Word && sql[t.span.clone()].eq_ignore_ascii_case(w)));
        if hit && !words.is_empty() {
            if seen == nth {
                return toks[i].span.start;
            }
            seen += 1;
        }
    }
    0
}

/// SQL text for a statement node built for a recipe (pg_query's deparser).
pub fn deparse(node: NodeEnum) -> Option<String> {
    node.deparse(pg_query::DeparseOptions::default()).ok()
}

/// Whether a generic option list (`REINDEX (CONCURRENTLY) ...`, or the
/// `CONCURRENTLY` keyword, which the parser stores the same way) turns `name` on.
pub fn option_on(params: &[Node], name: &str) -> bool {
    params.iter().any(|p| match &p.node {
        Some(NodeEnum::DefElem(d)) if d.defname == name => match d.arg.as_ref().and_then(|a| a.node.as_ref()) {
            None => true,
            Some(NodeEnum::String(s)) => !matches!(s.sval.to_ascii_lowercase().as_str(), "false" | "off" | "no" | "0"),
            Some(NodeEnum::Integer(i)) => i.ival != 0,
            Some(NodeEnum::Boolean(b)) => b.boolval,
            Some(_) => true,
        },
        _ => false,
    })
}

/// The name PostgreSQL gives an object it names itself (`makeObjectName`):
/// `orders_customer_id_fkey`, with the parts shortened to fit in 63 bytes.
pub fn object_name(name1: &str, name2: &str, label: &str) -> String {
    crate::pg::names::make_object_name(name1, (!name2.is_empty()).then_some(name2), label)
}
