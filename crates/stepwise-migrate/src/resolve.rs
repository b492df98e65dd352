//! Files against history: which migrations are applied, pending, failed,
//! drifted or missing, and which of them a run may apply. Pure: no database.

use crate::history::{HistoryRow, RowStatus};
use crate::migration::{Migration, MigrationKind, Version};
use crate::source::MigrationSet;
use serde::Serialize;
use stepwise_sql::{Dialect, InputError, Phase};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Applied,
    Pending,
    Failed,
    /// A run stopped in the middle (crash or kill) of a non-transactional migration.
    Running,
    /// Applied, but no file has this version any more.
    MissingFile,
}

#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub migration: Option<&'a Migration>,
    pub row: Option<&'a HistoryRow>,
    pub state: State,
    /// Applied, and the file changed since (checksum differs).
    pub drift: bool,
}

impl Entry<'_> {
    pub fn key(&self) -> String {
        match (self.migration, self.row) {
            (Some(m), _) => m.key(),
            (None, Some(r)) => r.version.clone(),
            (None, None) => String::new(),
        }
    }

    pub fn phase(&self) -> Phase {
        match (self.migration, self.row) {
            (Some(m), _) => m.phase,
            (None, Some(r)) => Phase::parse(&r.phase).unwrap_or_default(),
            _ => Phase::PreDeploy,
        }
    }

    fn sort_key(&self) -> (bool, Option<Version>, String) {
        match self.migration {
            Some(m) if m.kind == MigrationKind::Repeatable => (true, None, m.name.clone()),
            Some(m) => (false, Some(m.version.clone()), String::new()),
            None => {
                let v = self.row.map(|r| r.version.clone()).unwrap_or_default();
                match Version::parse(&v) {
                    Some(ver) => (false, Some(ver), String::new()),
                    None => (true, None, v),
                }
            }
        }
    }
}

/// Every migration file and every tracking row, in order (versions first,
/// then repeatables).
pub fn resolve<'a>(set: &'a MigrationSet, history: &'a [HistoryRow]) -> Vec<Entry<'a>> {
    let mut out: Vec<Entry<'a>> = Vec::new();
    for m in &set.migrations {
        let key = m.key();
        let row = history.iter().find(|r| r.version == key);
        let (state, drift) = match row {
            None => (State::Pending, false),
            Some(r) => match r.status {
                RowStatus::Applied if m.kind == MigrationKind::Repeatable && r.checksum != m.checksum => (State::Pending, false),
                RowStatus::Applied => (State::Applied, r.checksum != m.checksum),
                RowStatus::Failed => (State::Failed, false),
                RowStatus::Running => (State::Running, false),
            },
        };
        out.push(Entry { migration: Some(m), row, state, drift });
    }
    for r in history {
        if !set.migrations.iter().any(|m| m.key() == r.version) {
            let state = match r.status {
                RowStatus::Applied => State::MissingFile,
                RowStatus::Failed => State::Failed,
                RowStatus::Running => State::Running,
            };
            out.push(Entry { migration: None, row: Some(r), state, drift: false });
        }
    }
    out.sort_by_key(Entry::sort_key);
    out
}

/// Which phases a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseFilter {
    Pre,
    Post,
    All,
}

impl PhaseFilter {
    pub fn includes(self, p: Phase) -> bool {
        match self {
            PhaseFilter::Pre => p == Phase::PreDeploy,
            PhaseFilter::Post => p == Phase::PostDeploy,
            PhaseFilter::All => true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Selection {
    pub phase: PhaseFilter,
    pub to: Option<String>,
    pub allow_drift: bool,
    pub allow_out_of_order: bool,
}

/// Why a run must not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The request itself is wrong (`--to` names no migration): exit 2.
    Usage(String),
    /// The state forbids it (drift, order): exit 1.
    Refused(String),
}

impl From<Refusal> for crate::RunError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Usage(m) => crate::RunError::Usage(m),
            Refusal::Refused(m) => crate::RunError::Refused(m),
        }
    }
}

