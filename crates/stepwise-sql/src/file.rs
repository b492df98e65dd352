//! A migration file: its sections (up, down), directives and statements with
//! their byte spans, so that every later message can point into the file.

use crate::backfill::{parse_backfill, BackfillStep};
use crate::directive::{parse_directive, Directive, Phase};
use crate::error::{InputError, SqlError, SqlErrorKind};
use crate::lexer::{tokenize, Token, TokenKind};
use crate::statement::{classify, online_alter, OnlineAlter, StatementInfo};
use crate::{Dialect, Flavor, LineIndex};
use std::ops::Range;
use std::sync::Arc;

/// Which sections a file can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// One file with `up` and `down` markers; a file without markers is all `up`.
    Combined,
    /// A `.up.sql` file (or any file that is only an up migration).
    UpOnly,
    /// A `.down.sql` file.
    DownOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user should see it.
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub rules: Vec<String>,
    pub reason: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text, exactly as in the file, without the delimiter.
    pub sql: String,
    /// Byte span of `sql` in its file.
    pub span: Range<usize>,
    pub line: usize,
    pub col: usize,
    pub ignores: Vec<Ignore>,
    pub info: StatementInfo,
    /// Marked `-- stepwise:online`: `migrate` runs it through an online schema
    /// change (PostgreSQL) instead of executing it.
    pub online: Option<OnlineAlter>,
    /// A `-- stepwise:backfill` step: `sql` is the directive's comment, and
    /// the runner updates the table in batches instead of executing it.
    pub backfill: Option<BackfillStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub file: Arc<SourceFile>,
    pub statements: Vec<Statement>,
    /// Run statement by statement outside a transaction: marked
    /// `no-transaction`, or holding a statement marked `online` or a backfill
    /// step (both span many transactions of their own).
    pub no_transaction: bool,
    /// The section's text (for checksums), between its marker and the next one.
    pub body: Range<usize>,
}

