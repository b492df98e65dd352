//! `no-truncate` (MySQL/MariaDB): TRUNCATE of an existing table. InnoDB
//! truncates by dropping and re-creating the table: it takes the metadata
//! lock exclusively (every query on the table waits, and it waits behind any
//! open transaction), it cannot be rolled back, and it resets AUTO_INCREMENT.
//!
//! The safe way: delete in batches with `stepwise backfill --delete`, or
//! create a new empty table and swap it in with one `RENAME TABLE`.

use super::helpers::q;
use crate::mysql::ast::Stmt;
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct Truncate;
pub static RULE: Truncate = Truncate;

static META: RuleMeta = RuleMeta {
    id: "no-truncate",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::LockQueue,
    summary: "TRUNCATE drops and re-creates the table under an exclusive metadata lock: delete in batches",
    setup: "CREATE TABLE sessions (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, token varchar(64)) ENGINE=InnoDB;",
    bad: "TRUNCATE TABLE sessions;",
    safe: &["CREATE TABLE sessions_new LIKE sessions;\nRENAME TABLE sessions TO sessions_old, sessions_new TO sessions;"],
};

impl Rule for Truncate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Stmt::Truncate { table } = cx.parsed else { return };
        if cx.schema.existing(table).is_none() {
            return;
        }
        let t = q(table);
        hits.push(
            Hit::new(
                format!("TRUNCATE of `{table}` takes its metadata lock exclusively and cannot be rolled back"),
                "InnoDB truncates by dropping and re-creating the table: every query on it waits (and the TRUNCATE itself waits \
                 behind any open transaction that touched it), nothing can be rolled back, and AUTO_INCREMENT starts again."
                    .to_string(),
                format!(
                    "-- Delete in short batches:\n--   stepwise backfill {t} --delete --where \"1 = 1\"\n\
                     -- or swap in an empty copy in one atomic rename (the old rows stay in {old} until you drop it):\n\
                     CREATE TABLE {new} LIKE {t};\nRENAME TABLE {t} TO {old}, {new} TO {t};",
                    new = q(&format!("{table}_new")),
                    old = q(&format!("{table}_old"))
                ),
            )
            .on_table(table.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    #[test]
    fn flags_truncate_of_existing_tables() {
        let setup = "CREATE TABLE s (id int PRIMARY KEY);";
        assert_eq!(check("no-truncate", setup, "TRUNCATE s;").len(), 1);
        assert!(check("no-truncate", setup, "CREATE TABLE n (id int);\nTRUNCATE TABLE n;").is_empty());
    }
}
