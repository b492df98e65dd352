//! `stepwise osc`: change a large PostgreSQL table online.
//!
//! 1. A shadow table is created like the original and the ALTER is applied to
//!    it (it is empty: nothing waits).
//! 2. Statement-level triggers on the original log the key of every row a
//!    change touches into a change log, in the application's own
//!    transaction (one narrow row per key, no lock anyone waits on); they
//!    never raise, a change they cannot log marks the job failed.
//! 3. Rows are copied in keyset batches, each one statement that inserts a
//!    key range into the shadow and forgets the log entries for that range
//!    that its snapshot sees. Logged changes to copied keys are replayed by
//!    key: the shadow's rows deleted and the original's current rows
//!    inserted, in one snapshot (the rule is in `replay`).
//! 4. Before the swap, every key range is compared (count and checksum, the
//!    original's columns converted to the shadow's types) in one snapshot per
//!    range, leaving out keys still in the log; any difference is a real one
//!    and stops the job with the original untouched.
//!    Unique indexes the ALTER adds, and plain secondary indexes, are built
//!    after the copy (see `index`): a duplicate fails the job and never an
//!    application's write, and no b-tree is filled row by row.
//! 5. The swap replays the last logged changes and renames both tables in
//!    one short transaction under lock_timeout with retries, and carries over views, sequences, owner,
//!    grants, comments, index and constraint names, application triggers,
//!    row-level security, replica identity, publications and foreign keys
//!    (re-added NOT VALID, validated after the swap).
//! 6. The old table is kept, and a reverse trigger writes every change to
//!    the new table into it, until `osc finish` drops it or `osc revert`
//!    swaps back. A change it cannot write back closes the way back (and
//!    says why) instead of failing the application's write.
//!
//! Every step records its progress in `<schema>.jobs` in the same
//! transaction as its work: `osc status` explains a job after a crash and
//! `osc resume` or `osc cancel` completes it.

mod carry;
mod copy;
pub mod engine;
mod index;
pub mod mysql;
mod replay;
mod revert;
pub mod sql;
pub mod states;
mod swap;
pub mod table;
mod verify;

use crate::batch::BatchOptions;
use crate::jobs::{self, Job};
use crate::OnlineError;
use sql::Names;
use std::time::Duration;
use stepwise_db::pg::PgConn;
use table::TableInfo;

/// What `stepwise osc <table> --alter ...` asks for.
#[derive(Debug, Clone)]
pub struct OscRequest {
    pub table: String,
    /// ALTER TABLE clauses, applied to the shadow.
    pub alter: String,
    /// MySQL/MariaDB: point other tables' foreign keys at the new table
    /// after the swap (without it such a table is refused).
    pub rebuild_child_keys: bool,
}

/// How the job runs (flags and configuration; not stored with the job).
#[derive(Debug, Clone)]
pub struct OscOptions {
    /// Schema of stepwise's state (`stepwise`).
    pub state_schema: String,
    pub batch: BatchOptions,
    /// Lock timeout for statements that lock the live table (triggers, swap).
    pub lock_timeout: Duration,
    pub retries: u32,
    /// Rows per verification chunk (one snapshot each).
    pub verify_chunk: u64,
    /// Run even though a publication publishes all tables (see [`publishes_all`]).
    pub allow_all_tables_publication: bool,
    /// `--cancel-blockers-after`: cancel the sessions that block a statement
    /// locking the live table (triggers, swap) once it has waited this long.
    pub cancel_blockers: Option<stepwise_db::sessions::cancel::CancelPolicy>,
    /// How many server sessions the job keeps busy at once.
    pub sessions: Sessions,
}

/// How many server sessions (backends, with their parallel workers) osc
/// keeps busy at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sessions {
    /// Two while no other client session has run a statement in the last
    /// second ([`crate::load::Foreground`]), else one.
    #[default]
    Auto,
    /// One: the copy, then each comparison, one statement at a time, and no
    /// parallel workers (gentlest on a small server: the ranges are
    /// compared after the copy instead of beside it).
    One,
    /// Two: a second session compares the ranges behind the copy, and both
    /// tables of a comparison are read at once; PostgreSQL may add parallel
    /// workers (fastest on a server with cores to spare).
    Two,
}

