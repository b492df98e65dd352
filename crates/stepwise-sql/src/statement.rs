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
    /// PostgreSQL `CALL` and `DO`: a procedure or block may COMMIT, which it
    /// can only do when not called inside a transaction block.
    pub may_commit: bool,
    pub index_op: Option<IndexOp>,
    /// The first keywords, upper-cased, for messages ("CREATE INDEX").
    pub summary: String,
    /// The table whose lock the statement queues for, where it is DDL on
    /// one table (ALTER TABLE, CREATE INDEX ... ON, DROP TABLE, TRUNCATE,
    /// LOCK TABLE; MySQL also RENAME TABLE and OPTIMIZE TABLE): for naming
    /// the old transactions it would wait behind.
    pub ddl_table: Option<QualifiedName>,
    /// What of the data it destroys, which no down section can bring back:
    /// `DROP COLUMN`, `DROP TABLE`, `DROP SCHEMA`, `DROP DATABASE`, `TRUNCATE`, `DELETE`.
    pub destroys_data: Option<String>,
}

impl StatementInfo {
    /// The statement can run inside a transaction without ending it: not
    /// one PostgreSQL refuses there, not transaction control, not MySQL DDL
    /// (which commits implicitly).
    pub fn runs_in_transaction(&self) -> bool {
        self.requires_no_transaction.is_none() && !self.transaction_control && !self.implicit_commit && !self.may_commit
    }
}

/// What `migrate` needs to run an `ALTER TABLE` marked `-- stepwise:online`
/// through an online schema change: which table, and the clauses to apply to
/// its copy. Found from the statement's own tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlineAlter {
    /// Line of the `-- stepwise:online` directive.
    pub directive_line: usize,
    /// The table as written, parts joined by `.` (`public."Orders"`): the
    /// server resolves it as it would the statement's.
    pub table: String,
    /// The same name folded the way the server folds it (for comparisons).
    pub name: QualifiedName,
    /// Everything after the table name, without the delimiter
    /// (`ALTER COLUMN id TYPE bigint, ADD COLUMN note text`).
    pub clauses: String,
    /// `ALTER TABLE IF EXISTS`: a missing table is not an error.
    pub if_exists: bool,
    /// `ALTER TABLE ONLY`: not recursing to children (osc copies plain tables only).
    pub only: bool,
}

