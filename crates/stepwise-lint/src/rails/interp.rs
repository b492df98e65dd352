//! A Rails migration, interpreted: the class, its `change`/`up` method, and
//! each DSL call in it turned into the SQL Rails would send for the adapter
//! ([`super::dsl`] knows the methods). Ruby this cannot read statically
//! (loops, computed names, metaprogramming) becomes a "not analysed" note at
//! its line, never silence.

use super::dsl;
use super::render::Sql;
use super::ruby::{Call, Parsed, R};
use std::collections::HashMap;
use stepwise_sql::Dialect;

/// One SQL statement Rails would run, and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    pub sql: String,
    /// Byte offset in the .rb file: the DSL call's method name, or the
    /// first character of an `execute` string's text.
    pub at: usize,
    /// The SQL is the file's own text from `at` on (an `execute` literal):
    /// its lines are the file's lines.
    pub literal: bool,
    /// Inside `safety_assured { }`: a reviewed exception.
    pub assured: bool,
    /// Run by an online schema change tool the migration switched to.
    pub online: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    NotAnalysed,
    OnlineTool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub at: usize,
    pub kind: NoteKind,
    pub message: String,
    /// Inside `safety_assured { }`.
    pub assured: bool,
}

/// Column types known so far, per table (for the MySQL forms that restate
/// a column's type, such as `change_column_null`).
///
/// Migrations are interpreted in parallel, each with a model of its own
/// that starts empty and records what the migration does to it
/// ([`Model::recording`]); a migration that looked up a column its own
/// model did not know ([`Model::missed`]) is interpreted again, in order,
/// with the model the earlier migrations built.
#[derive(Debug, Default, Clone)]
pub struct Model {
    pub tables: HashMap<String, Vec<(String, String)>>,
    log: Option<Vec<ModelOp>>,
    missed: std::cell::Cell<bool>,
}

#[derive(Debug, Clone)]
pub enum ModelOp {
    Create(String),
    Drop(String),
    Rename(String, String),
    Column(String, String, String),
}

impl Model {
    /// An empty model that records its changes.
    pub fn recording() -> Model {
        Model { log: Some(Vec::new()), ..Default::default() }
    }

    /// Whether a lookup found nothing here (the answer may be in the
    /// model of the earlier migrations).
    pub fn missed(&self) -> bool {
        self.missed.get()
    }

    /// The changes recorded, to replay on the model of the earlier migrations.
    pub fn take_log(&mut self) -> Vec<ModelOp> {
        self.log.take().unwrap_or_default()
    }

    pub fn apply(&mut self, op: ModelOp) {
        match op {
            ModelOp::Create(t) => self.create_table(&t),
            ModelOp::Drop(t) => self.drop_table(&t),
            ModelOp::Rename(a, b) => self.rename_table(&a, &b),
            ModelOp::Column(t, c, ty) => self.set_column(&t, &c, &ty),
        }
    }

    fn record(&mut self, op: impl FnOnce() -> ModelOp) {
        if let Some(log) = &mut self.log {
            log.push(op());
        }
    }

    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        let found = self.tables.get(table).and_then(|cols| cols.iter().find(|(c, _)| c == column)).map(|(_, t)| t.as_str());
        if found.is_none() {
            self.missed.set(true);
        }
        found
    }

    pub fn set_column(&mut self, table: &str, column: &str, ty: &str) {
        self.record(|| ModelOp::Column(table.into(), column.into(), ty.into()));
        let cols = self.tables.entry(table.to_string()).or_default();
        match cols.iter_mut().find(|(c, _)| c == column) {
            Some(c) => c.1 = ty.to_string(),
            None => cols.push((column.to_string(), ty.to_string())),
        }
    }

    pub fn create_table(&mut self, table: &str) {
        self.record(|| ModelOp::Create(table.into()));
        self.tables.insert(table.to_string(), vec![]);
    }

    pub fn drop_table(&mut self, table: &str) {
        self.record(|| ModelOp::Drop(table.into()));
        self.tables.remove(table);
    }

    pub fn rename_table(&mut self, from: &str, to: &str) {
        self.record(|| ModelOp::Rename(from.into(), to.into()));
        if let Some(cols) = self.tables.remove(from) {
            self.tables.insert(to.to_string(), cols);
        }
    }
}