impl Default for OscOptions {
    fn default() -> Self {
        OscOptions {
            state_schema: "stepwise".into(),
            batch: BatchOptions::default(),
            lock_timeout: Duration::from_secs(2),
            retries: 10,
            verify_chunk: 100_000,
            allow_all_tables_publication: false,
            cancel_blockers: None,
            sessions: Sessions::Auto,
        }
    }
}

/// Progress, as the job goes.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    Started {
        job: i64,
        table: String,
        shadow: String,
        estimated_rows: i64,
    },
    Copied {
        job: i64,
        rows_done: i64,
        rows_total: i64,
        rows_per_sec: f64,
    },
    /// The copy waits: the server runs more than `max` statements
    /// (`threads_running`: MySQL's Threads_running, PostgreSQL's active
    /// sessions; `measure` says which).
    Loaded {
        job: i64,
        threads_running: u64,
        max: u64,
        measure: String,
    },
    /// The copy waits: a standby replays more than `max_ms` behind.
    Throttled {
        job: i64,
        replica: String,
        lag_ms: u64,
        max_ms: u64,
    },
    IndexBuilt {
        job: i64,
        index: String,
        ms: u64,
    },
    Verified {
        job: i64,
        rows: i64,
        chunks: u64,
    },
    LockWait {
        job: i64,
        what: String,
        attempt: u32,
        blockers: Vec<String>,
    },
    /// `--cancel-blockers-after` acted on (or left alone) a session blocking a lock.
    BlockerCancelled {
        job: i64,
        cancellation: Box<stepwise_db::sessions::cancel::Cancellation>,
    },
    /// Something to say once, e.g. why no blocker will be cancelled.
    Note {
        job: i64,
        message: String,
    },
    Swapped {
        job: i64,
        table: String,
        old: String,
        lock_held_ms: u64,
    },
    Validated {
        job: i64,
        foreign_keys: Vec<String>,
    },
    Reverted {
        job: i64,
        table: String,
        lock_held_ms: u64,
    },
    /// The table's own foreign keys have their names back (MySQL/MariaDB `finish`).
    ForeignKeysRenamed {
        job: i64,
        foreign_keys: Vec<String>,
    },
    /// Other tables' foreign keys now reference `table` (MySQL/MariaDB).
    ChildKeysMoved {
        job: i64,
        table: String,
        foreign_keys: Vec<String>,
    },
}

pub type OnProgress<'a> = &'a (dyn Fn(&Progress) + Sync);

/// The spec stored with an osc job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    pub schema: String,
    pub table: String,
    pub alter: String,
    pub key: Vec<String>,
    /// Unique indexes the ALTER adds, built after the copy.
    #[serde(default)]
    pub later: Vec<index::LaterIndex>,
    /// After the swap: the old table's index names, as kept and as they were.
    #[serde(default)]
    pub index_names: Vec<(String, String)>,
    /// Foreign keys moved NOT VALID by the swap or revert, still to validate.
    #[serde(default)]
    pub validate: Vec<carry::Pending>,
    /// The throttle it was started with (see [`crate::batch::Throttle`]).
    #[serde(default)]
    pub throttle: crate::batch::Throttle,
}

impl Spec {
    fn names(&self, opts: &OscOptions, job: i64) -> Names {
        Names::new(&self.schema, &self.table, &opts.state_schema, job)
    }
}

fn spec_of(job: &Job) -> Result<Spec, OnlineError> {
    states::spec_of(job)
}

/// What a dry run shows: the statements osc would run first.
pub async fn plan(conn: &PgConn, req: &OscRequest, opts: &OscOptions) -> Result<String, OnlineError> {
    stepwise_sql::osc_alter::check_osc_alter(&req.alter).map_err(OnlineError::Usage)?;
    let info = checked_table(conn, &req.table).await?;
    let n = Names::new(&info.schema, &info.name, &opts.state_schema, 0);
    Ok(format!(
        "-- {} ({} rows estimated), key ({})\n{}\n-- then: capture triggers on {}, copy in batches, verify, swap",
        n.original(),
        info.estimated_rows,
        info.key.join(", "),
        sql::create_shadow(&n, &req.alter),
        n.original()
    ))
}