/// Read an `ALTER TABLE` marked online. `Err((offset, message))` says why it
/// cannot run online; the offset is into `src` (the file's text).
pub fn online_alter(src: &str, tokens: &[Token], dialect: Dialect, directive_line: usize) -> Result<OnlineAlter, (usize, String)> {
    let w = Words::new(src, tokens);
    let start = w.toks.first().map(|t| t.span.start).unwrap_or(0);
    let end = w.toks.last().map(|t| t.span.end).unwrap_or(start);
    let here = format!("`-- stepwise:online` (line {directive_line})");
    if w.kw(0) != "ALTER" || w.kw(1) != "TABLE" {
        let what: Vec<String> = (0..2).map(|i| w.text(i).to_ascii_uppercase()).filter(|t| !t.is_empty()).collect();
        return Err((
            start,
            format!("{here} applies to the next statement, which must be an `ALTER TABLE` on one table; this one is `{}`", what.join(" ")),
        ));
    }
    let mut i = 2;
    let mut if_exists = false;
    if w.kw(i) == "IF" && w.kw(i + 1) == "EXISTS" {
        if_exists = true;
        i += 2;
    }
    if w.kw(i) == "ALL" && w.kw(i + 1) == "IN" {
        return Err((
            w.span(i).start,
            format!("{here}: `ALTER TABLE ALL IN TABLESPACE` changes many tables; an online change copies one table"),
        ));
    }
    let only = w.kw(i) == "ONLY";
    if only {
        i += 1;
    }
    let first = i;
    let Some((name, after)) = w.name_at(i, dialect) else {
        return Err((w.span(i).start.min(end), format!("{here}: expected the name of the table to change after `ALTER TABLE`")));
    };
    // Parts as written (quotes kept), joined without the spaces around dots.
    let table = (first..after).filter(|&k| w.text(k) != ".").map(|k| w.text(k)).collect::<Vec<_>>().join(".");
    let mut rest = after;
    if w.text(rest) == "*" {
        // `t *`: the table and its children, the default.
        rest += 1;
    }
    let Some(clauses_at) = w.toks.get(rest).map(|t| t.span.start) else {
        return Err((end, format!("{here}: `ALTER TABLE {table}` says nothing to change")));
    };
    // Changes that only touch the catalog, or that osc cannot carry over:
    // each stands alone right after the name in PostgreSQL's grammar.
    let refuse = match (w.kw(rest).as_str(), w.kw(rest + 1).as_str()) {
        ("RENAME", _) => Some(
            "RENAME only changes the catalog (it is instant), and a copy cannot carry a renamed column's data over: run it without `-- stepwise:online`",
        ),
        ("SET", "SCHEMA") => Some("SET SCHEMA only changes the catalog (it is instant): run it without `-- stepwise:online`"),
        ("ATTACH" | "DETACH", "PARTITION") => {
            Some("ATTACH and DETACH PARTITION change a partitioned table, which an online change does not copy")
        }
        _ => None,
    };
    if let Some(why) = refuse {
        return Err((clauses_at, format!("{here}: {why}")));
    }
    let clauses = src[clauses_at..end].trim();
    crate::osc_alter::check(clauses, dialect).map_err(|why| (clauses_at, format!("{here}: {why}")))?;
    Ok(OnlineAlter { directive_line, table, name, clauses: src[clauses_at..end].trim().to_string(), if_exists, only })
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

    /// Span of token `i`; past the end, the empty span after the last token.
    fn span(&self, i: usize) -> std::ops::Range<usize> {
        match self.toks.get(i).or(self.toks.last()) {
            Some(t) if i < self.toks.len() => t.span.clone(),
            Some(t) => t.span.end..t.span.end,
            None => 0..0,
        }
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

/// Read a name a user typed (`orders`, `"My Table"`, `app.orders`,
/// `` `db`.`t` ``) as the server would read it in a statement: one or two
/// identifiers and nothing else (no comment, no `;`, no expression). Bare
/// words fold to lower case on PostgreSQL. The result is to be quoted by the
/// engine's quoting function before it reaches SQL.
pub fn parse_qualified_name(text: &str, dialect: Dialect) -> Result<QualifiedName, String> {
    let bad = || format!("{text:?} is not a name (write it as in SQL: name, schema.name, or a quoted \"Name\")");
    let tokens = crate::lexer::tokenize(text, dialect).map_err(|_| bad())?;
    let dots = tokens.iter().filter(|t| t.kind == TokenKind::Punct && &text[t.span.clone()] == ".").count();
    let only_names = tokens.iter().all(|t| {
        matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) || (t.kind == TokenKind::Punct && &text[t.span.clone()] == ".")
    });
    if !only_names || dots > 1 {
        return Err(bad());
    }
    let w = Words::new(text, &tokens);
    match w.name_at(0, dialect) {
        Some((name, end)) if end == w.toks.len() && !name.name.is_empty() && name.schema.as_deref() != Some("") => Ok(name),
        _ => Err(bad()),
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
    info.ddl_table = ddl_table(&w, &top, first, second, dialect);
    info.destroys_data = destroys_data(&w, &top, first, second);
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
        "REINDEX" if matches!(second, "DATABASE" | "SYSTEM" | "SCHEMA") => Some("REINDEX DATABASE/SCHEMA/SYSTEM"),
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
    info.may_commit = matches!(first, "CALL" | "DO");
    info.concurrently = concurrently && no_tx.is_some();
    if info.concurrently {
        info.index_op = index_op(&w, &top, first);
    }
    info
}

/// What of the data a statement destroys (see `StatementInfo::destroys_data`).
fn destroys_data(w: &Words, top: &[(usize, String)], first: &str, second: &str) -> Option<String> {
    match (first, second) {
        ("DROP", "TABLE" | "SCHEMA" | "DATABASE") => return Some(format!("DROP {second}")),
        ("TRUNCATE" | "DELETE", _) => return Some(first.to_string()),
        ("ALTER", "TABLE") => {}
        _ => return None,
    }
    // ALTER TABLE ... DROP [COLUMN] [IF EXISTS] c, but not DROP CONSTRAINT,
    // DROP INDEX/KEY, DROP PRIMARY/FOREIGN KEY, DROP CHECK, DROP PARTITION,
    // nor ALTER COLUMN c DROP DEFAULT / NOT NULL / IDENTITY / EXPRESSION.
    const NOT_A_COLUMN: &[&str] = &[
        "CONSTRAINT",
        "INDEX",
        "KEY",
        "PRIMARY",
        "FOREIGN",
        "CHECK",
        "PARTITION",
        "DEFAULT",
        "NOT",
        "IDENTITY",
        "EXPRESSION",
        "TRIGGER",
        "ROW",
        "OIDS",
        "CLUSTER",
        "SYSTEM",
        "PERIOD",
    ];
    let drops_column = top.iter().any(|(i, k)| {
        if k != "DROP" {
            return false;
        }
        let next = w.kw(i + 1);
        next == "COLUMN" || next == "IF" || (!NOT_A_COLUMN.contains(&next.as_str()) && w.name_at(i + 1, Dialect::MySql).is_some())
    });
    drops_column.then(|| "DROP COLUMN".to_string())
}

/// The one table a DDL statement locks (see `StatementInfo::ddl_table`).
fn ddl_table(w: &Words, top: &[(usize, String)], first: &str, second: &str, dialect: Dialect) -> Option<QualifiedName> {
    let pos = |k: &str| top.iter().find(|(_, kw)| kw == k).map(|(i, _)| *i);
    // The name after keyword position `i`, past IF [NOT] EXISTS and ONLY.
    let after = |i: usize| {
        let mut j = i + 1;
        while matches!(w.kw(j).as_str(), "IF" | "NOT" | "EXISTS" | "ONLY") {
            j += 1;
        }
        w.name_at(j, dialect).map(|(n, _)| n)
    };
    match (first, second) {
        ("ALTER", "TABLE") | ("DROP", "TABLE") | ("RENAME", "TABLE") | ("OPTIMIZE", "TABLE") => after(pos("TABLE")?),
        ("TRUNCATE", "TABLE") | ("LOCK", "TABLE") | ("LOCK", "TABLES") => after(top.get(1)?.0),
        ("TRUNCATE", _) | ("LOCK", _) => after(top.first()?.0),
        ("CREATE", _) if top.iter().take(4).any(|(_, k)| k == "INDEX") => after(pos("ON")?),
        // MySQL: DROP INDEX i ON t; CREATE TRIGGER ... ON t.
        ("DROP", "INDEX") if dialect == Dialect::MySql => after(pos("ON")?),
        ("CREATE", _) if top.iter().take(3).any(|(_, k)| k == "TRIGGER") => after(pos("ON")?),
        _ => None,
    }
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
    fn ddl_names_the_table_it_locks() {
        let t = |sql: &str, d: Dialect| classify(sql, &tokenize(sql, d).unwrap(), d).ddl_table;
        let pg = Dialect::Postgres;
        assert_eq!(t("ALTER TABLE IF EXISTS ONLY app.Orders ADD c int", pg), Some(q(Some("app"), "orders")));
        assert_eq!(t("create unique index i on only \"T\" (a)", pg), Some(q(None, "T")));
        assert_eq!(t("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)", pg), Some(q(None, "t")));
        assert_eq!(t("TRUNCATE t2, t3", pg), Some(q(None, "t2")));
        assert_eq!(t("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", pg), Some(q(None, "t")));
        assert_eq!(t("DROP TABLE t", pg), Some(q(None, "t")));
        assert_eq!(t("UPDATE t SET a = 1", pg), None);
        assert_eq!(t("CREATE TABLE t (a int)", pg), None);
        assert_eq!(t("ALTER TABLE `Db`.`T` ADD c int", Dialect::MySql), Some(q(Some("Db"), "T")));
        assert_eq!(t("RENAME TABLE a TO b", Dialect::MySql), Some(q(None, "a")));
        assert_eq!(t("DROP INDEX i ON t", Dialect::MySql), Some(q(None, "t")));
    }

    #[test]
    fn statements_that_destroy_data() {
        let d = |sql: &str, dialect: Dialect| classify(sql, &tokenize(sql, dialect).unwrap(), dialect).destroys_data;
        let pg = Dialect::Postgres;
        assert_eq!(d("ALTER TABLE t DROP COLUMN c", pg).as_deref(), Some("DROP COLUMN"));
        assert_eq!(d("ALTER TABLE t DROP c", pg).as_deref(), Some("DROP COLUMN"));
        assert_eq!(d("ALTER TABLE t DROP IF EXISTS c", pg).as_deref(), Some("DROP COLUMN"));
        assert_eq!(d("ALTER TABLE t ADD x int, DROP COLUMN y", pg).as_deref(), Some("DROP COLUMN"));
        assert_eq!(d("DROP TABLE t", pg).as_deref(), Some("DROP TABLE"));
        assert_eq!(d("TRUNCATE t", pg).as_deref(), Some("TRUNCATE"));
        assert_eq!(d("DELETE FROM t WHERE a = 1", pg).as_deref(), Some("DELETE"));
        for safe in [
            "ALTER TABLE t DROP CONSTRAINT c",
            "ALTER TABLE t ALTER COLUMN c DROP DEFAULT",
            "ALTER TABLE t ALTER COLUMN c DROP NOT NULL",
            "ALTER TABLE t ADD COLUMN c int",
            "DROP INDEX i",
            "CREATE TABLE t (a int)",
            "UPDATE t SET a = 1",
        ] {
            assert_eq!(d(safe, pg), None, "{safe}");
        }
        let my = Dialect::MySql;
        assert_eq!(d("ALTER TABLE t DROP `c`", my).as_deref(), Some("DROP COLUMN"));
        assert_eq!(d("ALTER TABLE t DROP FOREIGN KEY fk, DROP INDEX i, DROP PRIMARY KEY", my), None);
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

    fn online(sql: &str) -> Result<OnlineAlter, (usize, String)> {
        online_alter(sql, &tokenize(sql, Dialect::Postgres).unwrap(), Dialect::Postgres, 1)
    }

    #[test]
    fn online_alter_finds_the_table_and_the_clauses() {
        let a = online("ALTER TABLE orders ALTER COLUMN id TYPE bigint").unwrap();
        assert_eq!((a.table.as_str(), a.clauses.as_str()), ("orders", "ALTER COLUMN id TYPE bigint"));
        assert_eq!(a.name, q(None, "orders"));
        assert!(!a.if_exists && !a.only);

        let a = online("alter table if exists only Public . \"Big\"\"Orders\"\n  ADD COLUMN note text,\n  ALTER COLUMN id TYPE bigint")
            .unwrap();
        assert_eq!(a.table, "Public.\"Big\"\"Orders\"");
        assert_eq!(a.name, q(Some("public"), "Big\"Orders"));
        assert_eq!(a.clauses, "ADD COLUMN note text,\n  ALTER COLUMN id TYPE bigint");
        assert!(a.if_exists && a.only);

        // Comments between clauses stay; `*` (with children) is not a clause.
        let a = online("ALTER TABLE s.t * ADD COLUMN a int, /* why */ ADD COLUMN rename int -- end").unwrap();
        assert_eq!((a.table.as_str(), a.clauses.as_str()), ("s.t", "ADD COLUMN a int, /* why */ ADD COLUMN rename int"));
    }

    #[test]
    fn online_alter_refuses_what_is_not_one_table_to_copy() {
        let (at, msg) = online("CREATE INDEX i ON t (a)").unwrap_err();
        assert_eq!(at, 0);
        assert!(msg.contains("must be an `ALTER TABLE` on one table; this one is `CREATE INDEX`"), "{msg}");
        assert!(online("ALTER INDEX i RENAME TO j").unwrap_err().1.contains("`ALTER INDEX`"));
        let sql = "ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b";
        assert!(online(sql).unwrap_err().1.contains("many tables"));
        let sql = "ALTER TABLE t RENAME COLUMN a TO b";
        let (at, msg) = online(sql).unwrap_err();
        assert_eq!((at, msg.contains("RENAME")), (14, true), "{msg}");
        assert!(online("ALTER TABLE t SET SCHEMA s").unwrap_err().1.contains("SET SCHEMA"));
        assert!(online("ALTER TABLE p DETACH PARTITION c").unwrap_err().1.contains("PARTITION"));
        assert!(online("ALTER TABLE t").unwrap_err().1.contains("nothing to change"));
        assert!(online("ALTER TABLE (x)").unwrap_err().1.contains("name of the table"));
        // SET NOT NULL, SET DATA TYPE and friends are changes osc copies.
        assert!(online("ALTER TABLE t ALTER COLUMN a SET NOT NULL").is_ok());
    }

    #[test]
    fn mysql_ddl_commits_implicitly() {
        let sql = "ALTER TABLE t ADD COLUMN a int";
        assert!(classify(sql, &tokenize(sql, Dialect::MySql).unwrap(), Dialect::MySql).implicit_commit);
        let sql = "UPDATE t SET a = 1";
        assert!(!classify(sql, &tokenize(sql, Dialect::MySql).unwrap(), Dialect::MySql).implicit_commit);
    }

    #[test]
    fn what_can_commit_together_with_its_progress() {
        for sql in ["INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "CREATE INDEX i ON t (a)", "ALTER TABLE t ADD COLUMN c int"] {
            assert!(info(sql).runs_in_transaction(), "{sql}");
        }
        for sql in
            ["CREATE INDEX CONCURRENTLY i ON t (a)", "CALL p()", "DO $$ BEGIN COMMIT; END $$", "COMMIT", "VACUUM t", "REINDEX SCHEMA s"]
        {
            assert!(!info(sql).runs_in_transaction(), "{sql}");
        }
        let my = |sql: &str| classify(sql, &tokenize(sql, Dialect::MySql).unwrap(), Dialect::MySql);
        assert!(my("INSERT INTO t VALUES (1)").runs_in_transaction());
        assert!(!my("CREATE INDEX i ON t (a)").runs_in_transaction());
        assert!(!my("CALL p()").runs_in_transaction());
    }

    #[test]
    fn names_a_user_types_are_names_and_nothing_else() {
        let pg = |t: &str| parse_qualified_name(t, Dialect::Postgres);
        assert_eq!(pg("Purged").unwrap(), q(None, "purged"));
        assert_eq!(pg("app.\"My Table\"").unwrap(), q(Some("app"), "My Table"));
        assert_eq!(pg("\"we\"\"ird\"").unwrap(), q(None, "we\"ird"));
        for bad in ["purged (id int); DROP TABLE victim; --", "a b", "a.b.c", "", "a;", "a -- x", "a /* x */", "'a'", "a.", ".a", "\"\""] {
            assert!(pg(bad).is_err(), "{bad:?}");
        }
        let my = |t: &str| parse_qualified_name(t, Dialect::MySql);
        assert_eq!(my("`db`.`t``x`").unwrap(), q(Some("db"), "t`x"));
        assert_eq!(my("Purged").unwrap(), q(None, "Purged"));
        for bad in ["t /*! ; DROP TABLE victim */", "t#", "t; DROP TABLE victim"] {
            assert!(my(bad).is_err(), "{bad:?}");
        }
    }
}
