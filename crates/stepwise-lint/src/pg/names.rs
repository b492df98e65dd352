//! The names PostgreSQL gives objects created without one, so that a later
//! `DROP INDEX workspace_proxies_name_idx` finds the index an earlier
//! `CREATE UNIQUE INDEX ON workspace_proxies (name)` made.
//!
//! This follows PostgreSQL's own choice (`ChooseRelationName`,
//! `ChooseIndexName`, `ChooseIndexColumnNames`, `FigureIndexColname`,
//! `ChooseConstraintName` and `makeObjectName` in its sources):
//! `<table>_<columns>_<label>` where the label is `pkey`, `key` (unique
//! constraint), `excl`, `idx` (any index that is not a constraint, unique
//! or not), `check`, `fkey` or `seq`; columns joined by `_`, an expression
//! named by its function (`lower`), its cast type or `expr`; the whole cut
//! to 63 bytes by shortening the longer of table and columns first; and on a
//! clash a number appended to the label (`_idx1`, `_idx2`, ...).

use pg_query::protobuf::{AExprKind, MinMaxOp, Node, SqlValueFunctionOp};
use pg_query::NodeEnum;

/// PostgreSQL's NAMEDATALEN: names are at most 63 bytes.
const NAMEDATALEN: usize = 64;

/// The longest prefix of `s` of at most `max` bytes that ends on a character.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `makeObjectName`: `name1[_name2][_label]` in 63 bytes, the longer of the
/// two names shortened first.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = if label.is_empty() { 0 } else { label.len() + 1 } + usize::from(name2.is_some());
    let avail = (NAMEDATALEN - 1).saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.map_or(0, str::len));
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, n2));
    }
    if !label.is_empty() {
        out.push('_');
        out.push_str(label);
    }
    out
}

/// `ChooseRelationName` / `ChooseConstraintName`: the first of
/// `label`, `label1`, `label2`, ... whose name is not `taken`.
pub fn choose_name(name1: &str, name2: Option<&str>, label: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = make_object_name(name1, name2, label);
    let mut pass = 0;
    while taken(&name) && pass < 10_000 {
        pass += 1;
        name = make_object_name(name1, name2, &format!("{label}{pass}"));
    }
    name
}

/// `ChooseIndexNameAddition` (and the foreign key's): the column names
/// joined by `_`, stopping once the result reaches NAMEDATALEN bytes.
pub fn name_addition(columns: &[String]) -> String {
    let mut out = String::new();
    for c in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(clip(c, NAMEDATALEN - 1));
        if out.len() >= NAMEDATALEN {
            break;
        }
    }
    clip(&out, NAMEDATALEN - 1).to_string()
}

/// `ChooseIndexColumnNames`: each column's name (an expression's from
/// [`figure_colname`], else `expr`), a repeated one made unique with a number.
pub fn index_column_names(elems: &[Node]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in elems {
        let orig = match &e.node {
            Some(NodeEnum::IndexElem(ie)) if !ie.indexcolname.is_empty() => ie.indexcolname.clone(),
            Some(NodeEnum::IndexElem(ie)) if !ie.name.is_empty() => ie.name.clone(),
            Some(NodeEnum::IndexElem(ie)) => ie.expr.as_deref().and_then(figure_colname).unwrap_or_else(|| "expr".into()),
            Some(NodeEnum::String(s)) => s.sval.clone(),
            _ => "expr".into(),
        };
        let mut name = orig.clone();
        let mut i = 1;
        while out.contains(&name) {
            let n = i.to_string();
            name = format!("{}{n}", clip(&orig, NAMEDATALEN - 1 - n.len()));
            i += 1;
        }
        out.push(name);
    }
    out
}

/// `FigureIndexColname`: the name PostgreSQL reads off an index expression,
/// or none (then the column is called `expr`).
pub fn figure_colname(expr: &Node) -> Option<String> {
    figure(expr).map(|(name, _)| name)
}

/// The last plain name of a list (`schema.func` -> `func`).
fn last_name(nodes: &[Node]) -> Option<String> {
    crate::pg::rules::helpers::strings(nodes).pop()
}

