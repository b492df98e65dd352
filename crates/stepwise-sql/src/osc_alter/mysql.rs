//! MySQL/MariaDB `--alter` clauses: split at the top-level commas with
//! stepwise's lexer (which reads comments and strings as the server does),
//! each clause either a table option (ENGINE, FORCE, character set, row
//! format, comment: what sqlparser does not parse) matched word by word, or
//! exactly one ALTER TABLE operation in sqlparser's MySQL grammar.
//!
//! The text the server gets is the user's, so what could make the server
//! read more than the checker saw is refused outright: a `;` or a
//! `DELIMITER`, and the executable comments (`/*! ... */`, `/*M! ... */`,
//! which MySQL and MariaDB run, and `/*+ ... */` hints).

use super::{NewKey, OscAlter};
use crate::lexer::{tokenize, Token, TokenKind};
use crate::Dialect;
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Expr, IndexColumn, Statement, TableConstraint};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

/// The table name each clause is parsed against.
const TARGET: &str = "stepwise_osc_target";

/// Check MySQL/MariaDB `clauses` (what follows `ALTER TABLE <table>`).
pub fn check_osc_alter_mysql(clauses: &str) -> Result<OscAlter, String> {
    if clauses.trim().is_empty() {
        return Err("the ALTER is empty: give the clauses of an ALTER TABLE (e.g. \"ADD COLUMN note VARCHAR(200)\")".into());
    }
    let tokens = tokenize(clauses, Dialect::MySql).map_err(|e| format!("the ALTER is not the clauses of one ALTER TABLE: {}", e.kind))?;
    for t in &tokens {
        match &t.kind {
            TokenKind::Delimiter | TokenKind::DelimiterCommand(_) => {
                return Err("the ALTER holds a `;`: it takes the clauses of one ALTER TABLE, nothing after them".into())
            }
            TokenKind::BlockComment => {
                let text = &clauses[t.span.clone()];
                if text.starts_with("/*!") || text.starts_with("/*M!") || text.starts_with("/*+") {
                    return Err(format!(
                        "the ALTER holds an executable comment ({}...): the server runs what is inside it; write the clause itself",
                        &text[..text.len().min(4)]
                    ));
                }
            }
            _ => {}
        }
    }
    let mut out = OscAlter::default();
    for clause in clauses_of(clauses, &tokens) {
        if table_option(&clause) {
            continue;
        }
        check_clause(&clause.text, &mut out)?;
    }
    Ok(out)
}

/// One clause: its text (comments blanked) and its significant tokens as
/// (kind, upper-cased text).
struct Clause {
    text: String,
    words: Vec<(TokenKind, String)>,
}

/// Split at commas outside parentheses; comments become spaces.
fn clauses_of(src: &str, tokens: &[Token]) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current: Vec<&Token> = Vec::new();
    let mut flush = |current: &mut Vec<&Token>| {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let mut text = src[first.span.start..last.span.end].to_string();
            for t in tokens.iter().filter(|t| matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment)) {
                if t.span.start >= first.span.start && t.span.end <= last.span.end {
                    let (a, b) = (t.span.start - first.span.start, t.span.end - first.span.start);
                    text.replace_range(a..b, &" ".repeat(b - a));
                }
            }
            let words = current.iter().map(|t| (t.kind.clone(), src[t.span.clone()].to_ascii_uppercase())).collect();
            out.push(Clause { text, words });
        }
        current.clear();
    };
    for t in tokens.iter().filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment)) {
        match t.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth -= 1,
            TokenKind::Punct if depth == 0 && &src[t.span.clone()] == "," => {
                flush(&mut current);
                continue;
            }
            _ => {}
        }
        current.push(t);
    }
    flush(&mut current);
    out
}

