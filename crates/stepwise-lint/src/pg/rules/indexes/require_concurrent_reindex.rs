//! `require-concurrent-reindex`: `REINDEX` without `CONCURRENTLY`.
//!
//! A plain `REINDEX` takes a SHARE lock on the table, which blocks every
//! INSERT, UPDATE and DELETE, and an ACCESS EXCLUSIVE lock on the index being
//! rebuilt, which blocks nearly every read too (the planner locks all the
//! indexes of a table it plans a query on). Both are held until the rebuild
//! ends. `REINDEX ... CONCURRENTLY` (PostgreSQL 12+) builds a new copy beside
//! the old one and swaps them with only brief locks; before 12 the same is
//! done by hand with `CREATE INDEX CONCURRENTLY` and `DROP INDEX CONCURRENTLY`.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{deparse, ident, option_on};
use crate::pg::Severity;
use pg_query::protobuf::{DefElem, DefElemAction, Node, ReindexObjectType, ReindexStmt};
use pg_query::NodeEnum;

pub struct RequireConcurrentReindex;
pub static RULE: RequireConcurrentReindex = RequireConcurrentReindex;

static META: RuleMeta = RuleMeta {
    id: "require-concurrent-reindex",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "REINDEX must use CONCURRENTLY",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\nCREATE INDEX orders_status_idx ON orders (status);",
    bad: "REINDEX INDEX orders_status_idx;",
    safe: &["-- stepwise:no-transaction\nREINDEX INDEX CONCURRENTLY orders_status_idx;"],
};

/// The statement with CONCURRENTLY on, as SQL: `REINDEX INDEX CONCURRENTLY x`
/// (the form PostgreSQL 12 and 13 accept), or with the other options kept in
/// the option list (PostgreSQL 14+).
fn concurrent(r: &ReindexStmt) -> String {
    let mut r = r.clone();
    r.params.retain(|p| !matches!(&p.node, Some(NodeEnum::DefElem(d)) if d.defname == "concurrently"));
    if r.params.is_empty() {
        let kind = match ReindexObjectType::try_from(r.kind).unwrap_or(ReindexObjectType::Undefined) {
            ReindexObjectType::ReindexObjectIndex => "INDEX",
            ReindexObjectType::ReindexObjectTable => "TABLE",
            ReindexObjectType::ReindexObjectSchema => "SCHEMA",
            _ => "DATABASE",
        };
        let name = match &r.relation {
            Some(rel) if rel.schemaname.is_empty() => ident(&rel.relname),
            Some(rel) => format!("{}.{}", ident(&rel.schemaname), ident(&rel.relname)),
            None => ident(&r.name),
        };
        return format!("REINDEX {kind} CONCURRENTLY {name}");
    }
    r.params.push(Node {
        node: Some(NodeEnum::DefElem(Box::new(DefElem {
            defname: "concurrently".into(),
            defaction: DefElemAction::DefelemUnspec as i32,
            location: -1,
            ..Default::default()
        }))),
    });
    deparse(NodeEnum::ReindexStmt(r)).unwrap_or_else(|| "REINDEX ... CONCURRENTLY ...".into())
}

impl Rule for RequireConcurrentReindex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::ReindexStmt(r) = cx.node else { return };
        if option_on(&r.params, "concurrently") {
            return;
        }
        let name = r.relation.as_ref().map(Cx::name).unwrap_or_else(|| r.name.clone());
        let kind = ReindexObjectType::try_from(r.kind).unwrap_or(ReindexObjectType::Undefined);
        // The table whose size the cost depends on, when one table pays it.
        let table = match kind {
            ReindexObjectType::ReindexObjectIndex => {
                let index: Vec<String> = r.relation.as_ref().map(|i| vec![i.schemaname.clone(), i.relname.clone()]).unwrap_or_default();
                // An index of a table created in this migration is not in use yet.
                if cx.schema.index_table(&index).is_some_and(|t| t.new) {
                    return;
                }
                cx.schema.index_table_key(&index).ok()
            }
            ReindexObjectType::ReindexObjectTable => {
                if r.relation.as_ref().is_some_and(|t| !cx.existing(t)) {
                    return;
                }
                Some(name.clone())
            }
            _ => None,
        };
        let on = table.as_deref().map(|t| format!("`{t}`")).unwrap_or_else(|| "the index's table".into());
        let hit = match kind {
            ReindexObjectType::ReindexObjectSystem => Hit::new(
                "REINDEX SYSTEM locks the system catalogs and cannot run CONCURRENTLY",
                "REINDEX SYSTEM rebuilds the catalogs' indexes under SHARE and ACCESS EXCLUSIVE locks that every query needs; PostgreSQL has no concurrent form of it.",
                "-- Not in a migration: run it by hand in a maintenance window.",
            ),
            ReindexObjectType::ReindexObjectIndex => Hit::new(
                format!("REINDEX INDEX `{name}` without CONCURRENTLY blocks {on} while the index is rebuilt"),
                format!(
                    "REINDEX takes a SHARE lock on {on}, which blocks every INSERT, UPDATE and DELETE, and an ACCESS EXCLUSIVE lock on `{name}`, which blocks nearly every read too (the planner locks all of a table's indexes), until the rebuild ends: minutes on a large table."
                ),
                recipe(cx, r, &name, table.as_deref()),
            ),
            _ => {
                let what = match kind {
                    ReindexObjectType::ReindexObjectTable => "TABLE",
                    ReindexObjectType::ReindexObjectSchema => "SCHEMA",
                    _ => "DATABASE",
                };
                Hit::new(
                    format!("REINDEX {what} `{name}` without CONCURRENTLY blocks the tables while their indexes are rebuilt"),
                    format!(
                        "REINDEX {what} takes a SHARE lock on each table, which blocks every INSERT, UPDATE and DELETE until all its indexes are rebuilt, and an ACCESS EXCLUSIVE lock on each index in turn, which blocks nearly every read too: minutes per large table."
                    ),
                    recipe(cx, r, &name, table.as_deref()),
                )
            }
        };
        hits.push(match table {
            Some(t) => hit.on_table(t),
            None => hit,
        });
    }
}

