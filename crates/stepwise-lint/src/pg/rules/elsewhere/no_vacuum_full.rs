//! `no-vacuum-full`: VACUUM FULL.
//!
//! VACUUM FULL writes a new copy of the table and its indexes under an
//! ACCESS EXCLUSIVE lock: no reads and no writes for the whole rewrite,
//! minutes to hours on a large table. pg_repack (or `stepwise osc` on the
//! table with no changes) builds the compact copy online and swaps it in
//! under a brief lock. A plain VACUUM makes dead space reusable without
//! blocking reads or writes (it does not give the space back to the OS).

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{option_on, word_offset};
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct NoVacuumFull;
pub static RULE: NoVacuumFull = NoVacuumFull;

static META: RuleMeta = RuleMeta {
    id: "no-vacuum-full",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: use pg_repack or `stepwise osc`",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);",
    bad: "-- stepwise:no-transaction\nVACUUM FULL orders;",
    safe: &["-- stepwise:no-transaction\n\
             -- Makes dead space reusable; reads and writes go on (SHARE UPDATE EXCLUSIVE).\n\
             -- To give space back to the OS, run pg_repack --table=orders outside the migration.\n\
             VACUUM (ANALYZE) orders;"],
};

/// Comment lines: rebuild `table` online, outside the migration.
pub(super) fn online_rewrite(table: &str, order: &str) -> String {
    format!(
        "-- Not in a migration: rebuild the table online{order}, swapping the copy in under a brief lock:\n--   pg_repack --table={table}\n-- or stepwise osc on {table} with no changes."
    )
}

impl Rule for NoVacuumFull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::VacuumStmt(v) = cx.node else { return };
        if !v.is_vacuumcmd || !option_on(&v.options, "full") {
            return;
        }
        let at = word_offset(cx.sql(), &["full"], 0) as i32;
        let tables: Vec<_> = v
            .rels
            .iter()
            .filter_map(|n| match &n.node {
                Some(NodeEnum::VacuumRelation(vr)) => vr.relation.as_ref(),
                _ => None,
            })
            .collect();
        if tables.is_empty() {
            hits.push(
                Hit::new(
                    "VACUUM FULL of every table in the database",
                    "VACUUM FULL without a table rewrites every table in the database, each under an ACCESS EXCLUSIVE lock (no reads or writes) for its whole rewrite.",
                    "-- Not in a migration, table by table and online:\n--   pg_repack --table=<table>",
                )
                .at(at),
            );
        }
        for r in tables.into_iter().filter(|r| cx.existing(r)) {
            let table = Cx::name(r);
            hits.push(
                Hit::new(
                    format!("VACUUM FULL rewrites `{table}` under an ACCESS EXCLUSIVE lock"),
                    format!(
                        "VACUUM FULL writes a new copy of `{table}` and all its indexes while holding an ACCESS EXCLUSIVE lock: every read and write waits for the whole rewrite, minutes to hours on a large table."
                    ),
                    format!(
                        "-- stepwise:no-transaction\n-- Makes dead space reusable; reads and writes go on (SHARE UPDATE EXCLUSIVE):\nVACUUM (ANALYZE) {table};\n-- To give the space back to the OS instead:\n{}",
                        online_rewrite(&table, "")
                    ),
                )
                .at(at)
                .on_table(table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text);";

    #[test]
    fn flags_vacuum_full_in_both_spellings() {
        for m in ["-- stepwise:no-transaction\nVACUUM FULL orders;", "-- stepwise:no-transaction\nVACUUM (FULL, ANALYZE) orders;"] {
            let f = check("no-vacuum-full", SETUP, m);
            assert_eq!(f.len(), 1, "{m}: {f:#?}");
            assert!(f[0].message.contains("`orders`"));
            assert!(f[0].safe.contains("pg_repack --table=orders"), "{}", f[0].safe);
            assert!(f[0].safe.starts_with("-- stepwise:no-transaction\n"), "{}", f[0].safe);
        }
        assert_eq!(check("no-vacuum-full", SETUP, "-- stepwise:no-transaction\nVACUUM FULL;").len(), 1);
    }

    #[test]
    fn plain_vacuum_passes() {
        for m in
            ["-- stepwise:no-transaction\nVACUUM orders;", "-- stepwise:no-transaction\nVACUUM (FULL false) orders;", "ANALYZE orders;"]
        {
            assert!(check("no-vacuum-full", SETUP, m).is_empty(), "{m}");
        }
    }
}
