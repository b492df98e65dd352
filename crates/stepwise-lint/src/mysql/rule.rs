//! The MySQL/MariaDB rule interface: each rule sees one statement as the
//! front end read it, the schema as it stands before it, the session
//! settings the migration made so far, and (for an ALTER of an existing
//! table) the classifier's verdict.

use super::ast::Stmt;
use super::classify::AlterVerdict;
use super::schema::{Schema, Table};
use super::server::Server;
pub use crate::rule::{Cost, Hit, RuleMeta};
use stepwise_sql::{Phase, Statement};

pub struct Cx<'a> {
    /// The statement as written in the file.
    pub stmt: &'a Statement,
    pub parsed: &'a Stmt,
    pub schema: &'a Schema,
    pub server: Server,
    pub phase: Phase,
    /// `SET foreign_key_checks = 0` earlier in the migration.
    pub fk_checks_off: bool,
    /// `SET sql_mode = ...` earlier in the migration without STRICT_: NOT
    /// NULL and type changes then coerce values instead of failing.
    pub non_strict: bool,
    /// For an ALTER (or CREATE/DROP INDEX) of an existing table: the table
    /// and the classifier's verdict.
    pub alter: Option<(&'a Table, &'a AlterVerdict)>,
    /// (table, column) pairs a `-- stepwise:backfill` earlier in this
    /// migration assigns.
    pub backfilled: &'a [(String, String)],
    /// ALTERs of the same existing table earlier in this migration.
    pub earlier_alters: usize,
}

impl Cx<'_> {
    pub fn sql(&self) -> &str {
        &self.stmt.sql
    }
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>);
}
