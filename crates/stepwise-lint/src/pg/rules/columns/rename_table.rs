//! `rename-table`: `ALTER TABLE ... RENAME TO` on an existing table.
//!
//! The rename is instant, but the code running against the database still
//! uses the old name: from the commit on, its queries fail with `relation
//! does not exist` until the new code runs everywhere (and new code deployed
//! first fails on the new name).
//!
//! The safe way: in the same transaction, rename the table and create a view
//! with the old name (`SELECT *` from one table is an updatable view, so old
//! code keeps reading and writing through it); drop the view in a migration
//! after the deploy. The rule cannot see the view that follows the rename,
//! so the recipe's rename carries a reviewed `-- stepwise:ignore`.
//!
//! A rename that gives a table the name an earlier statement of the same
//! transaction renamed away (a swap) is not flagged.

use super::shared::table_sql;
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::schema::{key, range_key};
use crate::pg::Severity;
use pg_query::protobuf::{ObjectType, RenameStmt};
use pg_query::NodeEnum;

pub struct RenameTable;
pub static RULE: RenameTable = RenameTable;

static META: RuleMeta = RuleMeta {
    id: "rename-table",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "RENAME TO breaks the running code: rename and create a view with the old name in one transaction",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);",
    bad: "ALTER TABLE orders RENAME TO purchases;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE orders RENAME TO purchases;\n\
         CREATE OR REPLACE VIEW orders AS SELECT * FROM purchases;",
        "-- stepwise:phase post-deploy\n\
         SET LOCAL lock_timeout = '2s';\n\
         DROP VIEW IF EXISTS orders;",
    ],
};

fn renames_table(rn: &RenameStmt) -> bool {
    rn.rename_type == ObjectType::ObjectTable as i32
}

impl Rule for RenameTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::RenameStmt(rn) = cx.node else { return };
        let Some(r) = &rn.relation else { return };
        if !renames_table(rn) || !cx.existing(r) {
            return;
        }
        let new_key = key(&r.schemaname, &rn.newname);
        let swap = cx.in_transaction
            && cx.earlier.iter().any(
                |n| matches!(n, NodeEnum::RenameStmt(e) if renames_table(e) && e.relation.as_ref().map(range_key) == Some(new_key.clone())),
            );
        // The recipe itself: a view with the old name, later in the same transaction.
        let old_name_view = cx.in_transaction
            && cx.later.iter().any(|n| matches!(n, NodeEnum::ViewStmt(v) if v.view.as_ref().map(range_key) == Some(range_key(r))));
        if swap || old_name_view {
            return;
        }
        let table = Cx::name(r);
        let t = table_sql(r);
        let new = ident(&rn.newname);
        let new_qualified = if r.schemaname.is_empty() { new.clone() } else { format!("{}.{new}", ident(&r.schemaname)) };
        hits.push(
            Hit::new(
                format!("renaming `{table}` to `{}` breaks the code that uses the old name", rn.newname),
                crate::breaking::rename_table_why(&table, &rn.newname, true),
                format!(
                    "-- In one transaction: rename, and keep the old name as a view (old code reads and writes through it):\n\
                     ALTER TABLE {t} RENAME TO {new};\n\
                     CREATE OR REPLACE VIEW {t} AS SELECT * FROM {new_qualified};\n\
                     -- (grant on the view what was granted on the table)\n\
                     -- next migration, once no running code uses {t}:\n\
                     -- stepwise:phase post-deploy\n\
                     DROP VIEW IF EXISTS {t};"
                ),
            )
            .on_table(table),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint);";
    const ID: &str = "rename-table";

    #[test]
    fn flags_a_rename_with_the_view_recipe() {
        let f = check(ID, SETUP, "ALTER TABLE orders RENAME TO purchases;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].message, "renaming `orders` to `purchases` breaks the code that uses the old name");
        assert!(
            f[0].safe.contains("ALTER TABLE orders RENAME TO purchases;\nCREATE OR REPLACE VIEW orders AS SELECT * FROM purchases;"),
            "{}",
            f[0].safe
        );
        assert!(f[0].safe.contains("DROP VIEW IF EXISTS orders;"), "{}", f[0].safe);
        let f = check(ID, "", "ALTER TABLE billing.invoices RENAME TO bills;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("CREATE OR REPLACE VIEW billing.invoices AS SELECT * FROM billing.bills;"), "{}", f[0].safe);
    }

    #[test]
    fn new_tables_column_renames_and_swaps_pass() {
        for m in [
            "CREATE TABLE items (id bigint PRIMARY KEY);\nALTER TABLE items RENAME TO products;",
            "ALTER TABLE orders RENAME COLUMN total_cents TO amount_cents;",
            "ALTER VIEW order_totals RENAME TO totals;",
            "-- stepwise:ignore rename-table the copy takes the name just below\nALTER TABLE orders RENAME TO orders_old;\n\
             ALTER TABLE orders_new RENAME TO orders;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
