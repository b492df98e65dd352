//! `primary-key-using-nullable-index`: `ADD PRIMARY KEY USING INDEX` when a
//! column of the index may hold NULL.
//!
//! A primary key's columns are NOT NULL: PostgreSQL sets that on each
//! nullable column of the index as part of the statement, which scans the
//! whole table under the ACCESS EXCLUSIVE lock of the ALTER TABLE, unless a
//! valid `CHECK (col IS NOT NULL)` proves it (PostgreSQL 12+). Building the
//! index CONCURRENTLY saved nothing if the swap then scans.

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, ident, object_name};
use crate::pg::schema::{key, range_key};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableType, ConstrType};
use pg_query::NodeEnum;

pub struct PrimaryKeyUsingNullableIndex;
pub static RULE: PrimaryKeyUsingNullableIndex = PrimaryKeyUsingNullableIndex;

static META: RuleMeta = RuleMeta {
    id: "primary-key-using-nullable-index",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ADD PRIMARY KEY USING INDEX on a nullable column scans the table under ACCESS EXCLUSIVE: prove NOT NULL with a validated CHECK first",
    setup: "CREATE TABLE accounts (id bigint, name text);\nCREATE UNIQUE INDEX accounts_id_idx ON accounts (id);",
    bad: "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE accounts ADD CONSTRAINT accounts_id_not_null CHECK (id IS NOT NULL) NOT VALID;",
        "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_not_null;",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;",
    ],
};

impl Rule for PrimaryKeyUsingNullableIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        let table_key = range_key(r);
        let Some(table) = cx.table(r) else { return };
        for (kind, cmd) in alter_cmds(a) {
            let Some(NodeEnum::Constraint(c)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
            if kind != AlterTableType::AtAddConstraint || constr_type(c) != ConstrType::ConstrPrimary || c.indexname.is_empty() {
                continue;
            }
            let Some(index) = cx.schema.indexes.get(&key(&r.schemaname, &c.indexname)) else { continue };
            let nullable: Vec<&str> = index
                .columns
                .iter()
                .filter(|col| {
                    table.column(col).is_some_and(|k| !k.not_null)
                        && !cx.schema.not_null_check(&table_key, col).is_some_and(|n| n.valid && cx.pg_version >= 12)
                })
                .map(String::as_str)
                .collect();
            if nullable.is_empty() {
                continue;
            }
            let name = Cx::name(r);
            let mut first = Vec::new();
            let mut second = Vec::new();
            for col in &nullable {
                let check = ident(&object_name(&r.relname, col, "not_null"));
                first.push(format!("ALTER TABLE {name} ADD CONSTRAINT {check} CHECK ({} IS NOT NULL) NOT VALID;", ident(col)));
                second.push(format!("ALTER TABLE {name} VALIDATE CONSTRAINT {check};"));
            }
            hits.push(
                Hit::new(
                    format!("PRIMARY KEY USING INDEX {} makes {} NOT NULL by scanning `{name}` under an ACCESS EXCLUSIVE lock", c.indexname, nullable.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")),
                    format!("A primary key's columns are NOT NULL. PostgreSQL adds that to the nullable columns as part of the ALTER TABLE, reading every row of `{name}` while no one can read or write it, unless a validated CHECK (col IS NOT NULL) already proves it."),
                    format!(
                        "{}\n-- next migration (the scan holds SHARE UPDATE EXCLUSIVE: reads and writes go on):\n{}\n-- next migration (no scan now):\n{};",
                        first.join("\n"),
                        second.join("\n"),
                        cx.sql().trim_end().trim_end_matches(';')
                    ),
                )
                .on_table(name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, findings_in_sequence};

    const SETUP: &str = "CREATE TABLE accounts (id bigint, name text);\nCREATE UNIQUE INDEX accounts_id_idx ON accounts (id);";
    const BAD: &str = "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;";

    #[test]
    fn flags_a_nullable_column() {
        let f = check("primary-key-using-nullable-index", SETUP, BAD);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("CHECK (id IS NOT NULL) NOT VALID"), "{}", f[0].safe);
    }

    #[test]
    fn not_null_or_a_validated_check_passes() {
        let setup = "CREATE TABLE accounts (id bigint NOT NULL, name text);\nCREATE UNIQUE INDEX accounts_id_idx ON accounts (id);";
        assert!(check("primary-key-using-nullable-index", setup, BAD).is_empty());
        let f = findings_in_sequence(&[
            SETUP,
            "ALTER TABLE accounts ADD CONSTRAINT accounts_id_not_null CHECK (id IS NOT NULL) NOT VALID;",
            "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_not_null;",
            BAD,
        ]);
        assert!(f.iter().all(|f| f.rule != "primary-key-using-nullable-index"), "{f:#?}");
    }
}
