//! `one-change-per-migration` (opt-in): schema changes and data changes of
//! existing tables mixed in one migration, or table rewrites of several
//! existing tables in one migration.
//!
//! A migration is one unit: it succeeds, fails and is reverted as a whole. A
//! data change next to a schema change holds the schema change's locks for
//! as long as it runs (in one transaction), a failure in either undoes both,
//! and neither can be retried or rolled back alone; data changes want the
//! batching of `stepwise backfill`, schema changes the lock timeouts of
//! `stepwise migrate`. Rewrites (ALTER COLUMN TYPE, VACUUM FULL, CLUSTER, a
//! column with a volatile default) each take minutes on a large table: two in
//! one migration double the time its locks are held and the work a failure
//! throws away. Seeding a table created in the same migration is fine.

use super::no_data_change_in_migration::backfill;
use super::{data_changes, expr_sql, sql_of, DataChange};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, option_on};
use crate::pg::schema::{col_type, is_serial, range_key, ColType, Schema};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableType, ColumnDef, ConstrType};
use pg_query::NodeEnum;

pub struct OneChangePerMigration;
pub static RULE: OneChangePerMigration = OneChangePerMigration;

static META: RuleMeta = RuleMeta {
    id: "one-change-per-migration",
    severity: Severity::Warning,
    default_on: false,
    cost: Cost::Advice,
    summary: "Keep schema and data changes, and rewrites of different tables, in separate migrations (opt-in)",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);",
    bad: "ALTER TABLE orders ADD COLUMN note text;\nINSERT INTO settings (key, value) VALUES ('notes_enabled', 'true');",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;",
        "INSERT INTO settings (key, value) VALUES ('notes_enabled', 'true') ON CONFLICT (key) DO NOTHING;",
    ],
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Schema,
    Data,
    Other,
}

fn kind(node: &NodeEnum, schema: &Schema) -> Kind {
    let changes = data_changes(node);
    if !changes.is_empty() {
        // Rows of a table made in this migration belong to its creation.
        let existing = changes.iter().filter_map(|c| c.relation()).any(|r| !schema.is_new(r));
        return if existing { Kind::Data } else { Kind::Other };
    }
    match node {
        NodeEnum::CreateStmt(_)
        | NodeEnum::CreateTableAsStmt(_)
        | NodeEnum::AlterTableStmt(_)
        | NodeEnum::IndexStmt(_)
        | NodeEnum::DropStmt(_)
        | NodeEnum::RenameStmt(_)
        | NodeEnum::CreateTrigStmt(_)
        | NodeEnum::CreateFunctionStmt(_)
        | NodeEnum::CreateEnumStmt(_)
        | NodeEnum::AlterEnumStmt(_)
        | NodeEnum::CompositeTypeStmt(_)
        | NodeEnum::CreateDomainStmt(_)
        | NodeEnum::AlterDomainStmt(_)
        | NodeEnum::CreateSeqStmt(_)
        | NodeEnum::AlterSeqStmt(_)
        | NodeEnum::ViewStmt(_)
        | NodeEnum::CreateSchemaStmt(_)
        | NodeEnum::CreateExtensionStmt(_)
        | NodeEnum::CreatePolicyStmt(_)
        | NodeEnum::AlterPolicyStmt(_)
        | NodeEnum::RuleStmt(_)
        | NodeEnum::AlterObjectSchemaStmt(_)
        | NodeEnum::CreateStatsStmt(_)
        | NodeEnum::DefineStmt(_) => Kind::Schema,
        _ => Kind::Other,
    }
}

/// Functions whose value changes per row: a default that calls one is
/// computed for every existing row when the column is added.
const VOLATILE: &[&str] = &[
    "random(",
    "gen_random_uuid(",
    "uuid_generate_v1(",
    "uuid_generate_v1mc(",
    "uuid_generate_v4(",
    "clock_timestamp(",
    "timeofday(",
    "nextval(",
];

/// Adding this column rewrites the table.
fn add_column_rewrites(d: &ColumnDef, pg_version: u32) -> bool {
    if d.type_name.as_ref().is_some_and(is_serial) {
        return true;
    }
    d.constraints.iter().filter_map(constraint).any(|c| match constr_type(c) {
        ConstrType::ConstrIdentity | ConstrType::ConstrGenerated => true,
        ConstrType::ConstrDefault => {
            let expr = c.raw_expr.as_ref().and_then(|e| expr_sql(e)).unwrap_or_default().to_lowercase();
            pg_version < 11 && expr != "null" || VOLATILE.iter().any(|f| expr.contains(f))
        }
        _ => false,
    })
}

