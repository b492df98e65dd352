//! What to write instead, in the migration DSL: a finding on a DSL call
//! gets the Rails form of the judge's recipe first (the judge's SQL recipe
//! follows it, for `execute` or a SQL migration).

use super::interp::Emitted;

/// Whether a finding of `rule` on this statement is one a Rails migration
/// can act on. `mysql-require-algorithm` asks for `ALGORITHM=` in the
/// ALTER; the DSL can say it only for indexes (`algorithm: :inplace`), so on
/// other DSL calls it would be advice no one can follow there (it still
/// applies to `execute` SQL, and to indexes).
pub fn applies(rule: &str, stmt: &Emitted) -> bool {
    if rule != "mysql-require-algorithm" || stmt.literal {
        return true;
    }
    let head = stmt.sql.trim_start().get(..20).unwrap_or(&stmt.sql).to_ascii_uppercase();
    head.starts_with("CREATE INDEX") || head.starts_with("CREATE UNIQUE INDEX") || head.starts_with("DROP INDEX")
}

/// The Rails recipe for a rule's finding on the DSL call written as
/// `call` (its line of source), when the DSL has one.
pub fn recipe(rule: &str, call: &str) -> Option<String> {
    let call = call.trim();
    let one_line = !call.ends_with(',') && !call.ends_with(" do") && !call.contains('{');
    let with = |extra: &str| format!("{}, {extra}", call.trim_end_matches(')'));
    let concrete = match rule {
        "require-concurrent-index" if one_line && call.starts_with("add_index") && !call.contains("algorithm:") => Some(format!(
            "# In the migration class (one index per migration, nothing else in it):\ndisable_ddl_transaction!\n# and in `change`:\n{}",
            with("algorithm: :concurrently")
        )),
        "require-concurrent-drop-index" if one_line && call.starts_with("remove_index") && !call.contains("algorithm:") => {
            Some(format!("disable_ddl_transaction!\n{}", with("algorithm: :concurrently")))
        }
        "foreign-key-not-valid" if one_line && call.starts_with("add_foreign_key") && !call.contains("validate:") => Some(format!(
            "{}\n# then, in a later migration:\n{}",
            with("validate: false"),
            call.replacen("add_foreign_key", "validate_foreign_key", 1)
        )),
        _ => None,
    };
    if concrete.is_some() {
        return concrete;
    }
    Some(
        match rule {
            "require-concurrent-index" => {
                "# In the migration class (one index per migration, nothing else in it):\n\
             disable_ddl_transaction!\n\
             # and in `change`:\n\
             add_index :table, :column, algorithm: :concurrently"
            }
            "require-concurrent-drop-index" => "disable_ddl_transaction!\nremove_index :table, :column, algorithm: :concurrently",
            "foreign-key-not-valid" => {
                "add_foreign_key :from_table, :to_table, validate: false\n\
             # then, in a later migration:\n\
             validate_foreign_key :from_table, :to_table"
            }
            "set-not-null" => {
                "add_check_constraint :table, \"column IS NOT NULL\", name: \"table_column_null\", validate: false\n\
             # later migration: validate_check_constraint :table, name: \"table_column_null\"\n\
             # then: change_column_null :table, :column, false; remove_check_constraint :table, name: \"table_column_null\""
            }
            "check-not-valid" => {
                "add_check_constraint :table, \"expression\", name: \"...\", validate: false\n\
             # later migration: validate_check_constraint :table, name: \"...\""
            }
            "drop-column" | "rename-column" => {
                "# In the model first (deploy it before the migration runs):\n\
             self.ignored_columns += [\"column\"]\n\
             # then remove (or add the new name and backfill) in a later migration"
            }
            "no-data-change-in-migration" => {
                "# Move the data change out of the migration: after it is deployed run\n\
             # stepwise backfill (batches, throttled, resumable), shown below"
            }
            "mysql-require-algorithm" => {
                "# For indexes: add_index :table, :column, algorithm: :inplace\n\
             # For other ALTERs the DSL has no ALGORITHM=: use `execute` with the SQL below"
            }
            "rename-table" => "# Create the new table, write to both, backfill, switch reads, then drop the old one",
            "add-column-not-null-without-default" => "add_column :table, :column, :type, null: false, default: <value>",
            "mysql-combine-alters" => "change_table :table, bulk: true do |t|\n  # every change to the table, in one ALTER\nend",
            "prefer-timestamptz" => {
                "# Rails 7+: make timestamptz the type of datetime columns (config/initializers):\n\
             # ActiveRecord::ConnectionAdapters::PostgreSQLAdapter.datetime_type = :timestamptz\n\
             # or per column: t.timestamptz :column"
            }
            _ => return None,
        }
        .to_string(),
    )
}
