//! `no-data-change-in-migration`: UPDATE or DELETE (or MERGE) of a table
//! that already exists, inside a migration.
//!
//! One statement changes every matching row in one transaction: each changed
//! row stays locked against the application's writes until the migration
//! commits, the table grows by a dead copy of every row, replicas fall behind
//! by the whole change, and a failure or a timeout rolls it all back. In a
//! transactional migration, every lock the migration's DDL took is held for
//! as long as the change runs. `stepwise backfill` does the same work in
//! short batches, each its own transaction, throttled and resumable (and
//! `--delete --where ...` for deletes). A table created earlier in the same
//! migration is empty of other people's rows: changing it is fine.

use super::{expr_sql, shell_quote, sql_of, DataChange};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::word_offset;
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct NoDataChangeInMigration;
pub static RULE: NoDataChangeInMigration = NoDataChangeInMigration;

static META: RuleMeta = RuleMeta {
    id: "no-data-change-in-migration",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "UPDATE or DELETE of an existing table belongs in `stepwise backfill`, not in a migration",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, status text);",
    bad: "UPDATE orders SET status = 'pending' WHERE status IS NULL;",
    safe: &["SET LOCAL lock_timeout = '2s';\n\
             ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';\n\
             -- The existing rows, in short batches after this migration:\n\
             -- stepwise backfill orders --set \"status = 'pending'\" --where \"status IS NULL\""],
};

/// The `stepwise backfill` command that does the same change in batches
/// (a comment, so that the recipe stays SQL).
pub(super) fn backfill(table: &str, change: &DataChange) -> String {
    match change {
        DataChange::Update(u) => {
            let mut bare = (*u).clone();
            bare.where_clause = None;
            bare.from_clause.clear();
            bare.returning_clause = None;
            bare.with_clause = None;
            let text = sql_of(&NodeEnum::UpdateStmt(Box::new(bare)));
            let set = text.split_once(" SET ").map(|(_, s)| s.to_string()).unwrap_or_else(|| "<col> = <expr>".into());
            let cond = u.where_clause.as_ref().and_then(|w| expr_sql(w));
            let mut cmd = format!("--   stepwise backfill {table} --set {}", shell_quote(&set));
            if let Some(w) = &cond {
                cmd.push_str(&format!(" --where {}", shell_quote(w)));
            }
            // The same, as a reviewed step of this migration (run by `migrate` in batches).
            cmd.push_str(&format!(
                "\n-- or, as a step of the migration (outside a transaction, in batches):\n-- stepwise:backfill {table} SET {set}{}",
                cond.map(|w| format!(" WHERE {w}")).unwrap_or_default()
            ));
            if !u.from_clause.is_empty() {
                cmd.push_str("\n-- (UPDATE ... FROM: write the joined value as a subquery in --set)");
            }
            cmd
        }
        DataChange::Delete(d) => {
            let cond = d.where_clause.as_ref().and_then(|w| expr_sql(w)).unwrap_or_else(|| "true".into());
            let mut cmd = format!("--   stepwise backfill {table} --delete --where {}", shell_quote(&cond));
            if !d.using_clause.is_empty() {
                cmd.push_str("\n-- (DELETE ... USING: write the join as an EXISTS subquery in --where)");
            }
            cmd
        }
        _ => format!("--   stepwise backfill {table} --set \"<col> = <expr>\" --where \"<cond>\""),
    }
}

impl Rule for NoDataChangeInMigration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        for change in super::data_changes(cx.node) {
            if matches!(change, DataChange::Insert(_) | DataChange::Copy(_)) {
                continue;
            }
            let Some(r) = change.relation() else { continue };
            if !cx.existing(r) {
                continue;
            }
            let table = Cx::name(r);
            let verb = change.verb();
            let held = if cx.in_transaction && !cx.earlier.is_empty() {
                " The locks this migration's earlier statements took are held for as long as it runs."
            } else {
                ""
            };
            hits.push(
                Hit::new(
                    format!("{verb} of existing table `{table}` in a migration: run it as a batched backfill"),
                    crate::breaking::data_change_why(verb, &table, &format!("The table gains a dead copy of every row.{held}")),
                    format!(
                        "-- Not in a migration: in short batches, each its own transaction (resumable, throttled):\n{}",
                        backfill(&table, &change)
                    ),
                )
                .at(word_offset(cx.sql(), &[verb], 0) as i32)
                .on_table(table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, status text, created_at timestamptz);";

    #[test]
    fn flags_an_update_with_its_backfill_command() {
        let f = check("no-data-change-in-migration", SETUP, "UPDATE orders SET status = 'pending' WHERE status IS NULL;");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("UPDATE of existing table `orders`"));
        assert!(f[0].safe.contains("stepwise backfill orders --set \"status = 'pending'\" --where \"status IS NULL\""), "{}", f[0].safe);
        assert!(f[0].safe.contains("\n-- stepwise:backfill orders SET status = 'pending' WHERE status IS NULL"), "{}", f[0].safe);
    }

    #[test]
    fn flags_a_delete_with_a_batched_delete() {
        let m = "ALTER TABLE orders ADD COLUMN note text;\nDELETE FROM orders WHERE created_at < now() - interval '90 days';";
        let f = check("no-data-change-in-migration", SETUP, m);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].line, f[0].col), (2, 1));
        assert!(f[0].why.contains("earlier statements"), "{}", f[0].why);
        assert!(
            f[0].safe.contains("stepwise backfill orders --delete --where \"created_at < now() - '90 days'::interval\""),
            "{}",
            f[0].safe
        );
    }

    #[test]
    fn flags_data_changes_hidden_in_with() {
        let m = "WITH gone AS (DELETE FROM orders WHERE status = 'void' RETURNING id) SELECT count(*) FROM gone;";
        assert_eq!(check("no-data-change-in-migration", SETUP, m).len(), 1);
    }

    #[test]
    fn a_new_table_and_inserts_pass() {
        let m = "CREATE TABLE statuses (name text PRIMARY KEY, label text);\nINSERT INTO statuses VALUES ('pending', 'Pending');\nUPDATE statuses SET label = 'Waiting' WHERE name = 'pending';\nINSERT INTO orders (id, status) VALUES (1, 'pending');";
        assert!(check("no-data-change-in-migration", SETUP, m).is_empty());
    }

    #[test]
    fn a_delete_of_everything_is_a_batched_delete_of_everything() {
        let f = check("no-data-change-in-migration", SETUP, "DELETE FROM orders;");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::pg::Severity::Error);
        assert!(f[0].safe.contains("--delete --where \"true\""), "{}", f[0].safe);
    }
}
