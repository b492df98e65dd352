//! Files against history: which migrations are applied, pending, failed,
//! drifted or missing, and which of them a run may apply. Pure: no database.

use crate::history::{HistoryRow, RowStatus};
use crate::migration::{Migration, MigrationKind, Version};
use crate::source::MigrationSet;
use serde::Serialize;
use stepwise_sql::Phase;

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

// Which migrations can run as written is decided in `stepwise_sql::runnable`,
// shared with `stepwise lint` (one check, two callers).
pub use stepwise_sql::runnable::{check_runnable, runs_in_transaction};
