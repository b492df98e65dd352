//! What the runner must know about one statement before it runs it: whether it
//! may run inside a transaction, whether it is a `CONCURRENTLY` operation (its
//! own, long timeout), whether it commits implicitly (MySQL DDL), and for index
//! operations the index it touches, so a crashed run can be checked against the
//! catalog before it is retried.

use crate::lexer::{Token, TokenKind};
use crate::Dialect;
use serde::Serialize;

/// A possibly schema-qualified name, folded the way the server folds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum IndexOp {
    CreateConcurrently { index: Option<QualifiedName>, table: Option<QualifiedName>, if_not_exists: bool },
    DropConcurrently { index: QualifiedName, if_exists: bool },
    ReindexConcurrently { index: Option<QualifiedName>, table: Option<QualifiedName> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatementInfo {
    /// Set when the statement cannot run inside a transaction block; names it.
    pub requires_no_transaction: Option<String>,
    /// BEGIN/COMMIT/ROLLBACK and friends: they would end stepwise's own transaction.
    pub transaction_control: bool,
    /// `CONCURRENTLY`: waits for older transactions without blocking anyone.
    pub concurrently: bool,
    /// MySQL: the statement commits the open transaction (DDL and friends).
    pub implicit_commit: bool,
    pub index_op: Option<IndexOp>,
    /// The first keywords, upper-cased, for messages ("CREATE INDEX").
    pub summary: String,
}

/// Significant tokens of one statement (no comments), with the source text.
pub struct Words<'a> {
    src: &'a str,
    toks: Vec<&'a Token>,
}

impl<'a> Words<'a> {
    pub fn new(src: &'a str, tokens: &'a [Token]) -> Self {
        let toks =
            tokens.iter().filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment | TokenKind::Delimiter)).collect();
        Words { src, toks }
    }

    fn text(&self, i: usize) -> &'a str {
        self.toks.get(i).map(|t| &self.src[t.span.clone()]).unwrap_or("")
    }

    /// Upper-cased keyword at `i`, or "" when the token is not a bare word.
    fn kw(&self, i: usize) -> String {
        match self.toks.get(i) {
            Some(t) if t.kind == TokenKind::Word => self.src[t.span.clone()].to_ascii_uppercase(),
            _ => String::new(),
        }
    }

    /// Top-level keywords (outside parentheses), upper-cased.
    fn top_level_keywords(&self) -> Vec<(usize, String)> {
        let mut depth = 0i32;
        let mut out = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            match t.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => depth -= 1,
                TokenKind::Word if depth == 0 => out.push((i, self.src[t.span.clone()].to_ascii_uppercase())),
                _ => {}
            }
        }
        out
    }

    /// A (possibly qualified) name starting at `i`; returns it and the index after it.
    fn name_at(&self, mut i: usize, dialect: Dialect) -> Option<(QualifiedName, usize)> {
        let mut parts = Vec::new();
        loop {
            let t = self.toks.get(i)?;
            let part = match t.kind {
                TokenKind::Word => {
                    let w = &self.src[t.span.clone()];
                    if dialect == Dialect::Postgres {
                        w.to_lowercase()
                    } else {
                        w.to_string()
                    }
                }
                TokenKind::QuotedIdent => unquote(&self.src[t.span.clone()]),
                _ => return None,
            };
            parts.push(part);
            i += 1;
            if self.text(i) == "." {
                i += 1;
            } else {
                break;
            }
        }
        let name = parts.pop()?;
        Some((QualifiedName { schema: parts.pop(), name }, i))
    }
}

fn unquote(s: &str) -> String {
    let q = s.chars().next().unwrap_or('"');
    let inner = &s[1..s.len().saturating_sub(1).max(1)];
    inner.replace(&format!("{q}{q}"), &q.to_string())
}

/// Classify one statement given its tokens.
pub fn classify(src: &str, tokens: &[Token], dialect: Dialect) -> StatementInfo {
    let w = Words::new(src, tokens);
    let top = w.top_level_keywords();
    let kws: Vec<&str> = top.iter().map(|(_, k)| k.as_str()).collect();
    let first = kws.first().copied().unwrap_or("");
    let second = kws.get(1).copied().unwrap_or("");
    let mut info = StatementInfo { summary: kws.iter().take(2).copied().collect::<Vec<_>>().join(" "), ..Default::default() };

    info.transaction_control = matches!(first, "BEGIN" | "COMMIT" | "ROLLBACK" | "END" | "ABORT" | "SAVEPOINT" | "RELEASE")
        || (first == "START" && second == "TRANSACTION");
    if dialect == Dialect::MySql {
        info.implicit_commit = !matches!(
            first,
            "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" | "WITH" | "SET" | "DO" | "VALUES" | "TABLE" | "SAVEPOINT" | "RELEASE"
        );
        return info;
    }

    let has = |k: &str| kws.contains(&k);
    let concurrently = has("CONCURRENTLY");
    let no_tx = match first {
        "CREATE" if concurrently && kws.iter().take(3).any(|k| *k == "INDEX") => Some("CREATE INDEX CONCURRENTLY"),
        "DROP" if second == "INDEX" && concurrently => Some("DROP INDEX CONCURRENTLY"),
        "REINDEX" if concurrently => Some("REINDEX CONCURRENTLY"),
        "REINDEX" if matches!(second, "DATABASE" | "SYSTEM") => Some("REINDEX DATABASE/SYSTEM"),
        "VACUUM" => Some("VACUUM"),
        "CREATE" | "DROP" if matches!(second, "DATABASE" | "TABLESPACE") => {
            Some(if second == "DATABASE" { "CREATE/DROP DATABASE" } else { "CREATE/DROP TABLESPACE" })
        }
        "CREATE" if second == "SUBSCRIPTION" => Some("CREATE SUBSCRIPTION"),
        "ALTER" if second == "SYSTEM" => Some("ALTER SYSTEM"),
        "ALTER" if second == "TABLE" && has("DETACH") && concurrently => Some("ALTER TABLE ... DETACH PARTITION CONCURRENTLY"),
        _ => None,
    };
    info.requires_no_transaction = no_tx.map(str::to_string);
    info.concurrently = concurrently && no_tx.is_some();
    if info.concurrently {
        info.index_op = index_op(&w, &top, first);
    }
    info
}

