//! Prove the copy before the swap: each key range of the original and the
//! shadow is counted and checksummed in one snapshot, leaving out the keys
//! in the change log. By the rule in `replay`, in any snapshot every copied
//! key not in the log has the same row in both tables, so a difference is a
//! real loss or change, and the job stops with the original untouched.
//!
//! Because that holds for a range from the moment it is copied, a range need
//! not wait for the end of the copy: while the copy goes on, [`follow`]
//! checks the ranges behind its cursor on a session of its own (on a second
//! core, in the time the copy takes anyway). What it has not reached when
//! the copy ends, or everything when a job resumes in a new process, is
//! checked by [`verify`], which drains the log before each range so that
//! what is left out is only what changed in the last moments. Either way
//! each range is checked once, after it was copied; the swap replays what is
//! still logged under its lock.

use super::replay;
use super::sql::{self, Names};
use super::table::TableInfo;
use super::{OnProgress, OscOptions, Progress, Spec};
use crate::jobs::{self, Job};
use crate::OnlineError;
use stepwise_db::pg::{quote_literal, PgConn};
use stepwise_db::DbError;
use tokio::sync::watch;

/// How far verification has got in this process: the ranges up to `lo` match.
#[derive(Debug, Default)]
pub struct Checked {
    lo: Option<Vec<String>>,
    rows: i64,
    chunks: u64,
    /// A column type without a hash function was met: compare through text.
    text: bool,
}

/// What one step of verification did.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// A range matched; there is more.
    Matched,
    /// Fewer than a chunk of copied rows are left to check for now.
    Waiting,
    /// The last range matched.
    Done,
}

/// What one snapshot compares.
#[derive(Clone, Copy)]
enum What<'a> {
    /// The next `chunk` rows after the last range checked, up to `copied` when given.
    Range { chunk: u64, copied: Option<&'a [String]> },
    /// The rows replays wrote.
    Replayed,
}

/// The tables compared and the columns compared, with the shadow's types
/// (what the ALTER converted compares equal).
struct Compared<'a> {
    n: &'a Names,
    info: TableInfo,
    key: &'a [String],
    common: Vec<(String, String)>,
}

