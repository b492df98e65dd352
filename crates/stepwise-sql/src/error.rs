//! Errors of the pure layer. Offsets are byte offsets into the text that was
//! parsed; `InputError` is the located form the CLI renders.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlErrorKind {
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    Directive(String),
}

/// An error at a byte offset of the text being parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub offset: usize,
    pub kind: SqlErrorKind,
}

impl SqlError {
    pub fn at(offset: usize, kind: SqlErrorKind) -> Self {
        SqlError { offset, kind }
    }
}

/// Bad input with its place: the file, 1-based line and column (in characters),
/// the message, and the text of that line for a snippet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub line_text: String,
}

impl InputError {
    /// Locate `offset` in `text` (the contents of `file`).
    pub fn new(file: &str, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let idx = crate::LineIndex::new(text);
        let (line, col) = idx.line_col(text, offset);
        InputError { file: file.to_string(), line, col, message: message.into(), line_text: idx.line_text(text, line).to_string() }
    }

    /// An error about a whole file, not a place in it.
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        InputError { file: file.to_string(), line: 0, col: 0, message: message.into(), line_text: String::new() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
        }
    }
}

impl std::error::Error for InputError {}
