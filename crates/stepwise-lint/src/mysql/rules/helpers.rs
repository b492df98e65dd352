//! What the MySQL rules share: quoting names in recipes, and writing the
//! statement again with the algorithm the server should be held to.

use crate::mysql::ast::{Op, Stmt};
use crate::mysql::classify::Verdict;
use crate::mysql::rule::Cx;

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
    let mut sql = cx.sql().trim_end().trim_end_matches(';').trim_end().to_string();
    if let Stmt::Alter(a) = cx.parsed {
        // Cut the written options from the end back (they are usually last).
        let mut cuts: Vec<usize> = a.clauses.iter().filter(|c| matches!(c.op, Op::Algorithm(_) | Op::Lock(_))).map(|c| c.offset).collect();
        cuts.sort_unstable();
        if let Some(&first) = cuts.first() {
            if a.clauses.iter().all(|c| matches!(c.op, Op::Algorithm(_) | Op::Lock(_)) || c.offset < first) {
                sql.truncate(first);
                sql = sql.trim_end().trim_end_matches(',').trim_end().to_string();
            }
        }
    }
    sql
}

/// The statement again, holding the server to `verdict`'s algorithm: the
/// server then refuses the statement instead of falling back to a copy when
/// the table is not what the migration assumed.
pub fn with_algorithm(cx: &Cx, verdict: &Verdict) -> String {
    let clause = verdict.clause(cx.server);
    let sql = body_sql(cx);
    let index_statement = sql.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("CREATE") || w.eq_ignore_ascii_case("DROP I"));
    if index_statement {
        format!("{sql} {};", clause.replace(", ", " "))
    } else {
        format!("{sql}, {clause};")
    }
}

/// The deciding clause's offset in the statement, for the finding's position.
pub fn deciding_offset(cx: &Cx) -> usize {
    let Some((_, v)) = cx.alter else { return 0 };
    let Stmt::Alter(a) = cx.parsed else { return 0 };
    v.deciding().and_then(|(i, _)| a.clauses.get(*i)).map(|c| c.offset).unwrap_or(0)
}
