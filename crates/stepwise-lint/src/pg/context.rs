//! What a rule sees of one statement: its parse tree and text, the schema as
//! it stands before the statement, and how the statement will run.

use super::new_columns::{new_columns, retyped_columns, NewColumn};
use super::schema::{range_key, Schema, Table};
use pg_query::protobuf::RangeVar;
use pg_query::NodeEnum;
use stepwise_sql::Statement;

pub struct Cx<'a> {
    pub node: &'a NodeEnum,
    pub stmt: &'a Statement,
    /// The schema before this statement.
    pub schema: &'a Schema,
    /// The migration runs in one transaction (no `no-transaction` marker).
    pub in_transaction: bool,
    /// PostgreSQL major version the verdicts are for.
    pub pg_version: u32,
    /// Earlier statements of the same migration (and so of the same
    /// transaction when `in_transaction`), in order.
    pub earlier: &'a [&'a NodeEnum],
    /// The text of each statement in `earlier`, as written (for recipes).
    pub earlier_sql: &'a [&'a str],
    /// Later statements of the same migration, in order (a rename followed by
    /// a view with the old name is the safe recipe, not a break).
    pub later: &'a [&'a NodeEnum],
    /// Byte offset in the file that the parse tree's `location` fields count from.
    pub base: usize,
    /// The migration's phase: post-deploy migrations run after the code that
    /// stopped using what they remove is deployed.
    pub phase: stepwise_sql::Phase,
    /// The columns the statement creates, worked out on first use.
    pub created: std::cell::OnceCell<Vec<NewColumn<'a>>>,
    /// The columns the statement gives a new type, worked out on first use.
    pub retyped: std::cell::OnceCell<Vec<NewColumn<'a>>>,
}

impl<'a> Cx<'a> {
    /// The columns the statement creates (computed once for all rules).
    pub fn new_columns(&self) -> &[NewColumn<'a>] {
        self.created.get_or_init(|| new_columns(self.node))
    }

    /// The columns ALTER COLUMN ... TYPE retypes (computed once for all rules).
    pub fn retyped_columns(&self) -> &[NewColumn<'a>] {
        self.retyped.get_or_init(|| retyped_columns(self.node))
    }

    /// Columns whose type the statement chooses: created or retyped.
    pub fn typed_columns(&self) -> impl Iterator<Item = &NewColumn<'a>> {
        self.new_columns().iter().chain(self.retyped_columns())
    }

    /// Offset in the statement's text of a parse-tree `location` (for `Hit::at`).
    pub fn offset(&self, location: i32) -> i32 {
        if location < 0 {
            return 0;
        }
        (self.base + location as usize).saturating_sub(self.stmt.span.start).min(self.stmt.sql.len()) as i32
    }

    /// The statement's text.
    pub fn sql(&self) -> &str {
        &self.stmt.sql
    }

    /// True when the table exists before this migration (or is unknown, which
    /// means it lives in the database): the rules that protect live tables apply.
    pub fn existing(&self, r: &RangeVar) -> bool {
        !self.schema.is_new(r)
    }

    pub fn table(&self, r: &RangeVar) -> Option<&Table> {
        self.schema.table(r)
    }

    /// Name for messages: `orders` or `app.orders`.
    pub fn name(r: &RangeVar) -> String {
        range_key(r)
    }
}