impl Section {
    pub fn body_text(&self) -> &str {
        &self.file.text[self.body.clone()]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub up: Option<Section>,
    pub down: Option<Section>,
    pub phase: Option<Phase>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Which {
    Preamble,
    Up,
    Down,
}

/// Parse a migration file. Errors name the file, line and column.
pub fn parse_file(file: Arc<SourceFile>, role: FileRole, dialect: Dialect, flavor: Flavor) -> Result<ParsedFile, InputError> {
    let text = file.text.as_str();
    let located = |e: SqlError| InputError::new(&file.name, text, e.offset, e.kind.to_string());
    // The servers take no NUL byte in SQL text: PostgreSQL's protocol
    // cannot carry one, so `plan` passed a file that `migrate` then failed.
    if let Some(at) = text.find('\0') {
        return Err(InputError::new(
            &file.name,
            text,
            at,
            "a NUL byte (\\0): SQL text cannot hold one; the file may be binary or in UTF-16",
        ));
    }
    let tokens = tokenize(text, dialect).map_err(located)?;
    Builder::new(file.clone(), role, dialect, flavor).run(&tokens).map_err(located)
}

struct PendingSection {
    statements: Vec<Statement>,
    no_transaction: bool,
    body_start: usize,
    marker_at: usize,
}

struct Builder {
    file: Arc<SourceFile>,
    role: FileRole,
    dialect: Dialect,
    flavor: Flavor,
    which: Which,
    sections: [Option<PendingSection>; 3],
    file_no_transaction: bool,
    phase: Option<Phase>,
    pending_ignores: Vec<(Ignore, usize)>,
    /// A `-- stepwise:online` waiting for its statement: (line, offset).
    pending_online: Option<(usize, usize)>,
    /// Token index where the open statement starts.
    open: Option<usize>,
    verbatim: bool,
    paren_depth: i32,
    atomic_depth: i32,
    /// Built once: every statement's line and column come from it.
    lines: LineIndex,
}

impl Builder {
    fn new(file: Arc<SourceFile>, role: FileRole, dialect: Dialect, flavor: Flavor) -> Self {
        let which = match role {
            FileRole::Combined => Which::Preamble,
            FileRole::UpOnly => Which::Up,
            FileRole::DownOnly => Which::Down,
        };
        let mut sections = [None, None, None];
        sections[which as usize] = Some(PendingSection { statements: vec![], no_transaction: false, body_start: 0, marker_at: 0 });
        Builder {
            lines: LineIndex::new(&file.text),
            file,
            role,
            dialect,
            flavor,
            which,
            sections,
            file_no_transaction: false,
            phase: None,
            pending_ignores: vec![],
            pending_online: None,
            open: None,
            verbatim: false,
            paren_depth: 0,
            atomic_depth: 0,
        }
    }

    fn text(&self) -> &str {
        &self.file.text
    }

    fn err(offset: usize, msg: impl Into<String>) -> SqlError {
        SqlError::at(offset, SqlErrorKind::Directive(msg.into()))
    }

    fn run(mut self, tokens: &[Token]) -> Result<ParsedFile, SqlError> {
        for (i, tok) in tokens.iter().enumerate() {
            match &tok.kind {
                TokenKind::LineComment => self.comment(tokens, i)?,
                TokenKind::BlockComment => {}
                TokenKind::Delimiter if !self.verbatim && self.paren_depth <= 0 && self.atomic_depth <= 0 => {
                    self.flush(tokens, i)?;
                }
                TokenKind::DelimiterCommand(_) => self.flush(tokens, i)?,
                _ => {
                    if self.open.is_none() {
                        self.open = Some(i);
                        self.paren_depth = 0;
                        self.atomic_depth = 0;
                    }
                    self.track_nesting(tokens, i);
                }
            }
        }
        if self.verbatim {
            let at = tokens.last().map(|t| t.span.start).unwrap_or(0);
            return Err(Self::err(at, "`StatementBegin` without a matching `StatementEnd`"));
        }
        self.flush(tokens, tokens.len())?;
        if let Some((_, at)) = self.pending_ignores.first() {
            return Err(Self::err(*at, "`stepwise:ignore` must be on the line before a statement, but no statement follows"));
        }
        if let Some((_, at)) = self.pending_online {
            return Err(Self::err(at, "`stepwise:online` must be on the line before an `ALTER TABLE`, but no statement follows"));
        }
        self.finish()
    }

    fn track_nesting(&mut self, tokens: &[Token], i: usize) {
        let tok = &tokens[i];
        match tok.kind {
            TokenKind::LParen => self.paren_depth += 1,
            TokenKind::RParen => self.paren_depth -= 1,
            TokenKind::Word if self.dialect == Dialect::Postgres => {
                // SQL-standard function bodies: CREATE FUNCTION ... BEGIN ATOMIC ...; ... END
                let word = self.text()[tok.span.clone()].to_ascii_uppercase();
                if self.atomic_depth > 0 {
                    if word == "CASE" {
                        self.atomic_depth += 1;
                    } else if word == "END" {
                        self.atomic_depth -= 1;
                    }
                } else if word == "BEGIN" {
                    let next = tokens[i + 1..].iter().find(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment));
                    if next.is_some_and(|t| t.kind == TokenKind::Word && self.text()[t.span.clone()].eq_ignore_ascii_case("ATOMIC")) {
                        self.atomic_depth = 1;
                    }
                }
            }
            _ => {}
        }
    }

    fn comment(&mut self, tokens: &[Token], i: usize) -> Result<(), SqlError> {
        let span = tokens[i].span.clone();
        let raw = &self.text()[span.clone()];
        // Only `--` comments carry directives (MySQL `#` comments never do).
        let Some(body) = raw.strip_prefix("--") else { return Ok(()) };
        let directive = match parse_directive(body, self.flavor) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(()),
            Err((at, msg)) => return Err(Self::err(span.start + 2 + at, msg)),
        };
        let at = span.start;
        if self.verbatim && directive != Directive::StatementEnd {
            return Err(Self::err(at, "directive inside a `StatementBegin`/`StatementEnd` block"));
        }
        match directive {
            Directive::Up { no_transaction } | Directive::Down { no_transaction } => {
                let which = if matches!(directive, Directive::Up { .. }) { Which::Up } else { Which::Down };
                if self.role != FileRole::Combined {
                    return Err(Self::err(at, "section markers belong in a single-file migration, not in a `.up.sql` or `.down.sql` file"));
                }
                self.flush(tokens, i)?;
                if let Some((_, at)) = self.pending_ignores.first() {
                    return Err(Self::err(*at, "`stepwise:ignore` must be on the line before a statement, but a section marker follows"));
                }
                if let Some((_, at)) = self.pending_online {
                    return Err(Self::err(
                        at,
                        "`stepwise:online` must be on the line before an `ALTER TABLE`, but a section marker follows",
                    ));
                }
                if self.sections[which as usize].is_some() {
                    let name = if which == Which::Up { "up" } else { "down" };
                    return Err(Self::err(at, format!("a second `{name}` section; a migration has one up and at most one down section")));
                }
                self.which = which;
                self.sections[which as usize] =
                    Some(PendingSection { statements: vec![], no_transaction, body_start: span.end, marker_at: at });
            }
            Directive::NoTransaction => {
                self.ensure_between_statements(at, "no-transaction")?;
                let section = self.sections[self.which as usize].as_mut();
                match section {
                    Some(s) if self.which != Which::Preamble => {
                        if !s.statements.is_empty() {
                            return Err(Self::err(at, "`no-transaction` must come before the first statement of its section"));
                        }
                        s.no_transaction = true;
                    }
                    Some(s) if !s.statements.is_empty() => {
                        return Err(Self::err(at, "`no-transaction` must come before the first statement of the file"));
                    }
                    _ => self.file_no_transaction = true,
                }
            }
            Directive::Phase(p) => {
                self.ensure_between_statements(at, "phase")?;
                self.phase = Some(p);
            }
            Directive::Ignore { rules, reason } => {
                self.ensure_between_statements(at, "ignore")?;
                let (line, _) = self.lines.line_col(self.text(), at);
                self.pending_ignores.push((Ignore { rules, reason, line }, at));
            }
            Directive::Online => {
                self.ensure_between_statements(at, "online")?;
                // Up sections only. `rollback` runs a down section as plain
                // statements and never starts an online schema change: the
                // way back from one is `stepwise osc revert` (while the old
                // table is kept), and a marker that rollback would ignore
                // would promise a copy-and-swap that does not happen.
                if self.which == Which::Down {
                    return Err(Self::err(
                        at,
                        "`stepwise:online` belongs in an up section: rollback runs down sections as plain statements (after an online change, `stepwise osc revert` swaps the old table back while it is kept)",
                    ));
                }
                if self.pending_online.is_some() {
                    return Err(Self::err(at, "a second `stepwise:online` before the same statement"));
                }
                let (line, _) = self.lines.line_col(self.text(), at);
                self.pending_online = Some((line, at));
            }
            Directive::Backfill { args, args_at } => {
                self.ensure_between_statements(at, "backfill")?;
                self.backfill(span, &args, args_at)?;
            }
            Directive::StatementBegin => {
                self.flush(tokens, i)?;
                self.verbatim = true;
            }
            Directive::StatementEnd => {
                if !self.verbatim {
                    return Err(Self::err(at, "`StatementEnd` without a `StatementBegin`"));
                }
                self.verbatim = false;
                self.flush(tokens, i)?;
            }
        }
        Ok(())
    }