impl<'a> Compared<'a> {
    async fn load(conn: &PgConn, n: &'a Names, spec: &'a Spec) -> Result<Compared<'a>, OnlineError> {
        let (info, common) = super::copy::source(conn, n, spec).await?;
        Ok(Compared { n, info, key: &spec.key, common: common.into_iter().map(|c| (c.name, c.ty)).collect() })
    }

    /// Check the next range after `checked.lo` of `chunk` rows. With
    /// `copied`, only keys up to it are copied, and a range is checked only
    /// when it is whole; without, the last range runs to the end. `side`,
    /// when given, reads the shadow at the same time as `conn` reads the
    /// original, in one snapshot exported to it: on two cores that halves
    /// the time.
    async fn step(
        &self,
        conn: &PgConn,
        side: Option<&PgConn>,
        checked: &mut Checked,
        chunk: u64,
        copied: Option<&[String]>,
        job: i64,
    ) -> Result<Step, OnlineError> {
        let (hi, sums) = self.snapshot(conn, side, checked, What::Range { chunk, copied }).await?;
        let Some((a, b)) = sums else { return Ok(Step::Waiting) };
        if a != b {
            let range = format!(
                "keys {} to {}",
                checked.lo.as_ref().map(|l| format!("after ({})", l.join(", "))).unwrap_or_else(|| "from the start".into()),
                hi.as_ref().map(|h| format!("({})", h.join(", "))).unwrap_or_else(|| "the end".into())
            );
            return Err(self.mismatch(conn, job, &range, a, b).await);
        }
        checked.rows += a.0;
        checked.chunks += 1;
        Ok(match hi {
            Some(h) => {
                checked.lo = Some(h);
                Step::Matched
            }
            None => Step::Done,
        })
    }

    /// The rows whose changes were replayed into the shadow, checked once
    /// more after the ranges: a range checked while the copy ran may have
    /// had rows replayed since. What is still logged is left out (the swap
    /// replays it).
    async fn replayed(&self, conn: &PgConn, side: Option<&PgConn>, checked: &mut Checked, job: i64) -> Result<(), OnlineError> {
        match self.snapshot(conn, side, checked, What::Replayed).await? {
            (_, Some((a, b))) if a != b => Err(self.mismatch(conn, job, "the rows changed during the copy", a, b).await),
            _ => Ok(()),
        }
    }

    /// Compare `what` in one snapshot: a REPEATABLE READ transaction on
    /// `conn`, exported to `side`. Returns the range's end and both tables'
    /// sums (none when the range is not whole yet). A column type without a
    /// hash function makes it compare through text from then on.
    async fn snapshot(
        &self,
        conn: &PgConn,
        side: Option<&PgConn>,
        checked: &mut Checked,
        what: What<'_>,
    ) -> Result<(Option<Vec<String>>, Option<(Sum, Sum)>), DbError> {
        loop {
            conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            let r = match what {
                What::Range { chunk, copied } => self.compare(conn, side, checked, chunk, copied).await,
                What::Replayed => self.sums(conn, side, sql::Scope::Replayed, checked.text).await.map(|s| (None, Some(s))),
            };
            let _ = conn.batch("COMMIT").await;
            if let Some(side) = side {
                let _ = side.batch("ROLLBACK").await;
            }
            match r {
                Err(e) if !checked.text && e.server().is_some_and(|s| s.sqlstate == "42883") => checked.text = true,
                r => return r,
            }
        }
    }

    /// In the snapshot of `conn`'s open transaction: the range's end and
    /// both tables' count and checksum (none when the range is not whole yet).
    async fn compare(
        &self,
        conn: &PgConn,
        side: Option<&PgConn>,
        checked: &Checked,
        chunk: u64,
        copied: Option<&[String]>,
    ) -> Result<(Option<Vec<String>>, Option<(Sum, Sum)>), DbError> {
        let (n, info, key) = (self.n, &self.info, self.key);
        let lo = checked.lo.as_deref();
        let hi: Option<Vec<String>> = conn.client.query_opt(&sql::chunk_end(n, info, key, lo, copied, chunk), &[]).await?.map(|r| r.get(0));
        if hi.is_none() && copied.is_some() {
            return Ok((None, None));
        }
        let sums = self.sums(conn, side, sql::Scope::Range(lo, hi.as_deref()), checked.text).await?;
        Ok((hi, Some(sums)))
    }

    /// Count and checksum of the rows in `scope` of both tables, in the
    /// snapshot of `conn`'s open transaction (exported to `side`, which then
    /// reads the shadow meanwhile).
    async fn sums(&self, conn: &PgConn, side: Option<&PgConn>, scope: sql::Scope<'_>, text: bool) -> Result<(Sum, Sum), DbError> {
        let hash = if text { sql::RowHash::Text } else { sql::RowHash::Typed };
        let sum = |table: &str| sql::checksum(self.n, table, &self.info, self.key, &self.common, scope, hash);
        let (qa, qb) = (sum(&self.n.original()), sum(&self.n.shadow_q()));
        let pair = |r: tokio_postgres::Row| (r.get::<_, i64>(0), r.get::<_, String>(1));
        let (a, b) = match side {
            Some(side) => {
                side.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
                let snapshot: String = conn.client.query_one("SELECT pg_export_snapshot()", &[]).await?.get(0);
                side.batch(&format!("SET TRANSACTION SNAPSHOT {}", quote_literal(&snapshot))).await?;
                tokio::try_join!(conn.client.query_one(&qa, &[]), side.client.query_one(&qb, &[]))?
            }
            None => (conn.client.query_one(&qa, &[]).await?, conn.client.query_one(&qb, &[]).await?),
        };
        Ok((pair(a), pair(b)))
    }

    /// Fail the job: the copy differs from the original.
    async fn mismatch(&self, conn: &PgConn, job: i64, rows: &str, a: Sum, b: Sum) -> OnlineError {
        let why = format!("verification failed for {rows}: the original has {} rows, the copy {} (or their contents differ)", a.0, b.0);
        if let Err(e) = jobs::set_state(conn, &self.n.state_schema, job, "failed", Some(&why)).await {
            return e;
        }
        OnlineError::Refused(format!("{why}; the original table is untouched, `stepwise osc cancel` removes the copy"))
    }
}

