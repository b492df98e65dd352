//! `require-lock-timeout` (opt-in, for files run outside stepwise): a
//! statement that needs a lock blocking reads or writes on an existing table,
//! with no `SET lock_timeout` earlier in the migration.
//!
//! A lock request waits behind every query already running on the table, and
//! every query after it queues behind the request: one slow report behind
//! an ALTER TABLE stalls all traffic to the table for as long as the report
//! runs. `stepwise migrate` runs every statement under a short lock timeout
//! and retries; a file run with `psql -f` or another tool gets no such
//! protection unless it sets one. Locks that block neither reads nor writes
//! (SHARE UPDATE EXCLUSIVE: CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT)
//! do not stall traffic while they wait, and are not counted.

use super::locks::blocking_locks_on_existing;
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;
use pg_query::protobuf::{a_const, VariableSetKind};
use pg_query::NodeEnum;

pub struct RequireLockTimeout;
pub static RULE: RequireLockTimeout = RequireLockTimeout;

static META: RuleMeta = RuleMeta {
    id: "require-lock-timeout",
    severity: Severity::Warning,
    default_on: false,
    cost: Cost::LockQueue,
    summary: "Set lock_timeout before taking locks on existing tables (opt-in, for files run outside stepwise)",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY);",
    bad: "ALTER TABLE orders ADD COLUMN note text;",
    safe: &["SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;"],
};

/// How a statement changes the session's lock_timeout: `Some(true)` sets a
/// timeout, `Some(false)` removes it (0, DEFAULT, RESET), `None` no change.
fn sets_lock_timeout(node: &NodeEnum, in_transaction: bool) -> Option<bool> {
    match node {
        NodeEnum::VariableSetStmt(v) => {
            let kind = VariableSetKind::try_from(v.kind).unwrap_or(VariableSetKind::Undefined);
            if kind == VariableSetKind::VarResetAll {
                return Some(false);
            }
            if v.name != "lock_timeout" {
                return None;
            }
            // SET LOCAL outside a transaction block does nothing (a warning).
            if v.is_local && !in_transaction {
                return None;
            }
            if kind != VariableSetKind::VarSetValue {
                return Some(false);
            }
            let zero = v.args.iter().any(|a| match &a.node {
                Some(NodeEnum::AConst(c)) => match &c.val {
                    Some(a_const::Val::Ival(i)) => i.ival == 0,
                    Some(a_const::Val::Sval(s)) => {
                        // '0', '0s', '0ms': the number before the unit.
                        let number: String = s.sval.trim().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                        number.parse::<f64>().is_ok_and(|n| n == 0.0)
                    }
                    _ => false,
                },
                _ => false,
            });
            Some(!zero)
        }
        // SELECT set_config('lock_timeout', '2s', false)
        NodeEnum::SelectStmt(s) => {
            let calls = s.target_list.iter().filter_map(|t| match &t.node {
                Some(NodeEnum::ResTarget(r)) => match r.val.as_ref().and_then(|v| v.node.as_ref()) {
                    Some(NodeEnum::FuncCall(f)) => Some(f),
                    _ => None,
                },
                _ => None,
            });
            for f in calls {
                let name = crate::pg::rules::helpers::strings(&f.funcname);
                let first = f.args.first().and_then(|a| match &a.node {
                    Some(NodeEnum::AConst(c)) => match &c.val {
                        Some(a_const::Val::Sval(s)) => Some(s.sval.as_str()),
                        _ => None,
                    },
                    _ => None,
                });
                if name.last().map(String::as_str) == Some("set_config") && first == Some("lock_timeout") {
                    return Some(true);
                }
            }
            None
        }
        _ => None,
    }
}

impl Rule for RequireLockTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let mut timeout = false;
        for e in cx.earlier {
            if let Some(set) = sets_lock_timeout(e, cx.in_transaction) {
                timeout = set;
            } else if !timeout && !blocking_locks_on_existing(e, cx.schema, cx.pg_version).is_empty() {
                // Reported on that earlier statement already: once per migration.
                return;
            }
        }
        if timeout {
            return;
        }
        let locks = blocking_locks_on_existing(cx.node, cx.schema, cx.pg_version);
        let Some(l) = locks.first() else { return };
        let set = if cx.in_transaction { "SET LOCAL lock_timeout = '2s';" } else { "SET lock_timeout = '2s';" };
        hits.push(
            Hit::new(
                format!("{} lock on `{}` without a lock_timeout", l.lock.name(), l.table),
                format!(
                    "The {} lock waits behind every query running on `{}`, and {} on the table queues behind it for as long as it waits: without lock_timeout, one slow query stalls all traffic to the table.",
                    l.lock.name(),
                    l.table,
                    l.lock.blocked()
                ),
                format!("{set}\n{};\n-- If it times out, retry later (stepwise migrate does this by itself).", cx.sql().trim()),
            )
            .on_table(l.table.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);";
    const ID: &str = "require-lock-timeout";

    #[test]
    fn flags_the_first_lock_without_a_timeout() {
        let m = "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN memo text;";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("ACCESS EXCLUSIVE lock on `orders`"));
        assert!(f[0].safe.starts_with("SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;"), "{}", f[0].safe);
        let f = check(ID, SETUP, "-- stepwise:no-transaction\nCREATE INDEX orders_status_idx ON orders (status);");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].safe.starts_with("SET lock_timeout = '2s';"));
    }

    #[test]
    fn a_timeout_that_is_unset_or_ineffective_does_not_count() {
        for m in [
            "SET lock_timeout = 0;\nALTER TABLE orders ADD COLUMN note text;",
            "SET lock_timeout = '0';\nALTER TABLE orders ADD COLUMN note text;",
            "SET lock_timeout = '2s';\nRESET lock_timeout;\nALTER TABLE orders ADD COLUMN note text;",
            "-- stepwise:no-transaction\nSET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;",
        ] {
            assert_eq!(check(ID, SETUP, m).len(), 1, "{m}");
        }
    }

    #[test]
    fn timeouts_new_tables_and_non_blocking_locks_pass() {
        for m in [
            "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;",
            "SET LOCAL lock_timeout TO '500ms';\nALTER TABLE orders ADD COLUMN note text;",
            "SELECT set_config('lock_timeout', '2s', true);\nALTER TABLE orders ADD COLUMN note text;",
            "CREATE TABLE items (id bigint PRIMARY KEY);\nALTER TABLE items ADD COLUMN note text;",
            "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);",
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_status_check;",
            "INSERT INTO orders (id) VALUES (1);",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
