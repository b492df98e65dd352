//! The MySQL/MariaDB front end: read a statement's DDL from stepwise's own
//! lexer tokens (which already split the file, honour `DELIMITER`, and read
//! comments, strings and backquotes as the server does).
//!
//! Why not sqlparser: measured on the ALTER TABLE forms real migrations use,
//! its MySQL dialect (0.64) refused 21 of 70 (table options such as
//! `ENGINE=InnoDB`, `ROW_FORMAT`, `CONVERT TO CHARACTER SET`, `COMMENT`,
//! `FORCE`; `RENAME INDEX`; MariaDB's `IF EXISTS`, `WAIT n`, `ALTER ONLINE`;
//! partitioning; `CREATE FULLTEXT INDEX`; invisible indexes), and those are
//! the clauses whose algorithm matters most. This reader knows the DDL the
//! judge needs, clause by clause with positions, and says which clause it
//! does not know instead of failing the statement: that clause is judged as
//! a copy and reported.

use super::ast::*;
use stepwise_sql::lexer::{tokenize, TokenKind};
use stepwise_sql::Dialect;

#[derive(Debug, Clone, PartialEq, Eq)]
enum K {
    Word,
    Ident,
    Str,
    Num,
    LParen,
    RParen,
    Punct,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: K,
    /// Upper-cased for words; the unquoted value for identifiers and strings.
    text: String,
    start: usize,
    end: usize,
}

/// A statement the lexer cannot read (an unterminated quote): the file
/// parser reports those first, so this is only a guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub offset: usize,
    pub message: String,
}

pub fn read(sql: &str) -> Result<Stmt, ReadError> {
    let toks = lex(sql)?;
    let mut c = Cur { toks: &toks, i: 0, sql };
    let stmt = statement(&mut c);
    // An ALTER TABLE the reader cannot name the table of is not MySQL: say
    // where, rather than let a change go unjudged.
    if stmt == Stmt::Other && toks.first().is_some_and(|t| t.kind == K::Word && t.text == "ALTER") {
        let mut probe = Cur { toks: &toks, i: 1, sql };
        probe.eat("ONLINE");
        probe.eat("IGNORE");
        if probe.eat("TABLE") {
            probe.eat_all(&["IF", "EXISTS"]);
            return Err(ReadError { offset: probe.offset(), message: "ALTER TABLE needs a table name here".into() });
        }
    }
    Ok(stmt)
}

/// A column as the catalog describes it (`COLUMN_TYPE` such as
/// `varchar(255)` or `int(10) unsigned`): its type read the way a
/// migration's column definition is.
pub fn catalog_column(name: &str, column_type: &str) -> Option<ColumnDef> {
    let text = format!("c {column_type}");
    let toks = lex(&text).ok()?;
    let mut c = Cur { toks: &toks, i: 0, sql: &text };
    let mut col = column_def(&mut c)?;
    col.name = name.to_string();
    Some(col)
}

fn lex(sql: &str) -> Result<Vec<Tok>, ReadError> {
    let raw = tokenize(sql, Dialect::MySql).map_err(|e| ReadError { offset: e.offset, message: e.kind.to_string() })?;
    let mut out = Vec::with_capacity(raw.len());
    for t in raw {
        let text = &sql[t.span.clone()];
        let (kind, value) = match t.kind {
            TokenKind::Word => (K::Word, text.to_ascii_uppercase()),
            TokenKind::QuotedIdent => (K::Ident, unquote(text)),
            TokenKind::String => (K::Str, unquote(text)),
            TokenKind::Number => (K::Num, text.to_string()),
            TokenKind::LParen => (K::LParen, "(".into()),
            TokenKind::RParen => (K::RParen, ")".into()),
            TokenKind::Punct => (K::Punct, text.to_string()),
            // Executable comments (`/*!40101 ... */`) hold what mysqldump
            // wraps for old servers: table options, SET statements. The
            // judge reads the statement without them.
            TokenKind::LineComment | TokenKind::BlockComment | TokenKind::Delimiter | TokenKind::DelimiterCommand(_) => continue,
        };
        out.push(Tok { kind, text: value, start: t.span.start, end: t.span.end });
    }
    Ok(out)
}

/// `` `a``b` `` -> a`b; `'it''s'` -> it's (backslash escapes kept as written).
fn unquote(text: &str) -> String {
    let Some(q) = text.chars().next() else { return String::new() };
    if !matches!(q, '`' | '\'' | '"') || text.len() < 2 {
        return text.to_string();
    }
    let inner = &text[1..text.len() - 1];
    let doubled: String = [q, q].iter().collect();
    inner.replace(&doubled, &q.to_string())
}

struct Cur<'a> {
    toks: &'a [Tok],
    i: usize,
    sql: &'a str,
}

