//! A normalized schema dump of a MySQL/MariaDB database, for telling whether
//! two databases have the same schema and for keeping it in the repository:
//! `SHOW CREATE` of every table, view, routine and trigger of the current
//! database, without what belongs to the environment or to the data
//! (`AUTO_INCREMENT=` counters, `DEFINER=` clauses), in a stable order (kind,
//! then name), each statement ending with `;`. The same schema gives the same
//! bytes, whatever order the objects were created in.

use crate::mysql::{quote_ident, MyConn};
use crate::DbError;
use mysql_async::prelude::Queryable;

/// The normalized schema of the current database, without the tables (and
/// their triggers) whose names start with `exclude_prefix` (stepwise's state).
pub async fn dump_schema(conn: &mut MyConn, exclude_prefix: &str) -> Result<String, DbError> {
    let c = &mut conn.conn;
    let excluded = |name: &str| !exclude_prefix.is_empty() && name.starts_with(exclude_prefix);
    let mut out = Vec::new();
    let tables: Vec<(String, String)> = c
        .query(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_TYPE, TABLE_NAME",
        )
        .await?;
    for (name, kind) in tables.iter().filter(|(n, _)| !excluded(n)) {
        if kind == "VIEW" {
            let row: Option<(String, String)> = c.query_first(format!("SHOW CREATE VIEW {}", quote_ident(name))).await?;
            if let Some((_, sql)) = row {
                out.push(normalize_view(&sql));
            }
        } else {
            let row: Option<(String, String)> = c.query_first(format!("SHOW CREATE TABLE {}", quote_ident(name))).await?;
            if let Some((_, sql)) = row {
                out.push(normalize_table(&sql));
            }
        }
    }
    let routines: Vec<(String, String)> = c
        .query("SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME")
        .await?;
    for (kind, name) in &routines {
        // Columns: name, sql_mode, the CREATE statement, charset, collation, db collation.
        let row: Option<mysql_async::Row> = c.query_first(format!("SHOW CREATE {kind} {}", quote_ident(name))).await?;
        if let Some(sql) = row.and_then(|r| r.get_opt::<Option<String>, _>(2).and_then(Result::ok).flatten()) {
            out.push(strip_definer(&sql));
        }
    }
    let triggers: Vec<(String, String)> = c
        .query(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
             ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME",
        )
        .await?;
    for (name, table) in triggers.iter().filter(|(_, t)| !excluded(t)) {
        let _ = table;
        let row: Option<mysql_async::Row> = c.query_first(format!("SHOW CREATE TRIGGER {}", quote_ident(name))).await?;
        if let Some(sql) = row.and_then(|r| r.get_opt::<Option<String>, _>(2).and_then(Result::ok).flatten()) {
            out.push(strip_definer(&sql));
        }
    }
    let mut text = String::new();
    for s in out {
        text.push_str(s.trim_end());
        text.push_str(";\n");
    }
    Ok(text)
}

/// `SHOW CREATE TABLE` without the table's `AUTO_INCREMENT=` counter (data,
/// not schema: two databases with the same migrations differ in it).
pub fn normalize_table(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(" AUTO_INCREMENT=") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " AUTO_INCREMENT=".len()..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// `SHOW CREATE VIEW` without `ALGORITHM=UNDEFINED`, `DEFINER=` and `SQL SECURITY DEFINER` (the defaults and the environment).
pub fn normalize_view(sql: &str) -> String {
    strip_definer(sql).replace("ALGORITHM=UNDEFINED ", "").replace("SQL SECURITY DEFINER ", "")
}

/// Remove a `DEFINER=user@host ` clause (quoted with backquotes or quotes, or bare).
pub fn strip_definer(sql: &str) -> String {
    let Some(at) = sql.find("DEFINER=") else { return sql.to_string() };
    let after = &sql[at + "DEFINER=".len()..];
    // user@host: each part quoted (`x`, 'x') or bare, up to the next space outside quotes.
    let mut quote: Option<char> = None;
    let mut end = after.len();
    for (i, ch) in after.char_indices() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '`' || ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == ' ' => {
                end = i + 1;
                break;
            }
            None => {}
        }
    }
    format!("{}{}", &sql[..at], &after[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_definers_are_left_out() {
        assert_eq!(
            normalize_table(
                "CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT\n) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4"
            ),
            "CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        );
        assert_eq!(
            normalize_view("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `1`"),
            "CREATE VIEW `v` AS select 1 AS `1`"
        );
        assert_eq!(strip_definer("CREATE DEFINER=`a b`@`%` TRIGGER t"), "CREATE TRIGGER t");
        assert_eq!(strip_definer("CREATE TRIGGER t"), "CREATE TRIGGER t");
    }
}
