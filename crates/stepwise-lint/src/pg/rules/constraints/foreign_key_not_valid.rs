//! `foreign-key-not-valid`: a FOREIGN KEY added to an existing table without
//! `NOT VALID`.
//!
//! `ALTER TABLE ... ADD FOREIGN KEY` takes a SHARE ROW EXCLUSIVE lock on the
//! table and on the table it references, then checks every existing row
//! while it holds both: no INSERT, UPDATE or DELETE on either table until the
//! scan ends. Added `NOT VALID`, the key is enforced for new writes at once
//! and the check of the old rows moves to `VALIDATE CONSTRAINT`, which only
//! takes a SHARE UPDATE EXCLUSIVE lock (reads and writes go on), in a later
//! migration.
//!
//! PostgreSQL does not check `REFERENCES` in CREATE TABLE (the table is
//! empty), nor on a column added without a default (all its values are
//! NULL): there only the brief lock on the referenced table matters. A
//! column added with a default (or in a statement that also adds a
//! table-level foreign key) is checked, so it is flagged.

use super::shared::{
    add_constraint_cmd, alter, cmd, column_constraints, column_has_default, constraint_name, on_partition, partition_name, referenced,
    table_constraint, validate,
};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, word_offset};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableStmt, AlterTableType, ColumnDef, ConstrType, Constraint};
use pg_query::NodeEnum;

pub struct ForeignKeyNotValid;
pub static RULE: ForeignKeyNotValid = ForeignKeyNotValid;

static META: RuleMeta = RuleMeta {
    id: "foreign-key-not-valid",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "Add a FOREIGN KEY to an existing table NOT VALID, and VALIDATE it in a later migration",
    setup: "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);",
    bad: "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);",
    // The recipe adds a foreign key, which the opt-in `ban-foreign-keys`
    // forbids by design; the recipes are checked with every rule on.
    safe: &[
        "SET LOCAL lock_timeout = '2s';\n-- stepwise:ignore ban-foreign-keys this recipe is for teams that use foreign keys\nALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;",
    ],
};

fn is_fk(c: &Constraint) -> bool {
    constr_type(c) == ConstrType::ConstrForeign
}

fn column_def(c: &pg_query::protobuf::AlterTableCmd) -> Option<&ColumnDef> {
    match c.def.as_ref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::ColumnDef(d)) => Some(d),
        _ => None,
    }
}

impl Rule for ForeignKeyNotValid {
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
        // PostgreSQL skips checking the foreign keys of added columns unless
        // the statement adds a column with a default or a table-level
        // foreign key (transformAlterTableStmt).
        let adds_table_fk =
            alter_cmds(a).any(|(t, c)| t == AlterTableType::AtAddConstraint && c.def.as_deref().and_then(constraint).is_some_and(is_fk));
        let adds_default = alter_cmds(a).any(|(t, c)| t == AlterTableType::AtAddColumn && column_def(c).is_some_and(column_has_default));
        // Point at the REFERENCES of each key, counted in order.
        let mut refs = 0;
        for (t, c) in alter_cmds(a) {
            match t {
                AlterTableType::AtAddConstraint => {
                    let Some(k) = c.def.as_deref().and_then(constraint).filter(|k| is_fk(k)) else { continue };
                    let at = word_offset(cx.sql(), &["REFERENCES"], refs);
                    refs += 1;
                    if k.skip_validation || !k.is_enforced {
                        continue;
                    }
                    let name = constraint_name(&r.relname, k, None);
                    hits.push(table_key_hit(cx, a, k, &name, &table).on_table(table.clone()).at(at as i32));
                }
                AlterTableType::AtAddColumn => {
                    let Some(d) = column_def(c) else { continue };
                    for k in column_constraints(d, ConstrType::ConstrForeign) {
                        let at = word_offset(cx.sql(), &["REFERENCES"], refs);
                        refs += 1;
                        if !(adds_default || adds_table_fk) || !k.is_enforced {
                            continue;
                        }
                        let because = if column_has_default(d) {
                            "it has a default, so every existing row gets a value to check"
                        } else {
                            "the same statement adds a table-level foreign key, which makes PostgreSQL check every key the statement adds"
                        };
                        let name = constraint_name(&r.relname, k, Some(&d.colname));
                        hits.push(column_key_hit(a, d, k, &name, &table, because).on_table(table.clone()).at(at as i32));
                    }
                }
                _ => {}
            }
        }
    }
}

fn table_key_hit(cx: &Cx, a: &AlterTableStmt, k: &Constraint, name: &str, table: &str) -> Hit {
    let target = referenced(k);
    let add = alter(a, vec![add_constraint_cmd(table_constraint(k, name, None, true))]);
    let validate = validate(a, name);
    let partitioned = a.relation.as_ref().and_then(|r| cx.table(r)).is_some_and(|t| t.partitioned);
    let safe = if partitioned && cx.pg_version < 18 {
        let pname = partition_name(&a.relation.as_ref().map(|r| r.relname.clone()).unwrap_or_default(), name);
        let add_part = on_partition(a, vec![add_constraint_cmd(table_constraint(k, &pname, None, true))]);
        let validate_part = on_partition(a, vec![cmd(AlterTableType::AtValidateConstraint, &pname, None)]);
        let add_parent = alter(a, vec![add_constraint_cmd(table_constraint(k, name, None, false))]);
        format!(
            "-- `{table}` is partitioned, and PostgreSQL before 18 refuses NOT VALID foreign keys on a partitioned table:\n\
             -- add and validate the key on each partition, then add it to `{table}`, which adopts the partitions' validated keys.\n\
             -- For each partition, one migration each:\n{add_part};\n-- next migration:\n{validate_part};\n-- next migration, once every partition has a validated key:\n-- stepwise:ignore foreign-key-not-valid every partition already has this key, validated\n{add_parent};"
        )
    } else {
        format!(
            "-- New and updated rows are checked at once; the existing rows are checked by VALIDATE.\n{add};\n\
             -- next migration: VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock on `{table}` (reads and writes go on) and a ROW SHARE lock on `{target}`\n{validate};"
        )
    };
    Hit::new(
        format!("foreign key `{name}` is added to `{table}` without NOT VALID"),
        format!(
            "ADD FOREIGN KEY takes a SHARE ROW EXCLUSIVE lock on `{table}` and on `{target}` and holds both while it checks every existing row of `{table}`: INSERT, UPDATE and DELETE on both tables wait until the scan ends, which takes minutes on a large table."
        ),
        safe,
    )
}

