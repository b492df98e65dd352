//! `[lint]` settings: which rules run, at which severity, on which files.

use super::finding::Severity;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct LintConfig {
    /// Opt-in rules to turn on (or `all`).
    pub enable: Vec<String>,
    /// Rules to turn off.
    pub disable: Vec<String>,
    /// Severity overrides per rule.
    pub severity: HashMap<String, Severity>,
    /// Path patterns (`*` matches within a name, `**` across directories) not to lint.
    pub exclude: Vec<String>,
}

impl LintConfig {
    pub fn is_on(&self, id: &str, default_on: bool) -> bool {
        if self.disable.iter().any(|d| d == id) {
            return false;
        }
        default_on || self.enable.iter().any(|e| e == id || e == "all")
    }

    pub fn excluded(&self, path: &str) -> bool {
        self.exclude.iter().any(|p| glob_match(p, path))
    }
}

/// A small glob: `*` matches any run of characters except `/`, `**` any run
/// including `/`, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                (0..=t.len()).any(|i| go(rest, &t[i..]))
            }
            Some(b'*') => (0..=t.len()).take_while(|&i| i == 0 || t[i - 1] != b'/').any(|i| go(&p[1..], &t[i..])),
            Some(b'?') => !t.is_empty() && t[0] != b'/' && go(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes()) || go(pattern.as_bytes(), text.trim_start_matches("./").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("migrations/legacy/*.sql", "migrations/legacy/1_a.sql"));
        assert!(!glob_match("migrations/*.sql", "migrations/legacy/1_a.sql"));
        assert!(glob_match("**/old_*.sql", "db/migrations/old_1.sql"));
        assert!(glob_match("migrations/1_?.sql", "./migrations/1_a.sql"));
    }
}
