//! What a lint rule reports.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            _ => None,
        }
    }
}

/// One finding, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The text of `line`, for a snippet.
    pub line_text: String,
    /// One line: what is wrong here.
    pub message: String,
    /// Why it is dangerous: which lock, on what, for how long; or what running code it breaks.
    pub why: String,
    /// The safe way, as SQL (the whole recipe where there is one).
    pub safe: String,
}
