//! Parse a migration file with PostgreSQL's own parser (pg_query) and attach
//! each parse tree to the statement the file parser found, so findings keep
//! their file:line:col.

use crate::error::InputError;
use crate::file::{ParsedFile, SourceFile, Statement};
use pg_query::NodeEnum;

/// A statement of the up section with its parse tree(s).
pub struct ParsedStatement<'f> {
    pub stmt: &'f Statement,
    pub nodes: Vec<NodeEnum>,
    /// Byte offset in the file that the nodes' `location` fields count from.
    pub base: usize,
}

/// Parse trees for the up section; statements that do not parse become
/// errors (the rest of the file is still linted). Backfill steps are left
/// out: their text is a comment with no tree, and the rules judge the SQL a
/// migration executes (the runner writes the batches' UPDATEs itself).
pub fn parse_up<'f>(file: &'f SourceFile, parsed: &'f ParsedFile) -> (Vec<ParsedStatement<'f>>, Vec<InputError>) {
    let Some(up) = &parsed.up else { return (vec![], vec![]) };
    let stmts: Vec<&Statement> = up.statements.iter().filter(|s| s.backfill.is_none()).collect();
    if stmts.is_empty() {
        return (vec![], vec![]);
    }
    // One parse of the whole section is the fast path, for sections of a
    // usual size: a parse tree is tens of times its text, and a 53 MB seed
    // file parsed whole took 4 GB. Larger ones go statement by statement.
    let start = stmts[0].span.start;
    let end = stmts[stmts.len() - 1].span.end;
    let text = &file.text[start..end];
    let whole = if text.len() <= WHOLE_SECTION_MAX { pg_query::parse(text, pg_query::ParserOptions::DEFAULT).ok() } else { None };
    if let Some(result) = whole {
        let mut out: Vec<ParsedStatement> = stmts.iter().map(|s| ParsedStatement { stmt: s, nodes: vec![], base: start }).collect();
        for raw in result.protobuf.stmts {
            let loc = start + raw.stmt_location.max(0) as usize;
            let len = if raw.stmt_len > 0 { raw.stmt_len as usize } else { end - loc };
            // The statement (of ours) that starts inside this raw statement's range.
            let idx = stmts
                .iter()
                .position(|s| s.span.start >= loc && s.span.start < loc + len.max(1))
                .or_else(|| stmts.iter().rposition(|s| s.span.start <= loc));
            if let (Some(i), Some(node)) = (idx, raw.stmt.and_then(|n| n.node)) {
                out[i].nodes.push(node);
            }
        }
        return (out, vec![]);
    }
    // Something does not parse: find which statements, and where.
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for s in stmts {
        match pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT) {
            Ok(r) => out.push(ParsedStatement {
                stmt: s,
                nodes: r.protobuf.stmts.into_iter().filter_map(|raw| raw.stmt.and_then(|n| n.node)).map(slim).collect(),
                base: s.span.start,
            }),
            Err(e) => {
                let message = match e {
                    pg_query::Error::Parse(m) => m,
                    other => other.to_string(),
                };
                let offset = s.span.start + error_offset(&s.sql, &message);
                errors.push(InputError::new(&file.name, &file.text, offset, format!("PostgreSQL cannot parse this statement: {message}")));
            }
        }
    }
    (out, errors)
}

/// Sections longer than this are parsed statement by statement.
const WHOLE_SECTION_MAX: usize = 4 << 20;

/// Rows of an `INSERT ... VALUES` kept in its tree: the rules ask what it
/// inserts into and whether it calls something, which the first rows tell;
/// a seed file's thousands of rows only cost memory.
const VALUES_KEPT: usize = 16;

fn slim(mut node: NodeEnum) -> NodeEnum {
    if let NodeEnum::InsertStmt(insert) = &mut node {
        if let Some(NodeEnum::SelectStmt(select)) = insert.select_stmt.as_mut().and_then(|s| s.node.as_mut()) {
            select.values_lists.truncate(VALUES_KEPT);
        }
    }
    node
}

/// Where in the statement the parser's message points: `at or near "X"`, or
/// the end for `at end of input`.
fn error_offset(sql: &str, message: &str) -> usize {
    if message.contains("at end of input") {
        return sql.trim_end().len();
    }
    if let Some(near) = message.split("at or near \"").nth(1).and_then(|r| r.rsplit_once('"')).map(|(n, _)| n) {
        if let Some(i) = find_token(sql, near) {
            return i;
        }
    }
    0
}

/// The first occurrence of `token` in `sql` that stands as a token.
fn find_token(sql: &str, token: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = sql[from..].find(token).map(|i| from + i) {
        let before = sql[..i].chars().next_back();
        let after = sql[i + token.len()..].chars().next();
        let word_token = token.chars().all(is_word);
        if !word_token || (!before.is_some_and(is_word) && !after.is_some_and(is_word)) {
            return Some(i);
        }
        from = i + token.len().max(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_tokens_are_found_as_whole_words() {
        assert_eq!(find_token("CREATE TABLE tt (id int,, t int)", ","), Some(23));
        assert_eq!(find_token("SELECT notnul FROM t WHERE nul", "nul"), Some(27));
    }
}
