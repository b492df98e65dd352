//! `enum-add-value-in-transaction`: `ALTER TYPE ... ADD VALUE` where
//! PostgreSQL refuses it, or its new value used before it is committed.
//!
//! Before PostgreSQL 12, ADD VALUE cannot run inside a transaction block
//! (unless the type was created in the same transaction): the migration
//! fails at deploy. From 12 on it can, but the new value cannot be used until
//! the transaction commits: a later statement of the same transactional
//! migration that uses it (a default, an INSERT, an index predicate) fails
//! with "unsafe use of new value". PostgreSQL 17 exempts types created in the
//! same transaction. Recipe: add the value in its own no-transaction
//! migration, and use it in the next one.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::strings;
use crate::pg::Severity;
use pg_query::protobuf::AlterEnumStmt;
use pg_query::NodeEnum;
use stepwise_sql::lexer::{tokenize, TokenKind};
use stepwise_sql::Dialect;

pub struct EnumAddValueInTransaction;
pub static RULE: EnumAddValueInTransaction = EnumAddValueInTransaction;

static META: RuleMeta = RuleMeta {
    id: "enum-add-value-in-transaction",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::Advice,
    summary: "ALTER TYPE ... ADD VALUE: in its own no-transaction migration, before any use of the value",
    setup: "CREATE TYPE order_status AS ENUM ('pending', 'paid');\nCREATE TABLE orders (id bigint PRIMARY KEY, status order_status NOT NULL DEFAULT 'pending');",
    bad: "ALTER TYPE order_status ADD VALUE 'refunded';\nCREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY, status order_status NOT NULL DEFAULT 'refunded');",
    safe: &[
        "-- stepwise:no-transaction\nALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';",
        "CREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY, status order_status NOT NULL DEFAULT 'refunded');",
    ],
};

/// `ALTER TYPE ... ADD VALUE` (not RENAME VALUE).
fn add_value(node: &NodeEnum) -> Option<&AlterEnumStmt> {
    match node {
        NodeEnum::AlterEnumStmt(e) if e.old_val.is_empty() && !e.new_val.is_empty() => Some(e),
        _ => None,
    }
}

fn type_name(names: &[pg_query::protobuf::Node]) -> String {
    strings(names).join(".")
}

/// Whether an earlier statement of the migration created the enum type.
fn created_here(cx: &Cx, name: &str) -> bool {
    cx.earlier.iter().any(|e| matches!(e, NodeEnum::CreateEnumStmt(c) if type_name(&c.type_name) == name))
}

/// Byte offsets of the string literals in `sql` whose value is `value`.
fn literal_uses(sql: &str, value: &str) -> Vec<usize> {
    let quoted = format!("'{}'", value.replace('\'', "''"));
    let Ok(tokens) = tokenize(sql, Dialect::Postgres) else { return vec![] };
    tokens.iter().filter(|t| t.kind == TokenKind::String && sql[t.span.clone()] == quoted).map(|t| t.span.start).collect()
}