/// Changing a column from `old` to `new` rewrites the table (unknown: yes).
fn type_change_rewrites(old: Option<&ColType>, new: &ColType, using: bool) -> bool {
    let Some(old) = old else { return true };
    if using || old.array != new.array {
        return true;
    }
    let wider = |o: &[i64], n: &[i64]| n.is_empty() || (!o.is_empty() && n.first() >= o.first() && n.get(1) == o.get(1));
    !(old == new
        || (old.base == "varchar" && new.base == "text")
        || (old.base == "text" && new.base == "varchar" && new.mods.is_empty())
        || (old.base == new.base && matches!(old.base.as_str(), "varchar" | "numeric" | "varbit") && wider(&old.mods, &new.mods)))
}

/// The existing tables the statement rewrites. For an `earlier` statement
/// the model already holds its result, not the column types it started from:
/// a type change is then taken as a rewrite unless its target is one that
/// widening reaches without one (text, varchar, numeric, varbit).
fn rewrites(node: &NodeEnum, schema: &Schema, pg_version: u32, earlier: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(a) = alter_table(node) {
        let Some(r) = &a.relation else { return out };
        if schema.is_new(r) {
            return out;
        }
        let table = schema.table(r);
        let rewritten = alter_cmds(a).any(|(kind, cmd)| {
            let def = match cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
                Some(NodeEnum::ColumnDef(d)) => Some(d.as_ref()),
                _ => None,
            };
            match kind {
                AlterTableType::AtAddColumn => def.is_some_and(|d| add_column_rewrites(d, pg_version)),
                AlterTableType::AtAlterColumnType => def.and_then(|d| d.type_name.as_ref()).is_some_and(|t| {
                    let new = col_type(t);
                    let using = def.is_some_and(|d| d.raw_default.is_some());
                    if earlier {
                        return using || !matches!(new.base.as_str(), "text" | "varchar" | "numeric" | "varbit");
                    }
                    let old = table.and_then(|t| t.column(&cmd.name)).and_then(|c| c.ty.as_ref());
                    type_change_rewrites(old, &new, using)
                }),
                AlterTableType::AtSetLogged
                | AlterTableType::AtSetUnLogged
                | AlterTableType::AtSetAccessMethod
                | AlterTableType::AtSetTableSpace => true,
                _ => false,
            }
        });
        if rewritten {
            out.push(range_key(r));
        }
        return out;
    }
    match node {
        NodeEnum::VacuumStmt(v) if v.is_vacuumcmd && option_on(&v.options, "full") => {
            for rel in &v.rels {
                if let Some(NodeEnum::VacuumRelation(vr)) = &rel.node {
                    out.extend(vr.relation.as_ref().filter(|r| !schema.is_new(r)).map(range_key));
                }
            }
        }
        NodeEnum::ClusterStmt(c) => out.extend(c.relation.as_ref().filter(|r| !schema.is_new(r)).map(range_key)),
        _ => {}
    }
    out
}

/// The data change as its own migration: UPDATE and DELETE of existing
/// tables as `stepwise backfill` commands (comments), the rest as SQL.
fn data_recipe(node: &NodeEnum, cx: &Cx) -> String {
    let batched: Vec<String> = data_changes(node)
        .iter()
        .filter(|c| matches!(c, DataChange::Update(_) | DataChange::Delete(_)))
        .filter_map(|c| c.relation().filter(|r| cx.existing(r)).map(|r| backfill(&Cx::name(r), c)))
        .collect();
    if batched.is_empty() {
        format!("{};", sql_of(node))
    } else {
        format!("-- Outside the migration, in short batches:\n{}", batched.join("\n"))
    }
}

/// The start of a statement's SQL, for messages.
fn brief(node: &NodeEnum) -> String {
    let sql = sql_of(node);
    match sql.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &sql[..i]),
        None => sql,
    }
}

