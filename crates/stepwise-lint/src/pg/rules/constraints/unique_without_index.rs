//! `unique-without-index`: a UNIQUE or PRIMARY KEY constraint added to an
//! existing table without `USING INDEX`.
//!
//! `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE` (or `PRIMARY KEY`) takes an
//! ACCESS EXCLUSIVE lock on the table and builds the unique index under it:
//! no read and no write of the table until the build ends. Build the index
//! first with `CREATE UNIQUE INDEX CONCURRENTLY` (writes go on), then turn
//! it into the constraint with `ADD CONSTRAINT ... USING INDEX`, which only
//! holds its lock for a catalog change. The same holds for a UNIQUE or
//! PRIMARY KEY written on a column added by `ADD COLUMN`.

use super::shared::{
    add_constraint_cmd, alter, cmd, constraint_columns, constraint_name, node, on_partition, partition_name, partition_rel, partition_sql,
    table_constraint,
};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, deparse, ident};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableStmt, AlterTableType, ConstrType, Constraint, IndexElem, IndexStmt, RangeVar, SortByDir, SortByNulls};
use pg_query::NodeEnum;

pub struct UniqueWithoutIndex;
pub static RULE: UniqueWithoutIndex = UniqueWithoutIndex;

static META: RuleMeta = RuleMeta {
    id: "unique-without-index",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "Build the index of a UNIQUE or PRIMARY KEY constraint CONCURRENTLY, then add the constraint USING INDEX",
    setup: "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);",
    bad: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
    safe: &[
        "-- stepwise:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;",
    ],
};

fn is_key(c: &Constraint) -> bool {
    matches!(constr_type(c), ConstrType::ConstrUnique | ConstrType::ConstrPrimary) && c.indexname.is_empty()
}

impl Rule for UniqueWithoutIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        for (t, c) in alter_cmds(a) {
            match t {
                AlterTableType::AtAddConstraint => {
                    if let Some(k) = c.def.as_deref().and_then(constraint).filter(|k| is_key(k)) {
                        hits.push(hit(cx, a, r, k, None, None));
                    }
                }
                AlterTableType::AtAddColumn => {
                    let Some(NodeEnum::ColumnDef(d)) = c.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
                    let Some(k) = d.constraints.iter().filter_map(constraint).find(|k| is_key(k)) else { continue };
                    // The column goes in alone first; the key follows the recipe.
                    let mut plain = d.as_ref().clone();
                    plain.constraints.retain(|c| !constraint(c).is_some_and(is_key));
                    let add_column = alter(a, vec![cmd(AlterTableType::AtAddColumn, "", Some(NodeEnum::ColumnDef(Box::new(plain))))]);
                    hits.push(hit(cx, a, r, k, Some(&d.colname), Some(add_column)));
                }
                _ => {}
            }
        }
    }
}

