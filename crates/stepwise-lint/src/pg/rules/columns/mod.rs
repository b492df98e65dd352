//! Column and table rules: changes to existing tables that rewrite or scan
//! them under an ACCESS EXCLUSIVE lock, that fail on a table with rows, or
//! that break the code running against them (renames and drops).

mod add_column_not_null_without_default;
mod add_column_volatile_default;
mod add_generated_stored_column;
mod add_serial_or_identity_column;
pub(crate) mod alter_column_type;
mod alter_column_type_timezone;
mod drop_column;
mod drop_table;
mod rename_column;
mod rename_table;
mod set_not_null;
pub(crate) mod shared;

use crate::pg::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &add_column_volatile_default::RULE,
        &add_column_not_null_without_default::RULE,
        &set_not_null::RULE,
        &alter_column_type::RULE,
        &alter_column_type_timezone::RULE,
        &rename_column::RULE,
        &rename_table::RULE,
        &drop_column::RULE,
        &drop_table::RULE,
        &add_generated_stored_column::RULE,
        &add_serial_or_identity_column::RULE,
    ]
}

#[cfg(test)]
mod recipes {
    //! The recipe a finding gives (not only the one in its rule's META) is
    //! linted as the migrations it describes: it must pass every rule.

    use crate::pg::rules::testing::{check, findings_in_sequence};

    /// A finding's recipe cut into migrations at its `-- next migration` lines.
    fn migrations(safe: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        for line in safe.lines() {
            if line.starts_with("-- next migration") && !out.last().is_some_and(|m| m.trim().is_empty()) {
                out.push(String::new());
            }
            if let Some(m) = out.last_mut() {
                m.push_str(&format!("{line}\n"));
            }
        }
        out
    }

    #[test]
    fn each_findings_recipe_passes_every_rule() {
        let mut tried = 0;
        for r in super::all() {
            let m = r.meta();
            let found = check(m.id, m.setup, m.bad);
            assert!(!found.is_empty(), "{}", m.id);
            // Recipes with placeholders (`<constant>`) need the author's values.
            if found[0].safe.contains('<') {
                continue;
            }
            let steps = migrations(&found[0].safe);
            let mut seq = vec![m.setup];
            seq.extend(steps.iter().map(String::as_str));
            // `stepwise migrate` sets its own lock timeout: a finding's recipe
            // is written for it, so the opt-in rule for files run by other
            // tools does not apply (the META recipes set one, for `psql -f`).
            let flagged: Vec<_> = findings_in_sequence(&seq).into_iter().filter(|f| f.rule != "require-lock-timeout").collect();
            assert!(flagged.is_empty(), "the recipe of {} is flagged:\n{}\n{flagged:#?}", m.id, found[0].safe);
            tried += 1;
        }
        assert!(tried >= 8, "only {tried} recipes were linted");
    }

    #[test]
    fn recipes_are_cut_at_next_migration() {
        let steps = migrations("A;\n-- next migration:\nB;\n-- next migration (why):\nC;\nD;");
        assert_eq!(steps, ["A;\n", "-- next migration:\nB;\n", "-- next migration (why):\nC;\nD;\n"]);
    }
}