async fn checked_table(conn: &PgConn, name: &str) -> Result<TableInfo, OnlineError> {
    let info = table::load(conn, name).await?.ok_or_else(|| OnlineError::Usage(format!("no table named {name}")))?;
    if info.relkind != "r" {
        return Err(OnlineError::Refused(format!(
            "{name} is not a plain table (relkind {}): osc copies ordinary tables; partitioned tables are changed partition by partition",
            info.relkind
        )));
    }
    if info.key.is_empty() {
        return Err(OnlineError::Refused(format!(
            "{name} has neither a primary key nor a unique index on NOT NULL columns: osc copies by key and cannot copy it safely"
        )));
    }
    let blockers = table::unsupported(conn, info.oid).await?;
    if !blockers.is_empty() {
        return Err(OnlineError::Refused(format!(
            "osc cannot carry these over to the new table yet, and will not drop them: {}",
            blockers.join("; ")
        )));
    }
    Ok(info)
}

/// Whether the next phase may keep a second session busy (and let
/// PostgreSQL add parallel workers); with one, the session `conn` gets no
/// parallel workers until [`all_cores`] gives them back.
async fn spare_cores(
    conn: &PgConn,
    opts: &OscOptions,
    foreground: &mut crate::load::Foreground,
    job: i64,
    progress: OnProgress<'_>,
) -> Result<bool, OnlineError> {
    let two = match opts.sessions {
        Sessions::One => false,
        Sessions::Two => true,
        Sessions::Auto => !foreground.pg_in_use(conn).await?,
    };
    if !two {
        if opts.sessions == Sessions::Auto {
            one_session_note(foreground, job, progress);
        }
        conn.batch("SET max_parallel_workers_per_gather = 0; SET max_parallel_maintenance_workers = 0").await?;
    }
    Ok(two)
}

/// Say once per run that `--sessions auto` went down to one session, and why.
fn one_session_note(foreground: &mut crate::load::Foreground, job: i64, progress: OnProgress<'_>) {
    if foreground.first_note() {
        progress(&Progress::Note {
            job,
            message: "other client sessions are running statements: osc works with one session while they do \
                      (the copied ranges are compared after the copy, without parallel workers; --sessions 2 keeps two)"
                .into(),
        });
    }
}

/// The session's parallel workers back, after [`spare_cores`].
async fn all_cores(conn: &PgConn) -> Result<(), OnlineError> {
    Ok(conn.batch("RESET max_parallel_workers_per_gather; RESET max_parallel_maintenance_workers").await?)
}

/// A publication `FOR ALL TABLES` publishes every table osc creates: the
/// copy, the change log and, after the swap, the old table. Its subscribers
/// do not have them, and a subscriber's apply stops at the first change to a
/// table it does not have (42P01) until someone creates it there. So osc
/// refuses unless told that the subscribers are ready (or that there are
/// none that apply, such as a CDC connector).
async fn publishes_all(conn: &PgConn, opts: &OscOptions) -> Result<(), OnlineError> {
    let all: Option<String> = conn
        .client
        .query_one("SELECT string_agg(quote_ident(pubname), ', ' ORDER BY pubname) FROM pg_publication WHERE puballtables", &[])
        .await?
        .get(0);
    match all {
        Some(names) if !opts.allow_all_tables_publication => Err(OnlineError::Refused(format!(
            "publication {names} publishes all tables: the copy osc makes, its change log and, after the swap, the old table \
             would be streamed to its subscribers, and a subscriber's apply stops at a table it does not have; publish a list of \
             tables instead, or make sure every subscriber can take them and run again with --allow-all-tables-publication \
             (`migrate --online-allow-all-tables-publication`)"
        ))),
        _ => Ok(()),
    }
}

