//! osc on MySQL/MariaDB: the same job states as PostgreSQL's (copying,
//! verifying, ready, swapped, finished; paused, failed, cancelled), kept in
//! `<prefix>_jobs`.
//!
//! 1. [`preflight`]: the clauses, the table, child foreign keys, triggers,
//!    and duplicates for a new unique key, before anything is created.
//! 2. The job row, then the shadow (`CREATE TABLE ... LIKE`, the ALTER
//!    applied to it while it is empty) and the forward [`capture`] triggers.
//! 3. [`copy`] in key ranges while a second session [`verify`]s the ranges
//!    behind it; the rest verified, the reverse triggers, then [`swap`] with
//!    one atomic RENAME and, with `--rebuild-child-keys`, other tables'
//!    foreign keys pointed at the new table ([`foreign_keys`]); `finish` drops
//!    the old table, `revert` swaps back with every change made since.
//!
//! Each step is recorded in the job row in the same transaction as its
//! work where MySQL allows it (DDL commits on its own, so each DDL step is
//! written to be repeated): `status` explains a job after a crash, `resume`
//! continues it, `cancel` removes what it made. One process works a job at
//! a time (a named lock held by its session, released when it ends).
//! Not built yet on MySQL: carrying the table's own triggers and foreign
//! keys; both are refused.

pub mod capture;
mod copy;
mod foreign_keys;
pub mod preflight;
mod swap;
mod verify;

use super::{OnProgress, OscOptions, OscRequest, Progress};
use crate::backfill::mysql::MyDb;
use crate::backfill::Db;
use crate::jobs::Job;
use crate::jobs_mysql as jobs;
use crate::osc::table::TableInfo;
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use stepwise_db::mysql::{quote_ident as qi, MyConn};
use stepwise_db::DbError;

/// The shadow's name for a job: `_sw<job>_<table>_new`, cut to MySQL's 64
/// characters.
pub fn shadow_name(table: &str, job: i64) -> String {
    helper(table, job, "new")
}

/// A job's table: the table's name, then `_sw<job>_<what>`. The name
/// starts with the table's so that it sorts after it: a multi-table RENAME
/// takes its metadata locks in name order, and when it held a helper
/// table's before the table's, a statement already inside the table
/// failed on the helper's name ("Table ... doesn't exist", 96 of 60 swaps
/// under a write load on MariaDB 10.11 with `_sw<job>_<table>_<what>`,
/// none with this order). Names that would pass 64 characters are refused
/// before anything is created (see `preflight`).
fn helper(table: &str, job: i64, what: &str) -> String {
    format!("{table}_sw{job}_{what}")
}

/// Characters MySQL allows in a table name.
pub const MAX_NAME: usize = 64;

/// The tables of one job.
#[derive(Debug, Clone)]
pub struct Names {
    pub schema: String,
    pub table: String,
    pub shadow: String,
    pub old: String,
    /// Empty placeholders that hold the names the triggers write to while
    /// the tables they stand for are elsewhere (see `swap`).
    pub placeholder_old: String,
    pub placeholder_new: String,
    pub job: i64,
}

impl Names {
    pub fn new(schema: &str, table: &str, job: i64) -> Names {
        Names {
            schema: schema.into(),
            table: table.into(),
            shadow: shadow_name(table, job),
            old: helper(table, job, "old"),
            placeholder_old: helper(table, job, "pa"),
            placeholder_new: helper(table, job, "pb"),
            job,
        }
    }
    fn q(&self, t: &str) -> String {
        format!("{}.{}", qi(&self.schema), qi(t))
    }
    pub fn original(&self) -> String {
        self.q(&self.table)
    }
    pub fn shadow(&self) -> String {
        self.q(&self.shadow)
    }
    pub fn old(&self) -> String {
        self.q(&self.old)
    }
    pub fn placeholder_old(&self) -> String {
        self.q(&self.placeholder_old)
    }
    pub fn placeholder_new(&self) -> String {
        self.q(&self.placeholder_new)
    }
    /// The swap undone in one statement: the new table becomes the copy
    /// again and the original the table; the placeholders take the names
    /// the triggers write to.
    pub fn rename_back(&self) -> String {
        format!(
            "RENAME TABLE {} TO {}, {} TO {}, {} TO {}, {} TO {}",
            self.shadow(),
            self.placeholder_new(),
            self.original(),
            self.shadow(),
            self.old(),
            self.original(),
            self.placeholder_old(),
            self.old()
        )
    }

