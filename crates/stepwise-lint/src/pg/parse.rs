//! Parse a migration file with PostgreSQL's own parser (pg_query) and attach
//! each parse tree to the statement the file parser found, so findings keep
//! their file:line:col.

use pg_query::NodeEnum;
use stepwise_sql::error::InputError;
use stepwise_sql::file::{ParsedFile, SourceFile, Statement};

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
///
/// pg_query reports the message but not the parser's position, and the
/// offending text may occur earlier in the statement too. The position is
/// found the way the parser found it: the shortest prefix, cut after a
/// token, that fails somewhere other than at its end fails at that token
/// (the parser stops at the first token it cannot take, whatever follows).
/// That is a binary search over the tokens, run only for statements that do
/// not parse. When the scanner fails too, the first occurrence stands in.
fn error_offset(sql: &str, message: &str) -> usize {
    if message.contains("at end of input") {
        return sql.trim_end().len();
    }
    let Some(near) = message.split("at or near \"").nth(1).and_then(|r| r.rsplit_once('"')).map(|(n, _)| n) else { return 0 };
    parser_position(sql, near).or_else(|| find_token(sql, near)).unwrap_or(0)
}

fn parser_position(sql: &str, near: &str) -> Option<usize> {
    use pg_query::protobuf::Token;
    let tokens: Vec<(usize, usize)> = pg_query::scan_tokens(sql)
        .ok()?
        .into_iter()
        .filter(|t| t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32)
        .map(|t| (t.start.max(0) as usize, t.end.max(0) as usize))
        .collect();
    let fails_inside = |k: usize| -> bool {
        let end = tokens[k].1.min(sql.len());
        match sql.get(..end).map(|prefix| pg_query::parse(prefix, pg_query::ParserOptions::DEFAULT)) {
            Some(Err(pg_query::Error::Parse(m))) => !m.contains("at end of input"),
            _ => false,
        }
    };
    let (mut lo, mut hi) = (0, tokens.len().checked_sub(1)?);
    if !fails_inside(hi) {
        return None;
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails_inside(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let (start, end) = tokens[lo];
    sql.get(start..end).is_some_and(|t| t == near).then_some(start)
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
    fn a_parse_error_points_where_the_parser_stopped_not_at_an_earlier_same_token() {
        // `,` occurs three times; the parser stops at the third.
        let sql = "CREATE TABLE t (\n  a int,\n  b int,\n  c int,,\n  d int\n)";
        let message = match pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
            Err(pg_query::Error::Parse(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(error_offset(sql, &message), sql.find(",,").unwrap() + 1);
        // A keyword used earlier correctly, then wrongly.
        let sql = "SELECT a FROM t WHERE a IN (SELECT b FROM u) FROM v";
        let message = match pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
            Err(pg_query::Error::Parse(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(error_offset(sql, &message), sql.rfind("FROM").unwrap());
    }

    #[test]
    fn near_tokens_are_found_as_whole_words() {
        assert_eq!(find_token("CREATE TABLE tt (id int,, t int)", ","), Some(23));
        assert_eq!(find_token("SELECT notnul FROM t WHERE nul", "nul"), Some(27));
    }
}
