//! A small SQL lexer that knows just enough of each dialect to find statement
//! boundaries, comments and the first keywords of a statement: quoting rules,
//! comments, PostgreSQL dollar quotes and MySQL `DELIMITER` lines.
//!
//! It never interprets SQL beyond that; deeper analysis belongs to the parser
//! based lint rules.

use crate::error::{SqlError, SqlErrorKind};
use crate::Dialect;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word: keyword or unquoted identifier.
    Word,
    /// `"ident"` (PostgreSQL) or `` `ident` `` (MySQL).
    QuotedIdent,
    /// Any string literal, including PostgreSQL dollar-quoted bodies.
    String,
    Number,
    /// `-- ...` or (MySQL) `# ...`; the span covers the whole comment without the newline.
    LineComment,
    BlockComment,
    /// The statement delimiter: `;`, or what a MySQL `DELIMITER` line set.
    Delimiter,
    /// A MySQL `DELIMITER xx` client command line (span covers the whole line).
    DelimiterCommand(String),
    LParen,
    RParen,
    /// Any other punctuation or operator character.
    Punct,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

/// Split `src` into tokens. Whitespace is skipped.
pub fn tokenize(src: &str, dialect: Dialect) -> Result<Vec<Token>, SqlError> {
    Lexer { src, bytes: src.as_bytes(), pos: 0, dialect, delimiter: ";".to_string() }.run()
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
    delimiter: String,
}

