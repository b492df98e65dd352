//! Batched backfills: the `-- stepwise:backfill <table> SET ... [WHERE ...]`
//! directive, its SET list, and the functions an expression calls (so the
//! runner can warn about values that change from batch to batch).
//!
//! Pure text work on the lexer's tokens: strings, quoted identifiers,
//! dollar quotes and comments never split, end or call anything.

use crate::lexer::{tokenize, Token, TokenKind};
use crate::Dialect;
use serde::Serialize;

/// One `-- stepwise:backfill` step of a migration section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackfillStep {
    /// The table as written (`orders`, `app.orders`, `"Odd Name"`, `` `t` ``).
    pub table: String,
    /// The assignments after SET, trimmed (`total = price * qty, note = ''`).
    pub set: String,
    /// The condition after a top-level WHERE, trimmed, if any.
    pub condition: Option<String>,
    /// 1-based line of the `-- stepwise:backfill` directive.
    pub directive_line: usize,
}

/// One `column = expression` of a SET list, both as written (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub column: String,
    pub expr: String,
}

type ParseResult<T> = Result<T, (usize, String)>;

/// Tokens without comments, with their text.
struct Toks<'a> {
    src: &'a str,
    toks: Vec<Token>,
}

impl<'a> Toks<'a> {
    fn new(src: &'a str, dialect: Dialect) -> ParseResult<Self> {
        let toks = tokenize(src, dialect).map_err(|e| (e.offset, e.kind.to_string()))?;
        let toks = toks.into_iter().filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment)).collect();
        Ok(Toks { src, toks })
    }

    fn text(&self, i: usize) -> &'a str {
        self.toks.get(i).map(|t| &self.src[t.span.clone()]).unwrap_or("")
    }

    fn kind(&self, i: usize) -> Option<&TokenKind> {
        self.toks.get(i).map(|t| &t.kind)
    }

    fn is_word(&self, i: usize, word: &str) -> bool {
        self.kind(i) == Some(&TokenKind::Word) && self.text(i).eq_ignore_ascii_case(word)
    }

    fn is_punct(&self, i: usize, p: &str) -> bool {
        self.kind(i) == Some(&TokenKind::Punct) && self.text(i) == p
    }

    fn is_ident(&self, i: usize) -> bool {
        matches!(self.kind(i), Some(TokenKind::Word | TokenKind::QuotedIdent))
    }

    fn start(&self, i: usize) -> usize {
        self.toks.get(i).map(|t| t.span.start).unwrap_or(self.src.trim_end().len())
    }

    fn end(&self, i: usize) -> usize {
        self.toks.get(i).map(|t| t.span.end).unwrap_or(self.src.trim_end().len())
    }

    /// Text from token `from` to the end of token `to - 1` (comments between
    /// them kept), or None when the range is empty.
    fn slice(&self, from: usize, to: usize) -> Option<&'a str> {
        (from < to).then(|| self.src[self.start(from)..self.end(to - 1)].trim())
    }

    /// A human description of token `i` for "found ..." messages.
    fn found(&self, i: usize) -> String {
        match self.kind(i) {
            None => "the end of the line".into(),
            Some(_) => format!("`{}`", self.text(i)),
        }
    }
}

