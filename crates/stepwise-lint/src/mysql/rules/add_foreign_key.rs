//! `mysql-add-foreign-key`: `ADD FOREIGN KEY` on an existing table while
//! `foreign_key_checks` is on.
//!
//! To check that every existing row has its parent, MySQL and MariaDB copy
//! the whole table (ALGORITHM=COPY) and block writes to it while they do.
//! With `SET foreign_key_checks = 0` in the same session the key is added
//! without looking at the rows: instantly on MariaDB, in place without a
//! rebuild on MySQL. The server then trusts the rows, so check them first.
//!
//! The safe way: find the rows the key would refuse with a query (it must
//! return nothing), then add the key with the checks off, and turn them back
//! on in the same migration (the session carries the setting to the next one).

use super::helpers::{body_sql, q};
use crate::mysql::ast::{Op, Stmt};
use crate::mysql::classify::Verdict;
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct AddForeignKey;
pub static RULE: AddForeignKey = AddForeignKey;

static META: RuleMeta = RuleMeta {
    id: "mysql-add-foreign-key",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ADD FOREIGN KEY copies the table and blocks writes: check the rows, then add it with foreign_key_checks=0",
    setup: "CREATE TABLE customers (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB;\n\
            CREATE TABLE orders (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, customer_id bigint, KEY idx_customer (customer_id)) ENGINE=InnoDB;",
    bad: "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);",
    safe: &["-- Rows the key would refuse; this must return nothing:\n\
             -- SELECT o.id FROM orders o LEFT JOIN customers p ON p.id = o.customer_id WHERE o.customer_id IS NOT NULL AND p.id IS NULL LIMIT 1;\n\
             SET foreign_key_checks = 0;\n\
             ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id), ALGORITHM=INSTANT;\n\
             SET foreign_key_checks = 1;"],
};

impl Rule for AddForeignKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, _)), Stmt::Alter(a)) = (cx.alter, cx.parsed) else { return };
        if cx.fk_checks_off {
            return;
        }
        for clause in &a.clauses {
            let Op::AddForeignKey(fk) = &clause.op else { continue };
            let parent = &fk.table;
            let parent_key =
                cx.schema.get(parent).and_then(|t| t.primary()).and_then(|k| k.columns.first().cloned()).unwrap_or_else(|| "id".into());
            let child_id = table.primary().and_then(|k| k.columns.first().cloned()).unwrap_or_else(|| "id".into());
            let (col, pcol) = (fk.columns.first().cloned().unwrap_or_default(), parent_key);
            let fast = if cx.server.mariadb() {
                Verdict { algorithm: crate::mysql::ast::Algorithm::Instant, ..fast_verdict() }
            } else {
                fast_verdict()
            };
            hits.push(
                Hit::new(
                    format!("adding a foreign key to `{}` copies it and blocks writes while every row is checked", table.name),
                    format!(
                        "With foreign_key_checks on, {} checks each existing row of `{}` against `{}` by copying the table \
                         (ALGORITHM=COPY) while INSERT, UPDATE and DELETE on it wait. With the checks off the key is added without \
                         reading a row ({}), so check the rows yourself first.",
                        cx.server,
                        table.name,
                        parent,
                        fast.clause(cx.server)
                    ),
                    format!(
                        "-- Rows the key would refuse; this must return nothing:\n\
                         -- SELECT c.{cid} FROM {t} c LEFT JOIN {p} p ON p.{pcol} = c.{col} WHERE c.{col} IS NOT NULL AND p.{pcol} IS NULL LIMIT 1;\n\
                         SET foreign_key_checks = 0;\n{}, {};\nSET foreign_key_checks = 1;",
                        body_sql(cx),
                        fast.clause(cx.server),
                        cid = q(&child_id),
                        t = q(&table.name),
                        p = q(parent),
                        pcol = q(&pcol),
                        col = q(&col),
                    ),
                )
                .at(clause.offset as i32)
                .on_table(table.name.clone()),
            );
        }
    }
}

fn fast_verdict() -> Verdict {
    Verdict {
        algorithm: crate::mysql::ast::Algorithm::Nocopy,
        lock: crate::mysql::ast::LockLevel::None,
        rebuild: false,
        reason: String::new(),
        known: true,
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::{check, check_on};

    const SETUP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY) ENGINE=InnoDB;\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint) ENGINE=InnoDB;";
    const ID: &str = "mysql-add-foreign-key";

    #[test]
    fn flags_a_checked_foreign_key_and_says_how_on_each_flavour() {
        let bad = "ALTER TABLE orders ADD CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id);";
        let f = check(ID, SETUP, bad);
        assert_eq!(f.len(), 1);
        assert!(f[0].safe.contains("SET foreign_key_checks = 0;\nALTER TABLE orders ADD CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id), ALGORITHM=INSTANT;\nSET foreign_key_checks = 1;"), "{}", f[0].safe);
        assert!(f[0].safe.contains("LEFT JOIN customers p ON p.id = c.customer_id"), "{}", f[0].safe);
        let f = check_on("mysql-8.0.35", ID, SETUP, bad);
        assert!(f[0].safe.contains("ALGORITHM=INPLACE, LOCK=NONE;"), "{}", f[0].safe);
    }

    #[test]
    fn checks_off_and_new_tables_pass() {
        for ok in [
            "SET foreign_key_checks = 0;\nALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);",
            "CREATE TABLE items (id int PRIMARY KEY, order_id bigint);\nALTER TABLE items ADD FOREIGN KEY (order_id) REFERENCES orders (id);",
        ] {
            assert!(check(ID, SETUP, ok).is_empty(), "{ok}");
        }
        let again = "SET foreign_key_checks = 0;\nSET foreign_key_checks = 1;\nALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);";
        assert_eq!(check(ID, SETUP, again).len(), 1);
    }
}
