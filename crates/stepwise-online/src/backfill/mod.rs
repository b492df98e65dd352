//! `stepwise backfill`: update (or delete) the matching rows of a large
//! table in small keyset batches, each its own short transaction that also
//! moves the job's cursor, so that a crash or `kill -9` loses nothing and
//! `resume` continues exactly where the last committed batch ended.
//!
//! The rule that keeps application writes (stated in the README too): each
//! batch is one UPDATE over a key range, and the database evaluates its SET
//! expressions and its condition on the latest committed version of each
//! row, under that row's lock (PostgreSQL re-checks a row that changed while
//! the UPDATE waited for it; InnoDB's UPDATE reads the current row, not a
//! snapshot). So the backfill never writes a value computed from a version
//! of the row that the application has since replaced. A row the
//! application changes after its batch has passed keeps the application's
//! write. Only rows whose targets differ from the expressions are updated
//! (`IS DISTINCT FROM`, `NOT (a <=> b)`), so a rerun changes nothing twice;
//! `--only-missing` leaves every target that is not NULL alone.
//!
//! Batches wait on row locks for less than `deadlock_timeout` (PostgreSQL),
//! or never (MySQL/MariaDB lock their range with `NOWAIT` first), so in a
//! deadlock the backfill is the one that gives way: the batch is retried
//! smaller.

pub mod mysql;
pub mod pg;

use crate::batch::{BatchOptions, Sizer};
use crate::jobs::Job;
use crate::osc::table::TableInfo;
use crate::OnlineError;
use std::time::{Duration, Instant};
use stepwise_db::sessions::cancel::{Cancel, CancelEvent, CancelPolicy};
use stepwise_db::DbError;
use stepwise_sql::Dialect;

/// What `stepwise backfill <table> ...` asks for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub table: String,
    /// `col = expr[, ...]` (update mode).
    pub set: Option<String>,
    pub condition: Option<String>,
    /// Delete the rows matching `condition` instead of updating.
    pub delete: bool,
    /// Delete mode: copy each batch's rows here first, in the same transaction.
    pub backup_table: Option<String>,
    /// Update only targets that are NULL.
    pub only_missing: bool,
    /// Accept expressions whose value changes from call to call.
    pub allow_volatile: bool,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// PostgreSQL: the state schema; MySQL: the state tables' prefix.
    pub state: String,
    pub batch: BatchOptions,
    /// `--cancel-blockers-after`: once batches have been held up by row
    /// locks this long in a row, cancel the sessions holding them.
    pub cancel_blockers: Option<CancelPolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    /// The column as the catalog names it.
    pub column: String,
    pub expr: String,
}

/// The spec stored with a backfill job: everything a resume needs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    pub schema: String,
    pub table: String,
    pub key: Vec<String>,
    pub mode: Mode,
    #[serde(default)]
    pub set: Vec<Assignment>,
    pub condition: Option<String>,
    #[serde(default)]
    pub only_missing: bool,
    /// Delete mode: the backup table, quoted and qualified.
    pub backup: Option<String>,
    /// The table's row estimate when the job started (for the ETA).
    #[serde(default)]
    pub estimated_rows: i64,
    /// The throttle it was started with (see [`crate::batch::Throttle`]).
    #[serde(default)]
    pub throttle: crate::batch::Throttle,
}

impl Spec {
    /// The same work asked again (a migration's step after a crash).
    pub fn same_work(&self, other: &Spec) -> bool {
        self.mode == other.mode
            && self.set == other.set
            && self.condition == other.condition
            && self.only_missing == other.only_missing
            && self.backup == other.backup
    }
}