fn hit(cx: &Cx, a: &AlterTableStmt, r: &RangeVar, k: &Constraint, column: Option<&str>, add_column: Option<String>) -> Hit {
    let table = Cx::name(r);
    let primary = constr_type(k) == ConstrType::ConstrPrimary;
    let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    let name = constraint_name(&r.relname, k, column);
    let cols = constraint_columns(k, column);
    let partitioned = cx.table(r).is_some_and(|t| t.partitioned);

    // Each step is one migration; notes go before them.
    let mut steps = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if let Some(add) = add_column {
        steps.push(format!("-- Add the column without the key first.\n{add};"));
    }
    if primary {
        for col in &cols {
            let (t, c, n) = (&table, ident(col), ident(&format!("{}_{}_not_null", r.relname, col)));
            match cx.table(r).map(|t| t.column(col)) {
                // Known to allow NULLs: the NOT NULL recipe comes first.
                Some(Some(known)) if !known.not_null => {
                    steps.push(format!(
                        "-- `{col}` allows NULLs, and a PRIMARY KEY would check every row under its ACCESS EXCLUSIVE lock. Make it NOT NULL first:\n\
                         ALTER TABLE {t} ADD CONSTRAINT {n} CHECK ({c} IS NOT NULL) NOT VALID;"
                    ));
                    steps.push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {n};"));
                    steps.push(format!("-- PostgreSQL 12+ uses the validated CHECK and skips the scan.\nALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;"));
                    steps.push(format!("ALTER TABLE {t} DROP CONSTRAINT {n};"));
                }
                Some(Some(_)) => {}
                // Not in the model: say what to check.
                _ => notes.push(format!(
                    "-- If `{col}` allows NULLs, make it NOT NULL first (ADD CONSTRAINT {n} CHECK ({c} IS NOT NULL) NOT VALID,\n\
                     -- then VALIDATE CONSTRAINT, then SET NOT NULL, one migration each): a PRIMARY KEY would check every row under its lock."
                )),
            }
        }
    }
    if partitioned {
        // USING INDEX is refused on a partitioned table, and so is
        // CONCURRENTLY: build and attach the key on each partition, then
        // add it to the parent, which adopts the partitions' keys.
        let pname = partition_name(&r.relname, &name);
        steps.push(format!(
            "-- stepwise:no-transaction\n-- `{table}` is partitioned: PostgreSQL builds no index CONCURRENTLY on it and refuses USING INDEX there.\n\
             -- For each partition, build its key without blocking writes:\n{};",
            partition_sql(&create_index(r, k, &pname, &cols, true))
        ));
        steps.push(format!("{};", on_partition(a, vec![add_constraint_cmd(table_constraint_using_index(k, &pname))])));
        steps.push(format!(
            "-- Once every partition has its key, the parent adopts them instead of building an index.\n\
             -- stepwise:ignore unique-without-index every partition already has this key\n{};",
            alter(a, vec![add_constraint_cmd(table_constraint(k, &name, column, false))])
        ));
    } else {
        steps.push(format!(
            "-- stepwise:no-transaction\n-- Build the index without blocking writes. If it fails, drop the INVALID leftover before retrying:\n\
             -- DROP INDEX CONCURRENTLY IF EXISTS {};\n{};",
            ident(&name),
            create_index(r, k, &name, &cols, false)
        ));
        steps.push(format!(
            "-- Attaching the built index holds its ACCESS EXCLUSIVE lock only for a catalog change.\n{};",
            alter(a, vec![add_constraint_cmd(table_constraint_using_index(k, &name))])
        ));
    }
    let what = match column {
        Some(col) => format!("{kind} on new column `{col}` of `{table}`"),
        None => format!("{kind} constraint `{name}` on `{table}`"),
    };
    Hit::new(
        format!("{what} builds its index while the table is locked"),
        format!(
            "ADD {kind} takes an ACCESS EXCLUSIVE lock on `{table}` and builds the unique index under it: every read and write of `{table}` waits until the index is built, which takes minutes on a large table."
        ),
        notes.into_iter().chain([steps.join("\n-- next migration:\n")]).collect::<Vec<_>>().join("\n"),
    )
    .on_table(table)
}

/// `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS name ON table (cols)`,
/// with the constraint's INCLUDE, NULLS NOT DISTINCT, WITH and TABLESPACE.
fn create_index(r: &RangeVar, k: &Constraint, name: &str, cols: &[String], on_partition: bool) -> String {
    let elem = |c: &String| {
        node(NodeEnum::IndexElem(Box::new(IndexElem {
            name: c.clone(),
            ordering: SortByDir::SortbyDefault as i32,
            nulls_ordering: SortByNulls::SortbyNullsDefault as i32,
            ..Default::default()
        })))
    };
    let relation = if on_partition { partition_rel(Some(r)) } else { r.clone() };
    let stmt = IndexStmt {
        idxname: name.to_string(),
        relation: Some(relation),
        access_method: "btree".into(),
        table_space: k.indexspace.clone(),
        index_params: cols.iter().map(elem).collect(),
        index_including_params: k
            .including
            .iter()
            .filter_map(|n| match &n.node {
                Some(NodeEnum::String(s)) => Some(elem(&s.sval)),
                _ => None,
            })
            .collect(),
        options: k.options.clone(),
        unique: true,
        nulls_not_distinct: k.nulls_not_distinct,
        concurrent: true,
        if_not_exists: true,
        ..Default::default()
    };
    deparse(NodeEnum::IndexStmt(Box::new(stmt)))
        .unwrap_or_else(|| format!("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} (...)", ident(name), Cx::name(r)))
}