impl Cur<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.i + n)
    }
    fn done(&self) -> bool {
        self.i >= self.toks.len()
    }
    fn is(&self, w: &str) -> bool {
        self.peek().is_some_and(|t| t.kind == K::Word && t.text == w)
    }
    fn is_at(&self, n: usize, w: &str) -> bool {
        self.peek_at(n).is_some_and(|t| t.kind == K::Word && t.text == w)
    }
    fn eat(&mut self, w: &str) -> bool {
        if self.is(w) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_all(&mut self, ws: &[&str]) -> bool {
        if ws.iter().enumerate().all(|(n, w)| self.is_at(n, w)) {
            self.i += ws.len();
            true
        } else {
            false
        }
    }
    fn punct(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.kind == K::Punct && t.text == p)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.punct(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_eq(&mut self) {
        self.eat_punct("=");
    }
    fn offset(&self) -> usize {
        self.peek().map(|t| t.start).unwrap_or(self.sql.len())
    }
    /// An identifier: a bare word or a quoted name.
    fn ident(&mut self) -> Option<String> {
        let t = self.peek()?;
        let name = match t.kind {
            K::Ident => t.text.clone(),
            K::Word => self.sql[t.start..t.end].to_string(),
            _ => return None,
        };
        self.i += 1;
        Some(name)
    }
    /// `name` or `db.name`: the table part (the judge models one schema).
    fn table_name(&mut self) -> Option<String> {
        let mut name = self.ident()?;
        while self.punct(".") {
            self.i += 1;
            name = self.ident()?;
        }
        Some(name)
    }
    /// Skip one balanced parenthesised group (the cursor is at `(`).
    fn skip_group(&mut self) {
        let mut depth = 0;
        while let Some(t) = self.peek() {
            match t.kind {
                K::LParen => depth += 1,
                K::RParen => {
                    depth -= 1;
                    if depth <= 0 {
                        self.i += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
    }
    /// The items of a parenthesised list, split at top-level commas, as
    /// token index ranges (the cursor is at `(`; it ends after `)`).
    fn list(&mut self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.peek().map(|t| &t.kind) != Some(&K::LParen) {
            return out;
        }
        self.i += 1;
        let mut depth = 0;
        let mut start = self.i;
        while let Some(t) = self.peek() {
            match t.kind {
                K::LParen => depth += 1,
                K::RParen if depth == 0 => {
                    if start < self.i {
                        out.push((start, self.i));
                    }
                    self.i += 1;
                    return out;
                }
                K::RParen => depth -= 1,
                K::Punct if depth == 0 && t.text == "," => {
                    out.push((start, self.i));
                    start = self.i + 1;
                }
                _ => {}
            }
            self.i += 1;
        }
        if start < self.i {
            out.push((start, self.i));
        }
        out
    }
    fn sub(&self, range: (usize, usize)) -> Cur<'_> {
        Cur { toks: &self.toks[range.0..range.1], i: 0, sql: self.sql }
    }
}

fn statement(c: &mut Cur) -> Stmt {
    if c.eat("ALTER") {
        c.eat("ONLINE");
        let ignore = c.eat("IGNORE");
        if c.eat("TABLE") {
            c.eat_all(&["IF", "EXISTS"]);
            let Some(table) = c.table_name() else { return Stmt::Other };
            if c.eat("WAIT") {
                c.i += 1;
            }
            c.eat("NOWAIT");
            return Stmt::Alter(AlterTable { table, clauses: clauses(c), ignore });
        }
        return Stmt::Other;
    }
    if c.eat("CREATE") {
        c.eat_all(&["OR", "REPLACE"]);
        if c.eat("TEMPORARY") {
            return Stmt::Other;
        }
        if c.is("TABLE") {
            c.i += 1;
            return create_table(c);
        }
        c.eat("ONLINE");
        c.eat("OFFLINE");
        let kind = if c.eat("UNIQUE") {
            KeyKind::Unique
        } else if c.eat("FULLTEXT") {
            KeyKind::Fulltext
        } else if c.eat("SPATIAL") {
            KeyKind::Spatial
        } else {
            KeyKind::Plain
        };
        let offset = c.offset();
        if c.eat("INDEX") {
            c.eat_all(&["IF", "NOT", "EXISTS"]);
            let name = c.ident();
            if c.eat("USING") {
                c.i += 1;
            }
            if !c.eat("ON") {
                return Stmt::Other;
            }
            let Some(table) = c.table_name() else { return Stmt::Other };
            let columns = key_columns(c);
            let mut clauses = vec![Clause { op: Op::AddKey(KeyDef { name, kind, columns }), offset }];
            algorithm_and_lock(c, &mut clauses);
            return Stmt::Alter(AlterTable { table, clauses, ignore: false });
        }
        return Stmt::Other;
    }
    if c.eat("DROP") {
        c.eat("ONLINE");
        c.eat("OFFLINE");
        let offset = c.offset();
        if c.eat("INDEX") {
            c.eat_all(&["IF", "EXISTS"]);
            let Some(name) = c.ident() else { return Stmt::Other };
            if !c.eat("ON") {
                return Stmt::Other;
            }
            let Some(table) = c.table_name() else { return Stmt::Other };
            let op = if name.eq_ignore_ascii_case("PRIMARY") { Op::DropPrimaryKey } else { Op::DropKey { name } };
            let mut clauses = vec![Clause { op, offset }];
            algorithm_and_lock(c, &mut clauses);
            return Stmt::Alter(AlterTable { table, clauses, ignore: false });
        }
        if c.eat("TEMPORARY") {
            return Stmt::Other;
        }
        if c.eat("TABLE") || c.eat("TABLES") {
            c.eat_all(&["IF", "EXISTS"]);
            let mut tables = Vec::new();
            while let Some(t) = c.table_name() {
                tables.push(t);
                if !c.eat_punct(",") {
                    break;
                }
            }
            return Stmt::DropTable { tables };
        }
        return Stmt::Other;
    }
    if c.eat("RENAME") {
        if !(c.eat("TABLE") || c.eat("TABLES")) {
            return Stmt::Other;
        }
        let mut pairs = Vec::new();
        while let Some(from) = c.table_name() {
            if c.eat("WAIT") {
                c.i += 1;
            }
            c.eat("NOWAIT");
            if !c.eat("TO") {
                break;
            }
            let Some(to) = c.table_name() else { break };
            pairs.push((from, to));
            if !c.eat_punct(",") {
                break;
            }
        }
        return Stmt::RenameTable { pairs };
    }
    // OPTIMIZE TABLE on InnoDB is ALTER TABLE ... FORCE (a rebuild) and ANALYZE.
    if c.eat("OPTIMIZE") {
        let _ = c.eat("NO_WRITE_TO_BINLOG") || c.eat("LOCAL");
        let offset = c.offset();
        if c.eat("TABLE") || c.eat("TABLES") {
            if let Some(table) = c.table_name() {
                return Stmt::Alter(AlterTable { table, clauses: vec![Clause { op: Op::Force, offset }], ignore: false });
            }
        }
        return Stmt::Other;
    }
    if c.eat("TRUNCATE") {
        c.eat("TABLE");
        return match c.table_name() {
            Some(table) => Stmt::Truncate { table },
            None => Stmt::Other,
        };
    }
    if c.is("UPDATE") || c.is("DELETE") || c.is("INSERT") || c.is("REPLACE") {
        return data(c);
    }
    if c.eat("SET") {
        c.eat("SESSION");
        c.eat("LOCAL");
        let global = c.eat("GLOBAL");
        let Some(t) = c.peek() else { return Stmt::Other };
        let mut name = c.sql[t.start..t.end].to_ascii_lowercase();
        c.i += 1;
        if let Some(stripped) = name.strip_prefix("@@") {
            name = stripped.trim_start_matches("session.").trim_start_matches("local.").to_string();
        }
        // `SET @@session.x`: the lexer may give `@@session`, `.`, `x`.
        while c.eat_punct(".") {
            if let Some(t) = c.peek() {
                name = c.sql[t.start..t.end].to_ascii_lowercase();
                c.i += 1;
            }
        }
        if global || !c.eat_punct("=") && !c.eat_punct(":=") {
            return Stmt::Other;
        }
        let value = c.peek().map(|t| t.text.clone()).unwrap_or_default();
        return Stmt::Set { name, value };
    }
    Stmt::Other
}

fn data(c: &mut Cur) -> Stmt {
    let verb = match c.peek().map(|t| t.text.as_str()) {
        Some("UPDATE") => DataVerb::Update,
        Some("DELETE") => DataVerb::Delete,
        Some("INSERT") => DataVerb::Insert,
        _ => DataVerb::Replace,
    };
    c.i += 1;
    for m in ["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK", "IGNORE"] {
        c.eat(m);
    }
    if verb == DataVerb::Delete {
        c.eat("FROM");
    }
    if matches!(verb, DataVerb::Insert | DataVerb::Replace) {
        c.eat("INTO");
    }
    let Some(table) = c.table_name() else { return Stmt::Other };
    let rest = &c.toks[c.i..];
    let has = |w: &str| rest.iter().any(|t| t.kind == K::Word && t.text == w);
    let from_select = matches!(verb, DataVerb::Insert | DataVerb::Replace) && has("SELECT");
    let whole_table = matches!(verb, DataVerb::Update | DataVerb::Delete) && !has("WHERE") && !has("LIMIT");
    Stmt::Data { verb, table, from_select, whole_table }
}

/// `ALGORITHM [=] x` and `LOCK [=] x` after CREATE/DROP INDEX.
fn algorithm_and_lock(c: &mut Cur, clauses: &mut Vec<Clause>) {
    while !c.done() {
        let offset = c.offset();
        if c.eat("ALGORITHM") {
            c.eat_eq();
            if let Some(a) = c.peek().and_then(|t| Algorithm::parse(&t.text)) {
                clauses.push(Clause { op: Op::Algorithm(a), offset });
            }
            c.i += 1;
        } else if c.eat("LOCK") {
            c.eat_eq();
            if let Some(l) = c.peek().and_then(|t| LockLevel::parse(&t.text)) {
                clauses.push(Clause { op: Op::Lock(l), offset });
            }
            c.i += 1;
        } else {
            c.i += 1;
        }
    }
}

/// The clauses of an ALTER TABLE, split at top-level commas.
fn clauses(c: &mut Cur) -> Vec<Clause> {
    let mut ranges = Vec::new();
    let mut depth = 0;
    let mut start = c.i;
    for (n, t) in c.toks.iter().enumerate().skip(c.i) {
        match t.kind {
            K::LParen => depth += 1,
            K::RParen => depth -= 1,
            K::Punct if depth == 0 && t.text == "," => {
                ranges.push((start, n));
                start = n + 1;
            }
            _ => {}
        }
    }
    if start < c.toks.len() {
        ranges.push((start, c.toks.len()));
    }
    let mut out = Vec::new();
    for r in ranges.into_iter().filter(|r| r.0 < r.1) {
        let mut sub = c.sub(r);
        clause(&mut sub, &mut out);
    }
    c.i = c.toks.len();
    out
}

fn clause(c: &mut Cur, out: &mut Vec<Clause>) {
    let offset = c.offset();
    let start = c.i;
    let op = clause_op(c, out);
    if let Some(op) = op {
        out.push(Clause { op, offset });
    }
    // Table options may follow each other without commas: `ENGINE=InnoDB
    // DEFAULT CHARSET=utf8mb4`.
    if !c.done() && c.i > start {
        if let Some(op) = table_option(c) {
            let offset = c.toks[start].start;
            out.push(Clause { op, offset });
            if !c.done() {
                clause(c, out);
            }
        }
    }
}

fn unknown(c: &Cur, from: usize) -> Op {
    let start = c.toks.get(from).map(|t| t.start).unwrap_or(0);
    let end = c.toks.last().map(|t| t.end).unwrap_or(start);
    Op::Unknown { text: c.sql[start..end.max(start)].to_string() }
}

fn clause_op(c: &mut Cur, out: &mut Vec<Clause>) -> Option<Op> {
    let from = c.i;
    if c.eat("ADD") {
        return Some(add(c, out).unwrap_or_else(|| unknown(c, from)));
    }
    if c.eat("DROP") {
        let op = if c.eat_all(&["PRIMARY", "KEY"]) {
            Op::DropPrimaryKey
        } else if c.eat("INDEX") || c.eat("KEY") {
            c.eat_all(&["IF", "EXISTS"]);
            match c.ident() {
                Some(name) => Op::DropKey { name },
                None => unknown(c, from),
            }
        } else if c.eat_all(&["FOREIGN", "KEY"]) {
            c.eat_all(&["IF", "EXISTS"]);
            match c.ident() {
                Some(name) => Op::DropForeignKey { name },
                None => unknown(c, from),
            }
        } else if c.eat("CONSTRAINT") || c.eat("CHECK") {
            c.eat_all(&["IF", "EXISTS"]);
            match c.ident() {
                Some(name) => Op::DropConstraint { name },
                None => unknown(c, from),
            }
        } else if c.is("PARTITION") {
            c.i = c.toks.len();
            Op::Partition { what: "DROP PARTITION".into() }
        } else {
            c.eat("COLUMN");
            c.eat_all(&["IF", "EXISTS"]);
            match c.ident() {
                Some(name) => Op::DropColumn { name },
                None => unknown(c, from),
            }
        };
        // `RESTRICT` / `CASCADE` are accepted and ignored by the server.
        c.eat("RESTRICT");
        c.eat("CASCADE");
        return Some(op);
    }
    if c.eat("MODIFY") {
        c.eat("COLUMN");
        c.eat_all(&["IF", "EXISTS"]);
        let Some(col) = column_def(c) else { return Some(unknown(c, from)) };
        let position = position(c);
        return Some(Op::ChangeColumn { old: col.name.clone(), col, position });
    }
    if c.eat("CHANGE") {
        c.eat("COLUMN");
        c.eat_all(&["IF", "EXISTS"]);
        let Some(old) = c.ident() else { return Some(unknown(c, from)) };
        let Some(col) = column_def(c) else { return Some(unknown(c, from)) };
        let position = position(c);
        return Some(Op::ChangeColumn { old, col, position });
    }
    if c.eat("RENAME") {
        if c.eat("COLUMN") {
            c.eat_all(&["IF", "EXISTS"]);
            let old = c.ident();
            c.eat("TO");
            return Some(match (old, c.ident()) {
                (Some(old), Some(new)) => Op::RenameColumn { old, new },
                _ => unknown(c, from),
            });
        }
        if c.eat("INDEX") || c.eat("KEY") {
            c.eat_all(&["IF", "EXISTS"]);
            let old = c.ident();
            c.eat("TO");
            return Some(match (old, c.ident()) {
                (Some(old), Some(new)) => Op::RenameKey { old, new },
                _ => unknown(c, from),
            });
        }
        if !c.eat("TO") {
            c.eat("AS");
        }
        return Some(match c.table_name() {
            Some(to) => Op::RenameTable { to },
            None => unknown(c, from),
        });
    }
    if c.eat("ALTER") {
        if c.eat("INDEX") || c.eat("KEY") {
            return Some(match c.ident() {
                Some(name) => {
                    c.i = c.toks.len();
                    Op::KeyVisibility { name }
                }
                None => unknown(c, from),
            });
        }
        c.eat("COLUMN");
        c.eat_all(&["IF", "EXISTS"]);
        let Some(name) = c.ident() else { return Some(unknown(c, from)) };
        if c.eat_all(&["SET", "DEFAULT"])
            || c.eat_all(&["DROP", "DEFAULT"])
            || c.eat_all(&["SET", "VISIBLE"])
            || c.eat_all(&["SET", "INVISIBLE"])
        {
            c.i = c.toks.len();
            return Some(Op::ColumnDefault { name });
        }
        return Some(unknown(c, from));
    }
    if c.eat("ALGORITHM") {
        c.eat_eq();
        let a = c.peek().and_then(|t| Algorithm::parse(&t.text));
        c.i += 1;
        return Some(match a {
            Some(a) => Op::Algorithm(a),
            None if c.toks.get(c.i - 1).is_some_and(|t| t.text == "DEFAULT") => return None,
            None => unknown(c, from),
        });
    }
    if c.eat("LOCK") {
        c.eat_eq();
        let l = c.peek().and_then(|t| LockLevel::parse(&t.text));
        c.i += 1;
        return Some(match l {
            Some(l) => Op::Lock(l),
            None => unknown(c, from),
        });
    }
    if c.eat("CONVERT") {
        c.eat("TO");
        if c.eat("CHARSET") || c.eat_all(&["CHARACTER", "SET"]) {
            c.eat_eq();
            let charset = c.ident().unwrap_or_default().to_ascii_lowercase();
            if c.eat("COLLATE") {
                c.eat_eq();
                c.ident();
            }
            return Some(Op::ConvertCharset { charset });
        }
        return Some(unknown(c, from));
    }
    if c.eat_all(&["ORDER", "BY"]) {
        c.i = c.toks.len();
        return Some(Op::OrderBy);
    }
    for p in [
        "PARTITION",
        "COALESCE",
        "REORGANIZE",
        "EXCHANGE",
        "ANALYZE",
        "CHECK",
        "OPTIMIZE",
        "REBUILD",
        "REPAIR",
        "REMOVE",
        "TRUNCATE",
        "DISCARD",
        "IMPORT",
    ] {
        if c.is(p) {
            let what = c.sql[c.toks[from].start..c.toks.last().map(|t| t.end).unwrap_or(0)].to_string();
            c.i = c.toks.len();
            return Some(Op::Partition { what });
        }
    }
    if let Some(op) = table_option(c) {
        return Some(op);
    }
    Some(unknown(c, from))
}

/// Table options: `ENGINE [=] x`, `FORCE`, `ROW_FORMAT`, `KEY_BLOCK_SIZE`,
/// `[DEFAULT] CHARSET | CHARACTER SET | COLLATE`, `COMMENT`, `AUTO_INCREMENT`
/// and the `STATS_*` options.
fn table_option(c: &mut Cur) -> Option<Op> {
    let from = c.i;
    let value = |c: &mut Cur| {
        c.eat_eq();
        let v = c.peek().map(|t| t.text.clone()).unwrap_or_default();
        c.i += 1;
        v
    };
    let op = if c.eat("FORCE") {
        Op::Force
    } else if c.eat("ENGINE") || c.eat("TYPE") {
        Op::Engine { name: value(c) }
    } else if c.eat("ROW_FORMAT") {
        Op::RowFormat { name: value(c) }
    } else if c.eat("KEY_BLOCK_SIZE") {
        value(c);
        Op::KeyBlockSize
    } else if c.eat("COMMENT") {
        value(c);
        Op::Comment
    } else if c.eat("AUTO_INCREMENT") {
        value(c);
        Op::AutoIncrementValue
    } else if ["STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES", "PACK_KEYS", "CHECKSUM", "DELAY_KEY_WRITE", "PAGE_CHECKSUM"]
        .iter()
        .any(|w| c.is(w))
    {
        c.i += 1;
        value(c);
        Op::StatsOption
    } else {
        c.eat("DEFAULT");
        if c.eat("CHARSET") || c.eat_all(&["CHARACTER", "SET"]) || c.eat("COLLATE") {
            value(c);
            if c.eat("COLLATE") {
                value(c);
            }
            Op::DefaultCharset
        } else {
            c.i = from;
            return None;
        }
    };
    Some(op)
}

/// A key or constraint definition, in CREATE TABLE or after ALTER's ADD.
enum Def {
    Key(KeyDef),
    ForeignKey(ForeignKeyDef),
    Check,
    /// `CONSTRAINT name` followed by something else.
    Broken,
}

/// `[CONSTRAINT [name]] PRIMARY KEY | UNIQUE | FULLTEXT | SPATIAL | INDEX |
/// KEY | FOREIGN KEY | CHECK ...`; None (the cursor unmoved) for a column.
fn constraint_def(c: &mut Cur) -> Option<Def> {
    let mut name = None;
    let named = c.eat("CONSTRAINT");
    if named && !(c.is("PRIMARY") || c.is("UNIQUE") || c.is("FOREIGN") || c.is("CHECK")) {
        name = c.ident();
    }
    if c.eat_all(&["PRIMARY", "KEY"]) {
        if c.eat("USING") {
            c.i += 1;
        }
        return Some(Def::Key(KeyDef { name: Some("PRIMARY".into()), kind: KeyKind::Primary, columns: key_columns(c) }));
    }
    let kind = if c.eat("UNIQUE") {
        Some(KeyKind::Unique)
    } else if c.eat("FULLTEXT") {
        Some(KeyKind::Fulltext)
    } else if c.eat("SPATIAL") {
        Some(KeyKind::Spatial)
    } else {
        None
    };
    if kind.is_some() || c.is("INDEX") || c.is("KEY") {
        let _ = c.eat("INDEX") || c.eat("KEY");
        c.eat_all(&["IF", "NOT", "EXISTS"]);
        if c.peek().is_some_and(|t| t.kind != K::LParen) && !c.is("USING") {
            name = c.ident().or(name);
        }
        if c.eat("USING") {
            c.i += 1;
        }
        return Some(Def::Key(KeyDef { name, kind: kind.unwrap_or(KeyKind::Plain), columns: key_columns(c) }));
    }
    if c.eat_all(&["FOREIGN", "KEY"]) {
        c.eat_all(&["IF", "NOT", "EXISTS"]);
        if c.peek().is_some_and(|t| t.kind != K::LParen) {
            name = c.ident().or(name);
        }
        let columns = key_columns(c);
        if !c.eat("REFERENCES") {
            return Some(Def::Broken);
        }
        let Some(table) = c.table_name() else { return Some(Def::Broken) };
        // ON DELETE / ON UPDATE change no algorithm.
        c.i = c.toks.len();
        return Some(Def::ForeignKey(ForeignKeyDef { name, columns, table }));
    }
    if c.eat("CHECK") {
        c.i = c.toks.len();
        return Some(Def::Check);
    }
    named.then_some(Def::Broken)
}

fn add(c: &mut Cur, out: &mut Vec<Clause>) -> Option<Op> {
    if c.is("PARTITION") {
        c.i = c.toks.len();
        return Some(Op::Partition { what: "ADD PARTITION".into() });
    }
    match constraint_def(c) {
        Some(Def::Key(k)) => return Some(Op::AddKey(k)),
        Some(Def::ForeignKey(f)) => return Some(Op::AddForeignKey(f)),
        Some(Def::Check) => return Some(Op::AddCheck),
        Some(Def::Broken) => return None,
        None => {}
    }
    c.eat("COLUMN");
    c.eat_all(&["IF", "NOT", "EXISTS"]);
    // `ADD COLUMN (a INT, b INT)`: one clause per column.
    if c.peek().is_some_and(|t| t.kind == K::LParen) {
        let offset = c.offset();
        let items = c.list();
        let mut last = None;
        for r in items {
            let mut sub = c.sub(r);
            if let Some(col) = column_def(&mut sub) {
                if let Some(prev) = last.replace(Op::AddColumn { col, position: None }) {
                    out.push(Clause { op: prev, offset });
                }
            }
        }
        return last;
    }
    let col = column_def(c)?;
    let position = position(c);
    Some(Op::AddColumn { col, position })
}

fn position(c: &mut Cur) -> Option<Position> {
    if c.eat("FIRST") {
        Some(Position::First)
    } else if c.eat("AFTER") {
        c.ident().map(Position::After)
    } else {
        None
    }
}

/// The column names of a key's `(a, b(10), c DESC)`; expressions are left out.
fn key_columns(c: &mut Cur) -> Vec<String> {
    let items = c.list();
    let mut cols = Vec::new();
    for r in items {
        let sub = c.sub(r);
        if let Some(t) = sub.peek() {
            if matches!(t.kind, K::Word | K::Ident) {
                cols.push(if t.kind == K::Ident { t.text.clone() } else { c.sql[t.start..t.end].to_string() });
            }
        }
    }
    cols
}

/// `name type [attributes]`. Stops before `FIRST`/`AFTER`.
fn column_def(c: &mut Cur) -> Option<ColumnDef> {
    let name = c.ident()?;
    let mut col = ColumnDef { name, ..Default::default() };
    let t = c.peek()?;
    if t.kind != K::Word {
        return None;
    }
    let mut base = t.text.clone();
    c.i += 1;
    // Two-word types.
    for (a, b) in [("DOUBLE", "PRECISION"), ("CHARACTER", "VARYING"), ("NATIONAL", "VARCHAR"), ("NATIONAL", "CHAR"), ("LONG", "VARCHAR")] {
        if base == a && c.is(b) {
            c.i += 1;
            base = if b == "VARYING" { "VARCHAR".into() } else { b.to_string() };
        }
    }
    if base == "NCHAR" || base == "NVARCHAR" {
        base = base[1..].to_string();
        col.ty.charset = Some("utf8mb3".into());
    }
    col.ty.base = match base.as_str() {
        "INTEGER" => "INT".into(),
        "BOOL" | "BOOLEAN" => "TINYINT".into(),
        "DEC" | "NUMERIC" | "FIXED" => "DECIMAL".into(),
        _ => base,
    };
    if c.peek().is_some_and(|t| t.kind == K::LParen) {
        let items = c.list();
        col.ty.params = items
            .iter()
            .map(|&(a, b)| {
                let toks = &c.toks[a..b];
                match toks {
                    [t] if t.kind == K::Str => format!("'{}'", t.text),
                    _ => toks.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" "),
                }
            })
            .collect();
    }
    while !c.done() {
        if c.is("FIRST") || c.is("AFTER") {
            break;
        }
        if c.eat("UNSIGNED") {
            col.ty.unsigned = true;
        } else if c.eat("ZEROFILL") || c.eat("SIGNED") || c.eat("BINARY") || c.eat("ASCII") || c.eat("UNICODE") {
        } else if c.eat("CHARSET") || c.eat_all(&["CHARACTER", "SET"]) {
            col.ty.charset = c.ident().map(|s| s.to_ascii_lowercase());
        } else if c.eat("COLLATE") {
            col.ty.collation = c.ident().map(|s| s.to_ascii_lowercase());
        } else if c.eat_all(&["NOT", "NULL"]) {
            col.not_null = Some(true);
        } else if c.eat("NULL") {
            col.not_null = Some(false);
        } else if c.eat("DEFAULT") {
            col.default = Some(default_kind(c));
        } else if c.eat("AUTO_INCREMENT") {
            col.auto_increment = true;
        } else if c.eat_all(&["PRIMARY", "KEY"]) {
            col.primary = true;
        } else if c.eat("UNIQUE") {
            col.unique = true;
            let _ = c.eat("KEY") || c.eat("INDEX");
        } else if c.eat("KEY") {
            col.primary = true;
        } else if c.eat("COMMENT") || c.eat("COLUMN_FORMAT") || c.eat("STORAGE") || c.eat("SRID") {
            c.i += 1;
        } else if c.eat_all(&["ON", "UPDATE"]) {
            // CURRENT_TIMESTAMP[(n)]
            c.i += 1;
            if c.peek().is_some_and(|t| t.kind == K::LParen) {
                c.skip_group();
            }
        } else if c.eat_all(&["GENERATED", "ALWAYS"]) || c.is("AS") {
            c.eat("AS");
            c.skip_group();
            col.generated = Some(Generated::Virtual);
        } else if c.eat("STORED") || c.eat("PERSISTENT") {
            col.generated = Some(Generated::Stored);
        } else if c.eat("VIRTUAL") {
            col.generated = Some(Generated::Virtual);
        } else if c.eat("REFERENCES") {
            col.references = c.table_name();
            if c.peek().is_some_and(|t| t.kind == K::LParen) {
                c.skip_group();
            }
        } else if c.eat("CHECK") || c.eat("CONSTRAINT") {
            if !c.peek().is_some_and(|t| t.kind == K::LParen) {
                c.i += 1;
                c.eat("CHECK");
            }
            c.skip_group();
        } else if c.peek().is_some_and(|t| t.kind == K::LParen) {
            c.skip_group();
        } else {
            c.i += 1;
        }
    }
    Some(col)
}

fn default_kind(c: &mut Cur) -> DefaultKind {
    let Some(t) = c.peek().cloned() else { return DefaultKind::Literal };
    match t.kind {
        K::LParen => {
            // `DEFAULT (expr)`: a literal in parentheses is still a literal.
            let start = c.i;
            c.skip_group();
            let inner = &c.toks[start + 1..c.i.saturating_sub(1)];
            match inner {
                [x] if matches!(x.kind, K::Num | K::Str) => DefaultKind::Literal,
                [x] if x.kind == K::Word && x.text == "NULL" => DefaultKind::Literal,
                _ => DefaultKind::Expression,
            }
        }
        K::Str | K::Num => {
            c.i += 1;
            DefaultKind::Literal
        }
        K::Punct if t.text == "-" || t.text == "+" => {
            c.i += 2;
            DefaultKind::Literal
        }
        K::Word => {
            c.i += 1;
            let call = c.peek().is_some_and(|t| t.kind == K::LParen);
            if call {
                c.skip_group();
            }
            match t.text.as_str() {
                "NULL" | "TRUE" | "FALSE" => DefaultKind::Literal,
                "CURRENT_TIMESTAMP" | "NOW" | "LOCALTIME" | "LOCALTIMESTAMP" | "CURRENT_DATE" | "CURDATE" => DefaultKind::CurrentTimestamp,
                // `DEFAULT b'0'`, `DEFAULT x'..'`, `DEFAULT _utf8mb4'x'`.
                w if !call && (w == "B" || w == "X" || w.starts_with('_')) => {
                    if c.peek().is_some_and(|t| t.kind == K::Str) {
                        c.i += 1;
                    }
                    DefaultKind::Literal
                }
                _ if call => DefaultKind::Expression,
                _ => DefaultKind::Literal,
            }
        }
        _ => {
            c.i += 1;
            DefaultKind::Literal
        }
    }
}

fn create_table(c: &mut Cur) -> Stmt {
    c.eat_all(&["IF", "NOT", "EXISTS"]);
    let Some(table) = c.table_name() else { return Stmt::Other };
    let mut ct = CreateTable { table, ..Default::default() };
    if c.eat("LIKE") {
        ct.like = c.table_name();
        return Stmt::CreateTable(ct);
    }
    if c.peek().is_some_and(|t| t.kind == K::LParen) {
        if c.is_at(1, "LIKE") {
            c.i += 2;
            ct.like = c.table_name();
            return Stmt::CreateTable(ct);
        }
        for r in c.list() {
            let mut sub = c.sub(r);
            definition(&mut sub, &mut ct);
        }
    }
    // Table options, then maybe PARTITION BY and a SELECT.
    while !c.done() {
        if c.eat("PARTITION") {
            ct.partitioned = true;
            break;
        }
        if c.is("SELECT") || c.is("AS") || c.is("IGNORE") || c.is("REPLACE") {
            ct.select = true;
            break;
        }
        if c.eat("ROW_FORMAT") {
            c.eat_eq();
            ct.row_format = c.peek().map(|t| t.text.clone());
            c.i += 1;
        } else if c.eat("CHARSET") || c.eat_all(&["CHARACTER", "SET"]) {
            c.eat_eq();
            ct.charset = c.ident().map(|s| s.to_ascii_lowercase());
        } else if c.eat("COLLATE") {
            c.eat_eq();
            let coll = c.ident().map(|s| s.to_ascii_lowercase());
            if ct.charset.is_none() {
                ct.charset = coll.and_then(|s| s.split('_').next().map(str::to_string));
            }
        } else {
            c.i += 1;
        }
    }
    Stmt::CreateTable(ct)
}

fn definition(c: &mut Cur, ct: &mut CreateTable) {
    match constraint_def(c) {
        Some(Def::Key(k)) => return ct.keys.push(k),
        Some(Def::ForeignKey(f)) => return ct.foreign_keys.push(f),
        Some(_) => return,
        None => {}
    }
    if c.is("PERIOD") {
        return;
    }
    if let Some(col) = column_def(c) {
        if col.primary {
            ct.keys.push(KeyDef { name: Some("PRIMARY".into()), kind: KeyKind::Primary, columns: vec![col.name.clone()] });
        } else if col.unique {
            ct.keys.push(KeyDef { name: Some(col.name.clone()), kind: KeyKind::Unique, columns: vec![col.name.clone()] });
        }
        ct.columns.push(col);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alter(sql: &str) -> AlterTable {
        match read(sql).unwrap() {
            Stmt::Alter(a) => a,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn ops(sql: &str) -> Vec<Op> {
        alter(sql).clauses.into_iter().map(|c| c.op).collect()
    }

    #[test]
    fn reads_every_alter_form_real_migrations_use() {
        // Each of these was refused by sqlparser 0.64's MySQL dialect.
        for (sql, want) in [
            ("ALTER TABLE t ENGINE=InnoDB", Op::Engine { name: "INNODB".into() }),
            ("ALTER TABLE t FORCE", Op::Force),
            ("ALTER TABLE t ROW_FORMAT=DYNAMIC", Op::RowFormat { name: "DYNAMIC".into() }),
            ("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", Op::ConvertCharset { charset: "utf8mb4".into() }),
            ("ALTER TABLE t DEFAULT CHARSET=utf8mb4", Op::DefaultCharset),
            ("ALTER TABLE t COMMENT 'x'", Op::Comment),
            ("ALTER TABLE t RENAME INDEX a TO b", Op::RenameKey { old: "a".into(), new: "b".into() }),
            ("ALTER TABLE t DROP CHECK ck", Op::DropConstraint { name: "ck".into() }),
            ("ALTER ONLINE TABLE t ADD COLUMN x int", Op::AddColumn { col: col("x", "INT"), position: None }),
            ("ALTER TABLE t WAIT 5 DROP COLUMN x", Op::DropColumn { name: "x".into() }),
            ("ALTER TABLE IF EXISTS t DROP COLUMN IF EXISTS x", Op::DropColumn { name: "x".into() }),
            ("ALTER TABLE t ALTER INDEX idx INVISIBLE", Op::KeyVisibility { name: "idx".into() }),
            ("ALTER TABLE t DROP PARTITION p1", Op::Partition { what: "DROP PARTITION".into() }),
        ] {
            assert_eq!(ops(sql), [want], "{sql}");
        }
    }

    fn col(name: &str, base: &str) -> ColumnDef {
        ColumnDef { name: name.into(), ty: ColType { base: base.into(), ..Default::default() }, ..Default::default() }
    }

    #[test]
    fn columns_keep_what_decides_the_algorithm() {
        let [Op::AddColumn { col, position }] =
            &ops("ALTER TABLE `t` ADD COLUMN `g` INT GENERATED ALWAYS AS (a + 1) STORED NOT NULL AFTER `a`")[..]
        else {
            panic!()
        };
        assert_eq!((col.name.as_str(), col.generated, col.not_null), ("g", Some(Generated::Stored), Some(true)));
        assert_eq!(position, &Some(Position::After("a".into())));
        let [Op::ChangeColumn { old, col, .. }] =
            &ops("ALTER TABLE t CHANGE COLUMN a b VARCHAR(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'x, y' NOT NULL")[..]
        else {
            panic!()
        };
        assert_eq!((old.as_str(), col.name.as_str()), ("a", "b"));
        assert_eq!(
            col.ty,
            ColType {
                base: "VARCHAR".into(),
                params: vec!["300".into()],
                unsigned: false,
                charset: Some("utf8mb4".into()),
                collation: Some("utf8mb4_bin".into())
            }
        );
        assert_eq!(col.default, Some(DefaultKind::Literal));
        for (sql, kind) in [
            ("ALTER TABLE t ADD x CHAR(36) DEFAULT (uuid())", DefaultKind::Expression),
            ("ALTER TABLE t ADD x DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)", DefaultKind::CurrentTimestamp),
            ("ALTER TABLE t ADD x INT DEFAULT -1", DefaultKind::Literal),
            ("ALTER TABLE t ADD x INT DEFAULT (5)", DefaultKind::Literal),
        ] {
            let [Op::AddColumn { col, .. }] = &ops(sql)[..] else { panic!("{sql}") };
            assert_eq!(col.default, Some(kind), "{sql}");
        }
        let [Op::ChangeColumn { col, .. }] = &ops("ALTER TABLE t MODIFY e ENUM('a','b, c') NOT NULL")[..] else { panic!() };
        assert_eq!(col.ty.params, ["'a'", "'b, c'"]);
    }

    #[test]
    fn keys_foreign_keys_and_options() {
        let got = ops("ALTER TABLE t ADD UNIQUE KEY uk (a, b(10)), ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES p (id) ON DELETE CASCADE, ADD INDEX (d), ADD FULLTEXT ft (body), DROP PRIMARY KEY, ADD PRIMARY KEY (id, a), ALGORITHM=INPLACE, LOCK=NONE");
        assert_eq!(got[0], Op::AddKey(KeyDef { name: Some("uk".into()), kind: KeyKind::Unique, columns: vec!["a".into(), "b".into()] }));
        assert_eq!(got[1], Op::AddForeignKey(ForeignKeyDef { name: Some("fk".into()), columns: vec!["c".into()], table: "p".into() }));
        assert_eq!(got[2], Op::AddKey(KeyDef { name: None, kind: KeyKind::Plain, columns: vec!["d".into()] }));
        assert!(matches!(&got[3], Op::AddKey(k) if k.kind == KeyKind::Fulltext));
        assert_eq!(got[4], Op::DropPrimaryKey);
        assert!(matches!(&got[5], Op::AddKey(k) if k.kind == KeyKind::Primary));
        assert_eq!(got[6..], [Op::Algorithm(Algorithm::Inplace), Op::Lock(Some(LockLevel::None))]);
        assert_eq!(ops("ALTER TABLE t ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"), [Op::Engine { name: "INNODB".into() }, Op::DefaultCharset]);
    }

    #[test]
    fn clauses_point_at_where_they_start() {
        let sql = "ALTER TABLE t\n  ADD COLUMN a INT,\n  DROP COLUMN b";
        let a = alter(sql);
        assert_eq!(a.clauses.iter().map(|c| &sql[c.offset..c.offset + 4]).collect::<Vec<_>>(), ["ADD ", "DROP"]);
    }

    #[test]
    fn index_statements_are_alters() {
        let a = alter("CREATE UNIQUE INDEX idx ON db.t (a) ALGORITHM=INPLACE LOCK=NONE");
        assert_eq!(a.table, "t");
        assert_eq!(a.clauses.len(), 3);
        assert_eq!(ops("DROP INDEX `PRIMARY` ON t"), [Op::DropPrimaryKey]);
        assert!(matches!(&ops("CREATE FULLTEXT INDEX ft ON t (b)")[0], Op::AddKey(k) if k.kind == KeyKind::Fulltext));
    }

    #[test]
    fn other_statements() {
        assert_eq!(
            read("RENAME TABLE a TO b, c TO d").unwrap(),
            Stmt::RenameTable { pairs: vec![("a".into(), "b".into()), ("c".into(), "d".into())] }
        );
        assert_eq!(read("DROP TABLE IF EXISTS a, `b`").unwrap(), Stmt::DropTable { tables: vec!["a".into(), "b".into()] });
        assert_eq!(read("TRUNCATE t").unwrap(), Stmt::Truncate { table: "t".into() });
        assert_eq!(
            read("UPDATE t SET a = 1").unwrap(),
            Stmt::Data { verb: DataVerb::Update, table: "t".into(), from_select: false, whole_table: true }
        );
        assert_eq!(
            read("INSERT INTO t (a) SELECT a FROM u").unwrap(),
            Stmt::Data { verb: DataVerb::Insert, table: "t".into(), from_select: true, whole_table: false }
        );
        assert_eq!(read("SET foreign_key_checks = 0").unwrap(), Stmt::Set { name: "foreign_key_checks".into(), value: "0".into() });
        assert_eq!(read("SET SESSION sql_mode = ''").unwrap(), Stmt::Set { name: "sql_mode".into(), value: "".into() });
        let Stmt::CreateTable(ct) = read("CREATE TABLE t (id bigint NOT NULL AUTO_INCREMENT, name varchar(255) NOT NULL, PRIMARY KEY (id), UNIQUE KEY uk (name), FULLTEXT KEY ft (name), CONSTRAINT fk FOREIGN KEY (id) REFERENCES p (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 ROW_FORMAT=COMPRESSED").unwrap() else { panic!() };
        assert_eq!(ct.columns.len(), 2);
        assert_eq!(ct.keys.len(), 3);
        assert_eq!(ct.foreign_keys.len(), 1);
        assert_eq!((ct.charset.as_deref(), ct.row_format.as_deref()), (Some("utf8mb4"), Some("COMPRESSED")));
        assert_eq!(read("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1").unwrap(), Stmt::Other);
    }

    #[test]
    fn optimize_is_a_rebuild_and_a_nameless_alter_is_an_error() {
        assert_eq!(ops("OPTIMIZE TABLE t"), [Op::Force]);
        let e = read("ALTER TABLE ,ADD COLUMN x int").unwrap_err();
        assert_eq!(e.offset, 12);
        assert_eq!(read("ALTER VIEW v AS SELECT 1").unwrap(), Stmt::Other);
    }

    #[test]
    fn unknown_clauses_are_kept_with_their_text() {
        assert_eq!(ops("ALTER TABLE t FROBNICATE x"), [Op::Unknown { text: "FROBNICATE x".into() }]);
    }
}

#[cfg(test)]
mod parser_choice {
    //! The measurement behind reading DDL with stepwise's own reader: the
    //! statement forms MySQL and MariaDB migrations use (mysqldump output,
    //! Rails' structure.sql, hand-written ALTERs), through sqlparser's MySQL
    //! dialect and through this reader.

    use super::*;
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::parser::Parser;

    const FORMS: &[&str] = &[
        "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0 AFTER a",
        "ALTER TABLE t ADD COLUMN c int FIRST, ALGORITHM=INSTANT",
        "ALTER TABLE t ADD COLUMN c int, ALGORITHM=INPLACE, LOCK=NONE",
        "ALTER TABLE t DROP COLUMN a",
        "ALTER TABLE t MODIFY a bigint NOT NULL",
        "ALTER TABLE t MODIFY COLUMN a varchar(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        "ALTER TABLE t CHANGE a b int",
        "ALTER TABLE t RENAME COLUMN a TO b",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 5",
        "ALTER TABLE t ALTER a DROP DEFAULT",
        "ALTER TABLE t ADD INDEX idx (a), ADD UNIQUE KEY u (b)",
        "ALTER TABLE t ADD FULLTEXT INDEX ft (b)",
        "ALTER TABLE t ADD SPATIAL INDEX sp (g)",
        "ALTER TABLE t DROP INDEX idx",
        "ALTER TABLE t RENAME INDEX a TO b",
        "ALTER TABLE t ADD PRIMARY KEY (id)",
        "ALTER TABLE t DROP PRIMARY KEY",
        "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, a)",
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id) ON DELETE CASCADE",
        "ALTER TABLE t DROP FOREIGN KEY fk",
        "ALTER TABLE t ENGINE=InnoDB",
        "ALTER TABLE t FORCE",
        "ALTER TABLE t ROW_FORMAT=DYNAMIC",
        "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        "ALTER TABLE t DEFAULT CHARSET=utf8mb4",
        "ALTER TABLE t AUTO_INCREMENT=1000",
        "ALTER TABLE t RENAME TO u",
        "ALTER TABLE t COMMENT 'x'",
        "ALTER TABLE t ADD COLUMN g int AS (a+1) STORED",
        "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a+1) VIRTUAL",
        "ALTER TABLE t ADD COLUMN n int AUTO_INCREMENT PRIMARY KEY",
        "ALTER TABLE t ADD CHECK (a > 0)",
        "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)",
        "ALTER TABLE t DROP CHECK ck",
        "ALTER TABLE t DROP CONSTRAINT ck",
        "ALTER TABLE t MODIFY e ENUM('a','b','c')",
        "ALTER TABLE t ALGORITHM=COPY, LOCK=SHARED, ADD COLUMN x int",
        "ALTER ONLINE TABLE t ADD COLUMN x int",
        "ALTER TABLE t WAIT 5 ADD COLUMN x int",
        "ALTER TABLE IF EXISTS t ADD COLUMN IF NOT EXISTS x int",
        "ALTER TABLE t ADD INDEX (a) USING BTREE, ALGORITHM=INPLACE",
        "ALTER TABLE t PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10))",
        "ALTER TABLE t ADD PARTITION (PARTITION p1 VALUES LESS THAN (20))",
        "ALTER TABLE t DROP PARTITION p1",
        "ALTER TABLE t TRUNCATE PARTITION p1",
        "ALTER TABLE t MODIFY a int INVISIBLE",
        "ALTER TABLE t ALTER INDEX idx INVISIBLE",
        "ALTER TABLE t ADD INDEX idx (a) INVISIBLE",
        "ALTER TABLE t MODIFY a int NULL",
        "CREATE INDEX idx ON t (a)",
        "CREATE UNIQUE INDEX idx ON t (a) ALGORITHM=INPLACE LOCK=NONE",
        "CREATE FULLTEXT INDEX ft ON t (b)",
        "DROP INDEX idx ON t",
        "RENAME TABLE t TO u, v TO w",
        "DROP TABLE IF EXISTS t",
        "TRUNCATE TABLE t",
        "CREATE TABLE t (id bigint unsigned NOT NULL AUTO_INCREMENT, name varchar(255) CHARACTER SET utf8mb4 NOT NULL DEFAULT '', created_at datetime(6) NOT NULL, PRIMARY KEY (id), UNIQUE KEY idx_name (name), KEY k (created_at), FULLTEXT KEY ft (name), CONSTRAINT fk FOREIGN KEY (id) REFERENCES p (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC",
        "CREATE TABLE `t` (`id` int NOT NULL) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=latin1",
        "UPDATE t SET a = 1 WHERE id < 10",
        "DELETE FROM t",
        "INSERT INTO t (a) VALUES (1)",
        "SET foreign_key_checks = 0",
        "SET SESSION lock_wait_timeout = 5",
        "CREATE TABLE t2 LIKE t",
        "CREATE TABLE t (id int) PARTITION BY HASH(id) PARTITIONS 4",
        "ALTER TABLE t ADD COLUMN x int, ADD COLUMN y int, DROP COLUMN z",
        "OPTIMIZE TABLE t",
        "ALTER TABLE t ADD UNIQUE INDEX u (a), ALGORITHM=INPLACE, LOCK=NONE",
        "LOCK TABLES t WRITE",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
    ];

    #[test]
    fn the_reader_knows_every_form_sqlparser_refuses_a_third_of_them() {
        let refused: Vec<&str> = FORMS.iter().copied().filter(|f| Parser::parse_sql(&MySqlDialect {}, f).is_err()).collect();
        eprintln!("sqlparser 0.64 MySqlDialect refused {} of {}:\n{}", refused.len(), FORMS.len(), refused.join("\n"));
        assert!(refused.len() >= 20, "sqlparser got better: {} refused; measure again before keeping the reader", refused.len());
        for f in FORMS {
            let stmt = read(f).unwrap_or_else(|e| panic!("{f}: {e:?}"));
            if let Stmt::Alter(a) = &stmt {
                let unknown: Vec<_> = a.clauses.iter().filter(|c| matches!(c.op, Op::Unknown { .. })).collect();
                assert!(unknown.is_empty(), "{f}: {unknown:?}");
            }
        }
    }
}