    fn ensure_between_statements(&self, at: usize, name: &str) -> Result<(), SqlError> {
        if self.open.is_some() && name == "backfill" {
            return Err(Self::err(
                at,
                "`stepwise:backfill` inside a statement: it is a step of its own, so end the statement before it with `;`",
            ));
        }
        if self.open.is_some() {
            return Err(Self::err(at, format!("`stepwise:{name}` inside a statement; put it on its own line before the statement")));
        }
        Ok(())
    }

    /// A `-- stepwise:backfill` line (comment `span`) becomes a step of the
    /// section, in file order between the statements around it.
    fn backfill(&mut self, span: Range<usize>, args: &str, args_at: usize) -> Result<(), SqlError> {
        let at = span.start;
        let (line, col) = self.lines.line_col(self.text(), at);
        if let Some((online_line, online_at)) = self.pending_online {
            return Err(Self::err(
                online_at,
                format!("`stepwise:online` (line {online_line}) must be on the line before an `ALTER TABLE`, but a `stepwise:backfill` follows on line {line}: a backfill runs in batches of its own, not as an online schema change"),
            ));
        }
        // The backfill is not linted, so an ignore before it would excuse nothing.
        if let Some((_, ignore_at)) = self.pending_ignores.first() {
            return Err(Self::err(
                *ignore_at,
                format!("`stepwise:ignore` must be on the line before a SQL statement, but the `stepwise:backfill` on line {line} follows (backfills are not linted)"),
            ));
        }
        // `--` then the comment body, where `args_at` counts from.
        let args_start = at + 2 + args_at;
        let (table, set, condition) =
            parse_backfill(args, self.dialect).map_err(|(off, msg)| Self::err(args_start + off, format!("`stepwise:backfill`: {msg}")))?;
        let sql = self.text()[span].trim_end().to_string();
        let stmt = Statement {
            span: at..at + sql.len(),
            sql,
            line,
            col,
            ignores: vec![],
            // Nothing to classify: the runner builds the batches' statements.
            info: StatementInfo { summary: "BACKFILL".into(), ..Default::default() },
            online: None,
            backfill: Some(BackfillStep { table, set, condition, directive_line: line }),
        };
        match self.sections[self.which as usize].as_mut() {
            Some(s) => s.statements.push(stmt),
            // The preamble always exists in a combined file; unreachable otherwise.
            None => return Err(Self::err(at, "backfill outside any section")),
        }
        Ok(())
    }