/// Table options sqlparser does not parse, word by word: `ENGINE [=] name`,
/// `FORCE`, `[DEFAULT] CHARACTER SET|CHARSET [=] name [COLLATE [=] name]`,
/// `CONVERT TO CHARACTER SET name [COLLATE name]`, `[DEFAULT] COLLATE [=]
/// name`, `ROW_FORMAT [=] name`, `COMMENT [=] 'text'`, `KEY_BLOCK_SIZE [=] n`
/// and the `STATS_*` options. Anything else goes to the parser.
fn table_option(c: &Clause) -> bool {
    let w: Vec<(&TokenKind, &str)> = c.words.iter().map(|(k, t)| (k, t.as_str())).collect();
    let name = |i: usize| matches!(w.get(i), Some((TokenKind::Word | TokenKind::QuotedIdent | TokenKind::String, _)));
    let number = |i: usize| matches!(w.get(i), Some((TokenKind::Number, _)));
    let string = |i: usize| matches!(w.get(i), Some((TokenKind::String, _)));
    let word = |i: usize, s: &str| matches!(w.get(i), Some((TokenKind::Word, t)) if *t == s);
    // Skips an optional `=` at i.
    let eq = |i: usize| if matches!(w.get(i), Some((TokenKind::Punct, "="))) { i + 1 } else { i };
    let end = |i: usize| i == w.len();
    let charset = |i: usize| -> Option<usize> {
        if word(i, "CHARSET") {
            Some(i + 1)
        } else if word(i, "CHARACTER") && word(i + 1, "SET") {
            Some(i + 2)
        } else {
            None
        }
    };
    // `name [COLLATE [=] name]` from i to the end.
    let named_then_collate = |i: usize| -> bool {
        if !name(i) {
            return false;
        }
        if end(i + 1) {
            return true;
        }
        word(i + 1, "COLLATE") && name(eq(i + 2)) && end(eq(i + 2) + 1)
    };
    let start = if word(0, "DEFAULT") { 1 } else { 0 };
    if let Some(i) = charset(start) {
        return named_then_collate(eq(i));
    }
    if word(start, "COLLATE") {
        return name(eq(start + 1)) && end(eq(start + 1) + 1);
    }
    if start == 1 {
        return false;
    }
    match w.first().map(|(_, t)| *t) {
        Some("FORCE") => end(1),
        Some("ENGINE" | "ROW_FORMAT") => name(eq(1)) && end(eq(1) + 1),
        Some("COMMENT") => string(eq(1)) && end(eq(1) + 1),
        Some("KEY_BLOCK_SIZE" | "STATS_SAMPLE_PAGES") => number(eq(1)) && end(eq(1) + 1),
        Some("STATS_PERSISTENT" | "STATS_AUTO_RECALC") => (number(eq(1)) || word(eq(1), "DEFAULT")) && end(eq(1) + 1),
        Some("CONVERT") => word(1, "TO") && charset(2).is_some_and(named_then_collate),
        _ => false,
    }
}

/// One clause as one ALTER TABLE operation.
fn check_clause(clause: &str, out: &mut OscAlter) -> Result<(), String> {
    let sql = format!("ALTER TABLE {TARGET} {clause}");
    let parsed =
        Parser::parse_sql(&MySqlDialect {}, &sql).map_err(|e| format!("the ALTER clause `{}` does not parse: {e}", clause.trim()))?;
    let [Statement::AlterTable(alter)] = parsed.as_slice() else {
        return Err(format!("the ALTER clause `{}` is not one clause of an ALTER TABLE", clause.trim()));
    };
    if alter.name.to_string() != TARGET {
        return Err("the ALTER is not the clauses of an ALTER TABLE on the table".into());
    }
    let [op] = alter.operations.as_slice() else {
        return Err(format!("the ALTER clause `{}` is not one clause of an ALTER TABLE", clause.trim()));
    };
    use AlterTableOperation as O;
    let renames = || {
        Err::<(), String>(format!(
            "`{}` renames: osc copies columns by name, so a renamed column would be left empty in the copy, and a renamed table \
             or index needs no copy. Run a rename as a plain ALTER TABLE; for a column, add the new one, backfill it and drop \
             the old one in a later step",
            clause.trim()
        ))
    };
    match op {
        O::AddColumn { .. } | O::ModifyColumn { .. } | O::AutoIncrement { .. } => {}
        O::ChangeColumn { old_name, new_name, .. } => {
            // Column names are case-insensitive in MySQL.
            if !old_name.value.eq_ignore_ascii_case(&new_name.value) {
                return renames();
            }
        }
        O::DropColumn { column_names, .. } => out.dropped.extend(column_names.iter().map(|c| c.value.clone())),
        O::AlterColumn { op: AlterColumnOperation::SetDefault { .. } | AlterColumnOperation::DropDefault, .. } => {}
        O::AddConstraint { constraint, .. } => match constraint {
            TableConstraint::Unique(u) => out.new_keys.push(NewKey {
                name: u.index_name.as_ref().or(u.name.as_ref()).map(|n| n.value.clone()),
                primary: false,
                columns: plain_columns(&u.columns),
            }),
            TableConstraint::PrimaryKey(p) => out.new_keys.push(NewKey {
                name: p.name.as_ref().map(|n| n.value.clone()),
                primary: true,
                columns: plain_columns(&p.columns),
            }),
            TableConstraint::ForeignKey(_) | TableConstraint::Check(_) | TableConstraint::Index(_) => {}
            _ => {}
        },
        O::DropForeignKey { .. } | O::DropConstraint { .. } => out.drops_constraint = true,
        O::DropIndex { .. } | O::DropPrimaryKey { .. } => {}
        O::RenameColumn { .. } | O::RenameTable { .. } | O::RenameConstraint { .. } => return renames(),
        O::Algorithm { .. } | O::Lock { .. } => {
            return Err(format!(
                "`{}`: osc decides how the change runs (it applies the ALTER to an empty copy); leave out ALGORITHM and LOCK",
                clause.trim()
            ))
        }
        _ => {
            return Err(format!(
                "the ALTER holds a clause osc does not carry to the new table (`{}`): osc applies changes to columns, defaults, \
                 keys, indexes, constraints and table options; run this one as a plain ALTER TABLE",
                clause.trim()
            ))
        }
    }
    Ok(())
}

