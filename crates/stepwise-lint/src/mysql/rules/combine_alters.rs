//! `mysql-combine-alters`: a second ALTER TABLE (or CREATE/DROP INDEX) of the
//! same existing table in one migration; reported once, at the second.
//!
//! Each ALTER waits for the table's metadata lock (behind every open
//! transaction that touched the table, while every new query on the table
//! waits behind it), and each one that rebuilds reads and writes the whole
//! table again. Clauses of one ALTER are applied together: one wait, at most
//! one rebuild.
//!
//! The safe way: one ALTER TABLE with all the clauses, separated by commas.

use crate::mysql::ast::Stmt;
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct CombineAlters;
pub static RULE: CombineAlters = CombineAlters;

static META: RuleMeta = RuleMeta {
    id: "mysql-combine-alters",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "several ALTERs of one table in a migration: make them one statement (one metadata-lock wait, one rebuild)",
    setup: "CREATE TABLE items (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, sku varchar(40)) ENGINE=InnoDB;",
    bad: "ALTER TABLE items ADD COLUMN price int, ALGORITHM=INSTANT;\nALTER TABLE items ADD COLUMN weight int, ALGORITHM=INSTANT;",
    safe: &["ALTER TABLE items ADD COLUMN price int, ADD COLUMN weight int, ALGORITHM=INSTANT;"],
};

impl Rule for CombineAlters {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let (Some((table, _)), Stmt::Alter(_)) = (cx.alter, cx.parsed) else { return };
        // Once per table and migration: at the second ALTER.
        if cx.earlier_alters != 1 {
            return;
        }
        hits.push(
            Hit::new(
                format!("`{}` is altered again in this migration: make its ALTERs one statement", table.name),
                "Each ALTER waits for the table's metadata lock behind every open transaction that touched it, while new queries on the \
                 table wait behind the ALTER; each that rebuilds reads and writes the whole table again. One ALTER with all the clauses \
                 waits once and rebuilds at most once."
                    .to_string(),
                format!("ALTER TABLE {} <the clauses of each ALTER, separated by commas>;", super::helpers::q(&table.name)),
            )
            .on_table(table.name.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    #[test]
    fn flags_the_second_and_later_alters() {
        let setup = "CREATE TABLE items (id int PRIMARY KEY, a int);";
        let f = check(
            "mysql-combine-alters",
            setup,
            "ALTER TABLE items ADD COLUMN b int;\nALTER TABLE items ADD COLUMN c int;\nALTER TABLE items DROP COLUMN a;",
        );
        assert_eq!(f.iter().map(|f| f.line).collect::<Vec<_>>(), [2], "once per table");
        assert!(check("mysql-combine-alters", setup, "ALTER TABLE items ADD COLUMN b int, ADD COLUMN c int;").is_empty());
    }
}