/// The migrations a `migrate` run applies, in order; or why it must not run.
pub fn select_pending<'a>(entries: &[Entry<'a>], sel: &Selection) -> Result<Vec<&'a Migration>, Refusal> {
    let drifted: Vec<String> = entries
        .iter()
        .filter(|e| e.drift)
        .filter_map(|e| e.migration.map(|m| format!("{} ({})", m.version, m.files.first().cloned().unwrap_or_default())))
        .collect();
    if !drifted.is_empty() && !sel.allow_drift {
        return Err(Refusal::Refused(format!(
            "applied migration{} changed since {} applied (checksum drift): {}. Restore the file{}, or rerun with --allow-drift if the change is intended",
            plural(drifted.len()),
            if drifted.len() == 1 { "it was" } else { "they were" },
            drifted.join(", "),
            plural(drifted.len())
        )));
    }
    if let Some(e) = entries
        .iter()
        .find(|e| matches!(e.state, State::Failed | State::Running) && e.row.is_some_and(|r| r.direction == crate::events::Direction::Down))
    {
        let r = e.row.map(|r| (r.statements_applied, r.statements_total)).unwrap_or_default();
        return Err(Refusal::Refused(format!(
            "{} was being rolled back when it stopped ({} of {} down statements ran): finish with `stepwise rollback`, then migrate",
            e.key(),
            r.0,
            r.1
        )));
    }
    let to = match &sel.to {
        Some(t) => Some(Version::parse(t).ok_or_else(|| Refusal::Usage(format!("--to {t}: not a version")))?),
        None => None,
    };
    if let Some(t) = &to {
        if !entries.iter().any(|e| e.migration.is_some_and(|m| m.kind == MigrationKind::Versioned && &m.version == t)) {
            return Err(Refusal::Usage(format!("--to {t}: no migration has this version")));
        }
    }
    let mut pending = Vec::new();
    let mut out_of_order = Vec::new();
    for e in entries {
        let Some(m) = e.migration else { continue };
        if !matches!(e.state, State::Pending | State::Failed | State::Running) || !sel.phase.includes(m.phase) {
            continue;
        }
        if m.kind == MigrationKind::Versioned {
            if to.as_ref().is_some_and(|t| &m.version > t) {
                continue;
            }
            // Order is checked within a phase: a post-deploy migration held back
            // for a deploy does not make later pre-deploy ones out of order.
            let newer_applied = entries.iter().find(|o| {
                o.state == State::Applied && o.phase() == m.phase && o.migration.is_none_or(|om| om.kind == MigrationKind::Versioned) && {
                    let ov = o.migration.map(|om| om.version.clone()).or_else(|| o.row.and_then(|r| Version::parse(&r.version)));
                    ov.is_some_and(|ov| ov > m.version)
                }
            });
            if let Some(newer) = newer_applied {
                if !sel.allow_out_of_order {
                    out_of_order.push(format!(
                        "{} ({}) is older than applied {}",
                        m.version,
                        m.files.first().cloned().unwrap_or_default(),
                        newer.key()
                    ));
                    continue;
                }
            }
        }
        pending.push(m);
    }
    if !out_of_order.is_empty() {
        return Err(Refusal::Refused(format!(
            "pending migration{} out of order: {}. Apply with --allow-out-of-order if the order does not matter, or give the file a newer version",
            plural(out_of_order.len()),
            out_of_order.join("; ")
        )));
    }
    Ok(pending)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether a migration runs as one transaction on this engine.
pub fn runs_in_transaction(section: &stepwise_sql::Section, dialect: Dialect) -> bool {
    if section.no_transaction {
        return false;
    }
    match dialect {
        Dialect::Postgres => true,
        // DDL commits implicitly: such a migration runs statement by statement.
        Dialect::MySql => !section.statements.iter().any(|s| s.info.implicit_commit),
    }
}

