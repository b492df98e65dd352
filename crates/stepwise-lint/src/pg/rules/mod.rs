//! Every lint rule, one file each, grouped by what they protect. A group's
//! `mod.rs` lists its rules; `all()` gathers the groups.

pub mod columns;
pub mod constraints;
pub mod elsewhere;
pub mod helpers;
pub mod indexes;
pub mod objects;
pub mod types;

use super::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    let mut all = Vec::new();
    all.extend(indexes::all());
    all.extend(constraints::all());
    all.extend(columns::all());
    all.extend(types::all());
    all.extend(objects::all());
    all.extend(elsewhere::all());
    all
}

#[cfg(test)]
pub(crate) mod testing {
    //! Lint SQL the way `stepwise lint DIR` would: `setup` is an earlier,
    //! applied migration (its tables exist), `migration` is the one linted.

    use crate::pg::{lint, Finding, LintFile, LintOptions, Schema};
    use std::sync::Arc;
    use stepwise_sql::{parse_file, Dialect, FileRole, Flavor, SourceFile};

    fn file(name: &str, text: &str, new: bool) -> LintFile {
        let file = Arc::new(SourceFile { name: name.into(), text: text.into() });
        let parsed = parse_file(file.clone(), FileRole::Combined, Dialect::Postgres, Flavor::Native).expect("test migration parses");
        LintFile { file, parsed, new }
    }

    /// Findings of `rule` in `migration`, after `setup` was applied.
    pub fn check(rule: &str, setup: &str, migration: &str) -> Vec<Finding> {
        check_with(rule, setup, migration, &LintOptions::default())
    }

    pub fn check_with(rule: &str, setup: &str, migration: &str, opts: &LintOptions) -> Vec<Finding> {
        let mut opts = opts.clone();
        opts.config.enable.push("all".into());
        let files = vec![file("1_setup.sql", setup, false), file("2_change.sql", migration, true)];
        let report = lint(&files, Schema::default(), &opts);
        assert!(report.errors.is_empty(), "parse errors: {:?}", report.errors);
        report.findings.into_iter().filter(|f| f.rule == rule && f.file == "2_change.sql").collect()
    }

    /// Lint a sequence of migrations, each applied before the next; the
    /// findings of all rules in all but the first (all rules on).
    pub fn findings_in_sequence(migrations: &[&str]) -> Vec<Finding> {
        let mut opts = LintOptions::default();
        opts.config.enable.push("all".into());
        let files: Vec<LintFile> = migrations.iter().enumerate().map(|(i, m)| file(&format!("{}_m.sql", i + 1), m, false)).collect();
        let report = lint(&files, Schema::default(), &opts);
        assert!(report.errors.is_empty(), "parse errors: {:?}", report.errors);
        report.findings.into_iter().filter(|f| f.file != "1_m.sql").collect()
    }

    /// Every finding of every rule for `migration` after `setup` (all rules on).
    #[allow(dead_code)] // for rules that check interplay with others
    pub fn all_findings(setup: &str, migration: &str) -> Vec<Finding> {
        let mut opts = LintOptions::default();
        opts.config.enable.push("all".into());
        let files = vec![file("1_setup.sql", setup, false), file("2_change.sql", migration, true)];
        lint(&files, Schema::default(), &opts).findings.into_iter().filter(|f| f.file == "2_change.sql").collect()
    }
}

#[cfg(test)]
mod every_rule {
    use super::testing::{check, findings_in_sequence};
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut seen = HashSet::new();
        for r in super::all() {
            let id = r.meta().id;
            assert!(seen.insert(id), "duplicate rule id {id}");
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{id} is not kebab-case");
        }
    }

    #[test]
    fn each_rule_flags_its_bad_example() {
        for r in super::all() {
            let m = r.meta();
            let found = check(m.id, m.setup, m.bad);
            assert!(!found.is_empty(), "{} does not flag its bad example:\n{}", m.id, m.bad);
            for f in &found {
                assert!(
                    !f.message.is_empty() && !f.why.is_empty() && !f.safe.is_empty(),
                    "{}: a finding needs a message, a why and a safe way",
                    m.id
                );
            }
        }
    }

    #[test]
    fn each_rules_safe_recipe_passes_every_rule() {
        for r in super::all() {
            let m = r.meta();
            let mut seq = vec![m.setup];
            seq.extend(m.safe.iter().copied());
            let found = findings_in_sequence(&seq);
            assert!(found.is_empty(), "the safe recipe of {} is flagged: {:#?}", m.id, found);
        }
    }
}