/// Progress, as the job goes.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    Started {
        job: i64,
        table: String,
        estimated_rows: i64,
    },
    Resumed {
        job: i64,
        table: String,
        rows_done: i64,
    },
    Batch {
        job: i64,
        rows_done: i64,
        rows_total: i64,
        rows_changed: i64,
        rows_per_sec: f64,
    },
    /// A batch gave up on a row lock held by the application; it is retried smaller.
    LockWait {
        job: i64,
        attempt: u32,
        rows: u64,
    },
    /// `--cancel-blockers-after` acted on (or left alone) a session holding rows a batch needs.
    BlockerCancelled {
        job: i64,
        cancellation: Box<stepwise_db::sessions::cancel::Cancellation>,
    },
    /// Something to say once, e.g. why no blocker will be cancelled.
    Note {
        job: i64,
        message: String,
    },
    /// Waiting: a standby replays more than `max_ms` behind.
    Throttled {
        job: i64,
        replica: String,
        lag_ms: u64,
        max_ms: u64,
    },
    /// Waiting: the server runs more than `max` statements (`measure`:
    /// PostgreSQL's active sessions, MySQL's Threads_running).
    Loaded {
        job: i64,
        running: u64,
        max: u64,
        measure: String,
    },
    Finished {
        job: i64,
        rows_done: i64,
        rows_changed: i64,
        secs: f64,
    },
}

pub type OnProgress<'a> = &'a (dyn Fn(&Progress) + Sync);

/// One batch: the key range after `lo` up to `hi` (to the end when None).
pub struct Batch<'a> {
    pub job: i64,
    pub table: &'a TableInfo,
    pub spec: &'a Spec,
    pub lo: Option<&'a [String]>,
    pub hi: Option<&'a [String]>,
    /// rows_done to record once this batch commits.
    pub rows_done: i64,
    pub lock_timeout: Duration,
    /// Set once batches have been held up by row locks in a row and
    /// `--cancel-blockers-after` was given: the engine watches the batch's
    /// wait and cancels its blockers when due, telling `report`.
    pub cancel: Option<&'a Cancel>,
    pub report: &'a (dyn Fn(CancelEvent) + Sync),
}

#[derive(Debug)]
pub enum BatchResult {
    /// Committed: `changed` rows updated or deleted.
    Done { changed: i64 },
    /// Not run: the job is no longer running (paused, cancelled) or another
    /// process moved its cursor; the state is returned.
    Stopped(String),
}

