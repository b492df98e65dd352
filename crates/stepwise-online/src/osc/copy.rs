//! The capture triggers and the batched copy.

use super::replay;
use super::sql::{self, Names};
use super::table::{self, TableInfo};
use super::verify;
use super::{OnProgress, OscOptions, Progress, Spec};
use crate::batch::Sizer;
use crate::jobs::{self, Job};
use crate::OnlineError;
use std::time::Instant;
use stepwise_db::pg::PgConn;
use tokio::sync::watch;

/// Columns copied, with the shadow's types: those of the shadow that the
/// original has too, except the shadow's generated columns (PostgreSQL
/// computes them). Every column of the original must be accounted for: in
/// the shadow, or dropped by name by the job's ALTER (`alter`); a column
/// that went missing any other way would be lost by the swap unseen, since
/// the verification compares the columns both tables have.
pub async fn common_columns(conn: &PgConn, n: &Names, original: &TableInfo, alter: &str) -> Result<Vec<table::Column>, OnlineError> {
    let shadow =
        table::load(conn, &n.shadow_q()).await?.ok_or_else(|| OnlineError::Refused(format!("the shadow table {} is gone", n.shadow)))?;
    let dropped = stepwise_sql::osc_alter::check_osc_alter(alter).map_err(OnlineError::Refused)?.dropped;
    let missing: Vec<&str> = original
        .columns
        .iter()
        .filter(|c| shadow.column(&c.name).is_none() && !dropped.contains(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(OnlineError::Refused(format!(
            "the new table has no column {}, which the ALTER does not drop by name: its values would be lost by the swap",
            missing.join(", ")
        )));
    }
    let common: Vec<table::Column> = shadow.columns.into_iter().filter(|c| !c.generated && original.column(&c.name).is_some()).collect();
    for k in &original.key {
        if !common.iter().any(|c| &c.name == k) || shadow.key.is_empty() {
            return Err(OnlineError::Refused(format!(
                "the ALTER removes or changes the key column {k}: osc copies by key, so the key must stay (change it in a later step)"
            )));
        }
    }
    Ok(common)
}

/// The live original and the columns copied from it (the copy, the
/// replays, the verification and the swap all work from these).
pub async fn source(conn: &PgConn, n: &Names, spec: &Spec) -> Result<(TableInfo, Vec<table::Column>), OnlineError> {
    let info = table::load(conn, &n.original()).await?.ok_or_else(|| OnlineError::Refused(format!("{} is gone", n.original())))?;
    let common = common_columns(conn, n, &info, &spec.alter).await?;
    Ok((info, common))
}

/// Install the capture triggers (a brief lock on the live table, under
/// lock_timeout with retries).
pub async fn install_triggers(
    conn: &PgConn,
    n: &Names,
    key: &[String],
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let sql = sql::capture_triggers(n, key);
    super::swap::locked(conn, opts, n.job, &n.original(), "install the capture triggers", &sql, progress).await
}

/// Copy the rows after the job's cursor, batch by batch, until the last range;
/// then the job moves on to build the indexes set aside and verify. Stops early when the job is paused,
/// cancelled or failed by a trigger (another process changed its row).
/// Meanwhile a second session verifies the ranges already copied (see
/// `verify`), recording in `checked` how far it got, unless the job works
/// with one session; `foreground` keeps the copy's load samples.
#[allow(clippy::too_many_arguments)]
pub async fn copy(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    checked: &mut verify::Checked,
    foreground: &mut crate::load::Foreground,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let verifier = conn.another().await?;
    let (copied, follow) = watch::channel(job.cursor.clone());
    // Whether the verifier stands aside (see `Sessions`): with auto, decided
    // after every batch from the copy's load samples (it has nothing to
    // compare before the first batches anyway).
    let (alone, aside) = watch::channel(opts.sessions != super::Sessions::Two);
    let sides = Sides { copied, alone };
    let (copy, verified) = tokio::join!(
        batches(conn, job, spec, n, opts, sides, foreground, progress),
        verify::follow(&verifier, n, spec, opts.verify_chunk, checked, follow, aside)
    );
    copy?;
    verified
}

/// What the copy tells the verifier beside it.
struct Sides {
    /// The cursor, after each batch commits.
    copied: watch::Sender<Option<Vec<String>>>,
    /// Whether the verifier stands aside (`--sessions` 1, or auto while
    /// the foreground is at work; auto starts aside until the first sample).
    alone: watch::Sender<bool>,
}

/// The copy itself.
#[allow(clippy::too_many_arguments)]
async fn batches(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    sides: Sides,
    foreground: &mut crate::load::Foreground,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let Sides { copied, alone } = sides;
    let (info, common) = source(conn, n, spec).await?;
    let one_scan = sql::integer_key(&info, &spec.key, &common);
    let common: Vec<String> = common.into_iter().map(|c| c.name).collect();
    // Copying without the capture triggers would miss changes. A job that
    // crashed before installing them gets them now, before any row is
    // copied; a job that copied rows without them cannot be trusted.
    let present: i64 = conn
        .client
        .query_one(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2",
            &[&info.oid, &format!("stepwise_osc_{}_insert", n.job)],
        )
        .await?
        .get(0);
    let logged: Option<u32> = conn.client.query_one("SELECT to_regclass($1)::oid", &[&n.log()]).await?.get(0);
    if present == 0 || logged.is_none() {
        if job.cursor.is_some() || job.rows_done > 0 || logged.is_none() {
            let why = "the capture triggers or the change log are gone, so changes made meanwhile may be missing from the copy";
            jobs::set_state(conn, &n.state_schema, job.id, "failed", Some(why)).await?;
            return Err(OnlineError::Refused(format!("job {} failed: {why}; `stepwise osc cancel` removes it, then start again", job.id)));
        }
        conn.batch(&sql::drop_functions(n)).await?;
        install_triggers(conn, n, &spec.key, opts, progress).await?;
    }
    let mut cursor = job.cursor.clone();
    let mut done = job.rows_done;
    let total = info.estimated_rows.max(done);
    let mut sizer = Sizer::new(opts.batch.clone(), crate::batch::DEFAULT_TARGET);
    let started = Instant::now();
    let mut since = 0i64;
    let mut last_report = Instant::now();
    let mut lag = crate::lag::ReplicaLag::new();
    let mut last_replay = Instant::now();
    let mut collisions = 0;
    loop {
        let rows = sizer.rows();
        let t = Instant::now();
        // Where this batch ends: found by the batch itself (an integer key),
        // or before it, before anything is locked.
        let (batch, ahead) = if one_scan {
            (sql::copy_next(n, &info, &spec.key, &common, cursor.as_deref(), rows), None)
        } else {
            let hi: Option<Vec<String>> =
                conn.client.query_opt(&sql::chunk_end(n, &info, &spec.key, cursor.as_deref(), None, rows), &[]).await?.map(|r| r.get(0));
            (sql::copy_batch(n, &info, &spec.key, &common, cursor.as_deref(), hi.as_deref()), Some(hi))
        };
        // Batches commit without waiting for their WAL flush: a server crash
        // can lose only the last batches whole, with the cursor that
        // recorded them (a prefix of the WAL survives), and they are copied
        // again. This saves a flush per batch.
        conn.batch(&format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL synchronous_commit = off",
            sizer.lock_timeout().as_millis()
        ))
        .await?;
        // The job row, locked: a pause, cancel or trigger failure decided
        // elsewhere is seen here before any more work.
        let state: String =
            match conn.client.query_one(&format!("SELECT state FROM {} WHERE id = $1 FOR UPDATE", n.jobs()), &[&job.id]).await {
                Ok(r) => r.get(0),
                Err(e) => {
                    let _ = conn.batch("ROLLBACK").await;
                    return Err(e.into());
                }
            };
        if state != "copying" {
            conn.batch("ROLLBACK").await?;
            return if state == "failed" || state == "cancelling" {
                let job = jobs::get(conn, &n.state_schema, job.id).await?;
                Err(OnlineError::Refused(format!(
                    "job {} is {state}{}; the original table is untouched",
                    n.job,
                    job.and_then(|j| j.error).map(|e| format!(": {e}")).unwrap_or_default()
                )))
            } else {
                Ok(())
            };
        }
        let result = conn.client.query_one(&batch, &[]).await;
        let (read, end): (i64, Option<Vec<String>>) = match result {
            Ok(r) if ahead.is_none() => (r.get(0), r.get(1)),
            Ok(r) => (r.get(0), None),
            Err(e) => {
                let _ = conn.batch("ROLLBACK").await;
                let err = stepwise_db::DbError::from(e);
                if err.is_retryable() {
                    // A lock wait or deadlock: the application wins, we retry smaller.
                    sizer.lock_timed_out();
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
                // A unique value the batch inserts may still sit on a copied
                // row whose change is logged but not yet replayed (the
                // application moved it): replaying every copied key makes
                // the copied part equal to the original, then the batch is
                // retried. A collision that stays is a real one.
                let unique = err.server().is_some_and(|s| s.sqlstate == "23505");
                if unique && collisions < 3 {
                    collisions += 1;
                    if let Some(upto) = cursor.as_deref() {
                        replay::replay(conn, n, &info, &spec.key, &common, Some(upto), sizer.lock_timeout()).await?;
                    }
                    continue;
                }
                let why = format!("copying rows: {err}");
                jobs::set_state(conn, &n.state_schema, job.id, "failed", Some(&why)).await?;
                return Err(OnlineError::Refused(format!("job {} failed, {why}; the original table is untouched", job.id)));
            }
        };
        collisions = 0;
        // The last batch read every row left: it had no upper end, or it
        // found fewer rows than it asked for.
        let (hi, last) = match ahead {
            Some(hi) => {
                let last = hi.is_none();
                (hi, last)
            }
            None => (end, read < rows as i64),
        };
        if read > 0 || !last {
            done += read;
            if !last {
                cursor = hi.clone();
            }
            conn.client
                .execute(
                    &format!("UPDATE {} SET cursor = $2, rows_done = $3, updated_at = now() WHERE id = $1", n.jobs()),
                    &[&job.id, &cursor, &done],
                )
                .await?;
        }
        if last {
            conn.client
                .execute(
                    &format!("UPDATE {} SET state = 'indexing', rows_total = $2, updated_at = now() WHERE id = $1", n.jobs()),
                    &[&job.id, &done],
                )
                .await?;
        }
        conn.batch("COMMIT").await?;
        copied.send_replace(cursor.clone());
        // Changes to rows already copied are replayed about once a second,
        // and all of them after the last batch.
        if last || last_replay.elapsed() >= std::time::Duration::from_secs(1) {
            let upto = if last { None } else { cursor.as_deref() };
            if last || upto.is_some() {
                replay::replay(conn, n, &info, &spec.key, &common, upto, sizer.lock_timeout()).await?;
            }
            last_replay = Instant::now();
        }
        let took = t.elapsed();
        since += read;
        sizer.done(read as u64, took);
        if last_report.elapsed().as_millis() >= 1000 || last {
            let rate = since as f64 / started.elapsed().as_secs_f64().max(1e-3);
            progress(&Progress::Copied { job: job.id, rows_done: done, rows_total: total.max(done), rows_per_sec: rate });
            last_report = Instant::now();
        }
        if last {
            return Ok(());
        }
        let pause = sizer.pause(read as u64, took);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        if !loaded(conn, n, job.id, opts, foreground, progress).await? {
            return Ok(());
        }
        if opts.sessions == super::Sessions::Auto {
            let now = foreground.in_use() == Some(true);
            if now {
                super::one_session_note(foreground, job.id, progress);
            }
            alone.send_if_modified(|was| std::mem::replace(was, now) != now);
        }
        if let Some(max) = opts.batch.max_replica_lag {
            let max_ms = max.as_millis() as u64;
            let report = |behind: std::time::Duration, replica: &str| {
                progress(&Progress::Throttled { job: job.id, replica: replica.into(), lag_ms: behind.as_millis() as u64, max_ms })
            };
            // A pause or cancel is seen every few seconds of a long wait.
            while !lag.wait(&mut crate::lag::pg::Standbys(conn), max, std::time::Duration::from_secs(3), report).await? {
                if jobs::get(conn, &n.state_schema, job.id).await?.is_none_or(|j| j.state != "copying") {
                    break;
                }
            }
        }
    }
}

/// Wait while the server runs more statements than `--max-load`; pause the
/// job at `--critical-load`. False when the job is no longer copying
/// (paused or cancelled meanwhile). Every sample goes to `foreground`.
async fn loaded(
    conn: &PgConn,
    n: &Names,
    id: i64,
    opts: &OscOptions,
    foreground: &mut crate::load::Foreground,
    progress: OnProgress<'_>,
) -> Result<bool, OnlineError> {
    use crate::load::{self, Verdict};
    loop {
        let running = load::pg(conn).await?;
        foreground.saw(running);
        match load::judge(running, &opts.batch) {
            Verdict::Go => return Ok(true),
            Verdict::Critical(c) => {
                let why = load::critical(running, load::PG_MEASURE, c);
                jobs::set_state(conn, &n.state_schema, id, "paused", Some(&why)).await?;
                return Err(OnlineError::Refused(format!("{why}; `stepwise osc resume` continues it once the load is down")));
            }
            Verdict::Wait(max) => {
                progress(&Progress::Loaded { job: id, threads_running: running, max, measure: load::PG_MEASURE.into() });
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                if jobs::get(conn, &n.state_schema, id).await?.is_none_or(|j| j.state != "copying") {
                    return Ok(false);
                }
            }
        }
    }
}
