//! The swap: one atomic `RENAME TABLE original TO old, shadow TO original`
//! under a short metadata-lock wait, retried with backoff.
//!
//! Like every statement that takes the table's metadata lock, it first
//! waits out transactions older than the lock wait (see
//! [`super::capture::locked`]) rather than queue behind them. After the
//! rename the capture triggers sit on the old table (MySQL moves triggers
//! with their table) and write to a name that no longer exists: they are
//! dropped. Reverse triggers (for `revert`) are not built on MySQL yet.

use super::capture::{drop_triggers, locked};
use super::Names;
use crate::jobs::Job;
use crate::jobs_mysql as jobs;
use crate::osc::{OnProgress, OscOptions, Progress};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use std::time::Instant;
use stepwise_db::mysql::MyConn;
use stepwise_db::DbError;

pub async fn swap(conn: &mut MyConn, job: &Job, n: &Names, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    let rename = format!("RENAME TABLE {} TO {}, {} TO {}", n.original(), n.old(), n.shadow(), n.original());
    let t0 = Instant::now();
    locked(conn, opts, job.id, &n.original(), "swap in the new table", &[rename], progress).await?;
    let held = t0.elapsed();
    jobs::set_state(conn, &opts.state_schema, job.id, "swapped", None).await?;
    conn.conn
        .exec_drop(
            format!("UPDATE {} SET revert_blocked = ? WHERE id = ?", jobs::table(&opts.state_schema)),
            ("revert is not built on MySQL/MariaDB yet (the old table is not kept in sync)", job.id),
        )
        .await
        .map_err(DbError::from)?;
    // No application writes the old table now; its triggers write nowhere.
    locked(conn, opts, job.id, &n.old(), "drop the capture triggers", &drop_triggers(n), progress).await?;
    progress(&Progress::Swapped {
        job: job.id,
        table: n.original(),
        old: n.old(),
        lock_held_ms: held.as_millis() as u64,
        kept_in_sync: false,
    });
    Ok(())
}
