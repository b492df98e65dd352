//! The names Rails gives what a migration does not name: indexes, foreign
//! keys, check constraints, and the tables behind model classes. Written
//! from ActiveRecord's source (`index_name`, `foreign_key_name`,
//! `check_constraint_name`, `ActiveSupport::Inflector`).

use sha2::{Digest, Sha256};

/// `index_users_on_email`, `index_users_on_a_and_b`.
pub fn index_name(table: &str, columns: &[String]) -> String {
    format!("index_{table}_on_{}", columns.join("_and_"))
}

/// `fk_rails_` and the first 10 hex digits of SHA-256 of `<table>_<column>_fk`.
pub fn foreign_key_name(table: &str, column: &str) -> String {
    format!("fk_rails_{}", hex10(&format!("{table}_{column}_fk")))
}

/// `chk_rails_` and the first 10 hex digits of SHA-256 of `<table>_<expression>_chk`.
pub fn check_name(table: &str, expression: &str) -> String {
    format!("chk_rails_{}", hex10(&format!("{table}_{expression}_chk")))
}

fn hex10(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// `users` → `user`: the inflector's regular rules (and the irregular
/// words migrations name most); an unusual plural may differ from Rails'.
pub fn singularize(word: &str) -> String {
    for (plural, single) in IRREGULAR {
        if let Some(stem) = word.strip_suffix(plural) {
            return format!("{stem}{single}");
        }
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for end in ["sses", "shes", "ches", "xes", "zzes", "uses"] {
        if let Some(stem) = word.strip_suffix(end) {
            return format!("{stem}{}", &end[..end.len() - 2]);
        }
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_string();
    }
    word.strip_suffix('s').unwrap_or(word).to_string()
}

/// `user` → `users`.
pub fn pluralize(word: &str) -> String {
    for (plural, single) in IRREGULAR {
        if let Some(stem) = word.strip_suffix(single) {
            return format!("{stem}{plural}");
        }
    }
    let vowel_y = word.len() >= 2 && word.ends_with('y') && "aeiou".contains(&word[word.len() - 2..word.len() - 1]);
    if word.ends_with('y') && !vowel_y {
        return format!("{}ies", &word[..word.len() - 1]);
    }
    if ["s", "x", "z", "ch", "sh"].iter().any(|e| word.ends_with(e)) {
        return format!("{word}es");
    }
    format!("{word}s")
}

const IRREGULAR: [(&str, &str); 6] =
    [("people", "person"), ("children", "child"), ("men", "man"), ("statuses", "status"), ("addresses", "address"), ("data", "datum")];

/// `LineItem` → `line_item`; `Admin::User` → `user` (the default table of a
/// namespaced model has no prefix unless its module sets one).
pub fn underscore(constant: &str) -> String {
    let last = constant.rsplit("::").next().unwrap_or(constant);
    let mut out = String::new();
    let chars: Vec<char> = last.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// The table of a model class: `LineItem` → `line_items`.
pub fn tableize(constant: &str) -> String {
    pluralize(&underscore(constant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_rails() {
        // SHA-256 prefixes computed independently (Python's hashlib).
        assert_eq!(foreign_key_name("posts", "user_id"), "fk_rails_5b5ddfd518");
        assert_eq!(check_name("products", "price > 0"), "chk_rails_50b1a1153c");
        assert_eq!(index_name("users", &["a".into(), "b".into()]), "index_users_on_a_and_b");
        assert_eq!(tableize("LineItem"), "line_items");
        assert_eq!(tableize("Admin::Category"), "categories");
        assert_eq!(tableize("HTTPRequest"), "http_requests");
        assert_eq!(tableize("Person"), "people");
        assert_eq!(tableize("Address"), "addresses");
        assert_eq!(tableize("Day"), "days");
        for (plural, single) in [
            ("users", "user"),
            ("categories", "category"),
            ("boxes", "box"),
            ("addresses", "address"),
            ("people", "person"),
            ("statuses", "status"),
            ("matches", "match"),
        ] {
            assert_eq!(singularize(plural), single);
            assert_eq!(pluralize(single), plural);
        }
    }
}