    /// Every table a job makes before its swap (the copy, the old table's
    /// placeholder, the copy's), for dropping.
    fn made_before_swap(&self) -> String {
        format!("DROP TABLE IF EXISTS {}, {}, {}, {}", self.shadow(), self.old(), self.placeholder_old(), self.placeholder_new())
    }
}

/// The spec stored with a MySQL osc job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    pub schema: String,
    pub table: String,
    pub alter: String,
    pub key: Vec<String>,
    pub key_index: String,
    #[serde(default)]
    pub throttle: crate::batch::Throttle,
    /// Point other tables' foreign keys at the new table after the swap (see `foreign_keys`).
    #[serde(default)]
    pub rebuild_child_keys: bool,
}

fn spec_of(job: &Job) -> Result<Spec, OnlineError> {
    super::states::spec_of(job)
}

/// What a dry run shows: the checks passed and the statements osc would run first.
pub async fn plan(conn: &mut MyConn, req: &OscRequest, state_prefix: &str) -> Result<String, OnlineError> {
    let checked = preflight::check(conn, req, state_prefix).await?;
    let t = &checked.table;
    let n = Names::new(&t.schema, &t.name, 0);
    let mut out = format!(
        "-- {} ({} rows estimated), key ({})\nCREATE TABLE {} LIKE {};\nALTER TABLE {} {};\n",
        n.original(),
        t.estimated_rows,
        t.key.join(", "),
        n.shadow(),
        n.original(),
        n.shadow(),
        req.alter.trim()
    );
    for line in &checked.notes {
        out.push_str(&format!("-- checked: {line}\n"));
    }
    out.push_str(&format!("-- then: capture triggers on {}, copy in batches, verify, swap", n.original()));
    Ok(out)
}

/// The named lock that makes one process the job's only worker. Lock
/// names are server-wide (at most 64 characters): the database and the
/// jobs table are in it, hashed.
const LOCK_NAME: &str = "CONCAT('stepwise-osc:', MD5(CONCAT(DATABASE(), ':', ?)))";

fn lock_key(prefix: &str, id: i64) -> String {
    format!("{prefix}:{id}")
}

async fn claim(conn: &mut MyConn, prefix: &str, id: i64) -> Result<(), OnlineError> {
    let got: Option<Option<i64>> =
        conn.conn.exec_first(format!("SELECT GET_LOCK({LOCK_NAME}, 0)"), (lock_key(prefix, id),)).await.map_err(DbError::from)?;
    if got.flatten() != Some(1) {
        return Err(OnlineError::Refused(format!("osc job {id} is being worked by another stepwise process")));
    }
    Ok(())
}

async fn release(conn: &mut MyConn, prefix: &str, id: i64) {
    let _ = conn.conn.exec_drop(format!("DO RELEASE_LOCK({LOCK_NAME})"), (lock_key(prefix, id),)).await;
}

