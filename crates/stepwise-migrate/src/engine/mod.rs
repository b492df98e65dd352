//! What the runner needs from a database, written once per engine. The
//! orchestration (order, retries, resume, drift) lives in `apply` and
//! `rollback` and is shared; only SQL text and catalog knowledge live here.

pub mod any;
pub mod backfill;
pub mod mysql;
mod mysql_online;
mod online_job;
pub mod pg;
mod pg_online;

use crate::events::Event;
use crate::execute::RunOptions;
use crate::history::{HistoryRow, Stamp};
use std::time::Duration;
use stepwise_db::sessions::cancel::Cancellation;
pub use stepwise_db::sessions::cancel::{Cancel, CancelEvent, Canceller};
use stepwise_db::sessions::Observer;
use stepwise_db::{Blocker, DbError};
use stepwise_sql::{BackfillStep, Dialect, OnlineAlter, Statement};

/// Session settings a unit of work runs under.
#[derive(Debug, Clone)]
pub struct Settings {
    pub lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub role: Option<String>,
    /// Cancel the sessions that block the statement once it has waited
    /// long enough (opt-in; never for CONCURRENTLY statements, which block no one).
    pub cancel: Option<Cancel>,
}

/// What the engine hears while a statement runs, for the runner's events.
#[derive(Debug, Clone)]
pub enum Watched {
    /// A CONCURRENTLY statement waits for these older transactions.
    Waiting(Vec<Blocker>),
    /// What stepwise did (or chose not to do) about a session blocking it.
    Cancelled(Box<Cancellation>),
    /// Said once: why no blocker will be cancelled, or that looking failed.
    Note(String),
    /// How far the server is with the statement (index builds, copying ALTERs).
    Progress(Box<stepwise_db::progress::DdlProgress>),
}

/// Tracking changes that commit together with a unit's statements.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum TrackingOp {
    Save(HistoryRow, Stamp),
    Delete(String),
    /// Rails' `schema_migrations(version)`: insert (true) or delete (false).
    Rails(String, bool),
}

/// One attempt failed: which statement, the error, and who was blocking it.
#[derive(Debug)]
pub struct Failure {
    /// Index into the unit's statements; None when the failure was elsewhere
    /// (settings, tracking, commit).
    pub statement: Option<usize>,
    pub error: DbError,
    pub blockers: Vec<Blocker>,
}

impl Failure {
    pub fn plain(error: DbError) -> Failure {
        Failure { statement: None, error, blockers: vec![] }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::plain(e)
    }
}

/// What the catalog says about a statement that may have run before a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Its effect is in place (the server finished it after the client died).
    AlreadyDone(String),
    /// Leftovers were removed; run it again.
    CleanedUp(String),
    /// Nothing to check or nothing found; run it again.
    Rerun,
}

/// A statement marked `-- stepwise:online`, to run as an online schema change.
pub struct OnlineStep<'a> {
    /// The migration's tracking key: its row records the job as soon as it exists.
    pub key: &'a str,
    /// The migration's version as written, and the statement's index (for events).
    pub version: &'a str,
    pub index: usize,
    pub alter: &'a OnlineAlter,
    /// The job an interrupted attempt of this statement started (from its row).
    pub job: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnlineOutcome {
    /// The change is live on `table`; the old table is kept as `old` until
    /// `stepwise osc finish` (or `osc revert`); None once it has been dropped.
    Swapped { job: i64, table: String, old: Option<String> },
    /// `ALTER TABLE IF EXISTS` on a table that does not exist: nothing to do.
    NoTable,
}

/// Why an online statement did not finish.
#[derive(Debug, Clone)]
pub struct OnlineFailure {
    /// The job it started or resumed, if any: kept on the migration's row so
    /// that the next `migrate` resumes it.
    pub job: Option<i64>,
    pub message: String,
}