/// `CONSTRAINT name UNIQUE USING INDEX name` (or PRIMARY KEY), keeping deferrability.
fn table_constraint_using_index(k: &Constraint, name: &str) -> Constraint {
    Constraint {
        contype: k.contype,
        conname: name.to_string(),
        indexname: name.to_string(),
        deferrable: k.deferrable,
        initdeferred: k.initdeferred,
        location: -1,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const ID: &str = "unique-without-index";
    const SETUP: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, tenant_id bigint NOT NULL, handle text);\nCREATE TABLE logins (at timestamptz NOT NULL, user_id bigint);";

    #[test]
    fn flags_unique_on_an_existing_table() {
        let f = check(ID, SETUP, "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("users_email_key") && f[0].message.contains("`users`"));
        assert!(f[0].why.contains("ACCESS EXCLUSIVE"));
        let safe = &f[0].safe;
        assert!(safe.starts_with("-- stepwise:no-transaction\n"), "{safe}");
        assert!(safe.contains("\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users USING btree (email);"), "{safe}");
        assert!(safe.contains("-- next migration"), "{safe}");
        assert!(safe.contains("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"), "{safe}");
    }

    #[test]
    fn keeps_the_constraints_options_in_the_recipe() {
        let m = "ALTER TABLE users ADD UNIQUE NULLS NOT DISTINCT (tenant_id, handle) INCLUDE (email) DEFERRABLE INITIALLY DEFERRED;";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:?}");
        let safe = &f[0].safe;
        assert!(safe.contains("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_tenant_id_handle_key ON users USING btree (tenant_id, handle) INCLUDE (email) NULLS NOT DISTINCT;"), "{safe}");
        assert!(
            safe.contains(
                "ADD CONSTRAINT users_tenant_id_handle_key UNIQUE USING INDEX users_tenant_id_handle_key DEFERRABLE INITIALLY DEFERRED;"
            ),
            "{safe}"
        );
    }

    #[test]
    fn a_primary_key_on_nullable_columns_gets_the_not_null_steps() {
        let f = check(ID, SETUP, "ALTER TABLE logins ADD PRIMARY KEY (user_id, at);");
        assert_eq!(f.len(), 1, "{f:?}");
        let safe = &f[0].safe;
        assert!(
            safe.contains("ALTER TABLE logins ADD CONSTRAINT logins_user_id_not_null CHECK (user_id IS NOT NULL) NOT VALID;"),
            "{safe}"
        );
        assert!(!safe.contains("logins_at_not_null"), "`at` is NOT NULL already: {safe}");
        assert!(safe.contains("ALTER TABLE logins ADD CONSTRAINT logins_pkey PRIMARY KEY USING INDEX logins_pkey;"), "{safe}");
    }

    #[test]
    fn a_primary_key_on_a_table_outside_the_model_gets_a_note() {
        let f = check(ID, SETUP, "ALTER TABLE accounts ADD PRIMARY KEY (id);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.starts_with("-- If `id` allows NULLs, make it NOT NULL first"), "{}", f[0].safe);
    }

    #[test]
    fn using_index_and_new_tables_pass() {
        assert!(check(ID, SETUP, "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;").is_empty());
        let m = "CREATE TABLE teams (id bigint, slug text UNIQUE);\nALTER TABLE teams ADD PRIMARY KEY (id);";
        assert!(check(ID, SETUP, m).is_empty());
    }

    #[test]
    fn a_key_on_an_added_column_is_flagged() {
        let f = check(ID, SETUP, "ALTER TABLE users ADD COLUMN external_id text UNIQUE;");
        assert_eq!(f.len(), 1, "{f:?}");
        let safe = &f[0].safe;
        assert!(safe.starts_with("-- Add the column without the key first.\nALTER TABLE users ADD COLUMN external_id text;"), "{safe}");
        assert!(safe.contains("ON users USING btree (external_id)"), "{safe}");
    }

    #[test]
    fn partitioned_tables_get_the_per_partition_recipe() {
        let setup = "CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);";
        let f = check(ID, setup, "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);");
        assert_eq!(f.len(), 1, "{f:?}");
        let safe = &f[0].safe;
        assert!(safe.contains("ON <partition> USING btree (id, at)"), "{safe}");
        assert!(
            safe.contains("ALTER TABLE <partition> ADD CONSTRAINT <partition>_pkey PRIMARY KEY USING INDEX <partition>_pkey;"),
            "{safe}"
        );
        assert!(safe.contains("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);"), "{safe}");
    }
}