/// Start a job and run it to the swap.
pub async fn start(conn: &mut MyConn, req: &OscRequest, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    let checked = preflight::check(conn, req, &opts.state_schema).await?;
    let t = &checked.table;
    jobs::ensure(conn, &opts.state_schema).await?;
    let spec = Spec {
        schema: t.schema.clone(),
        table: t.name.clone(),
        alter: req.alter.trim().to_string(),
        key: t.key.clone(),
        key_index: checked.key_index.clone(),
        throttle: crate::batch::Throttle::of(&opts.batch),
        rebuild_child_keys: req.rebuild_child_keys,
    };
    let target = format!("{}.{}", t.schema, t.name);
    // The job first: DDL commits on its own, so the job must exist before
    // anything it would have to clean up.
    let job = jobs::create(conn, &opts.state_schema, "osc", &target, "copying", &serde_json::to_value(&spec).unwrap_or_default()).await?;
    claim(conn, &opts.state_schema, job.id).await?;
    let n = Names::new(&t.schema, &t.name, job.id);
    if n.old.chars().count() > MAX_NAME {
        let why = format!(
            "the name {} is too long for osc's tables on MySQL/MariaDB ({} would pass the {MAX_NAME} characters allowed; they \
             begin with the table's name, so that the swap never fails the application's statements): nothing was created",
            qi(&t.name),
            qi(&n.old)
        );
        jobs::set_state(conn, &opts.state_schema, job.id, "cancelled", Some(&why)).await?;
        release(conn, &opts.state_schema, job.id).await;
        return Err(OnlineError::Refused(why));
    }
    let made = async {
        conn.exec(&format!("CREATE TABLE {} LIKE {}", n.shadow(), n.original())).await?;
        conn.exec(&format!("ALTER TABLE {} {}", n.shadow(), spec.alter)).await?;
        foreign_keys::carry(conn, &n).await?;
        // CREATE TABLE ... LIKE starts the counter at 1: carry the original's,
        // so that ids of rows deleted at the top are not handed out again
        // (rows the triggers write later move it on by themselves).
        if !conn.is_mariadb() {
            // MySQL 8 serves information_schema.TABLES from a cache.
            let _ = conn.exec("SET SESSION information_schema_stats_expiry = 0").await;
        }
        let next: Option<Option<u64>> = conn
            .conn
            .exec_first(
                "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&n.schema, &n.table),
            )
            .await?;
        if let Some(Some(next)) = next {
            conn.exec(&format!("ALTER TABLE {} AUTO_INCREMENT = {next}", n.shadow())).await?;
        }
        // The name the reverse triggers write to, until the swap gives it to the original.
        conn.exec(&format!("CREATE TABLE {} LIKE {}", n.old(), n.original())).await?;
        Ok::<_, DbError>(())
    }
    .await;
    // A child key whose referenced column the ALTER changes could not point
    // at the new table after the swap (MySQL wants the same type on both sides).
    let made = match made {
        Ok(()) if spec.rebuild_child_keys => {
            let keys = foreign_keys::referencing(conn, &n.schema, &n.table).await?;
            match foreign_keys::broken_by(conn, &n.schema, &n.table, &n.shadow, &keys).await? {
                broken if broken.is_empty() => Ok(()),
                broken => Err(DbError::Other(format!(
                    "foreign keys of other tables could not point at the new table: {}; change the child columns first",
                    broken.join("; ")
                ))),
            }
        }
        other => other,
    };
    if let Err(e) = made {
        let _ = conn.exec(&n.made_before_swap()).await;
        jobs::set_state(conn, &opts.state_schema, job.id, "cancelled", Some(&e.to_string())).await?;
        release(conn, &opts.state_schema, job.id).await;
        return Err(OnlineError::Usage(format!("the ALTER does not apply to {target}: {e}; nothing was left behind")));
    }
    let setup = async {
        let columns = copied_columns(conn, &n, &spec, &checked.alter.dropped).await?;
        capture::install(conn, &n, &opts.state_schema, &spec.key, &columns, capture::Side::Forward, opts, progress).await
    }
    .await;
    if let Err(e) = setup {
        let _ = conn.exec(&n.made_before_swap()).await;
        jobs::set_state(conn, &opts.state_schema, job.id, "cancelled", Some(&e.to_string())).await?;
        release(conn, &opts.state_schema, job.id).await;
        return Err(OnlineError::Refused(format!("{e}; nothing was left behind")));
    }
    progress(&Progress::Started { job: job.id, table: n.original(), shadow: n.shadow.clone(), estimated_rows: t.estimated_rows });
    let result = run_claimed(conn, job.id, opts, progress).await;
    release(conn, &opts.state_schema, job.id).await;
    result
}

