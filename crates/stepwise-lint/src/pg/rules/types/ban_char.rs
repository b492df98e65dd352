//! `ban-char`: a `char(n)` / `character(n)` column.
//!
//! `char(n)` pads every value with spaces to `n` characters, ignores trailing
//! spaces in comparisons but not in LIKE or regular expressions, and is no
//! faster or smaller than `text` (the padding is stored). A fixed length is
//! better written as `text` with a CHECK constraint; changing a `char(n)`
//! column later rewrites the table under an ACCESS EXCLUSIVE lock.

use super::{array_length_limit, flag_columns, length_limit};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;

pub struct BanChar;
pub static RULE: BanChar = BanChar;

static META: RuleMeta = RuleMeta {
    id: "ban-char",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "Use text (with a CHECK if needed) instead of char(n)",
    setup: "CREATE TABLE customers (id bigint PRIMARY KEY);",
    bad: "CREATE TABLE IF NOT EXISTS addresses (id bigint PRIMARY KEY, country char(2) NOT NULL);",
    safe: &["CREATE TABLE IF NOT EXISTS addresses (\n    id bigint PRIMARY KEY,\n    country text NOT NULL CONSTRAINT addresses_country_length CHECK (length(country) <= 2)\n);"],
};

impl Rule for BanChar {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        flag_columns(cx, hits, |col| {
            if let Some(n) = array_length_limit(col).filter(|_| col.ty.base == "bpchar") {
                return Some((
                    format!("`{}` is char({n})[]: use text[]", col.label()),
                    format!(
                        "char({n}) pads every element with spaces to {n} characters and is no faster than text. Changing `{}` later rewrites the table under an ACCESS EXCLUSIVE lock.",
                        col.label()
                    ),
                ));
            }
            let n = length_limit(col).filter(|_| col.ty.base == "bpchar")?;
            Some((
                format!("`{}` is char({n}): use text", col.label()),
                format!(
                    "char({n}) pads every value with spaces to {n} characters (the padding is stored), ignores them in comparisons but not in LIKE or regular expressions, and is no faster than text. Changing `{}` later rewrites the table under an ACCESS EXCLUSIVE lock.",
                    col.label()
                ),
            ))
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);";

    #[test]
    fn flags_char_and_character() {
        let m = "CREATE TABLE addresses (id bigint PRIMARY KEY, country char(2), flag character);";
        let f = check("ban-char", SETUP, m);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("`addresses.country` is char(2)"));
        assert!(f[0].safe.contains("country text CONSTRAINT addresses_country_length CHECK (length(country) <= 2)"), "{}", f[0].safe);
        assert!(f[1].message.contains("`addresses.flag` is char(1)"));
    }

    #[test]
    fn an_added_column_on_an_existing_table_gets_a_not_valid_check() {
        let f = check("ban-char", SETUP, "ALTER TABLE customers ADD COLUMN currency char(3);");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].safe.contains("CHECK (length(currency) <= 3) NOT VALID"), "{}", f[0].safe);
    }

    #[test]
    fn text_varchar_and_the_internal_char_pass() {
        let m = "CREATE TABLE addresses (id bigint PRIMARY KEY, country text, code varchar, kind \"char\");";
        assert!(check("ban-char", SETUP, m).is_empty());
    }
}
