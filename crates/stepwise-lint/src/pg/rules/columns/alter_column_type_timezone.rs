//! `alter-column-type-timezone`: `timestamp` to `timestamptz` (or back) on an
//! existing table, where whether the table is rewritten depends on the
//! session TimeZone at deploy time.
//!
//! From PostgreSQL 12 this change is made in place when the session TimeZone
//! has a fixed zero offset (UTC): the stored microseconds mean the same
//! instant. Under any other zone every value shifts, so PostgreSQL rewrites
//! the table and its indexes under an ACCESS EXCLUSIVE lock. The migration
//! cannot know the deploy's TimeZone (server, database and role defaults all
//! play), so this is a warning, and it goes away when the migration sets the
//! zone itself: `SET LOCAL TimeZone = 'UTC'` before the ALTER. Only do that
//! when the stored timestamps are UTC: they are read in the session zone.
//!
//! A known non-UTC zone, or a version before 12, is a rewrite and an error
//! of `alter-column-type`.

use super::alter_column_type::{classify, Change};
use super::shared::{column_offset, session_timezone, table_sql, type_sql, SessionTz};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, ident};
use crate::pg::schema::col_type;
use crate::pg::Severity;
use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

pub struct AlterColumnTypeTimezone;
pub static RULE: AlterColumnTypeTimezone = AlterColumnTypeTimezone;

static META: RuleMeta = RuleMeta {
    id: "alter-column-type-timezone",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "timestamp to timestamptz rewrites the table unless the session TimeZone is UTC: set it in the migration",
    setup: "CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp);",
    bad: "ALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz;",
    safe: &["-- The stored values are UTC: under TimeZone UTC the change is made in place (PostgreSQL 12+).\n\
             SET LOCAL TimeZone = 'UTC';\n\
             SET LOCAL lock_timeout = '2s';\n\
             ALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz;"],
};

impl Rule for AlterColumnTypeTimezone {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) || cx.pg_version < 12 || session_timezone(cx) != SessionTz::Unknown {
            return;
        }
        let table = Cx::name(r);
        for (kind, cmd) in alter_cmds(a) {
            if kind != AlterTableType::AtAlterColumnType {
                continue;
            }
            let Some(NodeEnum::ColumnDef(def)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
            let Some(new) = def.type_name.as_ref().map(col_type) else { continue };
            let Some(old) = cx.table(r).and_then(|t| t.column(&cmd.name)).and_then(|c| c.ty.clone()) else { continue };
            // A USING expression rewrites anyway (alter-column-type says so).
            if classify(&old, &new) != Change::TimeZone || def.raw_default.is_some() {
                continue;
            }
            let set = if cx.in_transaction { "SET LOCAL TimeZone = 'UTC';" } else { "SET TimeZone = 'UTC';" };
            let (t, col, ty) = (table_sql(r), ident(&cmd.name), type_sql(&new));
            hits.push(
                Hit::new(
                    format!("changing `{table}.{}` from {} to {ty} rewrites `{table}` unless the session TimeZone is UTC", cmd.name, type_sql(&old)),
                    format!(
                        "PostgreSQL 12+ makes this change in place only when the session TimeZone has a zero offset (UTC); under any other \
                         zone it rewrites `{table}` and rebuilds its indexes under an ACCESS EXCLUSIVE lock, which blocks every read and write \
                         until it ends. The zone at deploy time comes from the server, database and role settings, which the migration does not see. \
                         Existing values are read in that zone too."
                    ),
                    format!(
                        "-- If the stored values are UTC, pin the zone in the migration (no rewrite):\n{set}\nALTER TABLE {t} ALTER COLUMN {col} TYPE {ty};\n\
                         -- If they are in another zone, converting them rewrites the table: do it online instead:\n\
                         --   stepwise osc {t} --alter \"ALTER COLUMN {col} TYPE {ty} USING {col} AT TIME ZONE '<their zone>'\""
                    ),
                )
                .at(column_offset(cx.sql(), "ALTER", &cmd.name))
                .on_table(table.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const SETUP: &str = "CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp, seen_at timestamptz);";
    const ID: &str = "alter-column-type-timezone";

    #[test]
    fn warns_when_the_timezone_is_not_set() {
        let f = check(ID, SETUP, "ALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, crate::pg::Severity::Warning);
        assert!(f[0].message.contains("events.happened_at") && f[0].message.contains("TimeZone is UTC"), "{}", f[0].message);
        assert!(
            f[0].safe.contains("SET LOCAL TimeZone = 'UTC';\nALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz;"),
            "{}",
            f[0].safe
        );
        assert_eq!(check(ID, SETUP, "ALTER TABLE events ALTER COLUMN seen_at TYPE timestamp;").len(), 1);
        let outside = check(ID, SETUP, "-- stepwise:no-transaction\nALTER TABLE events ALTER COLUMN seen_at TYPE timestamp;");
        assert!(outside[0].safe.contains("\nSET TimeZone = 'UTC';"), "{}", outside[0].safe);
    }

    #[test]
    fn a_zone_set_in_the_migration_decides() {
        let m = "ALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz;";
        for set in
            ["SET LOCAL TimeZone = 'UTC';", "SET TIME ZONE 'Etc/UTC';", "SET timezone TO 'GMT';", "SET LOCAL TIME ZONE 'Europe/Berlin';"]
        {
            assert!(check(ID, SETUP, &format!("{set}\n{m}")).is_empty(), "{set}");
        }
        // SET LOCAL outside a transaction does nothing.
        let f = check(ID, SETUP, &format!("-- stepwise:no-transaction\nSET LOCAL TimeZone = 'UTC';\n{m}"));
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn other_changes_and_old_versions_are_not_this_rules() {
        assert!(check(ID, SETUP, "ALTER TABLE events ALTER COLUMN id TYPE text;").is_empty());
        let opts = LintOptions { pg_version: 11, ..Default::default() };
        assert!(check_with(ID, SETUP, "ALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz;", &opts).is_empty());
        let m = "CREATE TABLE logs (at timestamp);\nALTER TABLE logs ALTER COLUMN at TYPE timestamptz;";
        assert!(check(ID, SETUP, m).is_empty());
    }
}