/// Statements marked `-- stepwise:online` that cannot run online: on an
/// engine without online schema changes, or a second online change to the
/// same table in one migration (the first keeps the old table until `osc
/// finish`, and osc allows one unfinished job per table).
fn check_online(section: &stepwise_sql::Section, dialect: Dialect) -> Vec<InputError> {
    let file = &section.file;
    let mut errors = Vec::new();
    let mut seen: Vec<(&stepwise_sql::QualifiedName, usize)> = Vec::new();
    for s in &section.statements {
        let Some(online) = &s.online else { continue };
        if dialect != Dialect::Postgres {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!(
                    "`-- stepwise:online` (line {}) runs the ALTER TABLE as an online schema change, which stepwise does on PostgreSQL only for now (not MySQL/MariaDB); remove the directive to run it as a plain ALTER TABLE",
                    online.directive_line
                ),
            ));
            continue;
        }
        if let Some((_, line)) = seen.iter().find(|(n, _)| **n == online.name) {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!(
                    "a second online change to {} in this migration (the first is on line {line}): it keeps the old table until `stepwise osc finish`, so osc would refuse this one; put both changes in one ALTER TABLE (osc applies them together) or in separate migrations",
                    online.table
                ),
            ));
        }
        seen.push((&online.name, s.line));
    }
    errors
}

/// Refuse, before the database is touched, statements that cannot run the way
/// their migration would run them.
pub fn check_runnable(section: &stepwise_sql::Section, dialect: Dialect) -> Vec<InputError> {
    let mut errors = check_online(section, dialect);
    if !runs_in_transaction(section, dialect) {
        return errors;
    }
    let file = &section.file;
    for s in &section.statements {
        if let Some(what) = &s.info.requires_no_transaction {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!("`{what}` cannot run inside a transaction block; mark the migration with `-- stepwise:no-transaction` (and keep other statements out of it)"),
            ));
        } else if s.info.transaction_control {
            errors.push(InputError::new(
                &file.name,
                &file.text,
                s.span.start,
                format!("`{}` ends or changes the transaction stepwise runs this migration in; remove it (stepwise wraps each migration in a transaction) or mark the migration `-- stepwise:no-transaction`", s.info.summary),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use stepwise_sql::{parse_file, FileRole, Flavor, SourceFile};

    fn up(text: &str, dialect: Dialect) -> stepwise_sql::Section {
        let file = Arc::new(SourceFile { name: "1_m.sql".into(), text: text.into() });
        parse_file(file, FileRole::Combined, dialect, Flavor::Native).unwrap().up.unwrap()
    }

    #[test]
    fn an_online_statement_runs_outside_a_transaction_on_postgres() {
        let s = up(
            "ALTER TABLE t ADD COLUMN a int;\n-- stepwise:online\nALTER TABLE t ALTER COLUMN id TYPE bigint;\nSELECT 1;",
            Dialect::Postgres,
        );
        assert!(!runs_in_transaction(&s, Dialect::Postgres));
        assert!(check_runnable(&s, Dialect::Postgres).is_empty());
    }

    #[test]
    fn online_is_refused_on_mysql_and_twice_on_one_table() {
        let text = "-- stepwise:online\nALTER TABLE t ALTER COLUMN id TYPE bigint;";
        let errors = check_runnable(&up(text, Dialect::MySql), Dialect::MySql);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].col), (2, 1));
        assert!(errors[0].message.contains("PostgreSQL only"), "{}", errors[0].message);

        let text = "-- stepwise:online\nALTER TABLE t ADD COLUMN a int;\n-- stepwise:online\nALTER TABLE public.u ADD COLUMN a int;\n-- stepwise:online\nALTER TABLE \"t\" ADD COLUMN b int;";
        let errors = check_runnable(&up(text, Dialect::Postgres), Dialect::Postgres);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 6);
        assert!(errors[0].message.contains("first is on line 2"), "{}", errors[0].message);
    }
}
