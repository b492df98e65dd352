//! Whether a migration can run the way stepwise would run it: in one
//! transaction, or statement by statement (`-- stepwise:no-transaction`),
//! with explicit `BEGIN ... COMMIT` blocks inside. `plan` and `migrate`
//! refuse what fails here before touching the database, and `stepwise lint`
//! reports the same errors with the same messages.

use crate::{Dialect, InputError};

/// Whether a migration runs as one transaction on this engine.
pub fn runs_in_transaction(section: &crate::Section, dialect: Dialect) -> bool {
    if section.no_transaction {
        return false;
    }
    match dialect {
        Dialect::Postgres => true,
        // DDL commits implicitly: such a migration runs statement by statement.
        Dialect::MySql => !section.statements.iter().any(|s| s.info.implicit_commit),
    }
}

/// Statements marked `-- stepwise:online` that cannot run online: a second
/// online change to the same table in one migration (the first keeps the old table until `osc
/// finish`, and osc allows one unfinished job per table).
fn check_online(section: &crate::Section) -> Vec<InputError> {
    let file = &section.file;
    let mut errors = Vec::new();
    let mut seen: Vec<(&crate::QualifiedName, usize)> = Vec::new();
    for s in &section.statements {
        let Some(online) = &s.online else { continue };
        if let Some((_, line)) = seen.iter().find(|(n, _)| **n == online.name) {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!(
                    "a second online change to {} in this migration (the first is on line {line}): it keeps the old table until `stepwise osc finish`, so osc would refuse this one; put both changes in one ALTER TABLE (osc applies them together) or in separate migrations",
                    online.table
                ),
            ));
        }
        seen.push((&online.name, s.line));
    }
    errors
}

/// Refuse, before the database is touched, statements that cannot run the way
/// their migration would run them.
pub fn check_runnable(section: &crate::Section, dialect: Dialect) -> Vec<InputError> {
    let mut errors = check_online(section);
    let file = &section.file;
    if !runs_in_transaction(section, dialect) {
        if dialect == Dialect::Postgres {
            errors.extend(check_explicit_blocks(section));
        }
        return errors;
    }
    for s in &section.statements {
        if let Some(what) = &s.info.requires_no_transaction {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!("`{what}` cannot run inside a transaction block; mark the migration with `-- stepwise:no-transaction` (and keep other statements out of it)"),
            ));
        } else if s.info.transaction_control {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!("`{}` ends or changes the transaction stepwise runs this migration in; remove it (stepwise wraps each migration in a transaction) or mark the migration `-- stepwise:no-transaction`", s.info.summary),
            ));
        }
    }
    errors
}

/// How a statement moves an explicit transaction block.
enum Block {
    Opens,
    Closes,
    Neither,
}

fn block_effect(s: &crate::Statement) -> Block {
    if !s.info.transaction_control {
        return Block::Neither;
    }
    let mut words = s.info.summary.split(' ');
    match (words.next().unwrap_or(""), words.next().unwrap_or("")) {
        ("BEGIN", _) | ("START", "TRANSACTION") => Block::Opens,
        // ROLLBACK TO SAVEPOINT stays in the block; COMMIT AND CHAIN opens
        // the next one at once.
        (_, "TO") | (_, "AND") => Block::Neither,
        ("COMMIT" | "END" | "ABORT" | "ROLLBACK", _) => Block::Closes,
        _ => Block::Neither,
    }
}

/// For each statement of a migration run statement by statement, the line
/// of the explicit `BEGIN` it runs inside, if any.
pub fn explicit_blocks(section: &crate::Section) -> Vec<Option<usize>> {
    let mut open = None;
    section
        .statements
        .iter()
        .map(|s| match block_effect(s) {
            Block::Opens => {
                let inside = open;
                open = open.or(Some(s.line));
                inside
            }
            Block::Closes => open.take(),
            Block::Neither => open,
        })
        .collect()
}