/// The name and its strength (2: a real name; 1: only a cast's type name).
fn figure(expr: &Node) -> Option<(String, u8)> {
    let strong = |s: &str| Some((s.to_string(), 2));
    match expr.node.as_ref()? {
        NodeEnum::ColumnRef(c) => last_name(&c.fields).map(|n| (n, 2)),
        NodeEnum::AIndirection(ind) => match last_name(&ind.indirection) {
            Some(n) => Some((n, 2)),
            None => ind.arg.as_deref().and_then(figure),
        },
        NodeEnum::FuncCall(f) => last_name(&f.funcname).map(|n| (n, 2)),
        NodeEnum::AExpr(a) if a.kind == AExprKind::AexprNullif as i32 => strong("nullif"),
        NodeEnum::TypeCast(t) => match t.arg.as_deref().and_then(figure) {
            Some((n, 2)) => Some((n, 2)),
            other => t.type_name.as_ref().and_then(|tn| last_name(&tn.names)).map(|n| (n, 1)).or(other),
        },
        NodeEnum::CollateClause(c) => c.arg.as_deref().and_then(figure),
        NodeEnum::CaseExpr(_) => strong("case"),
        NodeEnum::AArrayExpr(_) => strong("array"),
        NodeEnum::RowExpr(_) => strong("row"),
        NodeEnum::CoalesceExpr(_) => strong("coalesce"),
        NodeEnum::GroupingFunc(_) => strong("grouping"),
        NodeEnum::MinMaxExpr(m) => strong(if m.op == MinMaxOp::IsGreatest as i32 { "greatest" } else { "least" }),
        NodeEnum::SqlvalueFunction(f) => {
            let name = match SqlValueFunctionOp::try_from(f.op).ok()? {
                SqlValueFunctionOp::SvfopCurrentDate => "current_date",
                SqlValueFunctionOp::SvfopCurrentTime | SqlValueFunctionOp::SvfopCurrentTimeN => "current_time",
                SqlValueFunctionOp::SvfopCurrentTimestamp | SqlValueFunctionOp::SvfopCurrentTimestampN => "current_timestamp",
                SqlValueFunctionOp::SvfopLocaltime | SqlValueFunctionOp::SvfopLocaltimeN => "localtime",
                SqlValueFunctionOp::SvfopLocaltimestamp | SqlValueFunctionOp::SvfopLocaltimestampN => "localtimestamp",
                SqlValueFunctionOp::SvfopCurrentRole => "current_role",
                SqlValueFunctionOp::SvfopCurrentUser => "current_user",
                SqlValueFunctionOp::SvfopUser => "user",
                SqlValueFunctionOp::SvfopSessionUser => "session_user",
                SqlValueFunctionOp::SvfopCurrentCatalog => "current_catalog",
                SqlValueFunctionOp::SvfopCurrentSchema => "current_schema",
                _ => return None,
            };
            strong(name)
        }
        _ => None,
    }
}

/// The columns an expression reads, each once, in order (for a CHECK
/// constraint's name: one column names it, more or none do not).
pub fn columns_read(expr: &NodeEnum) -> Vec<String> {
    let mut out = Vec::new();
    for (n, _, _, _) in expr.nodes() {
        if let pg_query::NodeRef::ColumnRef(c) = n {
            if let Some(name) = last_name(&c.fields) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_elems(sql: &str) -> Vec<Node> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap();
        let Some(NodeEnum::IndexStmt(i)) = parsed.protobuf.stmts[0].stmt.as_ref().and_then(|s| s.node.clone()) else { panic!() };
        i.index_params.iter().chain(&i.index_including_params).cloned().collect()
    }

    fn idx_name(sql: &str, table: &str) -> String {
        let cols = index_column_names(&index_elems(sql));
        choose_name(table, Some(&name_addition(&cols)), "idx", |_| false)
    }

    #[test]
    fn index_names_as_postgres_chooses_them() {
        // Each figure checked on PostgreSQL 15.
        assert_eq!(idx_name("CREATE INDEX ON t (a)", "t"), "t_a_idx");
        assert_eq!(idx_name("CREATE INDEX ON t (a, b)", "t"), "t_a_b_idx");
        assert_eq!(idx_name("CREATE INDEX ON t (lower(email))", "t"), "t_lower_idx");
        assert_eq!(idx_name("CREATE INDEX ON t ((a + b))", "t"), "t_expr_idx");
        assert_eq!(idx_name("CREATE INDEX ON t ((a::text))", "t"), "t_a_idx");
        assert_eq!(idx_name("CREATE INDEX ON t ((data->>'k'))", "t"), "t_expr_idx");
        assert_eq!(idx_name("CREATE INDEX ON t (a, a)", "t"), "t_a_a1_idx");
        assert_eq!(idx_name("CREATE INDEX ON t (coalesce(a, b))", "t"), "t_coalesce_idx");
        assert_eq!(idx_name("CREATE INDEX ON t (a) INCLUDE (b)", "t"), "t_a_b_idx");
    }

    #[test]
    fn long_names_are_cut_to_63_bytes_longer_part_first() {
        let table = "a".repeat(40);
        let col = "b".repeat(40);
        let name = make_object_name(&table, Some(&col), "idx");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_idx", "a".repeat(29), "b".repeat(29)));
        let name = make_object_name(&"x".repeat(70), None, "pkey");
        assert_eq!(name, format!("{}_pkey", "x".repeat(58)));
        // A multibyte character is never cut in half.
        let name = make_object_name(&"é".repeat(40), None, "pkey");
        assert!(name.len() <= 63 && name.ends_with("_pkey"));
    }

    #[test]
    fn a_clash_numbers_the_label() {
        let taken = ["t_a_idx".to_string(), "t_a_idx1".to_string()];
        assert_eq!(choose_name("t", Some("a"), "idx", |n| taken.iter().any(|t| t == n)), "t_a_idx2");
    }
}
