//! Every MySQL/MariaDB lint rule, one file each. The rules that ask the
//! same question as a PostgreSQL rule (renames, drops, data changes,
//! TRUNCATE) keep its id, so `[lint]` settings and `-- stepwise:ignore`
//! mean the same on both engines.

pub mod add_foreign_key;
pub mod add_unique_key;
pub mod algorithm_refused;
pub mod blocks_writes;
pub mod combine_alters;
pub mod data_change;
pub mod drop_column;
pub mod drop_table;
pub mod explicit_copy;
pub mod helpers;
pub mod rebuilds_table;
pub mod rename_column;
pub mod rename_table;
pub mod require_algorithm;
pub mod set_not_null;
pub mod truncate;
pub mod unanalysed_clause;

use super::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &blocks_writes::RULE,
        &rebuilds_table::RULE,
        &explicit_copy::RULE,
        &algorithm_refused::RULE,
        &require_algorithm::RULE,
        &add_foreign_key::RULE,
        &add_unique_key::RULE,
        &set_not_null::RULE,
        &combine_alters::RULE,
        &unanalysed_clause::RULE,
        &rename_column::RULE,
        &rename_table::RULE,
        &drop_column::RULE,
        &drop_table::RULE,
        &data_change::RULE,
        &truncate::RULE,
    ]
}

#[cfg(test)]
pub(crate) mod testing {
    //! Lint MySQL the way `stepwise lint --dialect mariadb DIR` would:
    //! `setup` is an applied migration, `migration` the one linted.

    use crate::mysql::{lint, Schema, Server};
    use crate::{Finding, LintFile, LintOptions};
    use std::sync::Arc;
    use stepwise_sql::{parse_file, Dialect, FileRole, Flavor, SourceFile};

    pub fn file(name: &str, text: &str, new: bool) -> LintFile {
        let file = Arc::new(SourceFile { name: name.into(), text: text.into() });
        let parsed = parse_file(file.clone(), FileRole::Combined, Dialect::MySql, Flavor::Native).expect("test migration parses");
        LintFile { file, parsed, new }
    }

    pub fn opts(server: &str) -> LintOptions {
        let mut opts = LintOptions { mysql: Server::parse(server).expect("server"), ..Default::default() };
        opts.config.enable.push("all".into());
        opts
    }

    /// Findings of `rule` in `migration` after `setup`, on MariaDB 10.11.
    pub fn check(rule: &str, setup: &str, migration: &str) -> Vec<Finding> {
        check_on("mariadb-10.11", rule, setup, migration)
    }

    pub fn check_on(server: &str, rule: &str, setup: &str, migration: &str) -> Vec<Finding> {
        let files = vec![file("1_setup.sql", setup, false), file("2_change.sql", migration, true)];
        let report = lint(&files, Schema::default(), &opts(server));
        assert!(report.errors.is_empty(), "errors: {:?}", report.errors);
        report.findings.into_iter().filter(|f| f.rule == rule && f.file == "2_change.sql").collect()
    }

    /// Every finding of every rule in all but the first of `migrations`.
    pub fn findings_in_sequence(migrations: &[&str]) -> Vec<Finding> {
        let files: Vec<LintFile> = migrations.iter().enumerate().map(|(i, m)| file(&format!("{}_m.sql", i + 1), m, false)).collect();
        let report = lint(&files, Schema::default(), &opts("mariadb-10.11"));
        assert!(report.errors.is_empty(), "errors: {:?}", report.errors);
        report.findings.into_iter().filter(|f| f.file != "1_m.sql").collect()
    }
}

#[cfg(test)]
mod every_rule {
    use super::testing::{check, findings_in_sequence};

    #[test]
    fn each_rule_flags_its_bad_example_and_its_safe_recipe_passes_every_rule() {
        for r in super::all() {
            let m = r.meta();
            let found = check(m.id, m.setup, m.bad);
            assert!(!found.is_empty(), "{} does not flag its bad example:\n{}", m.id, m.bad);
            assert!(found.iter().all(|f| !f.message.is_empty() && !f.why.is_empty() && !f.safe.is_empty()), "{}", m.id);
            let mut seq = vec![m.setup];
            seq.extend(m.safe.iter().copied());
            let found = findings_in_sequence(&seq);
            assert!(found.is_empty(), "the safe recipe of {} is flagged: {:#?}", m.id, found);
        }
    }

    #[test]
    fn ids_are_unique_and_shared_ids_match_postgresql_rules() {
        let mut seen = std::collections::HashSet::new();
        let pg: Vec<&str> = crate::pg::rules::all().iter().map(|r| r.meta().id).collect();
        for r in super::all() {
            let id = r.meta().id;
            assert!(seen.insert(id), "duplicate {id}");
            assert!(
                id.starts_with("mysql-") || pg.contains(&id),
                "{id}: a MySQL-only rule is named mysql-*, a shared one keeps the PostgreSQL id"
            );
        }
    }
}
