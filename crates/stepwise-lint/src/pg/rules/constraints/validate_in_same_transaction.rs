//! `validate-in-same-transaction`: `VALIDATE CONSTRAINT` in the same
//! transaction as the `NOT VALID` add of that constraint.
//!
//! `NOT VALID` exists to split a constraint in two: a short add under a
//! strong lock, then a long check of the existing rows under a weak one.
//! A transaction keeps every lock it took until it commits, so when both run
//! in one migration the add's lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW
//! EXCLUSIVE on both tables for a FOREIGN KEY) is still held during the whole
//! validation scan: exactly the outage NOT VALID was written to avoid.

use super::shared::{add_constraint_cmd, alter, constraint_name, referenced, table_constraint, validate};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, word_offset};
use crate::pg::schema::range_key;
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableStmt, AlterTableType, ConstrType, Constraint};

pub struct ValidateInSameTransaction;
pub static RULE: ValidateInSameTransaction = ValidateInSameTransaction;

static META: RuleMeta = RuleMeta {
    id: "validate-in-same-transaction",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "VALIDATE CONSTRAINT belongs in a later migration than the NOT VALID add",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2));",
    bad: "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;",
    ],
};

/// The NOT VALID constraints an ALTER TABLE adds to `key`, with their names.
fn not_valid_adds<'a>(a: &'a AlterTableStmt, key: &str) -> Vec<(String, &'a Constraint)> {
    let Some(r) = a.relation.as_ref().filter(|r| range_key(r) == key) else { return vec![] };
    alter_cmds(a)
        .filter(|(t, _)| *t == AlterTableType::AtAddConstraint)
        .filter_map(|(_, c)| c.def.as_deref().and_then(constraint))
        .filter(|k| k.skip_validation && k.is_enforced)
        .map(|k| (constraint_name(&r.relname, k, None), k))
        .collect()
}

impl Rule for ValidateInSameTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        if !cx.in_transaction {
            return;
        }
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        let key = range_key(r);
        let table = Cx::name(r);
        // NOT VALID adds earlier in the transaction, and earlier in this statement.
        let mut added: Vec<(String, &Constraint)> =
            cx.earlier.iter().filter_map(|n| alter_table(n)).flat_map(|e| not_valid_adds(e, &key)).collect();
        let mut validations = 0;
        for (t, c) in alter_cmds(a) {
            match t {
                AlterTableType::AtAddConstraint => {
                    if let Some(k) = c.def.as_deref().and_then(constraint).filter(|k| k.skip_validation && k.is_enforced) {
                        added.push((constraint_name(&r.relname, k, None), k));
                    }
                }
                AlterTableType::AtValidateConstraint => {
                    let at = word_offset(cx.sql(), &["VALIDATE"], validations);
                    validations += 1;
                    let Some((name, k)) = added.iter().rev().find(|(n, _)| *n == c.name) else { continue };
                    let lock = match constr_type(k) {
                        ConstrType::ConstrForeign => format!(
                            "the SHARE ROW EXCLUSIVE locks it took on `{table}` and `{}` are still held during the whole validation scan: INSERT, UPDATE and DELETE on both tables wait until it ends",
                            referenced(k)
                        ),
                        ConstrType::ConstrCheck => format!(
                            "the ACCESS EXCLUSIVE lock it took on `{table}` is still held during the whole validation scan: every read and write of `{table}` waits until it ends"
                        ),
                        _ => format!("the lock it took on `{table}` is still held during the whole validation scan"),
                    };
                    let add = alter(a, vec![add_constraint_cmd(table_constraint(k, name, None, true))]);
                    hits.push(
                        Hit::new(
                            format!("constraint `{name}` of `{table}` is validated in the same transaction that adds it NOT VALID"),
                            format!(
                                "A transaction keeps its locks until it commits. The NOT VALID add ran earlier in this transaction, so {lock}, which takes minutes on a large table and defeats NOT VALID."
                            ),
                            format!(
                                "-- This migration: only the NOT VALID add (and nothing after it that scans).\n{add};\n\
                                 -- next migration: VALIDATE on its own takes only a SHARE UPDATE EXCLUSIVE lock on `{table}` (reads and writes go on)\n{};",
                                validate(a, name)
                            ),
                        )
                        .on_table(table.clone())
                        .at(at as i32),
                    );
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const ID: &str = "validate-in-same-transaction";
    const SETUP: &str =
        "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount numeric);";
    const ADD_FK: &str =
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n";

    #[test]
    fn flags_validate_after_the_add_in_one_transaction() {
        let f = check(ID, SETUP, &format!("{ADD_FK}ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;"));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].line, f[0].col), (2, 20), "{f:?}");
        assert!(f[0].message.contains("orders_customer_id_fkey"));
        assert!(f[0].why.contains("SHARE ROW EXCLUSIVE") && f[0].why.contains("customers"), "{}", f[0].why);
        assert!(f[0].safe.contains("-- next migration"));
        assert!(f[0].safe.contains("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;"), "{}", f[0].safe);
    }

    #[test]
    fn a_check_names_its_access_exclusive_lock() {
        let m = "ALTER TABLE orders ADD CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_check;";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("ACCESS EXCLUSIVE"), "{}", f[0].why);
    }

    #[test]
    fn add_and_validate_in_one_statement_is_flagged() {
        let m =
            "ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount > 0) NOT VALID, VALIDATE CONSTRAINT orders_amount_check;";
        assert_eq!(check(ID, SETUP, m).len(), 1);
    }

    #[test]
    fn separate_migrations_pass() {
        let setup = format!("{SETUP}\n{ADD_FK}");
        assert!(check(ID, &setup, "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;").is_empty());
    }

    #[test]
    fn a_migration_without_transaction_passes() {
        let m = format!("-- stepwise:no-transaction\n{ADD_FK}ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;");
        assert!(check(ID, SETUP, &m).is_empty());
    }

    #[test]
    fn another_constraint_or_table_passes() {
        let m = format!("{ADD_FK}ALTER TABLE orders VALIDATE CONSTRAINT orders_other_check;\nALTER TABLE customers VALIDATE CONSTRAINT orders_customer_id_fkey;");
        assert!(check(ID, SETUP, &m).is_empty());
    }
}
