//! `drop-schema-cascade`: `DROP SCHEMA ... CASCADE`.
//!
//! CASCADE drops everything in the schema, and everything elsewhere that
//! depends on it (views, foreign keys, functions' defaults), with their data,
//! taking an ACCESS EXCLUSIVE lock on each table it drops. What goes is
//! decided by the database at deploy time, not by the migration's author.
//! Drop the objects by name, then the schema without CASCADE: if something
//! is still in it, the drop fails instead of deleting it.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::Severity;
use pg_query::protobuf::{DropBehavior, ObjectType};
use pg_query::NodeEnum;

pub struct DropSchemaCascade;
pub static RULE: DropSchemaCascade = DropSchemaCascade;

static META: RuleMeta = RuleMeta {
    id: "drop-schema-cascade",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "DROP SCHEMA ... CASCADE drops whatever is in the schema: drop the objects by name, then the schema",
    setup: "CREATE SCHEMA archive;\nCREATE TABLE archive.old_events (id bigint PRIMARY KEY);",
    bad: "DROP SCHEMA archive CASCADE;",
    safe: &["-- stepwise:phase post-deploy\n\
             SET LOCAL lock_timeout = '2s';\n\
             DROP TABLE IF EXISTS archive.old_events;\n\
             DROP SCHEMA IF EXISTS archive;"],
};

impl Rule for DropSchemaCascade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::DropStmt(d) = cx.node else { return };
        if d.remove_type != ObjectType::ObjectSchema as i32 || d.behavior != DropBehavior::DropCascade as i32 {
            return;
        }
        for o in &d.objects {
            let Some(NodeEnum::String(s)) = &o.node else { continue };
            let schema = &s.sval;
            let prefix = format!("{schema}.");
            let mut tables: Vec<&str> = cx.schema.tables.keys().filter(|k| k.starts_with(&prefix)).map(String::as_str).collect();
            tables.sort();
            let known = if tables.is_empty() {
                String::new()
            } else {
                format!(" (the migrations put {} there)", tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "))
            };
            let drops: Vec<String> = tables.iter().map(|t| format!("DROP TABLE IF EXISTS {t};")).collect();
            hits.push(Hit::new(
                format!("DROP SCHEMA {schema} CASCADE drops every object in it and everything that depends on them{known}"),
                "What CASCADE removes is decided by the database when the migration runs: tables with their data, views and foreign keys in other schemas, each table under an ACCESS EXCLUSIVE lock. Dropping objects by name, and the schema without CASCADE, fails instead when something unexpected is still there.",
                format!("-- stepwise:phase post-deploy\n{}{}DROP SCHEMA IF EXISTS {};", drops.join("\n"), if drops.is_empty() { "" } else { "\n" }, ident(schema)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE SCHEMA archive;\nCREATE TABLE archive.old_events (id bigint PRIMARY KEY);";

    #[test]
    fn flags_cascade_and_lists_the_tables_it_knows() {
        let f = check("drop-schema-cascade", SETUP, "DROP SCHEMA archive CASCADE;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`archive.old_events`"), "{}", f[0].message);
        assert!(f[0].safe.contains("DROP TABLE IF EXISTS archive.old_events;\nDROP SCHEMA IF EXISTS archive;"), "{}", f[0].safe);
    }

    #[test]
    fn restrict_passes() {
        assert!(check("drop-schema-cascade", SETUP, "DROP SCHEMA IF EXISTS archive;").is_empty());
    }
}