/// Parse the arguments of `-- stepwise:backfill <table> SET <assignments> [WHERE <condition>]`:
/// (table, set, condition). The SET list is checked with [`assignments`].
/// Err((byte offset into `args`, message)).
pub fn parse_backfill(args: &str, dialect: Dialect) -> Result<(String, String, Option<String>), (usize, String)> {
    const USAGE: &str = "`-- stepwise:backfill <table> SET <column> = <expression>[, ...] [WHERE <condition>]`";
    let t = Toks::new(args, dialect)?;
    // A trailing `;` is allowed (it reads like the UPDATE it is); anything
    // after one would be a second statement.
    let mut n = t.toks.len();
    if let Some(d) = t.toks.iter().position(|tok| tok.kind == TokenKind::Delimiter) {
        if d + 1 < n {
            return Err((t.start(d + 1), "one backfill per directive: nothing may follow the `;`".into()));
        }
        n = d;
    }

    if n == 0 {
        return Err((0, format!("`stepwise:backfill` needs a table and a SET list: {USAGE}")));
    }
    let mut i = 0;
    let mut parts = Vec::new();
    loop {
        // `SET` not followed by another `SET` is the keyword, not a name.
        if t.is_word(i, "SET") && !t.is_word(i + 1, "SET") {
            let msg = if parts.is_empty() {
                format!("missing table: name the table to backfill before SET: {USAGE}")
            } else {
                "expected a name after `.`, found `SET`".to_string()
            };
            return Err((t.start(i), msg));
        }
        if !t.is_ident(i) || i >= n {
            let msg = if parts.is_empty() {
                format!("expected the table to backfill, found {}: {USAGE}", t.found(i))
            } else {
                format!("expected a name after `.`, found {}", t.found(i))
            };
            return Err((t.start(i), msg));
        }
        parts.push(t.text(i));
        i += 1;
        if t.is_punct(i, ".") && i < n {
            i += 1;
        } else {
            break;
        }
    }
    let table = parts.join(".");
    if !t.is_word(i, "SET") || i >= n {
        return Err((t.start(i), format!("expected `SET` after the table `{table}`, found {}: {USAGE}", t.found(i))));
    }
    let set_from = i + 1;

    // The first WHERE outside parentheses ends the SET list.
    let mut depth = 0i32;
    let mut where_at = None;
    for k in set_from..n {
        match t.kind(k) {
            Some(TokenKind::LParen) => depth += 1,
            Some(TokenKind::RParen) => depth -= 1,
            Some(TokenKind::Word) if depth == 0 && t.is_word(k, "WHERE") => {
                where_at = Some(k);
                break;
            }
            _ => {}
        }
    }
    let set_to = where_at.unwrap_or(n);
    let Some(set) = t.slice(set_from, set_to) else {
        return Err((t.end(set_from - 1), format!("empty SET list: say what to set, as in `SET total = price * qty`: {USAGE}")));
    };
    refuse_clauses(&t, set_from, set_to, dialect)?;
    let set_at = t.start(set_from);
    assignments(set, dialect).map_err(|(at, msg)| (set_at + at, msg))?;

    let condition = match where_at {
        None => None,
        Some(w) => {
            let Some(cond) = t.slice(w + 1, n) else {
                return Err((t.end(w), "empty WHERE condition: write the rows to backfill, or leave WHERE out for all rows".into()));
            };
            refuse_clauses(&t, w + 1, n, dialect)?;
            Some(cond.to_string())
        }
    };
    Ok((table, set.to_string(), condition))
}

