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
    jobs::set_state(conn, &opts.state_schema, job.id, "swapped", None).await?;
    progress(&Progress::Swapped { job: job.id, table: n.original(), old: n.old(), lock_held_ms: held.as_millis() as u64 });
    Ok(())
}