fn index_op(w: &Words, top: &[(usize, String)], first: &str) -> Option<IndexOp> {
    let pos = |k: &str| top.iter().find(|(_, kw)| kw == k).map(|(i, _)| *i);
    let d = Dialect::Postgres;
    match first {
        "CREATE" => {
            let mut i = pos("CONCURRENTLY")? + 1;
            let mut if_not_exists = false;
            if w.kw(i) == "IF" && w.kw(i + 1) == "NOT" && w.kw(i + 2) == "EXISTS" {
                if_not_exists = true;
                i += 3;
            }
            let index = if w.kw(i) == "ON" { None } else { w.name_at(i, d).map(|(n, _)| n) };
            let table = pos("ON").and_then(|on| {
                let j = if w.kw(on + 1) == "ONLY" { on + 2 } else { on + 1 };
                w.name_at(j, d).map(|(n, _)| n)
            });
            Some(IndexOp::CreateConcurrently { index, table, if_not_exists })
        }
        "DROP" => {
            let mut i = pos("CONCURRENTLY")? + 1;
            let mut if_exists = false;
            if w.kw(i) == "IF" && w.kw(i + 1) == "EXISTS" {
                if_exists = true;
                i += 2;
            }
            let (index, _) = w.name_at(i, d)?;
            Some(IndexOp::DropConcurrently { index, if_exists })
        }
        "REINDEX" => {
            let c = pos("CONCURRENTLY")?;
            let kind = top.iter().find(|(_, k)| k == "INDEX" || k == "TABLE").map(|(_, k)| k.clone())?;
            let (name, _) = w.name_at(c + 1, d)?;
            if kind == "INDEX" {
                Some(IndexOp::ReindexConcurrently { index: Some(name), table: None })
            } else {
                Some(IndexOp::ReindexConcurrently { index: None, table: Some(name) })
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn info(sql: &str) -> StatementInfo {
        classify(sql, &tokenize(sql, Dialect::Postgres).unwrap(), Dialect::Postgres)
    }

    fn q(schema: Option<&str>, name: &str) -> QualifiedName {
        QualifiedName { schema: schema.map(str::to_string), name: name.to_string() }
    }

    #[test]
    fn create_index_concurrently_is_non_transactional_and_named() {
        let i = info("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS Orders_Email ON ONLY public.orders (email)");
        assert_eq!(i.requires_no_transaction.as_deref(), Some("CREATE INDEX CONCURRENTLY"));
        assert!(i.concurrently);
        assert_eq!(
            i.index_op,
            Some(IndexOp::CreateConcurrently {
                index: Some(q(None, "orders_email")),
                table: Some(q(Some("public"), "orders")),
                if_not_exists: true
            })
        );
    }

    #[test]
    fn unnamed_concurrent_index() {
        let i = info("create index concurrently on t (a)");
        assert_eq!(i.index_op, Some(IndexOp::CreateConcurrently { index: None, table: Some(q(None, "t")), if_not_exists: false }));
    }

    #[test]
    fn drop_and_reindex_concurrently() {
        let i = info("DROP INDEX CONCURRENTLY IF EXISTS \"Weird\"\"Name\"");
        assert_eq!(i.index_op, Some(IndexOp::DropConcurrently { index: q(None, "Weird\"Name"), if_exists: true }));
        let i = info("REINDEX (VERBOSE) INDEX CONCURRENTLY s.idx");
        assert_eq!(i.index_op, Some(IndexOp::ReindexConcurrently { index: Some(q(Some("s"), "idx")), table: None }));
    }

    #[test]
    fn plain_statements_run_in_transactions() {
        for sql in ["CREATE INDEX i ON t (a)", "ALTER TABLE t ADD COLUMN concurrently int", "SELECT 'VACUUM'"] {
            assert_eq!(info(sql).requires_no_transaction, None, "{sql}");
        }
        assert!(info("VACUUM ANALYZE t").requires_no_transaction.is_some());
        assert!(info("COMMIT").transaction_control);
    }

    #[test]
    fn mysql_ddl_commits_implicitly() {
        let sql = "ALTER TABLE t ADD COLUMN a int";
        assert!(classify(sql, &tokenize(sql, Dialect::MySql).unwrap(), Dialect::MySql).implicit_commit);
        let sql = "UPDATE t SET a = 1";
        assert!(!classify(sql, &tokenize(sql, Dialect::MySql).unwrap(), Dialect::MySql).implicit_commit);
    }
}