/// Clauses of a full UPDATE that a backfill does not take: it updates one
/// table, in batches it picks itself.
fn refuse_clauses(t: &Toks, from: usize, to: usize, dialect: Dialect) -> ParseResult<()> {
    let mut depth = 0i32;
    for k in from..to {
        match t.kind(k) {
            Some(TokenKind::LParen) => depth += 1,
            Some(TokenKind::RParen) => depth -= 1,
            Some(TokenKind::Word) if depth == 0 => {
                let word = t.text(k).to_ascii_uppercase();
                let why = match word.as_str() {
                    // `a IS DISTINCT FROM b` is an expression.
                    "FROM" if !(k > from && t.is_word(k - 1, "DISTINCT")) => {
                        "`FROM` (a join) is not supported: write the joined value as a subquery in SET, as in `SET x = (SELECT u.x FROM u WHERE u.id = t.uid)`"
                    }
                    "WHERE" => "a second top-level `WHERE`: combine the conditions with AND",
                    "ORDER" | "LIMIT" => "`ORDER BY` and `LIMIT` are not supported: a backfill picks its batches itself",
                    // Not reserved in MySQL, where it may be a column name.
                    "RETURNING" if dialect == Dialect::Postgres => "`RETURNING` is not supported: a backfill reports how many rows it changed",
                    _ => continue,
                };
                return Err((t.start(k), why.to_string()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Check that an expression or condition stands on its own when stepwise
/// puts it inside parentheses of its own statement: its parentheses balance,
/// it ends no statement (`;`) and holds no line comment (which would hide
/// the rest of that statement). Otherwise `a < 100) OR (b = 3` would escape
/// the batch's key range. Err((byte offset, message)).
pub fn self_contained(text: &str, dialect: Dialect) -> Result<(), (usize, String)> {
    let toks = tokenize(text, dialect).map_err(|e| (e.offset, e.kind.to_string()))?;
    let mut depth = 0i32;
    let mut open = Vec::new();
    for t in &toks {
        match t.kind {
            TokenKind::LParen => {
                depth += 1;
                open.push(t.span.start);
            }
            TokenKind::RParen => {
                depth -= 1;
                open.pop();
                if depth < 0 {
                    return Err((t.span.start, "this `)` closes a parenthesis that was never opened".into()));
                }
            }
            TokenKind::Delimiter => return Err((t.span.start, "a `;` here would end the statement".into())),
            TokenKind::LineComment => {
                return Err((t.span.start, "a `--` comment here would hide the rest of the statement; use /* ... */".into()))
            }
            TokenKind::BlockComment if dialect == Dialect::MySql && executable_comment(&text[t.span.clone()]) => {
                return Err((
                    t.span.start,
                    "MySQL and MariaDB run the text of a `/*! ... */` or `/*M! ... */` comment as SQL; write it without the comment".into(),
                ))
            }
            TokenKind::String | TokenKind::QuotedIdent if dialect == Dialect::MySql && text[t.span.clone()].contains('\\') => {
                // Where it ends depends on the session's sql_mode
                // (NO_BACKSLASH_ESCAPES, ANSI_QUOTES): what stepwise reads
                // as one string, the server may end early.
                return Err((
                    t.span.start,
                    "a backslash in a quoted string ends it in different places under different sql_modes; write the character another way (CHAR(92) for a backslash)".into(),
                ));
            }
            _ => {}
        }
    }
    match open.last() {
        Some(&at) => Err((at, "this `(` is never closed".into())),
        None => Ok(()),
    }
}

/// `/*!...*/`, `/*!50000...*/`, `/*M!...*/`: comments MySQL or MariaDB execute.
fn executable_comment(comment: &str) -> bool {
    let body = &comment.as_bytes()[2.min(comment.len())..];
    body.first() == Some(&b'!') || (matches!(body.first(), Some(b'M' | b'm')) && body.get(1) == Some(&b'!'))
}

/// Split a SET list on top-level commas into assignments. Each must be
/// `<column> = <expr>`, the column a plain or quoted identifier (not qualified).
/// Err((byte offset into `set`, message)).
pub fn assignments(set: &str, dialect: Dialect) -> Result<Vec<Assignment>, (usize, String)> {
    let t = Toks::new(set, dialect)?;
    let n = t.toks.iter().position(|tok| tok.kind == TokenKind::Delimiter).unwrap_or(t.toks.len());
    if n + 1 < t.toks.len() {
        return Err((t.start(n + 1), "one SET list: nothing may follow the `;`".into()));
    }
    let mut out: Vec<Assignment> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut from = 0;
    let mut depth = 0i32;
    for k in 0..=n {
        match t.kind(k) {
            Some(TokenKind::LParen) if k < n => depth += 1,
            Some(TokenKind::RParen) if k < n => depth -= 1,
            _ if k == n || (depth == 0 && t.is_punct(k, ",")) => {
                let a = one_assignment(&t, from, k)?;
                let key = fold(&a.column, dialect);
                if let Some((_, first)) = seen.iter().find(|(c, _)| *c == key) {
                    return Err((t.start(from), format!("column `{}` is set twice (first as `{first}`)", a.column)));
                }
                seen.push((key, a.column.clone()));
                out.push(a);
                from = k + 1;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `<column> = <expr>` from tokens `from..to`.
fn one_assignment(t: &Toks, from: usize, to: usize) -> ParseResult<Assignment> {
    if from >= to {
        let msg = if from == 0 && to == t.toks.len() {
            "empty SET list: expected `<column> = <expression>`".to_string()
        } else {
            format!("expected `<column> = <expression>`, found {}", t.found(from))
        };
        return Err((t.start(from), msg));
    }
    match t.kind(from) {
        Some(TokenKind::Word | TokenKind::QuotedIdent) => {}
        Some(TokenKind::LParen) => {
            return Err((
                t.start(from),
                "multi-column assignments `(a, b) = ...` are not supported: write one `<column> = <expression>` per column".into(),
            ))
        }
        _ => return Err((t.start(from), format!("expected a column name, found {}", t.found(from)))),
    }
    let column = t.text(from);
    if t.is_punct(from + 1, ".") && from + 1 < to {
        return Err((
            t.start(from),
            format!("a SET column is not qualified: the backfill updates one table, so write `{}` alone", t.text(from + 2)),
        ));
    }
    if !(t.is_punct(from + 1, "=") && from + 1 < to) {
        let found = if from + 1 < to { t.found(from + 1) } else { "nothing".into() };
        return Err((t.start(from + 1).min(t.end(to.max(1) - 1)), format!("expected `=` after the column `{column}`, found {found}")));
    }
    let Some(expr) = t.slice(from + 2, to) else {
        return Err((t.end(from + 1), format!("expected an expression after `{column} =`")));
    };
    Ok(Assignment { column: column.to_string(), expr: expr.to_string() })
}

/// A column name as the server compares it: PostgreSQL folds unquoted names
/// to lower case; MySQL column names are case-insensitive.
fn fold(column: &str, dialect: Dialect) -> String {
    let quoted = column.starts_with('"') || column.starts_with('`');
    match (quoted, dialect) {
        (true, Dialect::Postgres) => unquote(column),
        (true, Dialect::MySql) => unquote(column).to_lowercase(),
        (false, _) => column.to_lowercase(),
    }
}

fn unquote(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next_back()) {
        (Some(q @ ('"' | '`')), Some(e)) if e == q => chars.as_str().replace(&format!("{q}{q}"), &q.to_string()),
        _ => s.to_string(),
    }
}

/// Words that take parentheses but are not function calls.
const NOT_CALLS: &[&str] = &[
    "ALL",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "AGAINST",
    "BETWEEN",
    "BINARY",
    "BY",
    "CASE",
    "CAST",
    "COALESCE",
    "DESC",
    "DISTINCT",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXISTS",
    "FILTER",
    "FOR",
    "FROM",
    "GREATEST",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INTERSECT",
    "INTERVAL",
    "IS",
    "JOIN",
    "LATERAL",
    "LEAST",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULLIF",
    "OFFSET",
    "ON",
    "OPERATOR",
    "OR",
    "ORDER",
    "OVER",
    "PARTITION",
    "REGEXP",
    "RETURNING",
    "RLIKE",
    "ROW",
    "ROWS",
    "SELECT",
    "SET",
    "SIMILAR",
    "SOME",
    "THEN",
    "UNION",
    "USING",
    "VALUES",
    "VARYING",
    "WHEN",
    "WHERE",
    "WITH",
    "WITHIN",
    "XOR",
    "ZONE",
];

/// Keywords that call a function without parentheses.
const NILADIC: &[&str] = &[
    "CURRENT_TIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "CURRENT_USER",
    "SESSION_USER",
    "SYSDATE",
    "UTC_TIMESTAMP",
    "UTC_DATE",
    "UTC_TIME",
];

/// PostgreSQL reserves these too; in MySQL they may be column names.
const NILADIC_PG: &[&str] = &["CURRENT_ROLE", "CURRENT_SCHEMA", "CURRENT_CATALOG"];

/// Functions an expression calls, lowercased, the last segment of a qualified
/// name (`pg_catalog.now(` is "now"), in order of appearance, without
/// duplicates. Niladic keywords (`CURRENT_TIMESTAMP`) count as calls;
/// keywords that take parentheses (`CAST`, `IN`, `EXISTS`) and type names
/// with modifiers (`::numeric(10,2)`, `AS varchar(5)`) do not.
pub fn calls(expr: &str, dialect: Dialect) -> Result<Vec<String>, (usize, String)> {
    let t = Toks::new(expr, dialect)?;
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    // For each open parenthesis: whether it belongs to MySQL's CONVERT(x, type).
    let mut parens: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < t.toks.len() {
        match t.kind(i) {
            Some(TokenKind::LParen) => {
                parens.push(i > 0 && t.is_word(i - 1, "CONVERT"));
                i += 1;
                continue;
            }
            Some(TokenKind::RParen) => {
                parens.pop();
                i += 1;
                continue;
            }
            Some(TokenKind::Word | TokenKind::QuotedIdent) => {}
            _ => {
                i += 1;
                continue;
            }
        }
        // A name: `a`, `"a"`, `s.a`, `db.s."a"`.
        let first = i;
        while t.is_punct(i + 1, ".") && t.is_ident(i + 2) {
            i += 2;
        }
        let last = i;
        i += 1;
        let qualified = last > first || (first > 0 && t.is_punct(first - 1, "."));
        let is_type = type_position(&t, first, parens.last().copied().unwrap_or(false));
        let quoted = t.kind(last) == Some(&TokenKind::QuotedIdent);
        let upper = t.text(last).to_ascii_uppercase();
        if t.kind(i) == Some(&TokenKind::LParen) {
            let keyword = !qualified && !quoted && NOT_CALLS.contains(&upper.as_str());
            if !keyword && !is_type {
                let name = if quoted { unquote(t.text(last)) } else { t.text(last).to_string() };
                push(name.to_lowercase());
            }
        } else if !qualified
            && !quoted
            && !is_type
            && (NILADIC.contains(&upper.as_str()) || (dialect == Dialect::Postgres && NILADIC_PG.contains(&upper.as_str())))
        {
            push(upper.to_lowercase());
        }
    }
    Ok(out)
}

/// Whether the name starting at token `i` names a type: after `::`, after
/// `AS` (in CAST), or after the comma of MySQL's `CONVERT(x, type)`.
fn type_position(t: &Toks, i: usize, in_convert: bool) -> bool {
    if i == 0 {
        return false;
    }
    let prev = i - 1;
    (t.is_punct(prev, ":") && prev > 0 && t.is_punct(prev - 1, ":"))
        || t.is_word(prev, "AS")
        || (in_convert && t.is_punct(prev, ","))
        // `character varying(10)`, `bit varying(5)`
        || t.is_word(i, "VARYING")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_must_stand_on_its_own_inside_parentheses() {
        assert_eq!(self_contained("a < 100 AND (b = 3 OR c = ')')", Dialect::Postgres), Ok(()));
        assert_eq!(self_contained("a < 100) OR (b = 3", Dialect::Postgres).unwrap_err().0, 7);
        assert_eq!(self_contained("f(a", Dialect::MySql).unwrap_err().0, 1);
        assert!(self_contained("a; DROP TABLE t", Dialect::Postgres).unwrap_err().1.contains("`;`"));
        assert!(self_contained("a -- note", Dialect::Postgres).unwrap_err().1.contains("comment"));
        assert_eq!(self_contained("a /* note */ + 1", Dialect::Postgres), Ok(()));
    }

    const PG: Dialect = Dialect::Postgres;
    const MY: Dialect = Dialect::MySql;

    fn ok(args: &str, d: Dialect) -> (String, String, Option<String>) {
        parse_backfill(args, d).unwrap_or_else(|e| panic!("{args}: {e:?}"))
    }

    fn err(args: &str, d: Dialect) -> (usize, String) {
        parse_backfill(args, d).expect_err(args)
    }

    fn cols(set: &str, d: Dialect) -> Vec<(String, String)> {
        assignments(set, d).unwrap().into_iter().map(|a| (a.column, a.expr)).collect()
    }

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn table_set_and_condition() {
        assert_eq!(
            ok("orders SET total = price * qty, note = '' WHERE total IS NULL", PG),
            (s("orders"), s("total = price * qty, note = ''"), Some(s("total IS NULL")))
        );
        assert_eq!(ok("  orders set status = 'new';  ", PG), (s("orders"), s("status = 'new'"), None));
        assert_eq!(ok("app . orders SET a = 1 where b", PG).0, "app.orders");
        assert_eq!(ok("\"Odd Name\".\"T\"\"x\" SET a = 1", PG).0, "\"Odd Name\".\"T\"\"x\"");
        // A table named like the keyword, quoted or not, is still a table.
        assert_eq!(ok("set SET a = 1", PG).0, "set");
    }

    #[test]
    fn where_inside_parentheses_strings_and_comments_does_not_split() {
        let (_, set, cond) =
            ok("orders SET name = (SELECT u.name FROM users u WHERE u.id = orders.uid), note = 'where, then' WHERE id > 0;", PG);
        assert_eq!(set, "name = (SELECT u.name FROM users u WHERE u.id = orders.uid), note = 'where, then'");
        assert_eq!(cond.as_deref(), Some("id > 0"));
        let a = cols(&set, PG);
        assert_eq!(a.len(), 2);
        assert_eq!(a[1], (s("note"), s("'where, then'")));

        // A trailing comment is not part of the condition (it would comment
        // out whatever the runner appends).
        let (_, set, cond) = ok("t SET a = /* where, */ 1 WHERE b = 2 -- where else", PG);
        assert_eq!((set.as_str(), cond.as_deref()), ("a = /* where, */ 1", Some("b = 2")));
        let (_, _, cond) = ok("t SET a = 1 WHERE b IS DISTINCT FROM c", PG);
        assert_eq!(cond.as_deref(), Some("b IS DISTINCT FROM c"));
    }

    #[test]
    fn mysql_backticks_and_strings() {
        let (table, set, cond) = ok("`app`.`order items` SET `where` = \"a, b\", n = 'it\\'s' WHERE `set` = 1 # done", MY);
        assert_eq!(table, "`app`.`order items`");
        assert_eq!(cond.as_deref(), Some("`set` = 1"));
        assert_eq!(cols(&set, MY), vec![(s("`where`"), s("\"a, b\"")), (s("n"), s("'it\\'s'"))]);
        // `returning` may be a MySQL column.
        assert!(parse_backfill("t SET a = returning + 1", MY).is_ok());
    }

    #[test]
    fn postgres_dollar_quotes() {
        let (_, set, cond) = ok("t SET body = $x$ WHERE a, b; $x$, n = $$;$$ WHERE n IS NULL;", PG);
        assert_eq!(set, "body = $x$ WHERE a, b; $x$, n = $$;$$");
        assert_eq!(cond.as_deref(), Some("n IS NULL"));
        assert_eq!(cols(&set, PG)[0].1, "$x$ WHERE a, b; $x$");
    }

    #[test]
    fn bad_arguments_point_at_the_problem() {
        let (at, msg) = err("", PG);
        assert_eq!(at, 0);
        assert!(msg.contains("needs a table"), "{msg}");
        let (at, msg) = err("SET a = 1", PG);
        assert_eq!(at, 0);
        assert!(msg.contains("missing table"), "{msg}");
        let (at, msg) = err("orders a = 1", PG);
        assert_eq!(at, 7);
        assert!(msg.contains("expected `SET` after the table `orders`, found `a`"), "{msg}");
        let (at, msg) = err("orders", PG);
        assert_eq!(at, 6);
        assert!(msg.contains("found the end of the line"), "{msg}");
        let (at, msg) = err("orders SET WHERE a", PG);
        assert_eq!(at, 10);
        assert!(msg.contains("empty SET list"), "{msg}");
        let (at, msg) = err("orders SET ;", PG);
        assert_eq!(at, 10);
        assert!(msg.contains("empty SET list"), "{msg}");
        let (at, msg) = err("orders SET a = 1 WHERE ;", PG);
        assert_eq!(at, 22);
        assert!(msg.contains("empty WHERE"), "{msg}");
        let (at, msg) = err("orders SET a = 1; DROP TABLE orders", PG);
        assert_eq!(at, 18);
        assert!(msg.contains("one backfill"), "{msg}");
        let (at, msg) = err("t SET a = 'open", PG);
        assert_eq!(at, 10);
        assert!(msg.contains("unterminated string"), "{msg}");
        let (at, msg) = err("app. SET a = 1", PG);
        assert_eq!(at, 5);
        assert!(msg.contains("name after `.`"), "{msg}");
        // Errors in the SET list are offsets into the arguments.
        let (at, msg) = err("t SET a = 1, t.b = 2", PG);
        assert_eq!(at, 13);
        assert!(msg.contains("not qualified"), "{msg}");
        let (at, msg) = err("t SET a = 1 FROM u WHERE u.id = t.uid", PG);
        assert_eq!(at, 12);
        assert!(msg.contains("subquery"), "{msg}");
        let (at, msg) = err("t SET a = 1 WHERE b = 1 ORDER BY id LIMIT 10", MY);
        assert_eq!(at, 24);
        assert!(msg.contains("ORDER BY"), "{msg}");
        assert!(err("t SET a = 1 WHERE b RETURNING a", PG).1.contains("RETURNING"));
    }

    #[test]
    fn assignments_and_their_errors() {
        assert_eq!(
            cols(" total = round(price * qty, 2) , \"Note\" = coalesce(a, 'x,y') -- c", PG),
            vec![(s("total"), s("round(price * qty, 2)")), (s("\"Note\""), s("coalesce(a, 'x,y')"))]
        );
        let e = |set: &str| assignments(set, PG).unwrap_err();
        assert_eq!(e("a = 1,"), (6, s("expected `<column> = <expression>`, found the end of the line")));
        assert_eq!(e(", a = 1").0, 0);
        assert_eq!(e("a = 1,, b = 2").0, 6);
        assert_eq!(e("a 1"), (2, s("expected `=` after the column `a`, found `1`")));
        assert_eq!(e("a"), (1, s("expected `=` after the column `a`, found nothing")));
        assert_eq!(e("a = , b = 1"), (3, s("expected an expression after `a =`")));
        assert!(e("(a, b) = (1, 2)").1.contains("multi-column"));
        assert!(e("1 = a").1.contains("expected a column name, found `1`"));
        assert!(e("a[1] = 2").1.contains("found `[`"));
        let (at, msg) = e("a = 1, A = 2");
        assert_eq!(at, 7);
        assert!(msg.contains("set twice"), "{msg}");
        // Quoted names differ by case in PostgreSQL, not in MySQL.
        assert!(assignments("\"a\" = 1, \"A\" = 2", PG).is_ok());
        assert!(assignments("`a` = 1, `A` = 2", MY).is_err());
        assert_eq!(cols("a = 1;", PG), vec![(s("a"), s("1"))]);
        assert_eq!(e("a = 1; b = 2").0, 7);
    }

    #[test]
    fn calls_of_an_expression() {
        let c = |e: &str, d: Dialect| calls(e, d).unwrap();
        assert_eq!(c("pg_catalog.now() + interval '1 day'", PG), vec!["now"]);
        assert_eq!(c("COALESCE(upper(a), Lower (b), upper(c))", PG), vec!["upper", "lower"]);
        assert_eq!(c("CURRENT_TIMESTAMP - created_at > '1 day' AND current_user = owner", PG), vec!["current_timestamp", "current_user"]);
        assert_eq!(c("CASE WHEN a IN (1, 2) THEN random() ELSE 0 END", PG), vec!["random"]);
        assert_eq!(c("EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.at < clock_timestamp())", PG), vec!["clock_timestamp"]);
        assert_eq!(c("'now()' || \"quoted\"(x) /* rand() */ || $$random()$$", PG), vec!["quoted"]);
        assert_eq!(c("CAST(a AS numeric(10, 2)) + b::varchar(5)::character varying(3) + x.y.\"F\"(1)", PG), vec!["f"]);
        assert_eq!(c("count(*) FILTER (WHERE a) OVER (PARTITION BY b)", PG), vec!["count"]);
        // Qualified or quoted, a niladic keyword's name is a column.
        assert!(c("t.current_date + \"current_date\"", PG).is_empty());
        assert_eq!(
            c("sysdate(), UTC_TIMESTAMP, CONVERT(a, DECIMAL(10, 2)), `f`(1) # now()", MY),
            vec!["sysdate", "utc_timestamp", "convert", "f"]
        );
        assert_eq!(c("current_schema", MY), Vec::<String>::new());
        assert_eq!(c("current_schema", PG), vec!["current_schema"]);
        assert_eq!(calls("f('x", PG).unwrap_err().0, 2);
    }

    #[test]
    fn mysql_executable_comments_and_backslashes_are_refused() {
        for bad in [
            "a < 10 /*! ) OR (1=1 */",
            "a < 10 /*M! ) OR (1=1 */",
            "a < 10 /*!50000 ) OR (1=1 */",
            "a < 10 /*m!100000 1 */",
            "a = 'x\\' ) OR (1=1 -- '",
        ] {
            assert!(self_contained(bad, Dialect::MySql).is_err(), "{bad:?}");
        }
        assert!(self_contained("a < 10 /* plain ) comment */", Dialect::MySql).is_ok());
        assert!(self_contained("a < 10 /*! 1 */", Dialect::Postgres).is_ok(), "PostgreSQL has no executable comments");
    }
}
