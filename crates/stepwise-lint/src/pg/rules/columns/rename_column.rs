//! `rename-column`: `ALTER TABLE ... RENAME COLUMN` on an existing table.
//!
//! The rename is instant, but the code running against the table still uses
//! the old name: from the commit on, its queries fail with `column does not
//! exist` until the new code is deployed everywhere, and the new code fails
//! the same way if it is deployed first. There is no order of deploy and
//! migration that works.
//!
//! The safe way is expand and contract: add the new column, keep both in
//! sync with a trigger, backfill, deploy code that uses the new name, then
//! drop the old column after that deploy.
//!
//! A rename that gives a column back the name an earlier statement of the
//! same transaction renamed away (the swap at the end of a type change) is
//! not flagged: running code sees the name all along.

use super::shared::{backfill, before_row_trigger, name_of, table_sql, trigger_function, type_sql};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::ident;
use crate::pg::schema::range_key;
use crate::pg::Severity;
use pg_query::protobuf::{ObjectType, RenameStmt};
use pg_query::NodeEnum;

pub struct RenameColumn;
pub static RULE: RenameColumn = RenameColumn;

static META: RuleMeta = RuleMeta {
    id: "rename-column",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::BreaksCode,
    summary: "RENAME COLUMN breaks the running code: add, dual-write, backfill, switch, drop",
    setup: "CREATE TABLE users (id bigint PRIMARY KEY, name text);",
    bad: "ALTER TABLE users RENAME COLUMN name TO full_name;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name text;\n\
         CREATE OR REPLACE FUNCTION users_name_full_name_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n\
         \x20 IF TG_OP = 'INSERT' THEN\n\
         \x20   NEW.full_name := COALESCE(NEW.full_name, NEW.name);\n\
         \x20   NEW.name := COALESCE(NEW.name, NEW.full_name);\n\
         \x20 ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN\n\
         \x20   NEW.name := NEW.full_name;\n\
         \x20 ELSE\n\
         \x20   NEW.full_name := NEW.name;\n\
         \x20 END IF;\n\
         \x20 RETURN NEW;\n\
         END\n$$;\n\
         CREATE OR REPLACE TRIGGER users_name_full_name_sync BEFORE INSERT OR UPDATE ON users\n    \
         FOR EACH ROW EXECUTE FUNCTION users_name_full_name_sync();\n\
         -- Then fill the existing rows in small batches, outside the migration:\n\
         --   stepwise backfill users --set \"full_name = name\"\n\
         -- and deploy code that reads and writes full_name only.",
        "-- stepwise:phase post-deploy\n\
         SET LOCAL lock_timeout = '2s';\n\
         DROP TRIGGER IF EXISTS users_name_full_name_sync ON users;\n\
         DROP FUNCTION IF EXISTS users_name_full_name_sync();\n\
         ALTER TABLE users DROP COLUMN IF EXISTS name;",
    ],
};

fn renames_column(rn: &RenameStmt) -> bool {
    rn.rename_type == ObjectType::ObjectColumn as i32 && rn.relation_type == ObjectType::ObjectTable as i32
}