// Used only by this workspace, on the caller's task: no Send bounds needed.
#[allow(async_fn_in_trait)]
pub trait Engine {
    fn dialect(&self) -> Dialect;
    /// e.g. "PostgreSQL 15.20".
    fn server(&self) -> String;
    /// PostgreSQL major version (for lint verdicts); None on other engines.
    fn pg_major(&self) -> Option<u32> {
        None
    }
    /// MySQL/MariaDB `@@version` (for lint verdicts); None on other engines.
    fn mysql_version(&self) -> Option<String> {
        None
    }
    /// Where stepwise keeps its state, e.g. `stepwise.migrations`.
    fn store_name(&self) -> String;
    /// Refuse setups where the runner's guarantees do not hold (a transaction pooler).
    async fn preflight(&mut self) -> Result<(), DbError>;
    /// Try `settings` on the server (a role that does not exist, a timeout
    /// it does not take) and leave the session as it was, so that a bad
    /// setting is a usage error before anything is recorded.
    async fn check_settings(&mut self, settings: &Settings) -> Result<(), DbError>;
    /// One non-blocking attempt to take the migration lock.
    async fn try_lock(&mut self) -> Result<bool, DbError>;
    /// Who holds the migration lock, for the waiting message.
    async fn lock_holder(&mut self) -> Result<Option<String>, DbError>;
    async fn unlock(&mut self) -> Result<(), DbError>;
    /// Create the state schema and tables (under the migration lock).
    async fn ensure_store(&mut self) -> Result<(), DbError>;
    /// The tracking rows; empty when the store does not exist yet.
    async fn history(&mut self) -> Result<Vec<HistoryRow>, DbError>;
    /// One attempt: all statements and the tracking ops in one transaction.
    /// `watch` hears what happens meanwhile (cancelled blockers).
    async fn transaction(
        &mut self,
        statements: &[&Statement],
        settings: &Settings,
        ops: &[TrackingOp],
        watch: &mut dyn FnMut(Watched),
    ) -> Result<(), Failure>;
    /// One statement outside a transaction. `watch` hears who a long
    /// (CONCURRENTLY) statement is waiting for, and cancelled blockers.
    async fn single(&mut self, statement: &Statement, settings: &Settings, watch: &mut dyn FnMut(Watched)) -> Result<(), Failure>;
    /// Before each migration: the session as it was when stepwise connected,
    /// so that what an earlier migration SET for itself (a pg_dump file's
    /// empty `search_path`, `lock_timeout = 0`, a role) does not carry over.
    async fn fresh_session(&mut self) -> Result<(), DbError>;
    /// Before DDL on a table: the open transactions older than `older_than`
    /// it will queue behind (and every query on the table behind it), one
    /// line each: on PostgreSQL those holding a lock on the table; on
    /// MySQL/MariaDB those holding its metadata lock where the server shows
    /// metadata locks, else every old transaction (any may have touched it).
    async fn old_transactions(&mut self, statement: &Statement, older_than: std::time::Duration) -> Result<Vec<String>, DbError> {
        let _ = (statement, older_than);
        Ok(vec![])
    }
    /// Tracking ops outside any migration transaction (autocommit).
    async fn track(&mut self, ops: &[TrackingOp]) -> Result<(), DbError>;
    /// Check a statement that may have run before against the catalog; any
    /// cleanup runs under `settings` (the statement's own lock timeout).
    async fn recover(&mut self, statement: &Statement, settings: &Settings) -> Result<Recovery, DbError>;
    /// A statement that was running when the previous run was killed failed
    /// when run again with `error`: does the error say its effect is already
    /// in place? (A server finishes a statement after its client died; where
    /// DDL commits by itself it cannot share a transaction with its progress.)
    /// (No default: `AnyEngine` must forward it.)
    fn finished_before(&self, error: &stepwise_db::ServerError) -> bool;
    /// Rows of an arbitrary query, every value as text (for `adopt`).
    async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError>;
    async fn table_exists(&mut self, table: &str) -> Result<bool, DbError>;
    /// The database's schema, normalized (stable order, no environment or
    /// data such as owners or AUTO_INCREMENT counters), without stepwise's state.
    async fn dump_schema(&mut self) -> Result<String, DbError>;
    async fn column_exists(&mut self, table: &str, column: &str) -> Result<bool, DbError>;
    /// Run an online statement as an online schema change (a shadow copy,
    /// capture triggers, batched copy, verification and a swap), resuming
    /// `step.job` when an interrupted attempt started one. Engines without
    /// online changes refuse (the runner refuses such migrations earlier).
    async fn online(
        &mut self,
        step: &OnlineStep<'_>,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineFailure>;
    /// Run a `-- stepwise:backfill` step as a batched, resumable backfill
    /// (see [`backfill`]); the error says what happened and what to do.
    async fn backfill(
        &mut self,
        step: &BackfillStep,
        version: &str,
        index: usize,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<(), String>;
}

/// How long the lock probe waits before asking who blocks a statement, and
/// how often it asks again: often enough to catch a blocker before a 1s
/// lock_timeout fires, rarely enough to cost nothing on fast statements.
pub(crate) const PROBE_FIRST: Duration = Duration::from_millis(150);
pub(crate) const PROBE_EVERY: Duration = Duration::from_millis(250);
/// After how long, and how often, a running statement's progress is asked
/// for and reported (the server reports it for index builds, CLUSTER,
/// VACUUM and MariaDB's copying ALTERs).
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// How often a CONCURRENTLY statement reports what it waits for.
pub(crate) const WAIT_REPORT_EVERY: Duration = Duration::from_secs(5);

/// What the engine does differently from the settings asked for, said once
/// per run: MySQL and MariaDB lock waits (`lock_wait_timeout`,
/// `innodb_lock_wait_timeout`) take whole seconds, so a finer lock_timeout is
/// rounded up.
pub fn setting_notes(dialect: Dialect, lock_timeout: Duration) -> Vec<String> {
    let mut notes = Vec::new();
    if dialect == Dialect::MySql && lock_timeout.subsec_nanos() != 0 {
        notes.push(format!(
            "MariaDB/MySQL lock waits take whole seconds; using {}s for {lock_timeout:?}",
            mysql::whole_seconds(lock_timeout)
        ));
    }
    notes
}

/// Tell `watch` how far session `id`'s statement is, where the server says
/// (the probe loops call this every [`PROGRESS_EVERY`]).
pub(crate) async fn report_progress<O: Observer>(observer: &mut O, id: i64, watch: &mut dyn FnMut(Watched)) {
    if let Ok(found) = observer.progress(Some(id)).await {
        found.into_iter().for_each(|p| watch(Watched::Progress(Box::new(p))));
    }
}

impl From<CancelEvent> for Watched {
    fn from(e: CancelEvent) -> Watched {
        match e {
            CancelEvent::Acted(c) => Watched::Cancelled(c),
            CancelEvent::Note(n) => Watched::Note(n),
        }
    }
}

/// Milliseconds for a server setting, at least 1 (0 would mean "no limit").
pub(crate) fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}