    /// Close the open statement (if any) before token `end`.
    fn flush(&mut self, tokens: &[Token], end: usize) -> Result<(), SqlError> {
        let Some(start) = self.open.take() else { return Ok(()) };
        let stmt_tokens = &tokens[start..end];
        let last = stmt_tokens.iter().rev().find(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment));
        let Some(last) = last else { return Ok(()) };
        let span = tokens[start].span.start..last.span.end;
        let file = self.file.clone();
        let text = file.text.as_str();
        let (line, col) = self.lines.line_col(text, span.start);
        let info = classify(text, stmt_tokens, self.dialect);
        let ignores = std::mem::take(&mut self.pending_ignores).into_iter().map(|(i, _)| i).collect();
        let online = match self.pending_online.take() {
            Some((directive_line, _)) => {
                Some(online_alter(text, stmt_tokens, self.dialect, directive_line).map_err(|(at, msg)| Self::err(at, msg))?)
            }
            None => None,
        };
        let stmt = Statement { sql: text[span.clone()].to_string(), span, line, col, ignores, info, online, backfill: None };
        match self.sections[self.which as usize].as_mut() {
            Some(s) => s.statements.push(stmt),
            None => {
                // The preamble always exists in a combined file; unreachable otherwise.
                return Err(Self::err(stmt.span.start, "statement outside any section"));
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<ParsedFile, SqlError> {
        let len = self.text().len();
        let has_markers = self.sections[Which::Up as usize].is_some() || self.sections[Which::Down as usize].is_some();
        let preamble = self.sections[Which::Preamble as usize].take();
        if self.role == FileRole::Combined && !has_markers {
            // No markers: the whole file is the up migration.
            self.sections[Which::Up as usize] = preamble.map(|mut p| {
                p.body_start = 0;
                p
            });
        } else if let Some(first) = preamble.as_ref().and_then(|p| p.statements.first()) {
            let msg = if self.sections[Which::Up as usize].is_none() {
                "statement before any section marker, and the file has no `-- stepwise:up` section"
            } else {
                "statement before the first section marker; put it under `-- stepwise:up` or `-- stepwise:down`"
            };
            return Err(Self::err(first.span.start, msg));
        }
        if self.role == FileRole::Combined && has_markers && self.sections[Which::Up as usize].is_none() {
            let at = self.sections[Which::Down as usize].as_ref().map(|s| s.marker_at).unwrap_or(0);
            return Err(Self::err(at, "no up section: the file has a down section but no `-- stepwise:up` marker"));
        }
        // Each section's body ends where the next marker begins.
        let up_start = self.sections[Which::Up as usize].as_ref().map(|s| s.marker_at);
        let down_start = self.sections[Which::Down as usize].as_ref().map(|s| s.marker_at);
        let end_of = |start: usize, other: Option<usize>| other.filter(|&o| o > start).unwrap_or(len);
        // Tools without a no-transaction marker (Flyway, golang-migrate) run a
        // file with a CONCURRENTLY statement outside a transaction by themselves.
        let plain_auto =
            |p: &PendingSection| self.flavor == Flavor::Plain && p.statements.iter().any(|s| s.info.requires_no_transaction.is_some());
        let file_no_tx = self.file_no_transaction;
        let file = self.file.clone();
        let make = move |p: Option<PendingSection>, other: Option<usize>| {
            p.map(|p| Section {
                file: file.clone(),
                no_transaction: p.no_transaction
                    || file_no_tx
                    || plain_auto(&p)
                    || p.statements.iter().any(|s| s.online.is_some() || s.backfill.is_some()),
                body: p.body_start..end_of(p.body_start, other),
                statements: p.statements,
            })
        };
        let up = make(self.sections[Which::Up as usize].take(), down_start);
        let down = make(self.sections[Which::Down as usize].take(), up_start);
        Ok(ParsedFile { up, down, phase: self.phase })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParsedFile, InputError> {
        parse_as(text, FileRole::Combined, Flavor::Native)
    }

    fn parse_as(text: &str, role: FileRole, flavor: Flavor) -> Result<ParsedFile, InputError> {
        let file = Arc::new(SourceFile { name: "m.sql".into(), text: text.into() });
        parse_file(file, role, Dialect::Postgres, flavor)
    }

    fn sqls(s: &Option<Section>) -> Vec<String> {
        s.as_ref().unwrap().statements.iter().map(|s| s.sql.clone()).collect()
    }

    #[test]
    fn up_and_down_sections_with_spans() {
        let text = "-- stepwise:up\nCREATE TABLE a (id int);\nCREATE TABLE b (id int)\n-- stepwise:down\nDROP TABLE b; DROP TABLE a;\n";
        let f = parse(text).unwrap();
        assert_eq!(sqls(&f.up), vec!["CREATE TABLE a (id int)", "CREATE TABLE b (id int)"]);
        assert_eq!(sqls(&f.down), vec!["DROP TABLE b", "DROP TABLE a"]);
        let b = &f.up.as_ref().unwrap().statements[1];
        assert_eq!((b.line, b.col), (3, 1));
        assert_eq!(&text[b.span.clone()], "CREATE TABLE b (id int)");
        let down_a = &f.down.as_ref().unwrap().statements[1];
        assert_eq!((down_a.line, down_a.col), (5, 15));
        assert_eq!(f.up.as_ref().unwrap().body_text(), "\nCREATE TABLE a (id int);\nCREATE TABLE b (id int)\n");
    }

    #[test]
    fn a_file_without_markers_is_all_up() {
        let f = parse("-- a comment\nSELECT 1;\nSELECT 2").unwrap();
        assert_eq!(sqls(&f.up), vec!["SELECT 1", "SELECT 2"]);
        assert!(f.down.is_none());
    }

    #[test]
    fn no_transaction_at_file_or_section_level() {
        let f = parse("-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- stepwise:down\nDROP INDEX CONCURRENTLY i;").unwrap();
        assert!(f.up.as_ref().unwrap().no_transaction && f.down.as_ref().unwrap().no_transaction);
        let f = parse("-- stepwise:up\n-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- stepwise:down\nDROP INDEX i;")
            .unwrap();
        assert!(f.up.as_ref().unwrap().no_transaction && !f.down.as_ref().unwrap().no_transaction);
    }

    #[test]
    fn directives_attach_to_the_next_statement() {
        let f = parse("-- stepwise:phase post-deploy\n-- stepwise:up\n-- stepwise:ignore ban-drop-column old code is gone\nALTER TABLE t DROP COLUMN c;").unwrap();
        assert_eq!(f.phase, Some(Phase::PostDeploy));
        let s = &f.up.as_ref().unwrap().statements[0];
        assert_eq!(s.ignores, vec![Ignore { rules: vec!["ban-drop-column".into()], reason: "old code is gone".into(), line: 3 }]);
    }

    #[test]
    fn bad_input_is_located() {
        let e = parse("-- stepwise:up\nSELECT 1;\n-- stepwise:phase soon\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 19));
        let e = parse("-- stepwise:down\nDROP TABLE t;").unwrap_err();
        assert!(e.message.contains("no up section"), "{}", e.message);
        assert_eq!((e.line, e.col), (1, 1));
        let e = parse("SELECT 1;\n-- stepwise:up\nSELECT 2;").unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        let e = parse("-- stepwise:up\nSELECT 1;\n-- stepwise:up\n").unwrap_err();
        assert!(e.message.contains("second `up`"));
        let e = parse("-- stepwise:up\nSELECT 1;\n-- stepwise:ignore a-rule why\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("-- stepwise:up\nSELECT $$ never closed;\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 8));
    }

    #[test]
    fn online_attaches_to_the_next_alter_table_and_takes_the_section_out_of_a_transaction() {
        let text = "-- stepwise:up\nALTER TABLE t ADD COLUMN a int;\n-- stepwise:online\n-- stepwise:ignore prefer-bigint-keys reviewed\nALTER TABLE ONLY public.t ALTER COLUMN id TYPE bigint;\nSELECT 1;\n-- stepwise:down\nALTER TABLE t DROP COLUMN a;";
        let f = parse(text).unwrap();
        let up = f.up.as_ref().unwrap();
        assert!(up.no_transaction, "an online statement spans many transactions");
        assert!(!f.down.as_ref().unwrap().no_transaction);
        assert_eq!(up.statements.iter().map(|s| s.online.is_some()).collect::<Vec<_>>(), [false, true, false]);
        let online = up.statements[1].online.as_ref().unwrap();
        assert_eq!((online.table.as_str(), online.clauses.as_str(), online.directive_line), ("public.t", "ALTER COLUMN id TYPE bigint", 3));
        assert!(online.only);
        assert_eq!(up.statements[1].ignores.len(), 1, "other directives still attach");
        // Without the directive nothing changes.
        let f = parse("ALTER TABLE t ALTER COLUMN id TYPE bigint;").unwrap();
        assert!(f.up.as_ref().unwrap().statements[0].online.is_none() && !f.up.unwrap().no_transaction);
    }

    #[test]
    fn online_misplaced_is_located() {
        // Not an ALTER TABLE: at the statement, naming the directive's line.
        let e = parse("-- stepwise:up\n-- stepwise:online\nCREATE INDEX i ON t (a);\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.col), ("m.sql", 3, 1));
        assert!(e.message.contains("(line 2)") && e.message.contains("CREATE INDEX"), "{}", e.message);
        // Last line, nothing follows.
        let e = parse("ALTER TABLE t ADD COLUMN a int;\n  -- stepwise:online").unwrap_err();
        assert_eq!((e.line, e.col), (2, 3));
        assert!(e.message.contains("no statement follows"), "{}", e.message);
        // A section marker follows.
        let e = parse("-- stepwise:up\nSELECT 1;\n-- stepwise:online\n-- stepwise:down\nSELECT 2;").unwrap_err();
        assert_eq!(e.line, 3);
        // In a down section, or a .down.sql file.
        let e =
            parse("-- stepwise:up\nSELECT 1;\n-- stepwise:down\n-- stepwise:online\nALTER TABLE t ALTER COLUMN id TYPE int;").unwrap_err();
        assert_eq!((e.line, e.col), (4, 1));
        assert!(e.message.contains("up section"), "{}", e.message);
        let e = parse_as("-- stepwise:online\nALTER TABLE t ALTER COLUMN id TYPE int;", FileRole::DownOnly, Flavor::Plain).unwrap_err();
        assert_eq!(e.line, 1);
        // Twice, or inside a statement.
        let e = parse("-- stepwise:online\n-- stepwise:online\nALTER TABLE t ADD COLUMN a int;").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("ALTER TABLE t\n-- stepwise:online\nADD COLUMN a int;").unwrap_err();
        assert_eq!(e.line, 2);
        // RENAME is instant and would lose a column's data in a copy.
        let e = parse("-- stepwise:online\nALTER TABLE t RENAME COLUMN a TO b;").unwrap_err();
        assert_eq!((e.line, e.col), (2, 15));
    }

    #[test]
    fn a_backfill_is_a_step_between_the_statements_around_it() {
        let text = "-- stepwise:up\nALTER TABLE orders ADD COLUMN total numeric;\n  -- stepwise:backfill orders SET total = price * qty WHERE total IS NULL; \nALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n-- stepwise:down\nALTER TABLE orders DROP COLUMN total;";
        let f = parse(text).unwrap();
        let up = f.up.as_ref().unwrap();
        assert!(up.no_transaction, "a backfill spans many transactions");
        assert!(!f.down.as_ref().unwrap().no_transaction);
        assert_eq!(
            sqls(&f.up),
            [
                "ALTER TABLE orders ADD COLUMN total numeric",
                "-- stepwise:backfill orders SET total = price * qty WHERE total IS NULL;",
                "ALTER TABLE orders ALTER COLUMN total SET NOT NULL",
            ]
        );
        assert_eq!(up.statements.iter().map(|s| s.backfill.is_some()).collect::<Vec<_>>(), [false, true, false]);
        let s = &up.statements[1];
        assert_eq!((s.line, s.col), (3, 3));
        assert_eq!(&text[s.span.clone()], s.sql);
        assert_eq!(s.info.summary, "BACKFILL");
        let b = s.backfill.as_ref().unwrap();
        assert_eq!(
            b,
            &BackfillStep {
                table: "orders".into(),
                set: "total = price * qty".into(),
                condition: Some("total IS NULL".into()),
                directive_line: 3
            }
        );
        // A backfill can undo too; the last step of a file, without a WHERE.
        let f = parse("-- stepwise:up\nSELECT 1;\n-- stepwise:down\n-- stepwise:backfill t SET a = DEFAULT").unwrap();
        let down = f.down.as_ref().unwrap();
        assert!(down.no_transaction && !f.up.as_ref().unwrap().no_transaction);
        assert_eq!(down.statements[0].backfill.as_ref().map(|b| b.condition.clone()), Some(None));
        // MySQL quoting, in a .down.sql file.
        let file = Arc::new(SourceFile { name: "m.down.sql".into(), text: "-- stepwise:backfill `t` SET `a` = \"x;y\"\n".into() });
        let f = parse_file(file, FileRole::DownOnly, Dialect::MySql, Flavor::Plain).unwrap();
        assert_eq!(f.down.unwrap().statements[0].backfill.as_ref().map(|b| b.set.as_str()), Some("`a` = \"x;y\""));
    }

    #[test]
    fn backfill_errors_are_located() {
        // In the arguments: the column points into them.
        let e = parse("ALTER TABLE t ADD COLUMN a int;\n-- stepwise:backfill t a = 1\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.col), ("m.sql", 2, 24));
        assert!(e.message.contains("`stepwise:backfill`: expected `SET`"), "{}", e.message);
        let e = parse("-- stepwise:backfill t SET a = 1, t.b = 2").unwrap_err();
        assert_eq!((e.line, e.col), (1, 35));
        let e = parse("-- stepwise:backfill t SET a = 1 WHERE").unwrap_err();
        assert_eq!((e.line, e.col), (1, 39));
        assert!(e.message.contains("empty WHERE"), "{}", e.message);
        let e = parse("-- stepwise:backfill").unwrap_err();
        assert_eq!((e.line, e.col), (1, 21));
        // Inside an unfinished statement.
        let e = parse("ALTER TABLE t ADD COLUMN a int\n-- stepwise:backfill t SET a = 1\n;").unwrap_err();
        assert_eq!((e.line, e.col), (2, 1));
        assert!(e.message.contains("end the statement before it"), "{}", e.message);
        // `online` needs an ALTER TABLE next, not a backfill.
        let e = parse("-- stepwise:online\n-- stepwise:backfill t SET a = 1\nALTER TABLE t ADD COLUMN b int;").unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        assert!(e.message.contains("a `stepwise:backfill` follows on line 2"), "{}", e.message);
        // An ignore would excuse nothing.
        let e = parse("-- stepwise:ignore set-not-null reviewed\n-- stepwise:backfill t SET a = 1").unwrap_err();
        assert_eq!(e.line, 1);
        // Before the first section marker.
        let e = parse("-- stepwise:backfill t SET a = 1\n-- stepwise:up\nSELECT 1;").unwrap_err();
        assert_eq!(e.line, 1);
        // Inside a goose StatementBegin block.
        let text = "-- +goose Up\n-- +goose StatementBegin\n-- stepwise:backfill t SET a = 1\n-- +goose StatementEnd";
        assert_eq!(parse_as(text, FileRole::Combined, Flavor::Goose).unwrap_err().line, 3);
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let text = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END;\nSELECT 3;";
        let f = parse(text).unwrap();
        assert_eq!(f.up.unwrap().statements.len(), 2);
    }

    #[test]
    fn goose_and_dbmate_markers() {
        let goose = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS trigger AS 'begin; end' LANGUAGE plpgsql;\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Down\nDROP FUNCTION f;";
        let f = parse_as(goose, FileRole::Combined, Flavor::Goose).unwrap();
        assert_eq!(f.up.as_ref().unwrap().statements.len(), 1);
        assert_eq!(sqls(&f.down), vec!["DROP FUNCTION f"]);
        let dbmate = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\nDROP INDEX i;";
        let f = parse_as(dbmate, FileRole::Combined, Flavor::Dbmate).unwrap();
        assert!(f.up.as_ref().unwrap().no_transaction);
        assert!(!f.down.as_ref().unwrap().no_transaction);
    }
}