/// The columns the copy carries: the original's stored columns that the
/// shadow still has. The key must be among them, and only columns the
/// ALTER drops by name may be missing.
async fn copied_columns(conn: &mut MyConn, n: &Names, spec: &Spec, dropped: &[String]) -> Result<Vec<String>, OnlineError> {
    let list = |table: String| {
        format!(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} \
           AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION",
            stepwise_db::mysql::quote_literal(&n.schema),
            stepwise_db::mysql::quote_literal(&table)
        )
    };
    let orig: Vec<String> = conn.conn.query(list(n.table.clone())).await.map_err(DbError::from)?;
    let shadow: Vec<String> = conn.conn.query(list(n.shadow.clone())).await.map_err(DbError::from)?;
    let has = |l: &[String], c: &str| l.iter().any(|x| x.eq_ignore_ascii_case(c));
    let lost: Vec<&String> = orig.iter().filter(|c| !has(&shadow, c) && !has(dropped, c)).collect();
    if !lost.is_empty() {
        return Err(OnlineError::Refused(format!(
            "the ALTER leaves out column(s) {} without dropping them by name: osc copies columns by name and would lose their data",
            lost.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", ")
        )));
    }
    if let Some(k) = spec.key.iter().find(|k| !has(&shadow, k)) {
        return Err(OnlineError::Refused(format!("the ALTER drops key column {}: osc copies by that key", qi(k))));
    }
    Ok(orig.into_iter().filter(|c| has(&shadow, c)).collect())
}

/// The columns a started job copies (the ALTER it stored says which it drops).
async fn job_columns(conn: &mut MyConn, n: &Names, spec: &Spec) -> Result<Vec<String>, OnlineError> {
    let dropped = stepwise_sql::osc_alter::check_osc_alter_mysql(&spec.alter).map_err(OnlineError::Refused)?.dropped;
    copied_columns(conn, n, spec, &dropped).await
}

/// Continue a job as its only worker.
pub async fn run(conn: &mut MyConn, id: i64, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    claim(conn, &opts.state_schema, id).await?;
    let result = run_claimed(conn, id, opts, progress).await;
    release(conn, &opts.state_schema, id).await;
    result
}

async fn table_of(conn: &mut MyConn, prefix: &str, spec: &Spec, name: &str) -> Result<Option<TableInfo>, OnlineError> {
    MyDb::new(conn, prefix).table(&format!("{}.{}", qi(&spec.schema), qi(name))).await
}

async fn exists(conn: &mut MyConn, schema: &str, table: &str) -> Result<bool, OnlineError> {
    let found: Option<i64> = conn
        .conn
        .exec_first("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", (schema, table))
        .await
        .map_err(DbError::from)?;
    Ok(found.is_some())
}