impl Rule for EnumAddValueInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if !cx.in_transaction {
            return;
        }
        if let Some(e) = add_value(cx.node) {
            let name = type_name(&e.type_name);
            if cx.pg_version < 12 && !created_here(cx, &name) {
                hits.push(Hit::new(
                    format!("ALTER TYPE {name} ADD VALUE cannot run inside a transaction before PostgreSQL 12"),
                    format!(
                        "PostgreSQL {} refuses ALTER TYPE ... ADD VALUE inside a transaction block (\"cannot run inside a transaction block\"), so the migration fails when it is deployed.",
                        cx.pg_version
                    ),
                    format!("-- stepwise:no-transaction\nALTER TYPE {name} ADD VALUE IF NOT EXISTS '{}';", e.new_val.replace('\'', "''")),
                ));
            }
        }
        // A value added earlier in this transaction, used now.
        for earlier in cx.earlier.iter().filter_map(|n| add_value(n)) {
            let name = type_name(&earlier.type_name);
            if cx.pg_version >= 17 && created_here(cx, &name) {
                continue;
            }
            let Some(&at) = literal_uses(cx.sql(), &earlier.new_val).first() else { continue };
            let value = earlier.new_val.replace('\'', "''");
            hits.push(
                Hit::new(
                    format!("'{value}' is used in the transaction that adds it to `{name}`"),
                    format!(
                        "A value added by ALTER TYPE ... ADD VALUE cannot be used until its transaction commits: this statement fails with `unsafe use of new value \"{}\" of enum type {name}`, and the migration with it.",
                        earlier.new_val
                    ),
                    format!(
                        "-- stepwise:no-transaction\nALTER TYPE {name} ADD VALUE IF NOT EXISTS '{value}';\n-- next migration (the value is committed now):\n{};",
                        cx.sql().trim()
                    ),
                )
                .at(at as i32),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const SETUP: &str = "CREATE TYPE order_status AS ENUM ('pending', 'paid');\nCREATE TABLE orders (id bigint PRIMARY KEY, status order_status NOT NULL DEFAULT 'pending');";
    const ID: &str = "enum-add-value-in-transaction";

    fn on(version: u32) -> LintOptions {
        LintOptions { pg_version: version, ..Default::default() }
    }

    #[test]
    fn add_value_in_a_transaction_fails_before_12_only() {
        let m = "ALTER TYPE order_status ADD VALUE 'refunded';";
        let f = check_with(ID, SETUP, m, &on(11));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].safe.starts_with("-- stepwise:no-transaction\nALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';"));
        assert!(check_with(ID, SETUP, m, &on(12)).is_empty());
        assert!(check_with(ID, SETUP, &format!("-- stepwise:no-transaction\n{m}"), &on(11)).is_empty());
        // Allowed before 12 when the type is created in the same transaction.
        let created = "CREATE TYPE color AS ENUM ('red');\nALTER TYPE color ADD VALUE 'blue';";
        assert!(check_with(ID, SETUP, created, &on(11)).is_empty());
    }

    #[test]
    fn using_the_new_value_in_the_same_transaction_is_flagged() {
        let m = "ALTER TYPE order_status ADD VALUE 'refunded';\n-- 'refunded' in a comment is no use\nINSERT INTO orders (id, status) VALUES (1, 'refunded');";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, 3);
        assert_eq!(f[0].col, "INSERT INTO orders (id, status) VALUES (1, ".len() + 1);
        assert!(f[0].message.contains("'refunded'") && f[0].message.contains("`order_status`"));
        assert!(f[0].why.contains("unsafe use of new value \"refunded\" of enum type order_status"), "{}", f[0].why);
        assert!(f[0].safe.contains("-- next migration (the value is committed now):\nINSERT INTO orders"), "{}", f[0].safe);
    }

    #[test]
    fn other_values_separate_migrations_and_renames_pass() {
        for m in [
            "ALTER TYPE order_status ADD VALUE 'refunded';\nINSERT INTO orders (id, status) VALUES (1, 'paid');",
            "-- stepwise:no-transaction\nALTER TYPE order_status ADD VALUE 'refunded';\nINSERT INTO orders (id, status) VALUES (1, 'refunded');",
            "ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';\nINSERT INTO orders (id, status) VALUES (1, 'settled');",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }

    #[test]
    fn a_type_created_in_the_same_transaction_is_exempt_from_17() {
        let m = "CREATE TYPE color AS ENUM ('red');\nALTER TYPE color ADD VALUE 'blue';\nCREATE TABLE paints (id bigint PRIMARY KEY, c color DEFAULT 'blue');";
        assert_eq!(check_with(ID, SETUP, m, &on(16)).len(), 1);
        assert!(check_with(ID, SETUP, m, &on(17)).is_empty());
    }
}