/// A migration file, interpreted.
#[derive(Debug, Default)]
pub struct Migration {
    pub no_transaction: bool,
    /// The online tool a class-level call switched to, and where.
    pub online_tool: Option<(&'static str, usize)>,
    pub rails: f32,
    pub stmts: Vec<Emitted>,
    pub notes: Vec<Note>,
    /// Has a `down` (or is a reversible `change`).
    pub has_down: bool,
    pub created_tables: Vec<String>,
}

/// The interpreter's state while it walks one migration.
pub struct Interp<'m> {
    pub sql: Sql,
    pub model: &'m mut Model,
    pub out: Migration,
    pub assured: bool,
    pub online: bool,
    /// Local variables bound to literals.
    pub locals: HashMap<String, R>,
    /// Model classes defined in the file, and their tables.
    pub models: HashMap<String, String>,
    /// Helper methods defined in the class (called by name from `up`).
    pub helpers: HashMap<String, Vec<R>>,
    depth: usize,
}

/// What a class-level call is: the tools that run a migration's ALTERs
/// through an online schema change of their own.
fn online_tool(c: &Call) -> Option<&'static str> {
    match c.name.as_str() {
        "uses_departure!" if !matches!(c.args.first(), Some(R::False)) => Some("Departure (pt-online-schema-change)"),
        "using_lhm" | "uses_lhm!" => Some("LHM (Large Hadron Migrator)"),
        "uses_online_migrations!" | "using_ghost" | "uses_gh_ost!" => Some("gh-ost"),
        _ => None,
    }
}

/// The Rails version of a migration superclass, or `None` when it is not
/// a migration.
fn migration_version(superclass: &R) -> Option<f32> {
    match superclass {
        R::Const(c) if c == "ActiveRecord::Migration" || c == "::ActiveRecord::Migration" => Some(4.2),
        R::Call(c) if c.name == "[]" => {
            let base = c.receiver.as_ref()?;
            migration_version(base)?;
            match c.args.first() {
                Some(R::Float(f)) => Some(*f as f32),
                Some(R::Int(i)) => Some(*i as f32),
                _ => Some(8.0),
            }
        }
        // A team's own base class (`class X < ApplicationMigration`).
        R::Const(c) if c.ends_with("Migration") => Some(8.0),
        _ => None,
    }
}

/// Interpret one parsed migration file for the adapter.
pub fn interpret(parsed: &Parsed, dialect: Dialect, model: &mut Model) -> Migration {
    let mut it = Interp::new(Sql { dialect, rails: 8.0 }, model);
    let mut found = false;
    for node in &parsed.body {
        collect_models(node, &mut it.models);
    }
    for node in &parsed.body {
        match node {
            R::Class { superclass: Some(sup), body, span, .. } => {
                if let Some(v) = migration_version(sup) {
                    found = true;
                    it.sql.rails = v;
                    it.out.rails = v;
                    it.class_body(body, span.start);
                }
            }
            // `require "lhm"` and the like.
            R::Call(c) if c.receiver.is_none() && matches!(c.name.as_str(), "require" | "require_relative") => {}
            _ => {}
        }
    }
    if !found {
        it.note(0, NoteKind::NotAnalysed, "no class inheriting from ActiveRecord::Migration in this file".into());
    }
    it.out
}

fn collect_models(node: &R, models: &mut HashMap<String, String>) {
    if let R::Class { name, superclass: Some(sup), body, .. } = node {
        if migration_version(sup).is_none() {
            let mut table = super::names::tableize(name);
            for s in body {
                if let R::Call(c) = s {
                    if c.name == "table_name=" {
                        if let Some(t) = c.args.first().and_then(R::name) {
                            table = t.to_string();
                        }
                    }
                }
            }
            models.insert(name.rsplit("::").next().unwrap_or(name).to_string(), table);
        } else {
            for s in body {
                collect_models(s, models);
            }
        }
    }
}

impl<'m> Interp<'m> {
    pub fn new(sql: Sql, model: &'m mut Model) -> Self {
        Interp {
            sql,
            model,
            out: Migration { rails: sql.rails, ..Default::default() },
            assured: false,
            online: false,
            locals: HashMap::new(),
            models: HashMap::new(),
            helpers: HashMap::new(),
            depth: 0,
        }
    }

    pub fn note(&mut self, at: usize, kind: NoteKind, message: String) {
        self.out.notes.push(Note { at, kind, message, assured: self.assured });
    }