impl Rule for OneChangePerMigration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let unit = if cx.in_transaction {
            "In one transaction the data change holds the schema change's locks for as long as it runs, and a failure in either rolls back both."
        } else {
            "A failure halfway leaves one done and the other not."
        };
        // Schema and data changes mixed (reported once, where the mix starts).
        let now = kind(cx.node, cx.schema);
        let kinds: Vec<Kind> = cx.earlier.iter().map(|e| kind(e, cx.schema)).collect();
        let mixed_before = kinds.contains(&Kind::Schema) && kinds.contains(&Kind::Data);
        let other = match now {
            Kind::Schema => Kind::Data,
            Kind::Data => Kind::Schema,
            Kind::Other => Kind::Other,
        };
        if now != Kind::Other && !mixed_before {
            if let Some(i) = kinds.iter().position(|k| *k == other) {
                let (schema_stmt, data_stmt) = if now == Kind::Data { (cx.earlier[i], cx.node) } else { (cx.node, cx.earlier[i]) };
                let (schema_sql, data_sql) = (format!("{};", sql_of(schema_stmt)), data_recipe(data_stmt, cx));
                // In the order they were written: a data fix may have to come first.
                let (first, second, what) =
                    if now == Kind::Data { (schema_sql, data_sql, "the data change") } else { (data_sql, schema_sql, "the schema change") };
                hits.push(Hit::new(
                    format!("schema and data changes in one migration: `{}` with `{}`", brief(data_stmt), brief(schema_stmt)),
                    format!("{unit} Neither can be retried or reverted alone; data changes belong in batches (stepwise backfill), schema changes under stepwise migrate's lock timeouts."),
                    format!("{first}\n-- next migration ({what}):\n{second}"),
                ));
            }
        }
        // Rewrites of several existing tables.
        for table in rewrites(cx.node, cx.schema, cx.pg_version, false) {
            let earlier = cx.earlier.iter().enumerate().find_map(|(i, e)| {
                rewrites(e, cx.schema, cx.pg_version, true)
                    .into_iter()
                    .find(|t| super::locks::renamed(t, &cx.earlier[i..]) != table)
                    .map(|t| (e, t))
            });
            let Some((e, first)) = earlier else { continue };
            hits.push(
                Hit::new(
                    format!("`{table}` is rewritten in the same migration as `{first}`"),
                    format!(
                        "Each rewrite copies its whole table under an ACCESS EXCLUSIVE lock. Together they hold their locks for the sum of both rewrites{}, and a failure in the second throws away the first.",
                        if cx.in_transaction { " (the first table stays locked until the migration commits)" } else { "" }
                    ),
                    format!("{};\n-- next migration (one rewrite per migration):\n{};", sql_of(e), sql_of(cx.node)),
                )
                .on_table(table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(10), amount numeric(10,2));\nCREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);";
    const ID: &str = "one-change-per-migration";

    #[test]
    fn flags_schema_and_data_changes_together_once() {
        let m = "ALTER TABLE orders ADD COLUMN note text;\nINSERT INTO settings (key, value) VALUES ('a', 'b');\nUPDATE settings SET value = 'c';";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, 2);
        assert!(f[0].message.contains("`INSERT INTO settings"), "{}", f[0].message);
        assert!(f[0].safe.starts_with("ALTER TABLE orders ADD COLUMN note text;\n-- next migration"), "{}", f[0].safe);
        // The other order too.
        let f = check(
            ID,
            SETUP,
            "-- stepwise:no-transaction\nDELETE FROM settings WHERE key = 'a';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_code_idx ON orders (code);",
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].safe.starts_with("-- Outside the migration, in short batches:\n--   stepwise backfill settings --delete --where \"key = 'a'\"\n-- next migration (the schema change):\nCREATE INDEX CONCURRENTLY"),
            "{}",
            f[0].safe
        );
    }

    #[test]
    fn seeding_a_new_table_is_one_change() {
        let m = "CREATE TABLE statuses (name text PRIMARY KEY);\nINSERT INTO statuses VALUES ('new'), ('paid');";
        assert!(check(ID, SETUP, m).is_empty());
    }

    #[test]
    fn flags_rewrites_of_two_tables() {
        let m =
            "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\nALTER TABLE settings ADD COLUMN token uuid DEFAULT gen_random_uuid();";
        let f = check(ID, SETUP, m);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("`settings` is rewritten in the same migration as `orders`"), "{}", f[0].message);
    }

    #[test]
    fn changes_that_do_not_rewrite_and_one_table_pass() {
        for m in [
            // Widening varchar and numeric changes only the catalog.
            "ALTER TABLE orders ALTER COLUMN code TYPE varchar(20);\nALTER TABLE settings ALTER COLUMN value TYPE text;\nALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);",
            // A constant default is catalog-only on PostgreSQL 11+.
            "ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';\nALTER TABLE settings ADD COLUMN note text DEFAULT '';",
            // An earlier widening, then a rewrite of another table.
            "ALTER TABLE orders ALTER COLUMN code TYPE text;\nALTER TABLE settings ALTER COLUMN value TYPE int USING value::int;",
            // Two rewrites of the same table.
            "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\nALTER TABLE orders ALTER COLUMN code TYPE int USING code::int;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
