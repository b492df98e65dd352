//! `drop-primary-key`: `ALTER TABLE ... DROP CONSTRAINT` of the table's
//! primary key.
//!
//! Without a primary key, logical replication and CDC stop sending UPDATE
//! and DELETE for the table (no replica identity), `ON CONFLICT (id)` upserts
//! fail, foreign keys that reference it cannot exist (the drop fails or,
//! with CASCADE, drops them), and lookups by key lose their unique index.
//! The drop takes an ACCESS EXCLUSIVE lock too. When a key is replaced, the
//! new one is built first (a unique index, CONCURRENTLY) and swapped in by
//! one ALTER TABLE that drops the old key and adds the new USING INDEX.

use crate::pg::context::Cx;
use crate::pg::relations::ConstraintKind;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, ident};
use crate::pg::schema::range_key;
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableType, ConstrType};
use pg_query::NodeEnum;

pub struct DropPrimaryKey;
pub static RULE: DropPrimaryKey = DropPrimaryKey;

static META: RuleMeta = RuleMeta {
    id: "drop-primary-key",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "dropping a primary key breaks replication, upserts and foreign keys: build the new key first and swap in one ALTER",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, region integer NOT NULL);",
    bad: "ALTER TABLE orders DROP CONSTRAINT orders_pkey;",
    safe: &[
        "-- stepwise:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_region_id_idx ON orders (region, id);",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_region_id_idx;",
    ],
};

impl Rule for DropPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        // A swap: the same ALTER adds the new primary key.
        let adds_key = alter_cmds(a).any(|(kind, cmd)| {
            kind == AlterTableType::AtAddConstraint
                && matches!(cmd.def.as_ref().and_then(|d| d.node.as_ref()), Some(NodeEnum::Constraint(c)) if constr_type(c) == ConstrType::ConstrPrimary)
        });
        if adds_key {
            return;
        }
        let key = range_key(r);
        for (kind, cmd) in alter_cmds(a) {
            if kind != AlterTableType::AtDropConstraint {
                continue;
            }
            let primary = match cx.schema.constraint(&key, &cmd.name) {
                Some(c) => c.kind == ConstraintKind::Primary,
                // Unknown to the model (made outside the migrations): PostgreSQL's default name says it.
                None => cmd.name == crate::pg::names::make_object_name(&r.relname, None, "pkey"),
            };
            if !primary {
                continue;
            }
            let table = Cx::name(r);
            hits.push(Hit::new(
                format!("dropping `{}`, the primary key of `{table}`", cmd.name),
                format!("Without a primary key, logical replication and CDC stop sending UPDATE and DELETE for `{table}`, upserts on the key fail, foreign keys to it cannot exist, and lookups by key lose their unique index; the drop also takes an ACCESS EXCLUSIVE lock."),
                format!(
                    "-- Build the new key first (no lock on writes):\n-- stepwise:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {t}_new_pkey_idx ON {table} (<new key columns, NOT NULL>);\n-- next migration: swap in one statement\nALTER TABLE {table} DROP CONSTRAINT {k}, ADD CONSTRAINT {k} PRIMARY KEY USING INDEX {t}_new_pkey_idx;",
                    t = r.relname,
                    k = ident(&cmd.name)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, region integer NOT NULL);";

    #[test]
    fn flags_dropping_the_primary_key_by_its_default_or_given_name() {
        assert_eq!(check("drop-primary-key", SETUP, "ALTER TABLE orders DROP CONSTRAINT orders_pkey;").len(), 1);
        let setup = "CREATE TABLE items (id bigint, CONSTRAINT items_pk PRIMARY KEY (id));";
        assert_eq!(check("drop-primary-key", setup, "ALTER TABLE items DROP CONSTRAINT IF EXISTS items_pk;").len(), 1);
        // A table the migrations do not create: the default name tells.
        assert_eq!(check("drop-primary-key", "SELECT 1;", "ALTER TABLE legacy DROP CONSTRAINT legacy_pkey;").len(), 1);
    }

    #[test]
    fn a_swap_other_constraints_and_new_tables_pass() {
        let swap =
            "ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_region_id_idx;";
        let setup = format!("{SETUP}\nCREATE UNIQUE INDEX orders_region_id_idx ON orders (region, id);");
        assert!(check("drop-primary-key", &setup, swap).is_empty());
        assert!(check(
            "drop-primary-key",
            "CREATE TABLE orders (id bigint PRIMARY KEY, n int CHECK (n > 0));",
            "ALTER TABLE orders DROP CONSTRAINT orders_n_check;"
        )
        .is_empty());
        assert!(check("drop-primary-key", "SELECT 1;", "CREATE TABLE t (id int PRIMARY KEY);\nALTER TABLE t DROP CONSTRAINT t_pkey;")
            .is_empty());
    }
}