/// A count and a checksum.
type Sum = (i64, String);

/// While the copy runs: check the ranges behind its cursor (sent on
/// `copied` after each batch commits) until the copy stops, standing aside
/// while `aside` says so (the job works with one session). No replay here:
/// the copy replays, and what is logged is left out of the check.
pub async fn follow(
    conn: &PgConn,
    n: &Names,
    spec: &Spec,
    chunk: u64,
    checked: &mut Checked,
    mut copied: watch::Receiver<Option<Vec<String>>>,
    aside: watch::Receiver<bool>,
) -> Result<(), OnlineError> {
    // One process, no parallel workers: hashing one range on one core keeps
    // ahead of the copy (2.5 million rows a second a table here), and
    // workers only take cores from the copy (osc 8% faster without them on
    // 2 cores, measured).
    conn.batch("SET max_parallel_workers_per_gather = 0").await?;
    // Read once it has work (and may work): standing aside, it sends nothing.
    let mut compared = None;
    loop {
        let upto = copied.borrow_and_update().clone();
        if let Some(upto) = upto.filter(|_| !*aside.borrow()) {
            let compared = match &mut compared {
                Some(c) => c,
                None => compared.insert(Compared::load(conn, n, spec).await?),
            };
            // Stop as soon as the copy does: the rest is checked after it.
            while !*aside.borrow()
                && copied.has_changed().is_ok()
                && compared.step(conn, None, checked, chunk, Some(&upto), n.job).await? == Step::Matched
            {}
        }
        if copied.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// Check what is left after the copy, then ANALYZE the shadow and mark the
/// job ready for the swap. With a second session (see `Sessions`) each
/// comparison reads both tables at once.
#[allow(clippy::too_many_arguments)]
pub async fn verify(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    checked: &mut Checked,
    foreground: &mut crate::load::Foreground,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let two = super::spare_cores(conn, opts, foreground, job.id, progress).await?;
    let checked_all = compare_all(conn, job, spec, n, opts, checked, two).await;
    let reset = super::all_cores(conn).await;
    checked_all?;
    reset?;
    conn.batch(&format!("ANALYZE {}", n.shadow_q())).await?;
    // Only from verifying: a capture trigger that failed meanwhile, or a
    // cancel, must not be overwritten by a ready job.
    let moved = conn
        .client
        .execute(&format!("UPDATE {} SET state = 'ready', updated_at = now() WHERE id = $1 AND state = 'verifying'", n.jobs()), &[&job.id])
        .await?;
    if moved == 1 {
        progress(&Progress::Verified { job: job.id, rows: checked.rows, chunks: checked.chunks });
    }
    Ok(())
}

/// Every range not checked yet, then the rows replayed, draining the log
/// before each; `two`: with a second session reading the shadow.
async fn compare_all(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    checked: &mut Checked,
    two: bool,
) -> Result<(), OnlineError> {
    let compared = Compared::load(conn, n, spec).await?;
    let copied: Vec<String> = compared.common.iter().map(|(c, _)| c.clone()).collect();
    let side = if two { Some(conn.another().await?) } else { None };
    loop {
        replay::drain(conn, n, &compared.info, &spec.key, &copied, opts.batch.lock_timeout).await?;
        if compared.step(conn, side.as_ref(), checked, opts.verify_chunk, None, job.id).await? == Step::Done {
            break;
        }
    }
    replay::drain(conn, n, &compared.info, &spec.key, &copied, opts.batch.lock_timeout).await?;
    compared.replayed(conn, side.as_ref(), checked, job.id).await
}
