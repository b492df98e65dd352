//! `drop-column`: `ALTER TABLE ... DROP COLUMN` on an existing table.
//!
//! The drop is instant (PostgreSQL only marks the column dropped), but the
//! code running against the table may still name the column, or list every
//! column it knows (ORMs do, in INSERTs and prepared statements): from the
//! commit on those queries fail with `column does not exist`. And the data
//! is gone for good.
//!
//! The safe way: first deploy code that no longer reads or writes the column
//! (ORMs: tell them to ignore it), then drop it in a migration that runs after
//! the deploy (`-- stepwise:phase post-deploy`), which this rule does not flag.

use super::shared::{column_offset, table_sql};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, ident};
use crate::pg::Severity;
use pg_query::protobuf::AlterTableType;

pub struct DropColumn;
pub static RULE: DropColumn = DropColumn;

static META: RuleMeta = RuleMeta {
    id: "drop-column",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "DROP COLUMN breaks running code that still uses the column: drop it after the deploy",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint, legacy_note text);",
    bad: "ALTER TABLE orders DROP COLUMN legacy_note;",
    safe: &["-- stepwise:phase post-deploy\n\
             SET LOCAL lock_timeout = '2s';\n\
             ALTER TABLE orders DROP COLUMN IF EXISTS legacy_note;"],
};

impl Rule for DropColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        // Post-deploy: the code that used the column is gone by then.
        if cx.phase == stepwise_sql::Phase::PostDeploy {
            return;
        }
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        let table = Cx::name(r);
        for (kind, cmd) in alter_cmds(a) {
            if kind != AlterTableType::AtDropColumn {
                continue;
            }
            let col = ident(&cmd.name);
            hits.push(
                Hit::new(
                    format!("dropping `{table}.{}` breaks the running code that still uses it", cmd.name),
                    crate::breaking::drop_column_why(&cmd.name, true),
                    format!(
                        "-- 1. Deploy code that no longer reads or writes {col} (ORMs: mark it ignored, e.g. Rails' ignored_columns).\n\
                         -- 2. Then drop it in a migration that runs after that deploy:\n\
                         -- stepwise:phase post-deploy\n\
                         ALTER TABLE {} DROP COLUMN IF EXISTS {col};",
                        table_sql(r)
                    ),
                )
                .at(column_offset(cx.sql(), "DROP", &cmd.name))
                .on_table(table.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint, legacy_note text, fax text);";
    const ID: &str = "drop-column";

    #[test]
    fn flags_each_dropped_column() {
        let f = check(ID, SETUP, "ALTER TABLE orders DROP COLUMN legacy_note, DROP COLUMN IF EXISTS fax;");
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].message, "dropping `orders.legacy_note` breaks the running code that still uses it");
        assert!(f[1].message.contains("orders.fax"), "{}", f[1].message);
        assert!(f[0].safe.contains("-- stepwise:phase post-deploy\n"), "{}", f[0].safe);
        assert!(f[0].safe.ends_with("ALTER TABLE orders DROP COLUMN IF EXISTS legacy_note;"), "{}", f[0].safe);
    }

    #[test]
    fn points_at_each_drop() {
        let f = check(ID, SETUP, "ALTER TABLE orders\n  DROP COLUMN legacy_note,\n  DROP fax;");
        let at: Vec<(usize, usize)> = f.iter().map(|f| (f.line, f.col)).collect();
        assert_eq!(at, [(2, 3), (3, 3)]);
    }

    #[test]
    fn new_tables_and_reviewed_drops_pass() {
        for m in [
            "CREATE TABLE items (id bigint PRIMARY KEY, tmp text);\nALTER TABLE items DROP COLUMN tmp;",
            "-- stepwise:phase post-deploy\nALTER TABLE orders DROP COLUMN fax;",
            "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_total_check;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }
}