/// In a migration run statement by statement: statements PostgreSQL refuses
/// in a transaction block inside a `BEGIN ... COMMIT` of the migration's
/// own, and a block the migration opens and never closes.
fn check_explicit_blocks(section: &crate::Section) -> Vec<InputError> {
    let file = &section.file;
    let mut errors = Vec::new();
    let blocks = explicit_blocks(section);
    for (s, block) in section.statements.iter().zip(&blocks) {
        if let (Some(what), Some(line)) = (&s.info.requires_no_transaction, block) {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!("`{what}` cannot run inside a transaction block, and this one is inside the `BEGIN` on line {line}; move it out of the BEGIN ... COMMIT block"),
            ));
        }
    }
    let last_open = section.statements.iter().zip(&blocks).rev().find_map(|(s, b)| match (block_effect(s), b) {
        (Block::Closes, _) => Some(None),
        (Block::Opens, None) => Some(Some(s)),
        _ => None,
    });
    if let Some(Some(begin)) = last_open {
        errors.push(InputError::new(
            &file.name,
            &file.text,
            begin.span.start,
            format!("`{}` opens a transaction block that the migration never closes; end it with COMMIT", begin.info.summary),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_file, FileRole, Flavor, SourceFile};
    use std::sync::Arc;

    fn up(text: &str, dialect: Dialect) -> crate::Section {
        let file = Arc::new(SourceFile { name: "1_m.sql".into(), text: text.into() });
        parse_file(file, FileRole::Combined, dialect, Flavor::Native).unwrap().up.unwrap()
    }

    #[test]
    fn an_online_statement_runs_outside_a_transaction_on_postgres() {
        let s = up(
            "ALTER TABLE t ADD COLUMN a int;\n-- stepwise:online\nALTER TABLE t ALTER COLUMN id TYPE bigint;\nSELECT 1;",
            Dialect::Postgres,
        );
        assert!(!runs_in_transaction(&s, Dialect::Postgres));
        assert!(check_runnable(&s, Dialect::Postgres).is_empty());
    }

    #[test]
    fn online_runs_on_mysql_and_is_refused_twice_on_one_table() {
        let text = "-- stepwise:online\nALTER TABLE t MODIFY id BIGINT;";
        assert!(check_runnable(&up(text, Dialect::MySql), Dialect::MySql).is_empty());

        let text = "-- stepwise:online\nALTER TABLE t ADD COLUMN a int;\n-- stepwise:online\nALTER TABLE public.u ADD COLUMN a int;\n-- stepwise:online\nALTER TABLE \"t\" ADD COLUMN b int;";
        let errors = check_runnable(&up(text, Dialect::Postgres), Dialect::Postgres);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 6);
        assert!(errors[0].message.contains("first is on line 2"), "{}", errors[0].message);
    }

    #[test]
    fn an_explicit_block_in_a_statement_by_statement_migration() {
        let text = "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\nBEGIN;\nUPDATE t SET x = 1;\nCREATE INDEX CONCURRENTLY b ON t (x);\nCOMMIT;\nDROP INDEX CONCURRENTLY a;";
        let s = up(text, Dialect::Postgres);
        assert_eq!(explicit_blocks(&s), vec![None, None, Some(3), Some(3), Some(3), None]);
        let errors = check_runnable(&s, Dialect::Postgres);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].message.contains("inside the `BEGIN` on line 3"), "{}", errors[0].message);

        let open =
            up("-- stepwise:no-transaction\nSTART TRANSACTION;\nUPDATE t SET x = 1;\nSAVEPOINT a;\nROLLBACK TO a;", Dialect::Postgres);
        let errors = check_runnable(&open, Dialect::Postgres);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("never closes"), "{}", errors[0].message);
        assert_eq!(errors[0].line, 2);

        let closed = up("-- stepwise:no-transaction\nBEGIN;\nUPDATE t SET x = 1;\nCOMMIT;\nVACUUM t;", Dialect::Postgres);
        assert!(check_runnable(&closed, Dialect::Postgres).is_empty());
    }
}