    pub fn not_analysed(&mut self, at: usize, what: impl Into<String>) {
        self.note(at, NoteKind::NotAnalysed, what.into());
    }

    pub fn emit(&mut self, at: usize, sql: String) {
        self.out.stmts.push(Emitted { sql, at, literal: false, assured: self.assured, online: self.online });
    }

    pub fn emit_literal(&mut self, at: usize, sql: String) {
        self.out.stmts.push(Emitted { sql, at, literal: true, assured: self.assured, online: self.online });
    }

    fn class_body(&mut self, body: &[R], class_at: usize) {
        let mut up: Option<&Vec<R>> = None;
        let mut change: Option<&Vec<R>> = None;
        for node in body {
            match node {
                R::Call(c) if c.receiver.is_none() => {
                    if c.name == "disable_ddl_transaction!" {
                        self.out.no_transaction = true;
                    } else if let Some(tool) = online_tool(c) {
                        self.out.online_tool = Some((tool, c.name_at));
                    }
                }
                R::Def { name, body, .. } => match name.as_str() {
                    "change" => change = Some(body),
                    "up" => up = Some(body),
                    "down" => self.out.has_down = true,
                    other => {
                        self.helpers.insert(other.to_string(), body.clone());
                    }
                },
                _ => {}
            }
        }
        if change.is_some() {
            self.out.has_down = true;
        }
        if let Some((tool, at)) = self.out.online_tool {
            self.online = true;
            self.note(at, NoteKind::OnlineTool, tool.to_string());
        }
        match change.or(up) {
            Some(body) => self.block(body),
            None => self.not_analysed(class_at, "the migration has no `change` or `up` method"),
        }
    }

    /// Interpret statements in order.
    pub fn block(&mut self, body: &[R]) {
        if self.depth > 16 {
            return;
        }
        self.depth += 1;
        for node in body {
            self.statement(node);
        }
        self.depth -= 1;
    }

    fn statement(&mut self, node: &R) {
        match node {
            R::Call(c) => self.call(c),
            R::Assign { name, value } => match value.as_ref() {
                R::Call(c) => {
                    self.locals.remove(name);
                    self.call(c)
                }
                v => {
                    self.locals.insert(name.clone(), v.clone());
                }
            },
            R::If { predicate, then, otherwise, span } => {
                if is_existence_guard(predicate) {
                    // `add_column ... unless column_exists?(...)`: the guard
                    // keeps the migration idempotent; the change is what it guards.
                    self.block(then);
                } else {
                    self.not_analysed(span.start, "a condition stepwise cannot evaluate (both branches are judged)");
                    self.block(then);
                    self.block(otherwise);
                }
            }
            R::Seq(body) => self.block(body),
            R::Str { .. } | R::Sym(_) | R::Int(_) | R::Float(_) | R::True | R::False | R::Nil | R::Local(_) | R::Const(_) => {}
            R::Def { .. } | R::Class { .. } => {}
            R::Other { what, span } => self.not_analysed(span.start, format!("a {what}")),
            other => {
                let at = other.span().map(|s| s.start).unwrap_or(0);
                self.not_analysed(at, "an expression")
            }
        }
    }

    /// A local bound to a literal, or the value itself.
    pub fn resolve<'a>(&'a self, v: &'a R) -> &'a R {
        match v {
            R::Local(name) => self.locals.get(name).unwrap_or(v),
            _ => v,
        }
    }

    fn call(&mut self, c: &Call) {
        match &c.receiver {
            None => {
                if let Some(body) = self.helpers.get(&c.name).cloned() {
                    if c.args.is_empty() {
                        return self.block(&body);
                    }
                }
                dsl::call(self, c)
            }
            Some(recv) => dsl::receiver_call(self, recv, c),
        }
    }
}

/// `column_exists?(...)`, `!index_exists?(...)`, `connection.table_exists?`.
fn is_existence_guard(p: &R) -> bool {
    match p {
        R::Call(c) if c.name == "!" => c.receiver.as_ref().is_some_and(is_existence_guard),
        R::Call(c) => {
            c.name.ends_with("_exists?")
                && (c.receiver.is_none() || c.receiver.as_ref().and_then(R::as_call).is_some_and(|r| r.name == "connection"))
        }
        _ => false,
    }
}