fn column_key_hit(a: &AlterTableStmt, d: &ColumnDef, k: &Constraint, name: &str, table: &str, because: &str) -> Hit {
    let target = referenced(k);
    let col = &d.colname;
    let mut plain = d.clone();
    plain.constraints.retain(|c| !constraint(c).is_some_and(is_fk));
    let add = alter(
        a,
        vec![
            cmd(AlterTableType::AtAddColumn, "", Some(NodeEnum::ColumnDef(Box::new(plain)))),
            add_constraint_cmd(table_constraint(k, name, Some(col), true)),
        ],
    );
    Hit::new(
        format!("the foreign key of new column `{col}` is checked against every row of `{table}`"),
        format!(
            "PostgreSQL checks the foreign key of `{col}` because {because}. ADD COLUMN takes an ACCESS EXCLUSIVE lock on `{table}` (and SHARE ROW EXCLUSIVE on `{target}`) and holds it during that scan: every read and write of `{table}`, and every write of `{target}`, waits until it ends."
        ),
        format!(
            "-- Add the column and its key NOT VALID in one statement: no existing row is checked.\n{add};\n\
             -- next migration: VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock on `{table}` (reads and writes go on)\n{};",
            validate(a, name)
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const ID: &str = "foreign-key-not-valid";
    const SETUP: &str =
        "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);";

    #[test]
    fn flags_a_validated_foreign_key_on_an_existing_table() {
        let f = check(
            ID,
            SETUP,
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("orders_customer_id_fkey") && f[0].message.contains("`orders`"), "{}", f[0].message);
        assert!(f[0].why.contains("SHARE ROW EXCLUSIVE") && f[0].why.contains("customers"), "{}", f[0].why);
        assert!(
            f[0].safe.contains(
                "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;"
            ),
            "{}",
            f[0].safe
        );
        assert!(f[0].safe.contains("-- next migration"), "{}", f[0].safe);
        assert!(f[0].safe.contains("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;"), "{}", f[0].safe);
    }

    #[test]
    fn names_an_unnamed_key_as_postgresql_would() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].safe.contains("ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers NOT VALID"),
            "{}",
            f[0].safe
        );
    }

    #[test]
    fn points_at_the_right_key_of_several() {
        let m = "ALTER TABLE orders\n  ADD COLUMN note text,\n  ADD CONSTRAINT a_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID,\n  ADD CONSTRAINT b_fkey FOREIGN KEY (id) REFERENCES customers (id);";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("b_fkey"));
        assert_eq!(f[0].line, 4, "{f:?}");
    }

    #[test]
    fn not_valid_passes() {
        let m = "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
        assert!(check(ID, SETUP, m).is_empty());
    }

    #[test]
    fn references_in_create_table_and_on_a_new_table_pass() {
        let m = "CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id), customer_id bigint, FOREIGN KEY (customer_id) REFERENCES customers (id));\nALTER TABLE items ADD CONSTRAINT items_order_fkey FOREIGN KEY (order_id) REFERENCES orders (id);";
        assert!(check(ID, SETUP, m).is_empty());
    }

    #[test]
    fn a_column_added_without_default_is_not_checked() {
        assert!(check(ID, SETUP, "ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id);").is_empty());
    }

    #[test]
    fn a_column_added_with_a_default_is_checked() {
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN referrer_id bigint DEFAULT 1 REFERENCES customers (id);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("ACCESS EXCLUSIVE") && f[0].why.contains("default"), "{}", f[0].why);
        assert!(
            f[0].safe.contains("ALTER TABLE orders ADD COLUMN referrer_id bigint DEFAULT 1, ADD CONSTRAINT orders_referrer_id_fkey FOREIGN KEY (referrer_id) REFERENCES customers (id) NOT VALID;"),
            "{}",
            f[0].safe
        );
        assert!(f[0].safe.contains("VALIDATE CONSTRAINT orders_referrer_id_fkey"), "{}", f[0].safe);
    }

    #[test]
    fn a_column_key_beside_a_table_key_is_checked() {
        let m = "ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id), ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("referrer_id"));
    }

    #[test]
    fn partitioned_tables_before_18_get_the_per_partition_recipe() {
        let setup =
            "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE events (id bigint, customer_id bigint) PARTITION BY HASH (id);";
        let m = "ALTER TABLE events ADD CONSTRAINT events_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);";
        let f = check(ID, setup, m);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("ALTER TABLE <partition> ADD CONSTRAINT <partition>_customer_id_fkey"), "{}", f[0].safe);
        let f = check_with(ID, setup, m, &LintOptions { pg_version: 18, ..Default::default() });
        assert!(f[0].safe.contains(
            "ALTER TABLE events ADD CONSTRAINT events_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID"
        ));
    }
}