fn recipe(cx: &Cx, r: &ReindexStmt, name: &str, table: Option<&str>) -> String {
    let index = ReindexObjectType::try_from(r.kind).ok() == Some(ReindexObjectType::ReindexObjectIndex);
    if cx.pg_version >= 12 {
        let leftover = if index {
            let n = format!("{name}_ccnew");
            format!("an INVALID index `{n}`: drop it before retrying:\n-- DROP INDEX CONCURRENTLY IF EXISTS {};", ident(&n))
        } else {
            "INVALID indexes named `<index>_ccnew`: find them with\n-- SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid;\n-- and drop each with DROP INDEX CONCURRENTLY before retrying.".to_string()
        };
        return format!("-- stepwise:no-transaction\n{};\n-- If it fails it leaves {leftover}", concurrent(r));
    }
    // No REINDEX CONCURRENTLY before PostgreSQL 12: build a copy, then swap.
    let (old, on) = if index {
        (r.relation.as_ref().map(|i| ident(&i.relname)).unwrap_or_default(), table.unwrap_or("<table>").to_string())
    } else {
        ("<index>".to_string(), table.unwrap_or("<table>").to_string())
    };
    let new = if index {
        ident(&format!("{}_new", r.relation.as_ref().map(|i| i.relname.as_str()).unwrap_or_default()))
    } else {
        "<index>_new".into()
    };
    let each = if index { "" } else { "-- PostgreSQL before 12 has no REINDEX CONCURRENTLY: for each index,\n" };
    format!(
        "{each}-- stepwise:no-transaction\n-- Build a copy with the same definition as {old} (see pg_indexes):\n\
         CREATE INDEX CONCURRENTLY IF NOT EXISTS {new} ON {on} (...);\n-- next migration:\n\
         -- stepwise:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS {old};\n-- next migration:\nALTER INDEX {new} RENAME TO {old};"
    )
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const ID: &str = "require-concurrent-reindex";
    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);\nCREATE INDEX orders_status_idx ON orders (status);";

    #[test]
    fn flags_a_plain_reindex_of_an_index() {
        let f = check(ID, SETUP, "REINDEX INDEX orders_status_idx;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("orders_status_idx") && f[0].message.contains("`orders`"), "{}", f[0].message);
        assert!(f[0].why.contains("SHARE lock on `orders`") && f[0].why.contains("ACCESS EXCLUSIVE"), "{}", f[0].why);
        assert!(f[0].safe.starts_with("-- stepwise:no-transaction\nREINDEX INDEX CONCURRENTLY orders_status_idx;"), "{}", f[0].safe);
        assert!(f[0].safe.contains("DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx_ccnew;"), "{}", f[0].safe);
    }

    #[test]
    fn flags_tables_schemas_databases_and_system() {
        for (sql, what) in [
            ("REINDEX TABLE orders;", "TABLE `orders`"),
            ("-- stepwise:no-transaction\nREINDEX SCHEMA public;", "SCHEMA `public`"),
            ("-- stepwise:no-transaction\nREINDEX DATABASE app;", "DATABASE `app`"),
            ("REINDEX (CONCURRENTLY false, VERBOSE) TABLE orders;", "TABLE `orders`"),
            ("-- stepwise:no-transaction\nREINDEX SYSTEM;", "SYSTEM"),
        ] {
            let f = check(ID, SETUP, sql);
            assert_eq!(f.len(), 1, "{sql}: {f:?}");
            assert!(f[0].message.contains(what), "{sql}: {}", f[0].message);
        }
    }

    #[test]
    fn keeps_other_options() {
        let f = check(ID, SETUP, "REINDEX (VERBOSE) TABLE orders;");
        assert!(f[0].safe.contains("REINDEX (VERBOSE, CONCURRENTLY) TABLE orders;"), "{}", f[0].safe);
    }

    #[test]
    fn before_12_the_recipe_rebuilds_and_swaps() {
        let f = check_with(ID, SETUP, "REINDEX INDEX orders_status_idx;", &LintOptions { pg_version: 11, ..Default::default() });
        let safe = &f[0].safe;
        assert!(safe.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx_new ON orders (...);"), "{safe}");
        assert!(safe.contains("DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;"), "{safe}");
        assert!(safe.contains("ALTER INDEX orders_status_idx_new RENAME TO orders_status_idx;"), "{safe}");
    }

    #[test]
    fn concurrent_reindex_passes() {
        assert!(check(ID, SETUP, "-- stepwise:no-transaction\nREINDEX INDEX CONCURRENTLY orders_status_idx;").is_empty());
        assert!(check(ID, SETUP, "-- stepwise:no-transaction\nREINDEX (VERBOSE, CONCURRENTLY) TABLE orders;").is_empty());
    }

    #[test]
    fn a_new_table_passes() {
        let m = "CREATE TABLE items (id bigint PRIMARY KEY, sku text);\nCREATE INDEX items_sku_idx ON items (sku);\nREINDEX INDEX items_sku_idx;\nREINDEX TABLE items;";
        assert!(check(ID, SETUP, m).is_empty());
    }
}
