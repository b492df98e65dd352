//! `multiple-locks-in-transaction`: in a migration that runs in one
//! transaction, a statement that locks an existing table (above ROW
//! EXCLUSIVE) after an earlier statement already holds a lock that blocks
//! traffic on a different existing table.
//!
//! PostgreSQL keeps every lock until the transaction ends. The first table
//! stays blocked while the later statement waits in the second table's lock
//! queue (behind any long query there) and while it runs (an index build, a
//! validation scan): two tables stall for the price of one, and the more
//! tables a migration locks, the likelier a deadlock with the application.
//! An earlier lock that blocks nothing (SHARE UPDATE EXCLUSIVE, for
//! VALIDATE CONSTRAINT or CREATE INDEX CONCURRENTLY) is not counted.
//! Each further table is reported once, at the first statement that locks
//! it. Recipe: one lock-taking statement per migration.

use super::locks::{blocking_locks_on_existing, renamed, table_locks, Lock};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;

pub struct MultipleLocksInTransaction;
pub static RULE: MultipleLocksInTransaction = MultipleLocksInTransaction;

static META: RuleMeta = RuleMeta {
    id: "multiple-locks-in-transaction",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::LockQueue,
    summary: "One transaction should not lock several existing tables: one lock-taking statement per migration",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE TABLE customers (id bigint PRIMARY KEY);",
    bad: "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN note text;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE customers ADD COLUMN note text;",
    ],
};

impl Rule for MultipleLocksInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if !cx.in_transaction || cx.earlier.is_empty() {
            return;
        }
        let mut now: Vec<_> = table_locks(cx.node, cx.schema, cx.pg_version)
            .into_iter()
            .filter(|l| l.resolved && l.lock > Lock::RowExclusive && l.existing(cx.schema))
            .collect();
        now.sort_by_key(|l| std::cmp::Reverse(l.lock));
        // A table an earlier statement already locked as strongly was
        // reported there (or is the first table): no new wait here.
        let held_before = |table: &str, lock: Lock| {
            cx.earlier.iter().enumerate().any(|(i, e)| {
                table_locks(e, cx.schema, cx.pg_version).iter().any(|l| renamed(&l.table, &cx.earlier[i..]) == table && l.lock >= lock)
            })
        };
        now.retain(|l| !held_before(&l.table, l.lock));
        // A lock this statement takes on one table while an earlier statement
        // holds a traffic-blocking lock on another.
        let found = now.iter().find_map(|cur| {
            cx.earlier.iter().enumerate().find_map(|(i, e)| {
                blocking_locks_on_existing(e, cx.schema, cx.pg_version)
                    .into_iter()
                    .find(|l| l.resolved && renamed(&l.table, &cx.earlier[i..]) != cur.table)
                    .map(|l| (cur, i, l))
            })
        });
        let Some((current, earlier, held)) = found else { return };
        let (a, b) = (&held.table, &current.table);
        hits.push(
            Hit::new(
                format!("`{b}` is locked ({}) while this transaction still holds {} on `{a}`", current.lock.name(), held.lock.name()),
                format!(
                    "PostgreSQL keeps locks until the transaction ends: the {} lock on `{a}` taken by an earlier statement blocks {} on `{a}` while this statement waits in `{b}`'s lock queue (behind any long query on it) and while it runs, and until the migration commits.",
                    held.lock.name(),
                    held.lock.blocked()
                ),
                format!(
                    "SET LOCAL lock_timeout = '2s';\n{};\n-- next migration (one lock-taking statement per migration):\nSET LOCAL lock_timeout = '2s';\n{};",
                    cx.earlier_sql[earlier].trim_end(),
                    cx.sql().trim_end()
                ),
            )
            .on_table(b.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\nCREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE audit (id bigint PRIMARY KEY);";
    const ID: &str = "multiple-locks-in-transaction";

    #[test]
    fn flags_a_second_table_locked_in_the_same_transaction() {
        let m = "ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX customers_id2_idx ON customers (id);\nALTER TABLE audit ADD COLUMN note text;";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].message.contains("`customers` is locked (SHARE) while this transaction still holds ACCESS EXCLUSIVE on `orders`"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].line, 2);
        assert!(
            f[0].safe.starts_with("SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\n-- next migration"),
            "{}",
            f[0].safe
        );
        assert!(f[1].message.contains("`audit`"));
    }

    #[test]
    fn a_long_validation_after_an_exclusive_lock_is_flagged() {
        let m = "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers VALIDATE CONSTRAINT customers_check;";
        assert_eq!(check(ID, SETUP, m).len(), 1);
    }

    #[test]
    fn one_table_new_tables_weak_locks_and_no_transaction_pass() {
        for m in [
            // The same table twice.
            "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN memo text;",
            // A table created in this migration is not in use.
            "CREATE TABLE items (id bigint PRIMARY KEY);\nALTER TABLE items ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN note text;",
            // The same table under its new name.
            "ALTER TABLE orders RENAME TO purchases;\nALTER TABLE purchases ADD COLUMN note text;",
            // Row changes and reads take no lock above ROW EXCLUSIVE.
            "ALTER TABLE orders ADD COLUMN note text;\nINSERT INTO audit (id) VALUES (1);",
            // An earlier lock that blocks no traffic.
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_check;\nALTER TABLE customers ADD COLUMN note text;",
            // Each statement commits on its own.
            "-- stepwise:no-transaction\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN note text;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }

    #[test]
    fn each_further_table_is_reported_once() {
        let m = "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN memo text;\nALTER TABLE orders ADD COLUMN memo text;";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, 2);
    }

    #[test]
    fn a_foreign_key_locks_the_referenced_table_too() {
        let m = "ALTER TABLE customers ADD COLUMN note text;\nALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
        let f = check(ID, SETUP, m);
        // The second statement locks orders while customers is held.
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.starts_with("`orders` is locked (SHARE ROW EXCLUSIVE)"), "{}", f[0].message);
    }
}
