//! The questions both engines ask the same way: renaming or dropping what
//! running code uses, and changing data inside a migration. Each engine's
//! rule finds the statement and writes its own recipe; why it breaks is
//! said here, once, with the error each engine's clients will see.

/// What a client sees when a name it uses is gone.
#[derive(Debug, Clone, Copy)]
pub enum Missing {
    Column,
    Table,
}

impl Missing {
    pub fn error(self, postgres: bool) -> &'static str {
        match (self, postgres) {
            (Missing::Column, true) => "column does not exist",
            (Missing::Table, true) => "relation does not exist",
            (Missing::Column, false) => "Unknown column",
            (Missing::Table, false) => "Table doesn't exist",
        }
    }
}

/// Why dropping a column breaks running code.
pub fn drop_column_why(column: &str, postgres: bool) -> String {
    format!(
        "The drop is quick, but from the commit on every running query that names `{column}`, and every INSERT or prepared \
         statement that lists all the columns it knows (as ORMs do), fails with \"{}\". The data is gone for good.",
        Missing::Column.error(postgres)
    )
}

/// The first steps of dropping a column: deploy code that ignores it.
pub fn drop_column_steps(column: &str) -> String {
    format!(
        "-- 1. Deploy code that no longer reads or writes {column} (ORMs: mark it ignored, e.g. Rails' ignored_columns).\n\
         -- 2. Then drop it in a migration that runs after that deploy:\n"
    )
}

/// Why dropping a table breaks running code; `lock` says what the drop waits for on this engine.
pub fn drop_table_why(table: &str, postgres: bool, lock: &str) -> String {
    format!(
        "From the commit on, every running query on `{table}` fails with \"{}\", and the data is gone for good. {lock}",
        Missing::Table.error(postgres)
    )
}

pub fn rename_column_why(old: &str, new: &str, postgres: bool) -> String {
    format!(
        "The rename is instant, but every running query that names `{old}` fails with \"{}\" from the commit until the new code \
         runs everywhere; code deployed first fails the same way on `{new}`. No order of deploy and migration works.",
        Missing::Column.error(postgres)
    )
}

pub fn rename_table_why(old: &str, new: &str, postgres: bool) -> String {
    format!(
        "The rename is instant, but every running query on `{old}` fails with \"{}\" from the commit until the new code runs \
         everywhere; code deployed first fails the same way on `{new}`.",
        Missing::Table.error(postgres)
    )
}

/// Why one UPDATE or DELETE on a live table hurts; `engine` adds what it costs on this engine.
pub fn data_change_why(verb: &str, table: &str, engine: &str) -> String {
    format!(
        "{verb} changes every matching row of `{table}` in one transaction: each changed row stays locked against the application's \
         writes until it commits, replicas fall behind by the whole change, and a failure or timeout rolls all of it back. {engine}"
    )
}
