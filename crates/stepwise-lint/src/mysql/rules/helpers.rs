//! What the MySQL rules share: quoting names in recipes, and writing the
//! statement again with the algorithm the server should be held to.

use crate::mysql::ast::{Op, Stmt};
use crate::mysql::classify::Verdict;
use crate::mysql::rule::Cx;
use crate::mysql::server::Server;

/// A name as it can be written in a recipe: bare when it is a plain
/// lower-case word, backquoted otherwise.
pub fn q(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

const RESERVED: &[&str] =
    &["order", "group", "key", "index", "table", "select", "from", "where", "user", "status", "desc", "range", "read", "rows", "limit"];

/// The statement without its trailing `;` or whitespace, and without a
/// written ALGORITHM/LOCK (the recipe writes its own).
pub fn body_sql(cx: &Cx) -> String {
    without_options(cx.sql(), cx.parsed)
}

pub fn without_options(sql: &str, parsed: &Stmt) -> String {
    let mut sql = sql.trim_end().trim_end_matches(';').trim_end().to_string();
    if let Stmt::Alter(a) = parsed {
        // OPTIMIZE TABLE takes no ALGORITHM and osc takes no OPTIMIZE: the ALTER it is.
        if sql.trim_start().get(..8).is_some_and(|w| w.eq_ignore_ascii_case("OPTIMIZE")) {
            return format!("ALTER TABLE {} FORCE", q(&a.table));
        }
        // Cut the written options when they come last (as they usually do).
        let first = a.clauses.iter().filter(|c| matches!(c.op, Op::Algorithm(_) | Op::Lock(_))).map(|c| c.offset).min();
        if let Some(first) = first {
            if a.clauses.iter().all(|c| matches!(c.op, Op::Algorithm(_) | Op::Lock(_)) || c.offset < first) {
                sql.truncate(first);
                sql = sql.trim_end().trim_end_matches(',').trim_end().to_string();
            }
        }
    }
    sql
}

/// `sql` (an ALTER TABLE, CREATE INDEX or DROP INDEX) with `clause` (such as
/// `ALGORITHM=NOCOPY, LOCK=NONE`) in place of what it says about algorithm and lock.
///
/// MariaDB's DROP INDEX takes no ALGORITHM or LOCK (10.11 refuses them as a
/// syntax error; MySQL's takes them): there it becomes the ALTER TABLE it means.
pub fn with_clause(sql: &str, parsed: &Stmt, clause: &str, server: Server) -> String {
    let body = without_options(sql, parsed);
    let start = body.trim_start().get(..6).map(str::to_ascii_uppercase).unwrap_or_default();
    if start == "DROP I" && server.mariadb() {
        if let Stmt::Alter(a) = parsed {
            let drops: Vec<String> = a
                .clauses
                .iter()
                .filter_map(|c| match &c.op {
                    Op::DropKey { name } => Some(format!("DROP INDEX {}", q(name))),
                    Op::DropPrimaryKey => Some("DROP PRIMARY KEY".into()),
                    _ => None,
                })
                .collect();
            return format!("ALTER TABLE {} {}, {clause};", q(&a.table), drops.join(", "));
        }
    }
    if start == "CREATE" || start == "DROP I" {
        format!("{body} {};", clause.replace(", ", " "))
    } else {
        format!("{body}, {clause};")
    }
}

/// The statement again, holding the server to `verdict`'s algorithm: the
/// server then refuses the statement instead of falling back to a copy when
/// the table is not what the migration assumed.
pub fn with_algorithm(cx: &Cx, verdict: &Verdict) -> String {
    with_clause(cx.sql(), cx.parsed, &verdict.clause(cx.server), cx.server)
}

/// The deciding clause's offset in the statement, for the finding's position.
pub fn deciding_offset(cx: &Cx) -> usize {
    let Some((_, v)) = cx.alter else { return 0 };
    let Stmt::Alter(a) = cx.parsed else { return 0 };
    v.deciding().and_then(|(i, _)| a.clauses.get(*i)).map(|c| c.offset).unwrap_or(0)
}