impl<'a> Lexer<'a> {
    fn run(mut self) -> Result<Vec<Token>, SqlError> {
        let mut out = Vec::new();
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let b = self.bytes[start];
            if b.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            if self.dialect == Dialect::MySql && self.at_line_start(start) && self.starts_with_word_ci("DELIMITER") {
                let end = self.line_end(start);
                let rest = self.src[start + "DELIMITER".len()..end].trim();
                if rest.is_empty() {
                    return Err(SqlError::at(start, SqlErrorKind::Syntax("DELIMITER needs a delimiter".into())));
                }
                self.delimiter = rest.to_string();
                out.push(Token { kind: TokenKind::DelimiterCommand(rest.to_string()), span: start..end });
                self.pos = end;
                continue;
            }
            if self.delimiter != ";" && self.bytes[start..].starts_with(self.delimiter.as_bytes()) {
                self.pos += self.delimiter.len();
                out.push(Token { kind: TokenKind::Delimiter, span: start..self.pos });
                continue;
            }
            let kind = match b {
                // MySQL: `--` starts a comment only before whitespace, a
                // control character or the end (`1--1` is one minus minus one).
                b'-' if self.peek(1) == Some(b'-')
                    && (self.dialect != Dialect::MySql || self.peek(2).is_none_or(|c| c <= b' ' || c == 0x7f)) =>
                {
                    self.pos = self.line_end(start);
                    TokenKind::LineComment
                }
                b'#' if self.dialect == Dialect::MySql => {
                    self.pos = self.line_end(start);
                    TokenKind::LineComment
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.block_comment(start)?;
                    TokenKind::BlockComment
                }
                b';' => {
                    self.pos += 1;
                    if self.delimiter == ";" {
                        TokenKind::Delimiter
                    } else {
                        TokenKind::Punct
                    }
                }
                b'\'' => {
                    self.quoted(start, b'\'', self.dialect == Dialect::MySql)?;
                    TokenKind::String
                }
                b'"' => {
                    // Double quotes delimit identifiers in PostgreSQL and strings in MySQL.
                    self.quoted(start, b'"', self.dialect == Dialect::MySql)?;
                    if self.dialect == Dialect::MySql {
                        TokenKind::String
                    } else {
                        TokenKind::QuotedIdent
                    }
                }
                b'`' if self.dialect == Dialect::MySql => {
                    self.quoted(start, b'`', false)?;
                    TokenKind::QuotedIdent
                }
                b'$' if self.dialect == Dialect::Postgres => {
                    if let Some(tag_end) = self.dollar_tag_end(start) {
                        self.dollar_string(start, tag_end)?;
                        TokenKind::String
                    } else {
                        self.pos += 1;
                        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_digit() {
                            self.pos += 1;
                        }
                        TokenKind::Punct
                    }
                }
                b'(' => {
                    self.pos += 1;
                    TokenKind::LParen
                }
                b')' => {
                    self.pos += 1;
                    TokenKind::RParen
                }
                b'0'..=b'9' => {
                    while self.pos < self.bytes.len()
                        && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'.' || self.bytes[self.pos] == b'_')
                    {
                        self.pos += 1;
                    }
                    TokenKind::Number
                }
                _ if is_word_start(b) => {
                    // E'...' (escape string), B'...', X'...', N'...', U&'...' prefixes.
                    let word_end = self.word_end(start);
                    let word = &self.src[start..word_end];
                    if self.bytes.get(word_end) == Some(&b'\'') && is_string_prefix(word) {
                        let backslash = self.dialect == Dialect::MySql || word.eq_ignore_ascii_case("e");
                        self.quoted(word_end, b'\'', backslash)?;
                        TokenKind::String
                    } else if word.eq_ignore_ascii_case("u") && self.src[word_end..].starts_with("&'") {
                        self.quoted(word_end + 1, b'\'', false)?;
                        TokenKind::String
                    } else {
                        self.pos = word_end;
                        TokenKind::Word
                    }
                }
                _ => {
                    // Advance by one whole UTF-8 character.
                    let ch_len = self.src[start..].chars().next().map(char::len_utf8).unwrap_or(1);
                    self.pos += ch_len;
                    TokenKind::Punct
                }
            };
            out.push(Token { kind, span: start..self.pos });
        }
        Ok(out)
    }

    fn peek(&self, n: usize) -> Option<u8> {
        self.bytes.get(self.pos + n).copied()
    }

    fn at_line_start(&self, at: usize) -> bool {
        self.src[..at].bytes().rev().take_while(|&c| c != b'\n').all(|c| c == b' ' || c == b'\t' || c == b'\r')
    }

    fn starts_with_word_ci(&self, word: &str) -> bool {
        let rest = &self.bytes[self.pos..];
        rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            && rest.get(word.len()).is_none_or(|c| c.is_ascii_whitespace())
    }

    fn line_end(&self, from: usize) -> usize {
        self.src[from..].find('\n').map(|i| from + i).unwrap_or(self.src.len())
    }

    fn word_end(&self, from: usize) -> usize {
        let mut i = from;
        while i < self.bytes.len() && is_word_char(self.bytes[i]) {
            // `END$$` ends a word where a custom delimiter begins.
            if self.delimiter != ";" && self.bytes[i..].starts_with(self.delimiter.as_bytes()) {
                break;
            }
            i += 1;
        }
        i
    }

    fn block_comment(&mut self, start: usize) -> Result<(), SqlError> {
        // PostgreSQL nests block comments; MySQL does not.
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 0usize;
        let mut i = start;
        while i + 1 < self.bytes.len() {
            if self.bytes[i] == b'/' && self.bytes[i + 1] == b'*' && (nests || depth == 0) {
                depth += 1;
                i += 2;
            } else if self.bytes[i] == b'*' && self.bytes[i + 1] == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    self.pos = i;
                    return Ok(());
                }
            } else {
                i += 1;
            }
        }
        Err(SqlError::at(start, SqlErrorKind::Unterminated("block comment")))
    }

    /// A quoted token starting at `start` with `quote`; a doubled quote escapes it,
    /// and with `backslash` so does a backslash.
    fn quoted(&mut self, start: usize, quote: u8, backslash: bool) -> Result<(), SqlError> {
        let mut i = start + 1;
        while i < self.bytes.len() {
            let c = self.bytes[i];
            if backslash && c == b'\\' {
                i += 2;
                continue;
            }
            if c == quote {
                if self.bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                self.pos = i + 1;
                return Ok(());
            }
            i += 1;
        }
        let what = match quote {
            b'\'' => "string literal",
            b'"' if self.dialect == Dialect::Postgres => "quoted identifier",
            b'"' => "string literal",
            _ => "quoted identifier",
        };
        Err(SqlError::at(start, SqlErrorKind::Unterminated(what)))
    }

    /// If a dollar-quote tag (`$$` or `$tag$`) starts at `start`, where it ends.
    fn dollar_tag_end(&self, start: usize) -> Option<usize> {
        // `$1` is a parameter, and `a$b` is part of a word (handled by the word rule).
        let mut i = start + 1;
        if self.bytes.get(i).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        while i < self.bytes.len() {
            let c = self.bytes[i];
            if c == b'$' {
                return Some(i + 1);
            }
            if !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) {
                return None;
            }
            i += 1;
        }
        None
    }

    fn dollar_string(&mut self, start: usize, tag_end: usize) -> Result<(), SqlError> {
        let tag = &self.src[start..tag_end];
        match self.src[tag_end..].find(tag) {
            Some(i) => {
                self.pos = tag_end + i + tag.len();
                Ok(())
            }
            None => Err(SqlError::at(start, SqlErrorKind::Unterminated("dollar-quoted string"))),
        }
    }
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_string_prefix(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "e" | "b" | "x" | "n" | "_utf8mb4" | "_utf8" | "_latin1" | "_binary")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str, d: Dialect) -> Vec<(TokenKind, String)> {
        tokenize(src, d).unwrap().into_iter().map(|t| (t.kind.clone(), src[t.span].to_string())).collect()
    }

    #[test]
    fn dollar_quotes_hide_semicolons() {
        let src = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;";
        let toks = kinds(src, Dialect::Postgres);
        let delims = toks.iter().filter(|t| t.0 == TokenKind::Delimiter).count();
        assert_eq!(delims, 1);
        assert!(toks.iter().any(|t| t.1 == "$body$ SELECT 1; $body$"));
    }

    #[test]
    fn mysql_double_dash_is_a_comment_only_before_whitespace() {
        // The server reads `1--1, DROP COLUMN b` as arithmetic and a second clause.
        let toks = kinds("DEFAULT 1--1, DROP COLUMN b", Dialect::MySql);
        assert!(toks.iter().all(|t| t.0 != TokenKind::LineComment), "{toks:?}");
        assert!(toks.iter().any(|t| t.1 == "DROP"));
        for src in ["SELECT 1 -- c", "SELECT 1 --\tc", "SELECT 1 --"] {
            assert_eq!(kinds(src, Dialect::MySql).last().map(|t| t.0.clone()), Some(TokenKind::LineComment), "{src}");
        }
        // PostgreSQL: any `--` starts one.
        assert_eq!(kinds("SELECT 1--1", Dialect::Postgres).last().map(|t| t.0.clone()), Some(TokenKind::LineComment));
    }

    #[test]
    fn nested_block_comments_in_postgres() {
        let toks = kinds("/* a /* b */ c */ SELECT 1;", Dialect::Postgres);
        assert_eq!(toks[0].0, TokenKind::BlockComment);
        assert_eq!(toks[1].1, "SELECT");
    }

    #[test]
    fn escape_strings_and_doubled_quotes() {
        let toks = kinds(r"SELECT E'it\'s', 'a''b';", Dialect::Postgres);
        assert_eq!(toks[1], (TokenKind::String, r"E'it\'s'".to_string()));
        assert_eq!(toks[3], (TokenKind::String, "'a''b'".to_string()));
    }

    #[test]
    fn mysql_delimiter_lines() {
        let src = "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END$$\nDELIMITER ;\nSELECT 1;";
        let toks = kinds(src, Dialect::MySql);
        let delims: Vec<_> = toks.iter().filter(|t| t.0 == TokenKind::Delimiter).map(|t| t.1.clone()).collect();
        assert_eq!(delims, vec!["$$", ";"]);
    }

    #[test]
    fn unterminated_string_reports_its_start() {
        let err = tokenize("SELECT 1;\nSELECT 'oops;", Dialect::Postgres).unwrap_err();
        assert_eq!(err.offset, 17);
    }

    #[test]
    fn positional_parameters_are_not_dollar_quotes() {
        let toks = kinds("PREPARE p AS SELECT $1;", Dialect::Postgres);
        assert_eq!(toks.iter().filter(|t| t.0 == TokenKind::Delimiter).count(), 1);
    }

    /// Found by the fuzz test (tests/fuzz.rs): a custom delimiter compared at a
    /// byte inside a multibyte character sliced the text off a char boundary.
    #[test]
    fn a_custom_delimiter_next_to_a_multibyte_character() {
        for src in ["DELIMITER /\n\u{feff}", "DELIMITER //\nSELECT é//\né"] {
            assert!(tokenize(src, Dialect::MySql).is_ok(), "{src:?}");
        }
    }
}
