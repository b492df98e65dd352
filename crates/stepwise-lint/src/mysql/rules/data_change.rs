//! `no-data-change-in-migration` (MySQL/MariaDB): UPDATE or DELETE of an
//! existing table inside a migration. The same question as on PostgreSQL
//! (`crate::breaking`); on InnoDB every changed row stays locked until the
//! statement commits, the undo log grows by the whole change (purge falls
//! behind for every table), and row-based replication ships every row.
//!
//! The safe way: `stepwise backfill` (or a `-- stepwise:backfill` step in
//! the migration) does the same change in short throttled batches.

use super::helpers::q;
use crate::breaking::data_change_why;
use crate::mysql::ast::{DataVerb, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct DataChange;
pub static RULE: DataChange = DataChange;

static META: RuleMeta = RuleMeta {
    id: "no-data-change-in-migration",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "UPDATE or DELETE of an existing table belongs in `stepwise backfill`, not in a migration",
    setup: "CREATE TABLE orders (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, status varchar(20)) ENGINE=InnoDB;",
    bad: "UPDATE orders SET status = 'pending' WHERE status IS NULL;",
    safe: &["-- stepwise:backfill orders SET status = 'pending' WHERE status IS NULL"],
};

impl Rule for DataChange {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Stmt::Data { verb, table, .. } = cx.parsed else { return };
        if !matches!(verb, DataVerb::Update | DataVerb::Delete) || cx.schema.existing(table).is_none() {
            return;
        }
        let sql = cx.sql().trim().trim_end_matches(';');
        let safe = match verb {
            DataVerb::Update => {
                let rest = sql.split_once(|c: char| c.is_whitespace()).map(|(_, r)| r).unwrap_or("");
                let set = rest
                    .to_ascii_uppercase()
                    .find(" SET ")
                    .map(|i| rest[i + 1..].to_string())
                    .unwrap_or_else(|| "SET <col> = <expr>".into());
                format!(
                    "-- The same change in short batches, as a step of this migration:\n-- stepwise:backfill {} {}",
                    q(table),
                    set.replace('\n', " ")
                )
            }
            _ => {
                let cond =
                    sql.to_ascii_uppercase().find(" WHERE ").map(|i| sql[i + 7..].to_string()).unwrap_or_else(|| "<condition>".into());
                format!(
                    "-- Delete in short batches after this migration:\n--   stepwise backfill {} --delete --where \"{}\"",
                    q(table),
                    cond.replace('"', "\\\"")
                )
            }
        };
        hits.push(
            Hit::new(
                format!(
                    "{} of `{table}` in a migration: one long transaction on a live table",
                    if *verb == DataVerb::Update { "UPDATE" } else { "DELETE" }
                ),
                data_change_why(
                    if *verb == DataVerb::Update { "UPDATE" } else { "DELETE" },
                    table,
                    "On InnoDB the undo log grows by the whole change and purge falls behind for every table.",
                ),
                safe,
            )
            .on_table(table.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status varchar(20));";
    const ID: &str = "no-data-change-in-migration";

    #[test]
    fn flags_updates_and_deletes_of_existing_tables() {
        let f = check(ID, SETUP, "UPDATE orders SET status = 'x' WHERE status IS NULL;");
        assert!(f[0].safe.ends_with("-- stepwise:backfill orders SET status = 'x' WHERE status IS NULL"), "{}", f[0].safe);
        let f = check(ID, SETUP, "DELETE FROM orders WHERE status = 'gone';");
        assert!(f[0].safe.contains("--delete --where \"status = 'gone'\""), "{}", f[0].safe);
        assert!(check(ID, SETUP, "CREATE TABLE t (id int);\nUPDATE t SET id = 1;").is_empty());
        assert!(check(ID, SETUP, "INSERT INTO orders (id, status) VALUES (1, 'x');").is_empty());
    }
}
