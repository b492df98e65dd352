//! `ban-foreign-keys` (opt-in): any new foreign key.
//!
//! Some teams keep referential integrity in the application: at scale a
//! foreign key couples the two tables' locks (every insert or key update on
//! the referencing table takes a FOR KEY SHARE row lock on the referenced
//! row, every delete on the referenced table checks the referencing one),
//! adding or dropping one locks both tables, and it gets in the way of
//! sharding and of online table copies. This rule flags every new foreign
//! key: `REFERENCES` in CREATE TABLE or ADD COLUMN, and ADD FOREIGN KEY.

use super::shared::{column_constraints, constraint_name, referenced};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, deparse, ident, word_offset};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableType, ConstrType, Constraint, Node, RangeVar};
use pg_query::NodeEnum;

pub struct BanForeignKeys;
pub static RULE: BanForeignKeys = BanForeignKeys;

static META: RuleMeta = RuleMeta {
    id: "ban-foreign-keys",
    severity: Severity::Error,
    default_on: false,
    cost: Cost::Advice,
    summary: "No new foreign keys (opt-in, for teams that keep references in the application)",
    setup: "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);\nCREATE TABLE orders (id bigint PRIMARY KEY, total numeric(12,2));",
    bad: "ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN IF NOT EXISTS customer_id bigint;",
        "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);",
    ],
};

fn is_fk_node(n: &Node) -> bool {
    constraint(n).is_some_and(|c| constr_type(c) == ConstrType::ConstrForeign)
}

/// One foreign key found: its constraint, and its column when written on one.
struct Key<'a> {
    k: &'a Constraint,
    column: Option<&'a str>,
}

impl Rule for BanForeignKeys {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (r, keys, without) = match cx.node {
            NodeEnum::CreateStmt(c) => {
                let Some(r) = &c.relation else { return };
                let mut keys = Vec::new();
                for e in &c.table_elts {
                    match &e.node {
                        Some(NodeEnum::ColumnDef(d)) => keys
                            .extend(column_constraints(d, ConstrType::ConstrForeign).map(|k| Key { k, column: Some(d.colname.as_str()) })),
                        Some(NodeEnum::Constraint(k)) if constr_type(k) == ConstrType::ConstrForeign => keys.push(Key { k, column: None }),
                        _ => {}
                    }
                }
                // The same table without its keys.
                let mut plain = c.clone();
                plain.table_elts.retain(|e| !is_fk_node(e));
                for e in &mut plain.table_elts {
                    if let Some(NodeEnum::ColumnDef(d)) = &mut e.node {
                        d.constraints.retain(|k| !is_fk_node(k));
                    }
                }
                (r, keys, deparse(NodeEnum::CreateStmt(plain)))
            }
            node => {
                let Some(a) = alter_table(node) else { return };
                let Some(r) = &a.relation else { return };
                let mut keys = Vec::new();
                for (t, c) in alter_cmds(a) {
                    match (t, c.def.as_ref().and_then(|d| d.node.as_ref())) {
                        (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(k))) if constr_type(k) == ConstrType::ConstrForeign => {
                            keys.push(Key { k, column: None })
                        }
                        (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(d))) => keys
                            .extend(column_constraints(d, ConstrType::ConstrForeign).map(|k| Key { k, column: Some(d.colname.as_str()) })),
                        _ => {}
                    }
                }
                // The same statement without its keys (nothing, if it only adds keys).
                let mut plain = a.clone();
                plain.cmds.retain(|n| !matches!(&n.node, Some(NodeEnum::AlterTableCmd(c)) if c.def.as_deref().is_some_and(is_fk_node)));
                for n in &mut plain.cmds {
                    if let Some(NodeEnum::AlterTableCmd(c)) = &mut n.node {
                        if let Some(NodeEnum::ColumnDef(d)) = c.def.as_mut().and_then(|d| d.node.as_mut()) {
                            d.constraints.retain(|k| !is_fk_node(k));
                        }
                    }
                }
                let without = if plain.cmds.is_empty() { None } else { deparse(NodeEnum::AlterTableStmt(plain)) };
                (r, keys, without)
            }
        };
        let new_table = matches!(cx.node, NodeEnum::CreateStmt(_)) || !cx.existing(r);
        for (i, key) in keys.iter().enumerate() {
            hits.push(hit(r, key, without.as_deref(), new_table).at(word_offset(cx.sql(), &["REFERENCES"], i) as i32));
        }
    }
}

fn hit(r: &RangeVar, key: &Key, without: Option<&str>, new_table: bool) -> Hit {
    let table = Cx::name(r);
    let name = constraint_name(&r.relname, key.k, key.column);
    let target = referenced(key.k);
    let cols: Vec<String> = match key.column {
        Some(c) => vec![c.to_string()],
        None => super::shared::constraint_columns(key.k, None),
    };
    let idx = ident(&format!("{}_{}_idx", r.relname, cols.join("_")));
    let cols = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    let statement = match without {
        Some(sql) => format!("-- The statement without its foreign keys:\n{sql};"),
        None => "-- Drop this statement: it only adds foreign keys.".to_string(),
    };
    let index = if new_table {
        format!("CREATE INDEX IF NOT EXISTS {idx} ON {table} ({cols});")
    } else {
        let next = if without.is_some() { "-- next migration:\n" } else { "" };
        format!("{next}-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS {idx} ON {table} ({cols});")
    };
    Hit::new(
        format!("new foreign key `{name}` from `{table}` to `{target}`: this project does not use foreign keys"),
        format!(
            "The `ban-foreign-keys` rule is on: references are checked by the application. A foreign key makes every insert into `{table}` lock the `{target}` row it points to (FOR KEY SHARE) and every delete from `{target}` check `{table}`; adding or dropping it takes SHARE ROW EXCLUSIVE locks on both tables."
        ),
        format!(
            "{statement}\n-- Keep the reference column and index it, so lookups and the application's checks stay fast:\n{index}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const ID: &str = "ban-foreign-keys";
    const SETUP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY);";

    #[test]
    fn flags_references_in_create_table() {
        let m = "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), order_id bigint,\n  CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) REFERENCES orders (id));";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].message.contains("invoices_customer_id_fkey") && f[0].message.contains("`customers`"), "{}", f[0].message);
        assert!(f[1].message.contains("invoices_order_fk"));
        assert_eq!(f[1].line, 2);
        assert!(
            f[0].safe.contains("CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL, order_id bigint);"),
            "{}",
            f[0].safe
        );
        assert!(f[0].safe.contains("CREATE INDEX IF NOT EXISTS invoices_customer_id_idx ON invoices (customer_id);"), "{}", f[0].safe);
    }

    #[test]
    fn flags_add_constraint_and_add_column() {
        let f =
            check(ID, SETUP, "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (id) REFERENCES customers (id) NOT VALID;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("Drop this statement"), "{}", f[0].safe);
        let f = check(ID, SETUP, "ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("ALTER TABLE orders ADD COLUMN customer_id bigint;"), "{}", f[0].safe);
        assert!(
            f[0].safe.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);"),
            "{}",
            f[0].safe
        );
    }

    #[test]
    fn is_off_by_default() {
        assert!(!super::META.default_on);
    }

    #[test]
    fn columns_without_references_pass() {
        let m = "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL);\nALTER TABLE orders ADD COLUMN customer_id bigint;";
        assert!(check(ID, SETUP, m).is_empty());
    }
}
