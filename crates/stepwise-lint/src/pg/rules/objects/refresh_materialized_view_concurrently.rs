//! `refresh-materialized-view-concurrently`: `REFRESH MATERIALIZED VIEW`
//! without `CONCURRENTLY` on an existing view.
//!
//! A plain refresh takes an ACCESS EXCLUSIVE lock on the view for the whole
//! refresh: every read of the view waits until the query behind it has run
//! again. `REFRESH MATERIALIZED VIEW CONCURRENTLY` takes an EXCLUSIVE lock,
//! which lets reads go on; it needs a unique index on the view (without a
//! WHERE clause, on columns only) and a view that has been populated.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct RefreshMaterializedViewConcurrently;
pub static RULE: RefreshMaterializedViewConcurrently = RefreshMaterializedViewConcurrently;

static META: RuleMeta = RuleMeta {
    id: "refresh-materialized-view-concurrently",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::LockQueue,
    summary: "REFRESH MATERIALIZED VIEW blocks every read of the view: refresh CONCURRENTLY (with a unique index)",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL);\n\
            CREATE MATERIALIZED VIEW order_totals AS SELECT id, total_cents FROM orders;\n\
            CREATE UNIQUE INDEX order_totals_id_idx ON order_totals (id);",
    bad: "REFRESH MATERIALIZED VIEW order_totals;",
    safe: &["SET LOCAL lock_timeout = '2s';\nREFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;"],
};

impl Rule for RefreshMaterializedViewConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::RefreshMatViewStmt(m) = cx.node else { return };
        let Some(view) = &m.relation else { return };
        if m.concurrent || !cx.existing(view) {
            return;
        }
        let name = Cx::name(view);
        let (why_extra, safe) = if m.skip_data {
            (" WITH NO DATA empties the view, and CONCURRENTLY cannot do that: keep it out of the deploy.", format!("-- Empty the view outside the deploy, in a quiet moment:\n-- REFRESH MATERIALIZED VIEW {name} WITH NO DATA;\nSELECT 1;"))
        } else {
            ("", format!("-- Needs a unique index on {name} (columns only, no WHERE):\nREFRESH MATERIALIZED VIEW CONCURRENTLY {name};"))
        };
        hits.push(
            Hit::new(
                format!("REFRESH MATERIALIZED VIEW `{name}` takes an ACCESS EXCLUSIVE lock on the view until the refresh ends"),
                format!("Every read of `{name}` waits while the query behind it runs again, and the lock request itself waits behind running reads, with the reads after it waiting too. CONCURRENTLY takes an EXCLUSIVE lock instead: reads go on, and the new rows replace the old by a diff.{why_extra}"),
                safe,
            )
            .on_table(name),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL);\nCREATE MATERIALIZED VIEW order_totals AS SELECT id, total_cents FROM orders;\nCREATE UNIQUE INDEX order_totals_id_idx ON order_totals (id);";

    #[test]
    fn flags_a_plain_refresh() {
        let f = check("refresh-materialized-view-concurrently", SETUP, "REFRESH MATERIALIZED VIEW order_totals;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals"), "{}", f[0].safe);
    }

    #[test]
    fn concurrently_and_a_view_made_in_the_same_migration_pass() {
        assert!(check("refresh-materialized-view-concurrently", SETUP, "REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;").is_empty());
        let m = "CREATE MATERIALIZED VIEW big AS SELECT id FROM orders WITH NO DATA;\nREFRESH MATERIALIZED VIEW big;";
        assert!(check("refresh-materialized-view-concurrently", SETUP, m).is_empty());
    }
}