/// The key's columns when every part is a plain column (no prefix length,
/// no expression).
fn plain_columns(parts: &[IndexColumn]) -> Option<Vec<String>> {
    parts
        .iter()
        .map(|p| match &p.column.expr {
            Expr::Identifier(i) => Some(i.value.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_of_one_mysql_alter_table_pass() {
        for ok in [
            "MODIFY id BIGINT NOT NULL AUTO_INCREMENT",
            "ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'a, b'",
            "ADD COLUMN price DECIMAL(10,2) AFTER id, ADD INDEX idx_price (price)",
            "ENGINE=InnoDB",
            "ENGINE InnoDB",
            "FORCE",
            "CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            "DEFAULT CHARSET = utf8mb4",
            "ROW_FORMAT=DYNAMIC, COMMENT = 'orders, v2'",
            "CHANGE COLUMN a A INT NOT NULL",
            "ALTER COLUMN a SET DEFAULT 3",
            "DROP INDEX idx_a, DROP FOREIGN KEY fk_a",
            "ADD CONSTRAINT fk_c FOREIGN KEY (c) REFERENCES p (id)",
            "ADD COLUMN e ENUM('x', 'y') -- a comment\n",
            "ADD COLUMN `Mixed, Case` INT # comment",
            "ADD COLUMN f INT /* a plain comment */",
        ] {
            assert!(check_osc_alter_mysql(ok).is_ok(), "{ok}: {:?}", check_osc_alter_mysql(ok));
        }
        assert_eq!(check_osc_alter_mysql("DROP COLUMN a, ADD COLUMN b INT").unwrap().dropped, ["a"]);
        assert_eq!(check_osc_alter_mysql("DROP COLUMN `x y`").unwrap().dropped, ["x y"]);
    }

    #[test]
    fn new_unique_and_primary_keys_are_named_with_their_columns() {
        let keys =
            check_osc_alter_mysql("ADD UNIQUE KEY uk_email (email), ADD UNIQUE (a, b), ADD UNIQUE INDEX uk_p (name(10))").unwrap().new_keys;
        assert_eq!(keys[0], NewKey { name: Some("uk_email".into()), primary: false, columns: Some(vec!["email".into()]) });
        assert_eq!(keys[1].columns, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(keys[2].columns, None, "a prefix is not a plain column");
        let pk = check_osc_alter_mysql("DROP PRIMARY KEY, ADD PRIMARY KEY (id, b)").unwrap().new_keys;
        assert!(pk[0].primary && pk[0].columns == Some(vec!["id".into(), "b".into()]));
    }

    #[test]
    fn anything_else_is_refused() {
        for (bad, why) in [
            ("ADD COLUMN x INT; DROP TABLE victim", "`;`"),
            ("ADD COLUMN x INT;", "`;`"),
            ("ADD COLUMN x INT /*!50000 , DROP COLUMN y */", "executable comment"),
            ("ADD COLUMN x INT /*M!100000 , DROP COLUMN y */", "executable comment"),
            // The server reads `1--1` as arithmetic: the DROP is a clause, and is checked.
            ("ADD COLUMN x INT DEFAULT 1--1, RENAME TO victim", "renames"),
            ("RENAME COLUMN a TO b", "renames"),
            ("CHANGE COLUMN a b INT", "renames"),
            ("RENAME TO t2", "renames"),
            ("ALGORITHM=INPLACE, ADD COLUMN z INT", "ALGORITHM"),
            ("LOCK=NONE", "ALGORITHM and LOCK"),
            ("ENGINE=InnoDB extra", "does not parse"),
            ("ADD COLUMN", "does not parse"),
            ("", "empty"),
            ("ADD COLUMN x INT 'unterminated", "not the clauses"),
            ("DEFAULT ENGINE=InnoDB", "does not parse"),
        ] {
            let err = check_osc_alter_mysql(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