async fn run_claimed(conn: &mut MyConn, id: i64, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    let mut checked = verify::Checked::default();
    loop {
        let job = jobs::get(conn, &opts.state_schema, id).await?.ok_or_else(|| OnlineError::Usage(format!("no osc job {id}")))?;
        let spec = spec_of(&job)?;
        let mut stored = opts.clone();
        spec.throttle.fill(&mut stored.batch);
        let opts = &stored;
        let n = Names::new(&spec.schema, &spec.table, job.id);
        let step = async {
            match job.state.as_str() {
                "copying" | "verifying" => {
                    if !exists(conn, &spec.schema, &n.shadow).await? {
                        return Err(OnlineError::Refused(format!("the copy {} is gone: `stepwise osc cancel` ends the job", n.shadow())));
                    }
                    let table = table_of(conn, &opts.state_schema, &spec, &spec.table)
                        .await?
                        .ok_or_else(|| OnlineError::Refused(format!("{} is gone", n.original())))?;
                    let columns = job_columns(conn, &n, &spec).await?;
                    if job.state == "copying" {
                        forward_triggers(conn, &job, &n, &spec, &columns, opts, progress).await?;
                        copy::copy(conn, &job, &spec, &n, &table, &columns, opts, &mut checked, progress).await
                    } else {
                        verify::verify(conn, &job, &n, &spec.key_index, &table, &columns, opts, &mut checked, progress).await?;
                        // The reverse triggers, which must be there when the swap is.
                        reverse_triggers(conn, &n, &spec, &columns, opts, progress).await?;
                        // Only from verifying: a capture trigger that failed the job meanwhile stands.
                        jobs::move_state(conn, &opts.state_schema, job.id, "verifying", "ready").await.map(|_| ())
                    }
                }
                "ready" => {
                    // A swap cut short after its RENAME: the reverse triggers are on the table's name.
                    if capture::reverse_on(conn, &n).await?.as_deref() == Some(n.table.as_str()) {
                        return jobs::set_state(conn, &opts.state_schema, job.id, "swapped", None).await;
                    }
                    let columns = job_columns(conn, &n, &spec).await?;
                    reverse_triggers(conn, &n, &spec, &columns, opts, progress).await?;
                    swap::swap(conn, &job, &n, opts, progress).await?;
                    if spec.rebuild_child_keys {
                        moved_children(conn, &n, &n.old, opts, progress).await?;
                    }
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        .await;
        match step {
            Ok(()) if matches!(job.state.as_str(), "copying" | "verifying" | "ready") => continue,
            Ok(()) => return Ok(job),
            Err(e) => {
                // A verification difference or a lost value fails the job
                // (the original is untouched); a lock that stayed taken, a
                // pause or a broken connection leaves it to resume.
                let fatal = matches!(&e, OnlineError::Refused(m) if m.starts_with("verification failed"))
                    || matches!(&e, OnlineError::Db(d) if matches!(**d, DbError::Other(_)));
                if fatal {
                    jobs::set_state(conn, &opts.state_schema, job.id, "failed", Some(&e.to_string())).await?;
                }
                return Err(e);
            }
        }
    }
}

/// Before copying: all three capture triggers on the original. A run cut
/// short while it made them (`kill -9`) made some: before any row was
/// copied they are made again; after, changes may be missing from the
/// copy, and the job fails.
async fn forward_triggers(
    conn: &mut MyConn,
    job: &Job,
    n: &Names,
    spec: &Spec,
    columns: &[String],
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    if capture::present(conn, n, capture::Side::Forward).await? == 3 {
        return Ok(());
    }
    if job.cursor.is_some() || job.rows_done > 0 {
        let why = "the capture triggers on the table are gone, so changes made meanwhile may be missing from the copy";
        jobs::set_state(conn, &opts.state_schema, job.id, "failed", Some(why)).await?;
        return Err(OnlineError::Refused(format!("job {} failed: {why}; `stepwise osc cancel` removes it, then start again", job.id)));
    }
    capture::locked(conn, opts, n.job, &n.original(), "drop a trigger", &capture::drop_forward(n), progress).await?;
    capture::install(conn, n, &opts.state_schema, &spec.key, columns, capture::Side::Forward, opts, progress).await
}

/// The reverse triggers on the copy, unless a run cut short made them
/// already (some of them only: those go first).
async fn reverse_triggers(
    conn: &mut MyConn,
    n: &Names,
    spec: &Spec,
    columns: &[String],
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    match capture::present(conn, n, capture::Side::Reverse).await? {
        3 => Ok(()),
        0 => capture::install(conn, n, &opts.state_schema, &spec.key, columns, capture::Side::Reverse, opts, progress).await,
        _ => {
            capture::locked(conn, opts, n.job, &n.shadow(), "drop a trigger", &capture::drop_reverse(n), progress).await?;
            capture::install(conn, n, &opts.state_schema, &spec.key, columns, capture::Side::Reverse, opts, progress).await
        }
    }
}

/// Point the child keys that reference table `from` at the table's name, and say so.
async fn moved_children(conn: &mut MyConn, n: &Names, from: &str, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    let moved = foreign_keys::repoint(conn, n, from, opts, progress).await?;
    if !moved.is_empty() {
        progress(&Progress::ChildKeysMoved { job: n.job, table: n.original(), foreign_keys: moved });
    }
    Ok(())
}

/// The job to act on: the one given, or the only unfinished osc job.
pub async fn pick(conn: &mut MyConn, prefix: &str, id: Option<i64>) -> Result<Job, OnlineError> {
    if let Some(id) = id {
        return jobs::get(conn, prefix, id)
            .await?
            .filter(|j| j.kind == "osc")
            .ok_or_else(|| OnlineError::Usage(format!("no osc job {id}")));
    }
    crate::jobs::the_only("osc", jobs::list(conn, prefix, "osc", false).await?)
}

pub async fn resume(conn: &mut MyConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
    if super::states::resumable(job)? {
        jobs::set_state(conn, &opts.state_schema, job.id, "copying", None).await?;
    }
    run(conn, job.id, opts, progress).await
}

pub async fn pause(conn: &mut MyConn, job: &Job, opts: &OscOptions) -> Result<(), OnlineError> {
    super::states::pausable(job)?;
    jobs::set_state(conn, &opts.state_schema, job.id, "paused", None).await
}

/// Remove the triggers and the copy of a job that has not swapped.
pub async fn cancel(conn: &mut MyConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    super::states::cancellable(job)?;
    let spec = spec_of(job)?;
    let n = Names::new(&spec.schema, &spec.table, job.id);
    // A swap cut short by a crash has happened all the same: the original
    // is the old table now, and cancelling would drop it.
    if capture::reverse_on(conn, &n).await?.as_deref() == Some(n.table.as_str()) {
        jobs::set_state(conn, &opts.state_schema, job.id, "swapped", None).await?;
        return Err(OnlineError::Refused(format!(
            "job {} had already swapped {}: `stepwise osc revert` swaps back, `stepwise osc finish` drops the old table",
            job.id,
            n.original()
        )));
    }
    // Marked first: a running copy stops at its next range.
    jobs::set_state(conn, &opts.state_schema, job.id, "cancelling", None).await?;
    capture::locked(conn, opts, job.id, &n.original(), "drop the capture triggers", &capture::drop_forward(&n), progress).await?;
    // The copy goes with its reverse triggers; nothing writes the placeholders.
    conn.exec(&n.made_before_swap()).await?;
    jobs::set_state(conn, &opts.state_schema, job.id, "cancelled", None).await
}

/// After the swap: drop the old table.
pub async fn finish(conn: &mut MyConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    super::states::finishable(job)?;
    claim(conn, &opts.state_schema, job.id).await?;
    let spec = spec_of(job)?;
    let n = Names::new(&spec.schema, &spec.table, job.id);
    let result = async {
        // Children left pointing at the old table by a crash after the swap.
        if spec.rebuild_child_keys {
            moved_children(conn, &n, &n.old, opts, progress).await?;
        }
        // The reverse triggers first: they write to the old table.
        capture::locked(conn, opts, job.id, &n.original(), "drop the reverse triggers", &capture::drop_reverse(&n), progress).await?;
        let drop = format!("DROP TABLE IF EXISTS {}, {}, {}", n.old(), n.shadow(), n.placeholder_old());
        capture::locked(conn, opts, job.id, &n.old(), "drop the old table", &[drop], progress).await?;
        let renamed = foreign_keys::restore_names(conn, &n, opts, progress).await?;
        if !renamed.is_empty() {
            progress(&Progress::ForeignKeysRenamed { job: job.id, foreign_keys: renamed });
        }
        jobs::set_state(conn, &opts.state_schema, job.id, "finished", None).await
    }
    .await;
    release(conn, &opts.state_schema, job.id).await;
    result
}

/// After the swap, while the old table is kept in sync: swap back, with
/// every row written since, in one atomic RENAME; then drop the new table.
pub async fn revert(conn: &mut MyConn, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    if job.state != "swapped" {
        return Err(OnlineError::Refused(format!("job {} is {}: revert swaps back a job that has swapped", job.id, job.state)));
    }
    if let Some(why) = &job.revert_blocked {
        return Err(OnlineError::Refused(format!("job {} cannot be reverted: {why}; `stepwise osc finish` drops the old table", job.id)));
    }
    claim(conn, &opts.state_schema, job.id).await?;
    let spec = spec_of(job)?;
    let n = Names::new(&spec.schema, &spec.table, job.id);
    let result = async {
        let t0 = std::time::Instant::now();
        capture::locked(conn, opts, job.id, &n.original(), "swap back the old table", &[n.rename_back()], progress).await?;
        let held = t0.elapsed();
        jobs::set_state(conn, &opts.state_schema, job.id, "reverted", None).await?;
        progress(&Progress::Reverted { job: job.id, table: n.original(), lock_held_ms: held.as_millis() as u64 });
        // Children pointed at the new table went with it to the copy's name.
        if spec.rebuild_child_keys {
            moved_children(conn, &n, &n.shadow, opts, progress).await?;
        }
        capture::locked(conn, opts, job.id, &n.original(), "drop the capture triggers", &capture::drop_forward(&n), progress).await?;
        conn.exec(&n.made_before_swap()).await?;
        Ok(())
    }
    .await;
    release(conn, &opts.state_schema, job.id).await;
    result
}