impl Rule for RenameColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::RenameStmt(rn) = cx.node else { return };
        let Some(r) = &rn.relation else { return };
        if !renames_column(rn) || !cx.existing(r) {
            return;
        }
        let key = range_key(r);
        let swap = cx.in_transaction
            && cx.earlier.iter().any(|n| {
                matches!(n, NodeEnum::RenameStmt(e) if renames_column(e) && e.subname == rn.newname && e.relation.as_ref().map(range_key) == Some(key.clone()))
            });
        if swap {
            return;
        }
        let table = Cx::name(r);
        let (t, old, new) = (table_sql(r), ident(&rn.subname), ident(&rn.newname));
        let ty = cx.table(r).and_then(|t| t.column(&rn.subname)).and_then(|c| c.ty.as_ref()).map(type_sql);
        let ty = ty.unwrap_or_else(|| format!("<type of {old}>"));
        let sync = name_of(&[&r.relname, &rn.subname, &rn.newname, "sync"]);
        let body = format!(
            "  IF TG_OP = 'INSERT' THEN\n    NEW.{new} := COALESCE(NEW.{new}, NEW.{old});\n    NEW.{old} := COALESCE(NEW.{old}, NEW.{new});\n  \
             ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN\n    NEW.{old} := NEW.{new};\n  ELSE\n    NEW.{new} := NEW.{old};\n  END IF;\n"
        );
        let safe = format!(
            "-- 1. Add {new} and keep both columns in step, whichever one the code writes:\n\
             ALTER TABLE {t} ADD COLUMN {new} {ty};\n{function}\n{trigger}\n\
             -- (give {new} the default, NOT NULL, indexes and constraints of {old} too, each the safe way)\n\
             {backfill}\n\
             -- 2. Deploy code that reads and writes {new} only, then:\n\
             -- next migration, after that deploy:\n\
             -- stepwise:phase post-deploy\n\
             DROP TRIGGER IF EXISTS {sync_sql} ON {t};\n\
             DROP FUNCTION IF EXISTS {sync_sql}();\n\
             ALTER TABLE {t} DROP COLUMN IF EXISTS {old};",
            function = trigger_function(&sync, &body),
            trigger = before_row_trigger(cx.pg_version, &sync, &t, &sync),
            backfill = backfill(&t, &format!("{new} = {old}"), ""),
            sync_sql = ident(&sync),
        );
        hits.push(
            Hit::new(
                format!("renaming `{table}.{}` to `{}` breaks the code that uses the old name", rn.subname, rn.newname),
                crate::breaking::rename_column_why(&rn.subname, &rn.newname, true),
                safe,
            )
            .on_table(table),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100) NOT NULL);";
    const ID: &str = "rename-column";

    #[test]
    fn flags_a_rename_with_the_expand_contract_recipe() {
        let f = check(ID, SETUP, "ALTER TABLE users RENAME COLUMN name TO full_name;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].message, "renaming `users.name` to `full_name` breaks the code that uses the old name");
        let safe = &f[0].safe;
        for s in [
            "ALTER TABLE users ADD COLUMN full_name varchar(100);",
            "CREATE OR REPLACE FUNCTION users_name_full_name_sync() RETURNS trigger",
            "ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN\n    NEW.name := NEW.full_name;",
            "CREATE OR REPLACE TRIGGER users_name_full_name_sync BEFORE INSERT OR UPDATE ON users",
            "stepwise backfill users --set \"full_name = name\"",
            "-- stepwise:phase post-deploy",
            "ALTER TABLE users DROP COLUMN IF EXISTS name;",
        ] {
            assert!(safe.contains(s), "missing {s:?} in\n{safe}");
        }
        let f = check(ID, "", "ALTER TABLE accounts RENAME COLUMN login TO email;");
        assert_eq!(f.len(), 1, "a table outside the model lives in the database: {f:?}");
        assert!(f[0].safe.contains("ADD COLUMN email <type of login>;"), "{}", f[0].safe);
    }

    #[test]
    fn new_tables_other_renames_and_swaps_pass() {
        for m in [
            "CREATE TABLE items (id bigint PRIMARY KEY, nm text);\nALTER TABLE items RENAME COLUMN nm TO name;",
            "ALTER TABLE users RENAME TO members;",
            "ALTER INDEX users_pkey RENAME TO users_id_pkey;",
            "-- stepwise:ignore rename-column swapped back just below\nALTER TABLE users RENAME COLUMN name TO name_old;\n\
             ALTER TABLE users RENAME COLUMN name_old TO name;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
        // Outside a transaction the first rename commits alone: the second is not a swap.
        let m =
            "-- stepwise:no-transaction\n-- stepwise:ignore rename-column reviewed\nALTER TABLE users RENAME COLUMN name TO name_old;\n\
                 ALTER TABLE users RENAME COLUMN name_old TO name;";
        assert_eq!(check(ID, SETUP, m).len(), 1);
    }
}
