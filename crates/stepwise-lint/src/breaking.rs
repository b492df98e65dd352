//! The questions both engines ask the same way: renaming or dropping what
//! running code uses, and changing data inside a migration. The rules of
//! each engine find the statement; the words of the finding (why it breaks,
//! what to do first) are these, so the two engines say the same thing.

/// Why dropping a column breaks running code.
pub fn drop_column_why(column: &str, missing: &str) -> String {
    format!(
        "The drop itself is quick, but from the commit on every running query that names `{column}`, and every INSERT or prepared \
         statement that lists all the columns it knows (as ORMs do), fails with \"{missing}\". The data is gone for good."
    )
}

/// The first steps of dropping a column: deploy code that ignores it.
pub fn drop_column_steps(column: &str) -> String {
    format!(
        "-- 1. Deploy code that no longer reads or writes {column} (ORMs: mark it ignored, e.g. Rails' ignored_columns).\n\
         -- 2. Then drop it in a migration that runs after that deploy:\n\
         -- stepwise:phase post-deploy\n"
    )
}

pub fn drop_table_why(table: &str) -> String {
    format!(
        "Every running query on `{table}` fails from the commit on, and the rows are gone for good: a drop is the one change a \
         rollback cannot undo."
    )
}

pub fn rename_column_why(old: &str, new: &str) -> String {
    format!(
        "The rename is instant, but the code running against the table still uses `{old}`: from the commit on its queries fail \
         until the new code is deployed everywhere, and code that uses `{new}` fails the same way if it is deployed first. \
         No order of deploy and migration works."
    )
}

pub fn rename_table_why(old: &str) -> String {
    format!(
        "The rename is instant, but every running query that names `{old}` fails from the commit on, until code that uses the new \
         name is deployed everywhere (and that code fails before the migration)."
    )
}

pub fn data_change_why() -> &'static str {
    "One statement changes every matching row in one transaction: each changed row stays locked against the application's \
     writes until it commits, replicas fall behind by the whole change, and a failure or a timeout rolls it all back. \
     `stepwise backfill` does the same work in short batches, each its own transaction, throttled and resumable."
}
