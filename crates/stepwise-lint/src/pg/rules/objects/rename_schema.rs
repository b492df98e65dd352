//! `rename-schema`: `ALTER SCHEMA ... RENAME TO`.
//!
//! The rename is instant, and from its commit every query that names the
//! old schema (`app.accounts`), or finds its tables through a search_path
//! that lists it, fails until the new code runs everywhere. PostgreSQL has
//! no alias for a schema: move the tables one by one into a new schema,
//! each with a view under its old name, and drop the views and the old
//! schema after the deploy.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::Severity;
use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

pub struct RenameSchema;
pub static RULE: RenameSchema = RenameSchema;

static META: RuleMeta = RuleMeta {
    id: "rename-schema",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "ALTER SCHEMA ... RENAME breaks every query naming the old schema: move tables with views left behind",
    setup: "CREATE SCHEMA app;\nCREATE TABLE app.accounts (id bigint PRIMARY KEY, name text NOT NULL);",
    bad: "ALTER SCHEMA app RENAME TO core;",
    safe: &[
        "CREATE SCHEMA IF NOT EXISTS core;\n\
         SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE app.accounts SET SCHEMA core;\n\
         CREATE OR REPLACE VIEW app.accounts AS SELECT * FROM core.accounts;",
        "-- stepwise:phase post-deploy\n\
         DROP VIEW IF EXISTS app.accounts;\n\
         DROP SCHEMA IF EXISTS app;",
    ],
};

impl Rule for RenameSchema {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::RenameStmt(rn) = cx.node else { return };
        if rn.rename_type != ObjectType::ObjectSchema as i32 {
            return;
        }
        // A schema created by this migration is not in use yet.
        let created_here = cx.earlier.iter().any(|n| matches!(n, NodeEnum::CreateSchemaStmt(c) if c.schemaname == rn.subname));
        if created_here {
            return;
        }
        let (old, new) = (&rn.subname, &rn.newname);
        let prefix = format!("{old}.");
        let mut tables: Vec<&str> = cx.schema.tables.keys().filter_map(|k| k.strip_prefix(&prefix)).collect();
        tables.sort();
        if tables.is_empty() {
            tables.push("<table>");
        }
        let moves: Vec<String> = tables
            .iter()
            .map(|t| {
                format!(
                    "ALTER TABLE {0}.{1} SET SCHEMA {2};\nCREATE OR REPLACE VIEW {0}.{1} AS SELECT * FROM {2}.{1};",
                    ident(old),
                    t,
                    ident(new)
                )
            })
            .collect();
        let drops: Vec<String> = tables.iter().map(|t| format!("DROP VIEW IF EXISTS {}.{t};", ident(old))).collect();
        hits.push(Hit::new(
            format!("renaming schema `{old}` to `{new}` breaks every query that names `{old}`"),
            format!("From the commit on, queries naming `{old}.…` (or finding its tables through a search_path listing `{old}`) fail until the new code runs everywhere. PostgreSQL has no alias for a schema; a view under each old name keeps old code working while the tables move."),
            format!(
                "CREATE SCHEMA IF NOT EXISTS {};\nSET LOCAL lock_timeout = '2s';\n{}\n-- next migration, after the deploy:\n-- stepwise:phase post-deploy\n{}\nDROP SCHEMA IF EXISTS {};",
                ident(new),
                moves.join("\n"),
                drops.join("\n"),
                ident(old)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE SCHEMA app;\nCREATE TABLE app.accounts (id bigint PRIMARY KEY, name text NOT NULL);";

    #[test]
    fn flags_a_schema_rename_with_a_move_per_table() {
        let f = check("rename-schema", SETUP, "ALTER SCHEMA app RENAME TO core;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("ALTER TABLE app.accounts SET SCHEMA core;"), "{}", f[0].safe);
    }

    #[test]
    fn a_schema_made_in_the_same_migration_passes() {
        assert!(check("rename-schema", SETUP, "CREATE SCHEMA tmp;\nALTER SCHEMA tmp RENAME TO staging;").is_empty());
    }
}
