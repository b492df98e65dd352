//! `no-drop-database`: `DROP DATABASE` in a migration.
//!
//! A migration runs against one database on every environment it is
//! deployed to; dropping a database from it deletes that database and all
//! its data everywhere the migration runs, with no down migration that can
//! bring it back. PostgreSQL also refuses it inside a transaction block,
//! which stepwise reports before anything runs. Databases are created and
//! dropped by operations, after a backup, not by schema migrations.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct NoDropDatabase;
pub static RULE: NoDropDatabase = NoDropDatabase;

static META: RuleMeta = RuleMeta {
    id: "no-drop-database",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "DROP DATABASE deletes a database everywhere the migration runs: do it by hand, after a backup",
    setup: "SELECT 1;",
    bad: "-- stepwise:no-transaction\nDROP DATABASE IF EXISTS reporting_copy;",
    safe: &["-- Drop databases outside migrations, after a backup (pg_dump -Fc), on the one server meant:\n\
             --   dropdb --if-exists reporting_copy\n\
             SELECT 1;"],
};

impl Rule for NoDropDatabase {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::DropdbStmt(d) = cx.node else { return };
        hits.push(Hit::new(
            format!("DROP DATABASE {} deletes that database and all its data on every environment this migration runs on", d.dbname),
            "A schema migration runs wherever it is deployed; no down migration brings a dropped database back.",
            format!(
                "-- Outside migrations, after a backup (pg_dump -Fc {0}), on the one server meant:\n--   dropdb --if-exists {0}\nSELECT 1;",
                d.dbname
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    #[test]
    fn flags_drop_database() {
        let f = check("no-drop-database", "SELECT 1;", "-- stepwise:no-transaction\nDROP DATABASE IF EXISTS reporting_copy;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("reporting_copy"), "{}", f[0].message);
        assert!(check("no-drop-database", "SELECT 1;", "DROP TABLE IF EXISTS reporting_copy;").is_empty());
    }
}
