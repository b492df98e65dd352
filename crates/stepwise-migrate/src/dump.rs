//! `stepwise dump` and `stepwise diff`: a database's schema as a normalized,
//! diff-friendly text (see the engines' `dump_schema`), followed by the
//! migrations applied to it, and what differs between two of them.

use crate::engine::Engine;
use crate::error::RunError;
use crate::history::RowStatus;
use crate::migration::Version;
use serde::Serialize;
use stepwise_sql::Dialect;

/// The line that starts the list of applied migrations in a dump.
pub const APPLIED_HEADER: &str = "-- stepwise: applied migrations";
const APPLIED_LINE: &str = "-- applied ";

/// The schema, then the applied migrations (oldest first), then with
/// `rails` Rails' `schema_migrations` versions as its structure.sql has them
/// (newest first, as Rails 7.1 and later write them).
pub async fn dump<E: Engine>(engine: &mut E, rails: bool) -> Result<String, RunError> {
    let mut text = engine.dump_schema().await?;
    let history = engine.history().await?;
    let mut applied: Vec<(Option<Version>, String, String)> =
        history.into_iter().filter(|r| r.status == RowStatus::Applied).map(|r| (Version::parse(&r.version), r.version, r.name)).collect();
    applied.sort();
    text.push('\n');
    text.push_str(APPLIED_HEADER);
    text.push('\n');
    for (_, version, name) in &applied {
        text.push_str(&format!("{APPLIED_LINE}{version} {name}\n"));
    }
    if rails && engine.table_exists("schema_migrations").await? {
        let mut versions: Vec<String> = engine
            .text_rows("SELECT version FROM schema_migrations")
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        versions.sort_by(|a, b| b.cmp(a));
        if !versions.is_empty() {
            let (table, literal): (&str, fn(&str) -> String) = match engine.dialect() {
                Dialect::Postgres => ("\"schema_migrations\"", stepwise_db::pg::quote_literal),
                Dialect::MySql => ("`schema_migrations`", stepwise_db::mysql::quote_literal),
            };
            let values: Vec<String> = versions.iter().map(|v| format!("({})", literal(v))).collect();
            text.push_str(&format!("\nINSERT INTO {table} (version) VALUES\n{};\n", values.join(",\n")));
        }
    }
    Ok(text)
}

/// What differs between two dumps.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DumpDiff {
    /// `- line` only in the first, `+ line` only in the second; a changed
    /// object is its first line, indented, then its changed lines.
    pub schema: Vec<String>,
    /// Migrations applied on one side only (`version name`).
    pub only_in_first: Vec<String>,
    pub only_in_second: Vec<String>,
}

impl DumpDiff {
    pub fn is_empty(&self) -> bool {
        self.schema.is_empty() && self.only_in_first.is_empty() && self.only_in_second.is_empty()
    }
}

pub fn compare(first: &str, second: &str) -> DumpDiff {
    let (a, b) = (applied(first), applied(second));
    DumpDiff {
        schema: stepwise_db::schema_dump::diff_lines(first, second),
        only_in_first: a.iter().filter(|v| !b.contains(v)).cloned().collect(),
        only_in_second: b.iter().filter(|v| !a.contains(v)).cloned().collect(),
    }
}

fn applied(dump: &str) -> Vec<String> {
    dump.lines().filter_map(|l| l.strip_prefix(APPLIED_LINE)).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_and_a_migration_on_one_side_are_found() {
        let a = "CREATE TABLE public.t (\n    id integer NOT NULL\n);\n\n-- stepwise: applied migrations\n-- applied 1 init\n";
        let b = "CREATE TABLE public.t (\n    id integer NOT NULL,\n    note text\n);\n\n-- stepwise: applied migrations\n-- applied 1 init\n-- applied 2 note\n";
        let d = compare(a, b);
        assert!(d.schema.iter().any(|l| l.contains("+ ") && l.contains("note text")), "{:?}", d.schema);
        assert_eq!(d.only_in_second, vec!["2 note".to_string()]);
        assert!(d.only_in_first.is_empty());
        assert!(compare(a, a).is_empty());
    }
}