/// Start a job and run it to the swap.
pub async fn start(conn: &PgConn, req: &OscRequest, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    // The clauses are checked before anything is read or written: they are
    // pasted after `ALTER TABLE <shadow>` only once they are exactly that.
    stepwise_sql::osc_alter::check_osc_alter(&req.alter).map_err(OnlineError::Usage)?;
    let info = checked_table(conn, &req.table).await?;
    publishes_all(conn, opts).await?;
    jobs::ensure(conn, &opts.state_schema).await?;
    let mut spec = Spec {
        schema: info.schema.clone(),
        table: info.name.clone(),
        alter: req.alter.clone(),
        key: info.key.clone(),
        later: vec![],
        index_names: vec![],
        validate: vec![],
        throttle: crate::batch::Throttle::of(&opts.batch),
    };
    let target = format!("{}.{}", info.schema, info.name);
    // The job, the shadow and its ALTER in one transaction: a bad ALTER
    // leaves nothing, and a kill leaves either no job or a job whose shadow
    // and change log exist (which `resume` continues and `cancel` removes).
    conn.batch("BEGIN").await?;
    let job =
        match jobs::create(conn, &opts.state_schema, "osc", &target, "copying", &serde_json::to_value(&spec).unwrap_or_default()).await {
            Ok(job) => job,
            Err(e) => {
                let _ = conn.batch("ROLLBACK").await;
                return Err(e);
            }
        };
    let n = spec.names(opts, job.id);
    let created = format!("{};\n{}", sql::create_shadow(&n, &req.alter), sql::create_log(&n, &info, &info.key));
    if let Err(e) = conn.batch(&created).await {
        let _ = conn.batch("ROLLBACK").await;
        return Err(OnlineError::Usage(format!("the ALTER does not apply to {target}: {e}")));
    }
    let aside = async {
        // The ALTER must keep the key: refused here, it leaves nothing.
        copy::common_columns(conn, &n, &info, &req.alter).await?;
        let shadow: u32 = conn.client.query_one("SELECT to_regclass($1)::oid", &[&n.shadow_q()]).await?.get(0);
        spec.later = index::set_aside(conn, &n, info.oid, shadow).await?;
        jobs::set_spec(conn, &opts.state_schema, job.id, &serde_json::to_value(&spec).unwrap_or_default()).await
    }
    .await;
    if let Err(e) = aside {
        let _ = conn.batch("ROLLBACK").await;
        return Err(e);
    }
    // Taken before the commit makes the job visible: no `resume` can start
    // working it between the two.
    jobs::claim(conn, &opts.state_schema, job.id).await?;
    conn.batch("COMMIT").await?;
    progress(&Progress::Started { job: job.id, table: target, shadow: n.shadow.clone(), estimated_rows: info.estimated_rows });
    if let Err(e) = copy::install_triggers(conn, &n, &spec.key, opts, progress).await {
        // Nothing has been copied: remove the shadow rather than leave a job
        // that could only be cancelled.
        conn.batch(&format!("DROP TABLE IF EXISTS {};\n{};\n{}", n.shadow_q(), sql::drop_log(&n), sql::drop_functions(&n))).await?;
        jobs::set_state(conn, &opts.state_schema, job.id, "cancelled", Some(&e.to_string())).await?;
        return Err(OnlineError::Refused(format!("{e}; nothing was left behind")));
    }
    run(conn, job.id, opts, progress).await
}

/// Continue a job from where its row says it stopped, as the only process
/// working it (see [`jobs::claim`]).
pub async fn run(conn: &PgConn, id: i64, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    jobs::claim(conn, &opts.state_schema, id).await?;
    let result = run_claimed(conn, id, opts, progress).await;
    let _ = jobs::release(conn, &opts.state_schema, id).await;
    result
}

