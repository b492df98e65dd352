//! `prefer-timestamptz`: a `timestamp` (without time zone) column.
//!
//! `timestamp` stores a wall-clock reading with no zone. Whatever zone the
//! writer meant is lost: two application servers in different zones, a
//! session with another `TimeZone`, or a daylight-saving change give values
//! that cannot be told apart or ordered. `timestamptz` stores an instant (in
//! the same 8 bytes) and converts on input and output. Converting the column
//! later rewrites the table under an ACCESS EXCLUSIVE lock (since PostgreSQL
//! 12 it does not only when the session `TimeZone` is UTC).

use super::flag_columns;
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::Severity;

pub struct PreferTimestamptz;
pub static RULE: PreferTimestamptz = PreferTimestamptz;

static META: RuleMeta = RuleMeta {
    id: "prefer-timestamptz",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "Use timestamptz instead of timestamp without time zone",
    setup: "CREATE TABLE customers (id bigint PRIMARY KEY);",
    bad: "CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, happened_at timestamp NOT NULL DEFAULT now());",
    safe: &["CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, happened_at timestamptz NOT NULL DEFAULT now());"],
};

impl Rule for PreferTimestamptz {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        flag_columns(cx, hits, |col| {
            (col.ty.base == "timestamp").then(|| {
                (
                    format!("`{}` is timestamp without time zone: use timestamptz", col.label()),
                    format!(
                        "timestamp stores a wall-clock reading without its zone: writers in different time zones, sessions with another TimeZone, or a daylight-saving change produce values that cannot be compared or ordered. timestamptz stores the instant in the same 8 bytes. Converting `{}` later rewrites the table under an ACCESS EXCLUSIVE lock unless the session TimeZone is UTC.",
                        Cx::name(col.table)
                    ),
                )
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);";

    #[test]
    fn flags_timestamp_in_new_tables_and_added_columns() {
        let m = "CREATE TABLE events (id bigint PRIMARY KEY, at timestamp(3) without time zone NOT NULL);\nALTER TABLE customers ADD COLUMN seen_at timestamp;";
        let f = check("prefer-timestamptz", SETUP, m);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("`events.at`"));
        assert!(f[0].safe.contains("at timestamptz(3) NOT NULL"), "{}", f[0].safe);
        assert!(f[1].message.contains("`customers.seen_at`"));
        assert!(f[1].safe.contains("ADD COLUMN seen_at timestamptz"), "{}", f[1].safe);
    }

    #[test]
    fn timestamptz_and_other_types_pass() {
        let m = "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, day date, t time, tz timestamp with time zone);";
        assert!(check("prefer-timestamptz", SETUP, m).is_empty());
    }
}
