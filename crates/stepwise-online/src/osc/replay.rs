//! Replaying the change log into the shadow.
//!
//! The rule that keeps the copy right: every change to the original after
//! the capture triggers are installed leaves its keys in the log, committed
//! with the change. An entry is removed only by a transaction that, in the
//! same snapshot, makes the shadow's row for that key equal to the
//! original's: the copy batch that covers the key, or a replay. So in any
//! snapshot, every copied key that is not in the log has the same row in
//! both tables; verification compares exactly those, and the swap replays
//! what is left while it holds the original exclusively.

use super::sql::{self, Names};
use super::table::TableInfo;
use crate::jobs;
use crate::OnlineError;
use std::time::Duration;
use stepwise_db::pg::PgConn;

/// Entries left after which a drain stops: the swap replays the rest under its lock.
const SMALL: u64 = 1_000;

/// Replay the entries up to `upto` (all when `None`) in one snapshot.
/// Returns how many entries it consumed. A lock wait gives way and retries;
/// a change that cannot be applied (a value the ALTER's type rejects)
/// fails the job, never the application.
pub async fn replay(
    conn: &PgConn,
    n: &Names,
    info: &TableInfo,
    key: &[String],
    common: &[String],
    upto: Option<&[String]>,
    lock_timeout: Duration,
) -> Result<u64, OnlineError> {
    let [delete, insert, forget] = sql::replay(n, info, key, common, upto);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r = async {
            // No wait for the WAL flush, as for copy batches: a crash loses a
            // replay whole, with the entries it removed.
            conn.batch(&format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL lock_timeout = '{}ms'; SET LOCAL synchronous_commit = off",
                lock_timeout.as_millis()
            ))
            .await?;
            conn.client.execute(&delete, &[]).await?;
            conn.client.execute(&insert, &[]).await?;
            let n = conn.client.execute(&forget, &[]).await?;
            conn.batch("COMMIT").await?;
            Ok::<u64, stepwise_db::DbError>(n)
        }
        .await;
        match r {
            Ok(n) => return Ok(n),
            Err(e) => {
                let _ = conn.batch("ROLLBACK").await;
                if e.is_retryable() && attempt < 20 {
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                    continue;
                }
                let why = format!("replaying a change into the copy: {e}");
                jobs::set_state(conn, &n.state_schema, n.job, "failed", Some(&why)).await?;
                return Err(OnlineError::Refused(format!("job {} failed, {why}; the original table is untouched", n.job)));
            }
        }
    }
}

/// Replay everything logged until a pass finds only a few entries.
pub async fn drain(
    conn: &PgConn,
    n: &Names,
    info: &TableInfo,
    key: &[String],
    common: &[String],
    lock_timeout: Duration,
) -> Result<(), OnlineError> {
    for _ in 0..20 {
        if replay(conn, n, info, key, common, None, lock_timeout).await? < SMALL {
            break;
        }
    }
    Ok(())
}
