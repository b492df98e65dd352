//! The swap: one atomic `RENAME TABLE original TO old, shadow TO original`
//! under a short metadata-lock wait, retried with backoff.
//!
//! Like every statement that takes the table's metadata lock, it first
//! waits out transactions older than the lock wait (see
//! [`super::capture::locked`]) rather than queue behind them. Triggers
//! move with their table: after the rename the reverse triggers are on the
//! table's name and keep the old table in sync (for `revert`), and the
//! forward ones, now on the old table, stay quiet (see `capture`).

use super::capture::locked;
use super::Names;
use crate::jobs::Job;
use crate::jobs_mysql as jobs;
use crate::osc::{OnProgress, OscOptions, Progress};
use crate::OnlineError;
use std::time::Instant;
use stepwise_db::mysql::MyConn;

pub async fn swap(conn: &mut MyConn, job: &Job, n: &Names, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    // The name the forward triggers write to, once the copy has the table's.
    conn.exec(&format!("CREATE TABLE IF NOT EXISTS {} LIKE {}", n.placeholder_new(), n.shadow())).await?;
    // One statement: the old table's placeholder steps aside, the original
    // takes the old table's name, the copy the original's, and the copy's
    // placeholder the copy's; every name a trigger writes to exists throughout.
    let rename = format!(
        "RENAME TABLE {} TO {}, {} TO {}, {} TO {}, {} TO {}",
        n.old(),
        n.placeholder_old(),
        n.original(),
        n.old(),
        n.shadow(),
        n.original(),
        n.placeholder_new(),
        n.shadow()
    );
    let t0 = Instant::now();
    locked(conn, opts, job.id, &n.original(), "swap in the new table", &[rename], progress).await?;
    let held = t0.elapsed();
    // The RENAME waited for every transaction that had written the original,
    // so a capture trigger that failed the job before it is on record now:
    // the new table lacks that change, and the swap is undone at once (the
    // few writes since went back to the old table through the reverse triggers).
    if !jobs::move_state(conn, &opts.state_schema, job.id, "ready", "swapped").await? {
        let now = jobs::get(conn, &opts.state_schema, job.id).await?;
        let why = now.as_ref().and_then(|j| j.error.clone()).unwrap_or_else(|| "the job left the ready state".into());
        let blocked = now.as_ref().and_then(|j| j.revert_blocked.clone());
        if let Some(blocked) = blocked {
            jobs::set_state(conn, &opts.state_schema, job.id, "swapped", None).await?;
            return Err(OnlineError::Refused(format!(
                "job {} swapped while {why}, and cannot swap back ({blocked}): the new table is in place; compare it with {} before `stepwise osc finish`",
                job.id,
                n.old()
            )));
        }
        locked(conn, opts, job.id, &n.original(), "swap back the old table", &[n.rename_back()], progress).await?;
        jobs::set_state(conn, &opts.state_schema, job.id, "failed", Some(&why)).await?;
        return Err(OnlineError::Refused(format!(
            "job {} failed as it swapped ({why}); the swap was undone at once and the original is in place: `stepwise osc cancel` removes the copy",
            job.id
        )));
    }
    progress(&Progress::Swapped { job: job.id, table: n.original(), old: n.old(), lock_held_ms: held.as_millis() as u64 });
    Ok(())
}
