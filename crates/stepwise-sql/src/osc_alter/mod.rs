//! What `stepwise osc --alter` (and a `-- stepwise:online` ALTER TABLE) may
//! say: the clauses of exactly one `ALTER TABLE` on the table being changed,
//! of the kinds an online copy carries, checked on each engine's grammar
//! before anything is created. The clauses are pasted after
//! `ALTER TABLE <shadow>` only once they are exactly that.

mod mysql;
mod pg;

pub use mysql::check_osc_alter_mysql;
pub use pg::check_osc_alter;

use crate::Dialect;

/// What the checked clauses do to the original's columns and keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OscAlter {
    /// Columns the ALTER drops by name: the only original columns the copy
    /// may leave behind.
    pub dropped: Vec<String>,
    /// Unique and primary keys the ALTER adds (MySQL: the copy's `INSERT
    /// IGNORE` would skip a duplicate, so they are checked before anything
    /// is created). PostgreSQL builds them after the copy and fails there.
    pub new_keys: Vec<NewKey>,
    /// MySQL: the ALTER drops a foreign key or a constraint by name (osc
    /// carries the table's own foreign keys under other names, so such a
    /// clause would not find its key on the copy).
    pub drops_constraint: bool,
}

/// A unique or primary key the ALTER adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The name given, if any.
    pub name: Option<String>,
    pub primary: bool,
    /// The key's columns; `None` when a part is not a plain column (a
    /// prefix `email(10)` or an expression), which only the verification
    /// after the copy can judge.
    pub columns: Option<Vec<String>>,
}

/// Check `clauses` on the grammar of `dialect`.
pub fn check(clauses: &str, dialect: Dialect) -> Result<OscAlter, String> {
    match dialect {
        Dialect::Postgres => check_osc_alter(clauses),
        Dialect::MySql => check_osc_alter_mysql(clauses),
    }
}