/// What the orchestration needs from a database; one implementation per
/// engine (SQL text, catalog queries, locking).
#[allow(async_fn_in_trait)] // used on the caller's task only
pub trait Db {
    fn dialect(&self) -> Dialect;
    /// The table named as the user wrote it (`orders`, `app.orders`).
    async fn table(&mut self, name: &str) -> Result<Option<TableInfo>, OnlineError>;
    /// `schema.table` quoted, to find the table again from a job's spec.
    fn qualified(&self, schema: &str, table: &str) -> String;
    /// Which of these called functions give a different value per call or per batch.
    async fn volatile(&mut self, calls: &[String]) -> Result<Vec<String>, OnlineError>;
    /// Plan the work without running it: a bad expression or condition fails
    /// here with the server's error, before any row changes. With `evaluate`,
    /// also compute it on the first rows, read only (never for expressions
    /// with side effects: a trial of `nextval()` advanced the sequence).
    async fn check(&mut self, table: &TableInfo, spec: &Spec, evaluate: bool) -> Result<(), DbError>;
    /// Create the backup table for delete mode (like the table, no
    /// constraints) unless it exists. `name` is quoted and qualified (see
    /// [`backup_name`]); returns it as the server spells it.
    async fn create_backup(&mut self, table: &TableInfo, name: &str) -> Result<String, DbError>;
    async fn ensure_jobs(&mut self) -> Result<(), OnlineError>;
    async fn create_job(&mut self, target: &str, spec: &serde_json::Value) -> Result<Job, OnlineError>;
    async fn job(&mut self, id: i64) -> Result<Option<Job>, OnlineError>;
    async fn jobs(&mut self, all: bool) -> Result<Vec<Job>, OnlineError>;
    async fn set_state(&mut self, id: i64, state: &str, error: Option<&str>) -> Result<(), OnlineError>;
    /// The key `rows` rows after `lo`, or None when fewer are left.
    async fn chunk_end(&mut self, table: &TableInfo, lo: Option<&[String]>, rows: u64) -> Result<Option<Vec<String>>, DbError>;
    /// How many rows have keys after `lo` (the last batch's size).
    async fn count_after(&mut self, table: &TableInfo, lo: Option<&[String]>) -> Result<i64, DbError>;
    /// The SQL one batch runs over a key range, for a dry run.
    fn describe(&self, table: &TableInfo, spec: &Spec, lo: Option<&[String]>, hi: Option<&[String]>) -> String;
    /// Run one batch and record it on the job row, in one transaction.
    async fn batch(&mut self, b: &Batch<'_>) -> Result<BatchResult, DbError>;
    /// How many statements the server runs now, and what that number is
    /// called (see [`crate::load`]).
    async fn load(&mut self) -> Result<(u64, &'static str), DbError>;
    /// Wait while a replica is more than `max` behind on job `job`'s
    /// writes (see [`crate::lag`]), at most `at_most`; false when it still is.
    async fn wait_for_replicas(
        &mut self,
        job: i64,
        max: Duration,
        at_most: Duration,
        on_wait: &mut (dyn FnMut(Duration, &str) + Send),
    ) -> Result<bool, OnlineError>;
}

pub const KIND: &str = "backfill";

/// The batch time where none is asked for: shorter than a copy's (see
/// [`crate::batch::DEFAULT_TARGET`]) because every row a batch updates stays
/// locked until it commits, and an application write to one waits for it
/// (on MySQL/MariaDB the whole key range is locked first, so every row of
/// the batch). In `cargo xtask bench backfill mysql` (a load updating random
/// rows) the load waited on row locks 17 times, 370 ms in all, with 50 ms
/// batches, and 4 to 9 times, 43 to 74 ms in all, with 20 ms batches, at
/// about the same rows/s (PostgreSQL counts no lock waits; its rows/s were the
/// same at both, 0.69 to 0.71 of one UPDATE's).
pub const BATCH_TIME: Duration = Duration::from_millis(20);

/// Check a request against the table and turn it into a spec; nothing is
/// written. Errors are the user's to fix (exit 2) unless the table cannot
/// be backfilled by key at all (exit 1).
pub async fn prepare<D: Db>(db: &mut D, req: &Request) -> Result<(TableInfo, Spec), OnlineError> {
    let dialect = db.dialect();
    let table = db.table(&req.table).await?.ok_or_else(|| OnlineError::Usage(format!("no table named {}", req.table)))?;
    if table.key.is_empty() {
        return Err(OnlineError::Refused(format!(
            "{} has neither a primary key nor a unique index on NOT NULL columns: backfill walks the table by key and cannot do it safely",
            req.table
        )));
    }
    let located = |what: &str, text: &str, (at, msg): (usize, String)| {
        OnlineError::Usage(format!("{what} `{text}`: {msg} (at character {})", at + 1))
    };
    let mode = if req.delete { Mode::Delete } else { Mode::Update };
    let mut set = Vec::new();
    match (mode, &req.set) {
        (Mode::Update, None) => return Err(OnlineError::Usage("say what to set with --set \"<column> = <expression>[, ...]\"".into())),
        (Mode::Delete, Some(_)) => return Err(OnlineError::Usage("--delete takes no --set: it deletes the rows matching --where".into())),
        (Mode::Delete, None) => {
            if req.condition.as_deref().is_none_or(|c| c.trim().is_empty()) {
                return Err(OnlineError::Usage(
                    "--delete needs --where \"<condition>\": backfill will not delete every row of a table".into(),
                ));
            }
        }
        (Mode::Update, Some(text)) => {
            for a in stepwise_sql::backfill::assignments(text, dialect).map_err(|e| located("--set", text, e))? {
                let Some(col) = find_column(&table, &a.column, dialect) else {
                    return Err(OnlineError::Usage(format!("--set: {} has no column {}", req.table, a.column)));
                };
                if table.key.contains(&col.name) {
                    return Err(OnlineError::Usage(format!(
                        "--set changes the key column {}: backfill walks the table by key, so the key must stay",
                        a.column
                    )));
                }
                if col.generated {
                    return Err(OnlineError::Usage(format!("--set: {} is a generated column; the database computes it", a.column)));
                }
                set.push(Assignment { column: col.name.clone(), expr: a.expr });
            }
        }
    }
    if req.backup_table.is_some() && mode != Mode::Delete {
        return Err(OnlineError::Usage("--backup-table goes with --delete".into()));
    }
    if req.only_missing && mode != Mode::Update {
        return Err(OnlineError::Usage("--only-missing goes with --set".into()));
    }
    let mut calls = Vec::new();
    for text in set.iter().map(|a| a.expr.as_str()).chain(req.condition.as_deref()) {
        calls.extend(stepwise_sql::backfill::calls(text, dialect).map_err(|e| located("expression", text, e))?);
    }
    let volatile = db.volatile(&calls).await?;
    {
        if !volatile.is_empty() && !req.allow_volatile {
            return Err(OnlineError::Usage(format!(
                "{} {} a different value on every call or every batch, so a rerun would change the rows again and a resumed backfill would not match the first half: use a fixed value, or pass --allow-volatile if that is what you want",
                volatile.iter().map(|f| format!("{f}()")).collect::<Vec<_>>().join(", "),
                if volatile.len() == 1 { "gives" } else { "give" }
            )));
        }
    }
    let condition = req.condition.as_ref().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if let Some(c) = &condition {
        stepwise_sql::backfill::self_contained(c, dialect).map_err(|e| located("--where", c, e))?;
    }
    for a in &set {
        stepwise_sql::backfill::self_contained(&a.expr, dialect).map_err(|e| located("--set", &a.expr, e))?;
    }
    let spec = Spec {
        schema: table.schema.clone(),
        table: table.name.clone(),
        key: table.key.clone(),
        mode,
        set,
        condition,
        only_missing: req.only_missing,
        backup: None,
        estimated_rows: table.estimated_rows,
        throttle: Default::default(),
    };
    db.check(&table, &spec, volatile.is_empty())
        .await
        .map_err(|e| OnlineError::Usage(format!("the backfill does not apply to {}: {e}", req.table)))?;
    Ok((table, spec))
}

/// The backup table's name as the user wrote it, read as a name (never as
/// SQL text: `purged (id int); DROP TABLE x; --` is refused) and quoted;
/// without a schema it goes beside the table.
fn backup_name<D: Db>(db: &D, req: &Request, table: &TableInfo) -> Result<Option<String>, OnlineError> {
    let Some(text) = &req.backup_table else { return Ok(None) };
    let name = stepwise_sql::statement::parse_qualified_name(text, db.dialect())
        .map_err(|e| OnlineError::Usage(format!("--backup-table: {e}")))?;
    Ok(Some(db.qualified(name.schema.as_deref().unwrap_or(&table.schema), &name.name)))
}

/// What a dry run shows: the request checked against the table, and the
/// statement of the first batch as it would run.
pub async fn plan<D: Db>(db: &mut D, req: &Request, opts: &Options) -> Result<String, OnlineError> {
    let (table, mut spec) = prepare(db, req).await?;
    spec.backup = backup_name(db, req, &table)?;
    let rows = crate::batch::Sizer::new(opts.batch.clone(), BATCH_TIME).rows();
    let hi = db.chunk_end(&table, None, rows).await?;
    let what = match spec.mode {
        Mode::Update => "updates the rows whose targets differ",
        Mode::Delete => "deletes the matching rows",
    };
    Ok(format!(
        "-- {}.{} (about {} rows), walked by key ({}); each batch is one transaction that {what} in its key range.\n-- The first batch{}:\n{};",
        table.schema,
        table.name,
        table.estimated_rows,
        table.key.join(", "),
        if opts.batch.fixed_rows.is_some() { "" } else { " (batches then grow or shrink toward the target time)" },
        db.describe(&table, &spec, None, hi.as_deref())
    ))
}

/// Start a job and run it to the end (or until paused or cancelled).
pub async fn start<D: Db>(db: &mut D, req: &Request, opts: &Options, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    let (table, mut spec) = prepare(db, req).await?;
    if let Some(name) = backup_name(db, req, &table)? {
        let backup = db.create_backup(&table, &name).await.map_err(|e| OnlineError::Usage(format!("backup table {name}: {e}")))?;
        spec.backup = Some(backup);
        // The expressions were tried already: this checks the backup table.
        db.check(&table, &spec, false)
            .await
            .map_err(|e| OnlineError::Usage(format!("backup table {name} does not fit {}: {e}", req.table)))?;
    }
    start_spec(db, &table, &spec, opts, progress).await
}

/// Start a job for a checked spec.
pub async fn start_spec<D: Db>(
    db: &mut D,
    table: &TableInfo,
    spec: &Spec,
    opts: &Options,
    progress: OnProgress<'_>,
) -> Result<Job, OnlineError> {
    db.ensure_jobs().await?;
    let target = format!("{}.{}", table.schema, table.name);
    let spec = Spec { throttle: crate::batch::Throttle::of(&opts.batch), ..spec.clone() };
    let job = db.create_job(&target, &serde_json::to_value(&spec).unwrap_or_default()).await?;
    progress(&Progress::Started { job: job.id, table: target, estimated_rows: table.estimated_rows });
    run(db, job.id, opts, progress).await
}

/// A step of a migration: resume the unfinished job on the same table that
/// does the same work (an interrupted run of this step), else start one.
/// An unfinished job doing other work on the table is someone else's, and
/// is left alone.
pub async fn start_or_resume<D: Db>(db: &mut D, req: &Request, opts: &Options, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    let (table, spec) = prepare(db, req).await?;
    let target = format!("{}.{}", table.schema, table.name);
    if let Some(job) = db.jobs(false).await?.into_iter().find(|j| j.target == target) {
        if spec_of(&job)?.same_work(&spec) {
            return resume(db, &job, opts, progress).await;
        }
        return Err(OnlineError::Refused(format!(
            "{target} has an unfinished backfill job {} doing other work: `stepwise backfill resume --job {}` completes it, or `stepwise backfill cancel --job {}` gives it up",
            job.id, job.id, job.id
        )));
    }
    start_spec(db, &table, &spec, opts, progress).await
}

pub fn spec_of(job: &Job) -> Result<Spec, OnlineError> {
    serde_json::from_value(job.spec.clone()).map_err(|e| OnlineError::Refused(format!("job {} has an unreadable spec: {e}", job.id)))
}

/// Run a job batch by batch from its cursor until the table ends or the job
/// stops being `running`.
pub async fn run<D: Db>(db: &mut D, id: i64, opts: &Options, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    let job = db.job(id).await?.ok_or_else(|| OnlineError::Usage(format!("no backfill job {id}")))?;
    let spec = spec_of(&job)?;
    let mut opts = opts.clone();
    spec.throttle.fill(&mut opts.batch);
    let opts = &opts;
    let table = db
        .table(&db.qualified(&spec.schema, &spec.table))
        .await?
        .ok_or_else(|| OnlineError::Refused(format!("job {id}: {}.{} is gone", spec.schema, spec.table)))?;
    if table.key != spec.key {
        return Err(OnlineError::Refused(format!(
            "job {id}: the key of {} changed from ({}) to ({}) since the job started; cancel it and start again",
            job.target,
            spec.key.join(", "),
            table.key.join(", ")
        )));
    }
    let total = table.estimated_rows.max(job.rows_done);
    let mut cursor = job.cursor.clone();
    let (mut done, mut changed) = (job.rows_done, job.rows_changed);
    let mut sizer = Sizer::new(opts.batch.clone(), BATCH_TIME);
    let started = Instant::now();
    let (mut since, mut last_report, mut attempt) = (0i64, Instant::now(), 0u32);
    // Since when batches have been held up by row locks, with --cancel-blockers-after.
    let mut held_up: Option<Cancel> = None;
    // Before the first batch too: no row changes while the replicas are
    // behind, or cannot be measured.
    replicas(db, id, opts, progress).await.or_else(|e| stopped(e, id))?;
    loop {
        let rows = sizer.rows();
        let t = Instant::now();
        let hi = db.chunk_end(&table, cursor.as_deref(), rows).await?;
        // A batch that ends at a key covers `rows` rows; the last one, whatever is left.
        let scanned = match hi {
            Some(_) => rows as i64,
            None => db.count_after(&table, cursor.as_deref()).await?,
        };
        let report = |e: CancelEvent| match e {
            CancelEvent::Acted(cancellation) => progress(&Progress::BlockerCancelled { job: id, cancellation }),
            CancelEvent::Note(message) => progress(&Progress::Note { job: id, message }),
        };
        let batch = Batch {
            job: id,
            table: &table,
            spec: &spec,
            lo: cursor.as_deref(),
            hi: hi.as_deref(),
            rows_done: done + scanned,
            lock_timeout: sizer.lock_timeout(),
            cancel: held_up.as_ref(),
            report: &report,
        };
        match db.batch(&batch).await {
            Ok(BatchResult::Done { changed: n }) => {
                attempt = 0;
                held_up = None;
                done += scanned;
                changed += n;
                since += scanned.max(n);
                sizer.done(rows, t.elapsed());
                let Some(hi) = hi else {
                    let secs = started.elapsed().as_secs_f64();
                    progress(&Progress::Finished { job: id, rows_done: done, rows_changed: changed, secs });
                    return db.job(id).await?.ok_or_else(|| OnlineError::Refused(format!("job {id} vanished")));
                };
                cursor = Some(hi);
            }
            Ok(BatchResult::Stopped(state)) => {
                let job = db.job(id).await?.ok_or_else(|| OnlineError::Refused(format!("job {id} vanished")))?;
                if state == "running" {
                    return Err(OnlineError::Refused(format!(
                        "job {id} moved on without this process (its cursor changed): another `stepwise backfill resume` is running it"
                    )));
                }
                return Ok(job);
            }
            Err(e) if e.is_retryable() => {
                // The application holds a row this batch needs: it wins, we
                // come back smaller after a moment.
                attempt += 1;
                sizer.lock_timed_out();
                if held_up.is_none() {
                    held_up = opts.cancel_blockers.as_ref().map(Cancel::starting_now);
                }
                progress(&Progress::LockWait { job: id, attempt, rows: sizer.rows() });
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => {
                let at = cursor.as_ref().map(|c| format!("after key ({})", c.join(", "))).unwrap_or_else(|| "from the start".into());
                let why = format!("the batch {at} failed: {e}");
                db.set_state(id, "failed", Some(&why)).await?;
                return Err(OnlineError::Refused(format!(
                    "job {id} failed: {why}; the batches before it are kept (`stepwise backfill resume` retries it)"
                )));
            }
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            let rate = since as f64 / started.elapsed().as_secs_f64().max(1e-3);
            progress(&Progress::Batch { job: id, rows_done: done, rows_total: total.max(done), rows_changed: changed, rows_per_sec: rate });
            last_report = Instant::now();
        }
        let pause = sizer.pause(rows, t.elapsed());
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        replicas(db, id, opts, progress).await.or_else(|e| stopped(e, id))?;
        loaded(db, id, opts, progress).await?;
    }
}

/// Wait while the server runs more statements than `--max-load`; pause the
/// job at `--critical-load` (its batches kept, for `resume`). A pause or
/// cancel is seen at the next batch.
async fn loaded<D: Db>(db: &mut D, id: i64, opts: &Options, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    use crate::load::{self, Verdict};
    loop {
        let (running, measure) = db.load().await?;
        match load::judge(running, &opts.batch) {
            Verdict::Go => return Ok(()),
            Verdict::Critical(c) => {
                let why = load::critical(running, measure, c);
                db.set_state(id, "paused", Some(&why)).await?;
                return Err(OnlineError::Refused(format!("{why}; `stepwise backfill resume` continues it once the load is down")));
            }
            Verdict::Wait(max) => {
                progress(&Progress::Loaded { job: id, running, max, measure: measure.into() });
                tokio::time::sleep(Duration::from_secs(1)).await;
                if db.job(id).await?.is_none_or(|j| j.state != "running") {
                    return Ok(());
                }
            }
        }
    }
}

/// Why the replicas stopped job `id`, with the way on: the job stays
/// `running` with its batches kept, for `resume`.
fn stopped(e: OnlineError, id: i64) -> Result<(), OnlineError> {
    Err(OnlineError::Refused(format!(
        "job {id} stopped before its next batch: {e}\n(the batches before it are kept; `stepwise backfill resume` continues it)"
    )))
}

/// Wait while a replica is too far behind (`--max-replica-lag`); a pause or
/// cancel is seen every few seconds of a long wait.
async fn replicas<D: Db>(db: &mut D, id: i64, opts: &Options, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    let Some(max) = opts.batch.max_replica_lag else { return Ok(()) };
    let max_ms = max.as_millis() as u64;
    let mut report = |behind: Duration, replica: &str| {
        progress(&Progress::Throttled { job: id, replica: replica.into(), lag_ms: behind.as_millis() as u64, max_ms })
    };
    while !db.wait_for_replicas(id, max, Duration::from_secs(3), &mut report).await? {
        if db.job(id).await?.is_none_or(|j| j.state != "running") {
            break;
        }
    }
    Ok(())
}

/// The job to act on: the one given, or the only unfinished backfill job.
pub async fn pick<D: Db>(db: &mut D, id: Option<i64>) -> Result<Job, OnlineError> {
    if let Some(id) = id {
        return db.job(id).await?.ok_or_else(|| OnlineError::Usage(format!("no backfill job {id}")));
    }
    crate::jobs::the_only(KIND, db.jobs(false).await?)
}

/// Continue a paused, interrupted or failed job from its cursor.
pub async fn resume<D: Db>(db: &mut D, job: &Job, opts: &Options, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    match job.state.as_str() {
        "running" => {}
        "paused" | "failed" => db.set_state(job.id, "running", None).await?,
        other => return Err(OnlineError::Refused(format!("job {} is {other}: nothing to resume", job.id))),
    }
    progress(&Progress::Resumed { job: job.id, table: job.target.clone(), rows_done: job.rows_done });
    run(db, job.id, opts, progress).await
}

/// Ask a running job to stop after its current batch.
pub async fn pause<D: Db>(db: &mut D, job: &Job) -> Result<(), OnlineError> {
    if job.state != "running" {
        return Err(OnlineError::Refused(format!("job {} is {}: only a running job can be paused", job.id, job.state)));
    }
    db.set_state(job.id, "paused", None).await
}

/// Give a job up: batches already committed stay (they are ordinary
/// updates or deletes); the next batch is never run.
pub async fn cancel<D: Db>(db: &mut D, job: &Job) -> Result<(), OnlineError> {
    if matches!(job.state.as_str(), "finished" | "cancelled") {
        return Err(OnlineError::Refused(format!("job {} is {}: nothing to cancel", job.id, job.state)));
    }
    db.set_state(job.id, "cancelled", None).await
}

/// The column a name as written refers to: a quoted name exactly, an
/// unquoted one folded as the engine folds it (PostgreSQL to lower case,
/// MySQL ignores case for column names).
fn find_column<'a>(table: &'a TableInfo, written: &str, dialect: Dialect) -> Option<&'a crate::osc::table::Column> {
    let name = unquote(written);
    let quoted = name != written.trim();
    table.columns.iter().find(|c| match (quoted, dialect) {
        (true, Dialect::Postgres) => c.name == name,
        (false, Dialect::Postgres) => c.name == name.to_lowercase(),
        _ => c.name.eq_ignore_ascii_case(&name),
    })
}

/// A name with its quotes removed.
fn unquote(column: &str) -> String {
    let c = column.trim();
    for q in ['"', '`'] {
        if c.len() >= 2 && c.starts_with(q) && c.ends_with(q) {
            let inner = &c[1..c.len() - 1];
            return inner.replace(&format!("{q}{q}"), &q.to_string());
        }
    }
    c.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_columns_are_unquoted_for_the_catalog() {
        assert_eq!(unquote("\"Total \"\"x\"\"\""), "Total \"x\"");
        assert_eq!(unquote("`a``b`"), "a`b");
        assert_eq!(unquote(" total "), "total");
    }
}
