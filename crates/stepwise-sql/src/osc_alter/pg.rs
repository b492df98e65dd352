//! What `stepwise osc --alter` may say: the clauses of exactly one
//! PostgreSQL `ALTER TABLE` on the table being changed, of the kinds an
//! online copy carries. Checked on PostgreSQL's own grammar (pg_query)
//! before anything is created, so that `ADD COLUMN x int; DROP TABLE y`
//! never runs and a change the copy cannot carry (a RENAME COLUMN, whose
//! column the copy would leave empty; a `USING` conversion, which the copy
//! would not apply) is refused instead of verified as equal.

use super::OscAlter;
use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;

/// The table name the clauses are parsed against (any name does: the
/// clauses cannot change it).
const TARGET: &str = "stepwise_osc_target";

/// Check PostgreSQL `clauses` (what follows `ALTER TABLE <table>`). Err says why not,
/// in words for the user.
pub fn check_osc_alter(clauses: &str) -> Result<OscAlter, String> {
    if clauses.trim().is_empty() {
        return Err("the ALTER is empty: give the clauses of an ALTER TABLE (e.g. \"ADD COLUMN note text\")".into());
    }
    // A `;` anywhere but in a string or comment ends the ALTER: whatever
    // follows, even nothing, is not a clause.
    if let Ok(tokens) = crate::lexer::tokenize(clauses, crate::Dialect::Postgres) {
        if tokens.iter().any(|t| t.kind == crate::lexer::TokenKind::Delimiter) {
            return Err("the ALTER holds a `;`: it takes the clauses of one ALTER TABLE, nothing after them".into());
        }
    }
    let sql = format!("ALTER TABLE {TARGET} {clauses}\n");
    let parsed = pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT).map_err(|e| {
        let m = match e {
            pg_query::Error::Parse(m) => m,
            other => other.to_string(),
        };
        format!("the ALTER is not the clauses of one ALTER TABLE: {m}")
    })?;
    let stmts: Vec<NodeEnum> = parsed.protobuf.stmts.into_iter().filter_map(|s| s.stmt.and_then(|n| n.node)).collect();
    let [stmt] = stmts.as_slice() else {
        return Err(format!(
            "the ALTER holds {} statements: it takes the clauses of one ALTER TABLE, nothing after them (no `;`)",
            stmts.len()
        ));
    };
    let alter = match stmt {
        NodeEnum::AlterTableStmt(a) => a,
        NodeEnum::RenameStmt(_) => {
            return Err("the ALTER renames: osc copies columns by name, so a renamed column would be left empty in the copy. \
                        Add the new column, backfill it, and drop the old one in a later step"
                .into())
        }
        _ => return Err(
            "the ALTER is not the clauses of an ALTER TABLE on the table (SET SCHEMA and the like change where it is, not what it holds)"
                .into(),
        ),
    };
    let on_target = alter.relation.as_ref().is_some_and(|r| r.relname == TARGET && r.schemaname.is_empty());
    if !on_target || ObjectType::try_from(alter.objtype).ok() != Some(ObjectType::ObjectTable) {
        return Err("the ALTER is not the clauses of an ALTER TABLE on the table".into());
    }
    let mut out = OscAlter::default();
    for node in &alter.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = &node.node else {
            return Err("the ALTER holds something that is not an ALTER TABLE clause".into());
        };
        let kind = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
        use AlterTableType as T;
        match kind {
            T::AtAlterColumnType => {
                let using = match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                    Some(NodeEnum::ColumnDef(def)) => def.raw_default.is_some(),
                    _ => false,
                };
                if using {
                    return Err(format!(
                        "the ALTER converts column {} with USING: osc copies, replays and verifies values with the type's plain cast, \
                         so it would not apply the conversion. Add a new column, backfill it with the expression \
                         (`stepwise backfill`), and switch to it in a later step",
                        cmd.name
                    ));
                }
            }
            T::AtDropColumn => out.dropped.push(cmd.name.clone()),
            T::AtAddColumn
            | T::AtColumnDefault
            | T::AtDropNotNull
            | T::AtSetNotNull
            | T::AtDropExpression
            | T::AtSetStatistics
            | T::AtSetOptions
            | T::AtResetOptions
            | T::AtSetStorage
            | T::AtSetCompression
            | T::AtAddIndex
            | T::AtAddConstraint
            | T::AtAlterConstraint
            | T::AtValidateConstraint
            | T::AtDropConstraint
            | T::AtSetLogged
            | T::AtSetAccessMethod
            | T::AtSetTableSpace
            | T::AtSetRelOptions
            | T::AtResetRelOptions => {}
            other => {
                return Err(format!(
                    "the ALTER holds a clause osc does not carry to the new table ({}): osc applies changes to columns, defaults, \
                     constraints, indexes and storage; run this one as a plain ALTER TABLE",
                    describe(other)
                ))
            }
        }
    }
    Ok(out)
}

/// `AtSetUnLogged` -> "SET UNLOGGED"-ish words for the message.
fn describe(kind: AlterTableType) -> String {
    let name = format!("{kind:?}");
    let name = name.strip_prefix("At").unwrap_or(&name);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_of_one_alter_table_pass() {
        for ok in [
            "ADD COLUMN x int",
            "ALTER COLUMN c TYPE bigint",
            "ADD COLUMN x int NOT NULL DEFAULT 0, ALTER COLUMN a SET NOT NULL",
            "ADD CONSTRAINT t_a_key UNIQUE (a)",
            "SET (fillfactor = 70)",
            "ADD COLUMN note text -- a comment",
            "ALTER COLUMN b SET STATISTICS 200",
        ] {
            assert!(check_osc_alter(ok).is_ok(), "{ok}: {:?}", check_osc_alter(ok));
        }
        assert_eq!(check_osc_alter("DROP COLUMN a, ADD COLUMN b int").unwrap().dropped, vec!["a".to_string()]);
        assert_eq!(check_osc_alter("DROP COLUMN \"Mixed Case\"").unwrap().dropped, vec!["Mixed Case".to_string()]);
    }

    #[test]
    fn anything_else_is_refused() {
        for (bad, why) in [
            ("ADD COLUMN x int; DROP TABLE victim", "`;`"),
            ("ADD COLUMN x int; --", "`;`"),
            ("ADD COLUMN x int /*", "not the clauses"),
            ("RENAME COLUMN a TO b", "renames"),
            ("RENAME TO t2", "renames"),
            ("SET SCHEMA other", "SET SCHEMA"),
            ("ALTER COLUMN c TYPE bigint USING c * 10", "USING"),
            ("OWNER TO someone", "does not carry"),
            ("ENABLE TRIGGER ALL", "does not carry"),
            ("SET UNLOGGED", "does not carry"),
            ("ATTACH PARTITION p FOR VALUES IN (1)", "does not carry"),
            ("", "empty"),
            ("ADD COLUMN x int $$", "not the clauses"),
        ] {
            let err = check_osc_alter(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
