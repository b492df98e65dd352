//! `prefer-text`: a `varchar(n)` column.
//!
//! In PostgreSQL `varchar(n)` is `text` with a length check built into the
//! type: no faster, no smaller. The check is the problem: raising the limit
//! later still takes an ACCESS EXCLUSIVE lock on the table, and lowering it
//! rewrites the table and its indexes under that lock. A `text` column with a
//! `CHECK (length(col) <= n)` constraint enforces the same limit, and the
//! limit can be changed without blocking anyone: add the new check NOT VALID,
//! VALIDATE it (SHARE UPDATE EXCLUSIVE: reads and writes go on), drop the old.

use super::{array_length_limit, flag_columns, length_limit};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;

pub struct PreferText;
pub static RULE: PreferText = PreferText;

static META: RuleMeta = RuleMeta {
    id: "prefer-text",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "Use text (with a CHECK on its length if a limit is needed) instead of varchar(n)",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY);",
    bad: "CREATE TABLE IF NOT EXISTS customers (id bigint PRIMARY KEY, email varchar(255) NOT NULL);",
    safe: &["CREATE TABLE IF NOT EXISTS customers (\n    id bigint PRIMARY KEY,\n    email text NOT NULL CONSTRAINT customers_email_length CHECK (length(email) <= 255)\n);"],
};

impl Rule for PreferText {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        flag_columns(cx, hits, |col| {
            if let Some(limit) = array_length_limit(col).filter(|_| col.ty.base == "varchar") {
                return Some((
                    format!("`{}` is varchar({limit})[]: use text[]", col.label()),
                    format!(
                        "varchar({limit})[] is text[] with a limit on each element, no faster and no smaller. Changing that limit later takes an ACCESS EXCLUSIVE lock on `{}` (reads and writes wait), and lowering it rewrites the table under that lock.",
                        Cx::name(col.table)
                    ),
                ));
            }
            let limit = length_limit(col).filter(|_| col.ty.base == "varchar")?;
            Some((
                format!("`{}` is varchar({limit}): use text with a CHECK on its length", col.label()),
                format!(
                    "varchar({limit}) is text with the limit built into the type, no faster and no smaller. Changing that limit later takes an ACCESS EXCLUSIVE lock on `{}` (reads and writes wait), and lowering it rewrites the table and its indexes under that lock; a CHECK constraint can be replaced NOT VALID, then validated without blocking reads or writes.",
                    Cx::name(col.table)
                ),
            ))
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, findings_in_sequence};

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY);";

    #[test]
    fn flags_varchar_n_in_a_new_table_with_an_inline_check() {
        let f = check("prefer-text", SETUP, "CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(255) NOT NULL);");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("`customers.email` is varchar(255)"));
        assert!(f[0].safe.contains("email text CONSTRAINT customers_email_length CHECK (length(email) <= 255) NOT NULL"), "{}", f[0].safe);
    }

    #[test]
    fn an_added_column_gets_the_not_valid_recipe() {
        let f = check("prefer-text", SETUP, "ALTER TABLE orders ADD COLUMN coupon character varying(32);");
        assert_eq!(f.len(), 1, "{f:#?}");
        let safe = &f[0].safe;
        assert!(safe.contains("ADD COLUMN coupon text"), "{safe}");
        assert!(safe.contains("ADD CONSTRAINT orders_coupon_length CHECK (length(coupon) <= 32) NOT VALID;"), "{safe}");
        assert!(safe.contains("VALIDATE CONSTRAINT orders_coupon_length;"), "{safe}");
    }

    #[test]
    fn text_and_unbounded_varchar_pass() {
        let m = "CREATE TABLE customers (id bigint PRIMARY KEY, email text, nickname varchar, tags text[]);";
        assert!(check("prefer-text", SETUP, m).is_empty());
    }

    #[test]
    fn the_recipe_for_an_existing_table_passes_every_rule() {
        let safe = &check("prefer-text", SETUP, "ALTER TABLE orders ADD COLUMN coupon varchar(32);")[0].safe;
        let (first, second) = safe.split_once("-- next migration").unwrap();
        let first = format!("SET LOCAL lock_timeout = '2s';\n{first}");
        let f = findings_in_sequence(&[SETUP, &first, &format!("-- next migration{second}")]);
        assert!(f.is_empty(), "{f:#?}");
    }
}