async fn run_claimed(conn: &PgConn, id: i64, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    // Ranges verified while the copy ran (in this process only: a job
    // resumed elsewhere verifies them all again).
    let mut checked = verify::Checked::default();
    // What the copy saw of the foreground, for the phases after it.
    let mut foreground = crate::load::Foreground::default();
    loop {
        let job = jobs::get(conn, &opts.state_schema, id).await?.ok_or_else(|| OnlineError::Usage(format!("no osc job {id}")))?;
        let spec = spec_of(&job)?;
        let mut stored = opts.clone();
        spec.throttle.fill(&mut stored.batch);
        let opts = &stored;
        let n = spec.names(opts, job.id);
        // The replayed keys' table, for a job started before it existed
        // (a job whose log is gone fails in the copy).
        let logged: bool = conn.client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&n.log()]).await?.get(0);
        if logged && matches!(job.state.as_str(), "copying" | "indexing" | "verifying" | "ready") {
            conn.batch(&sql::create_replayed(&n)).await?;
        }
        match job.state.as_str() {
            "copying" => copy::copy(conn, &job, &spec, &n, opts, &mut checked, &mut foreground, progress).await?,
            "indexing" => index::build(conn, &job, &spec, &n, opts, &mut foreground, progress).await?,
            "verifying" => verify::verify(conn, &job, &spec, &n, opts, &mut checked, &mut foreground, progress).await?,
            "ready" => swap::swap(conn, &job, &spec, &n, opts, progress).await?,
            // Foreign keys moved by a swap or revert that crashed before validating them.
            "swapped" | "reverted" if !spec.validate.is_empty() => swap::finish_validation(conn, &job, spec, &n, opts, progress).await?,
            _ => return Ok(job),
        }
    }
}

/// The job to act on: the one given, or the only unfinished osc job.
pub async fn pick(conn: &PgConn, opts: &OscOptions, id: Option<i64>) -> Result<Job, OnlineError> {
    if let Some(id) = id {
        return jobs::get(conn, &opts.state_schema, id).await?.ok_or_else(|| OnlineError::Usage(format!("no osc job {id}")));
    }
    jobs::the_only("osc", jobs::list(conn, &opts.state_schema, "osc", false).await?)
}

/// Resume a paused, interrupted or failed-to-swap job.
pub async fn resume(conn: &PgConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    // Foreign keys moved by a swap or revert that a crash kept from validating.
    let validating = matches!(job.state.as_str(), "swapped" | "reverted") && !spec_of(job)?.validate.is_empty();
    if !validating && states::resumable(job)? {
        jobs::set_state(conn, &opts.state_schema, job.id, "copying", None).await?;
    }
    run(conn, job.id, opts, progress).await
}

/// Ask a running job to stop after its current batch.
pub async fn pause(conn: &PgConn, job: &Job, opts: &OscOptions) -> Result<(), OnlineError> {
    states::pausable(job)?;
    jobs::set_state(conn, &opts.state_schema, job.id, "paused", None).await
}

/// Remove everything a job made before its swap; the original is untouched.
pub async fn cancel(conn: &PgConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    states::cancellable(job)?;
    let spec = spec_of(job)?;
    let n = spec.names(opts, job.id);
    // Mark first: a running copy stops at its next batch.
    jobs::set_state(conn, &opts.state_schema, job.id, "cancelling", None).await?;
    swap::locked(conn, opts, job.id, &n.original(), "drop the capture triggers", &sql::drop_triggers(&n, &n.original()), progress).await?;
    conn.batch(&format!("DROP TABLE IF EXISTS {};\n{};\n{}", n.shadow_q(), sql::drop_log(&n), sql::drop_functions(&n))).await?;
    jobs::set_state(conn, &opts.state_schema, job.id, "cancelled", None).await
}

/// After the swap: drop the old table (the change is kept).
pub async fn finish(conn: &PgConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    states::finishable(job)?;
    jobs::claim(conn, &opts.state_schema, job.id).await?;
    let spec = spec_of(job)?;
    let n = spec.names(opts, job.id);
    let old = n.qualified(&n.old);
    let sql = format!("{}\nDROP TABLE IF EXISTS {old};\n{}", sql::drop_reverse_triggers(&n), sql::drop_functions(&n));
    let result = async {
        swap::locked(conn, opts, job.id, &n.original(), "drop the reverse trigger and the old table", &sql, progress).await?;
        jobs::set_state(conn, &opts.state_schema, job.id, "finished", None).await
    }
    .await;
    let _ = jobs::release(conn, &opts.state_schema, job.id).await;
    result
}

/// After the swap, while the old table is kept: swap back, with every row
/// written since.
pub async fn revert(conn: &PgConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    jobs::claim(conn, &opts.state_schema, job.id).await?;
    let spec = spec_of(job)?;
    let n = spec.names(opts, job.id);
    let result = revert::revert(conn, job, &spec, &n, opts, progress).await;
    let _ = jobs::release(conn, &opts.state_schema, job.id).await;
    result
}
