//! The swap: one atomic `RENAME TABLE original TO old, shadow TO original`
//! under a short metadata-lock wait, retried with backoff.
//!
//! A RENAME waiting for the metadata lock stalls every later query on the
//! table, so before each attempt osc looks for transactions open longer
//! than the lock wait (any of them may hold the table's lock until it
//! ends) and waits them out instead of queueing behind them. After the
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
use std::time::{Duration, Instant};
use stepwise_db::mysql::MyConn;
use stepwise_db::DbError;

/// Sessions whose transaction has been open longer than `secs`.
async fn old_transactions(conn: &mut MyConn, secs: u64) -> Result<Vec<String>, DbError> {
    let me = conn.id;
    let rows: Vec<(u64, String, String, i64, String)> = conn
        .conn
        .exec(
            "SELECT t.trx_mysql_thread_id, COALESCE(p.USER, ''), COALESCE(p.HOST, ''),
                    TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), COALESCE(t.trx_query, p.INFO, '')
               FROM information_schema.INNODB_TRX t
               LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
              WHERE t.trx_mysql_thread_id <> ? AND t.trx_started < NOW() - INTERVAL ? SECOND
              ORDER BY t.trx_started",
            (me, secs),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, user, host, age, query)| {
            let q: String = query.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(100).collect();
            format!(
                "thread {id} (user {user}, host {host}, transaction open {age}s{})",
                if q.is_empty() { String::new() } else { format!(": {q}") }
            )
        })
        .collect())
}

pub async fn swap(conn: &mut MyConn, job: &Job, n: &Names, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    let wait = opts.lock_timeout.as_secs().max(1);
    let mut attempt = 0;
    loop {
        let old = old_transactions(conn, wait).await?;
        if old.is_empty() {
            break;
        }
        attempt += 1;
        if attempt > opts.retries {
            return Err(OnlineError::Refused(format!(
                "the swap did not start: transactions open longer than the lock wait ({wait}s) may hold {}'s metadata lock, and a \
                 RENAME queued behind them would stall every query on the table: {}. `stepwise osc resume` tries again",
                n.original(),
                old.join("; ")
            )));
        }
        progress(&Progress::LockWait {
            job: job.id,
            what: format!("swap {} (waiting out old transactions)", n.original()),
            attempt,
            blockers: old,
        });
        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt.min(10)))).await;
    }
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
