//! `check-not-valid`: a CHECK constraint added to an existing table without
//! `NOT VALID`.
//!
//! `ALTER TABLE ... ADD CONSTRAINT ... CHECK` takes an ACCESS EXCLUSIVE lock
//! on the table and checks every row while it holds it: no read and no
//! write of the table until the scan ends. Added `NOT VALID`, the check
//! applies to new writes at once (a catalog change, instant) and
//! `VALIDATE CONSTRAINT` checks the old rows in a later migration under a
//! SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.
//!
//! A CHECK written on a column added by `ADD COLUMN` is checked against
//! every row too, and cannot be marked NOT VALID: the recipe adds the
//! column and a table-level NOT VALID check in one statement.

use super::shared::{add_constraint_cmd, alter, cmd, column_constraints, constraint_name, table_constraint, validate};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, word_offset};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableStmt, AlterTableType, ConstrType, Constraint};
use pg_query::NodeEnum;

pub struct CheckNotValid;
pub static RULE: CheckNotValid = CheckNotValid;

static META: RuleMeta = RuleMeta {
    id: "check-not-valid",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "Add a CHECK constraint to an existing table NOT VALID, and VALIDATE it in a later migration",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2));",
    bad: "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;",
    ],
};

const WHY_LOCK: &str = "takes an ACCESS EXCLUSIVE lock on";

impl Rule for CheckNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        let table = Cx::name(r);
        // Point at the CHECK of each constraint, counted in order.
        let mut checks = 0;
        for (t, c) in alter_cmds(a) {
            match t {
                AlterTableType::AtAddConstraint => {
                    let Some(k) = c.def.as_deref().and_then(constraint).filter(|k| constr_type(k) == ConstrType::ConstrCheck) else {
                        continue;
                    };
                    let at = word_offset(cx.sql(), &["CHECK"], checks);
                    checks += 1;
                    if k.skip_validation || !k.is_enforced {
                        continue;
                    }
                    let name = constraint_name(&r.relname, k, None);
                    let add = alter(a, vec![add_constraint_cmd(table_constraint(k, &name, None, true))]);
                    hits.push(
                        Hit::new(
                            format!("CHECK constraint `{name}` is added to `{table}` without NOT VALID"),
                            format!(
                                "ADD CONSTRAINT ... CHECK {WHY_LOCK} `{table}` and holds it while it checks every row: every read and write of `{table}` waits until the scan ends, which takes minutes on a large table."
                            ),
                            recipe(a, &add, &name, &table),
                        )
                        .on_table(table.clone())
                        .at(at as i32),
                    );
                }
                AlterTableType::AtAddColumn => {
                    let Some(NodeEnum::ColumnDef(d)) = c.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
                    let col_checks: Vec<&Constraint> = column_constraints(d, ConstrType::ConstrCheck).collect();
                    if col_checks.is_empty() {
                        continue;
                    }
                    let at = word_offset(cx.sql(), &["CHECK"], checks);
                    checks += col_checks.len();
                    let mut plain = d.as_ref().clone();
                    plain.constraints.retain(|c| constraint(c).is_none_or(|k| constr_type(k) != ConstrType::ConstrCheck));
                    let mut cmds = vec![cmd(AlterTableType::AtAddColumn, "", Some(NodeEnum::ColumnDef(Box::new(plain))))];
                    let mut names = Vec::new();
                    for k in col_checks.iter().filter(|k| k.is_enforced) {
                        let name = constraint_name(&r.relname, k, Some(&d.colname));
                        cmds.push(add_constraint_cmd(table_constraint(k, &name, None, true)));
                        names.push(name);
                    }
                    let Some(name) = names.first() else { continue };
                    let col = &d.colname;
                    hits.push(
                        Hit::new(
                            format!("the CHECK on new column `{col}` is checked against every row of `{table}`"),
                            format!(
                                "ADD COLUMN {WHY_LOCK} `{table}`, and a CHECK on the new column makes PostgreSQL check every existing row under that lock: every read and write of `{table}` waits until the scan ends. A column's CHECK cannot be marked NOT VALID."
                            ),
                            recipe(a, &alter(a, cmds), name, &table),
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

fn recipe(a: &AlterTableStmt, add: &str, name: &str, table: &str) -> String {
    format!(
        "-- New and updated rows are checked at once; the existing rows are checked by VALIDATE.\n{add};\n\
         -- next migration: VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock on `{table}` (reads and writes go on)\n{};",
        validate(a, name)
    )
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const ID: &str = "check-not-valid";
    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), discount numeric(12,2));";

    #[test]
    fn flags_a_validated_check_on_an_existing_table() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("orders_amount_positive") && f[0].message.contains("`orders`"));
        assert!(f[0].why.contains("ACCESS EXCLUSIVE"), "{}", f[0].why);
        assert!(
            f[0].safe.contains("ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;"),
            "{}",
            f[0].safe
        );
        assert!(f[0].safe.contains("-- next migration"));
        assert!(f[0].safe.contains("ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;"), "{}", f[0].safe);
        assert_eq!((f[0].line, f[0].col), (1, 58), "{f:?}");
    }

    #[test]
    fn names_an_unnamed_check_as_postgresql_would() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD CHECK (amount > 0);");
        assert!(f[0].safe.contains("ADD CONSTRAINT orders_amount_check CHECK (amount > 0) NOT VALID"), "{}", f[0].safe);
        let f = check(ID, SETUP, "ALTER TABLE orders ADD CHECK (discount <= amount);");
        assert!(f[0].safe.contains("ADD CONSTRAINT orders_check CHECK (discount <= amount) NOT VALID"), "{}", f[0].safe);
    }

    #[test]
    fn not_valid_and_not_enforced_pass() {
        assert!(check(ID, SETUP, "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;").is_empty());
        assert!(check(ID, SETUP, "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT ENFORCED;").is_empty());
    }

    #[test]
    fn a_new_table_passes() {
        let m = "CREATE TABLE refunds (id bigint PRIMARY KEY, amount numeric CHECK (amount > 0));\nALTER TABLE refunds ADD CONSTRAINT refunds_amount_small CHECK (amount < 1000);";
        assert!(check(ID, SETUP, m).is_empty());
    }

    #[test]
    fn a_check_on_an_added_column_is_flagged_with_a_table_level_recipe() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN quantity integer DEFAULT 1 CHECK (quantity > 0);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("quantity"));
        assert!(
            f[0].safe.contains(
                "ALTER TABLE orders ADD COLUMN quantity int DEFAULT 1, ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;"
            ),
            "{}",
            f[0].safe
        );
        assert!(check(ID, SETUP, "ALTER TABLE orders ADD COLUMN quantity integer DEFAULT 1;").is_empty());
    }
}
