//! Prove the copy before the swap: each key range of the original and the
//! shadow is counted and checksummed in one snapshot, leaving out the keys
//! in the change log. By the rule in `replay`, in any snapshot every key not
//! in the log has the same row in both tables, so a difference is a real
//! loss or change, and the job stops with the original untouched. The log
//! is drained before each range, so what is left out is only what changed
//! in the last moments; the swap replays it under its lock.

use super::replay;
use super::sql::{self, Names};
use super::{OnProgress, OscOptions, Progress, Spec};
use crate::jobs::{self, Job};
use crate::OnlineError;
use stepwise_db::pg::{quote_literal, PgConn};

pub async fn verify(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let (info, common) = super::copy::source(conn, n).await?;
    // Compared through the shadow's types: what the ALTER converted compares equal.
    let common: Vec<(String, String)> = common.into_iter().map(|c| (c.name, c.ty)).collect();
    let copied: Vec<String> = common.iter().map(|(c, _)| c.clone()).collect();
    let mut lo: Option<Vec<String>> = None;
    let (mut rows, mut chunks) = (0i64, 0u64);
    let mut hash = sql::RowHash::Typed;
    let side = conn.another().await?;
    loop {
        replay::drain(conn, n, &info, &spec.key, &copied, opts.batch.lock_timeout).await?;
        // The two tables are read side by side, by two sessions in one
        // snapshot (exported by the first): on two cores this halves the time.
        conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
        let checked = async {
            side.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            let snapshot: String = conn.client.query_one("SELECT pg_export_snapshot()", &[]).await?.get(0);
            side.batch(&format!("SET TRANSACTION SNAPSHOT {}", quote_literal(&snapshot))).await?;
            let hi: Option<Vec<String>> =
                conn.client.query_opt(&sql::chunk_end(n, &info, &spec.key, lo.as_deref(), opts.verify_chunk), &[]).await?.map(|r| r.get(0));
            let sum = |table: &str| sql::checksum(n, table, &info, &spec.key, &common, lo.as_deref(), hi.as_deref(), hash);
            let (qa, qb) = (sum(&n.original()), sum(&n.shadow_q()));
            let (a, b) = tokio::try_join!(conn.client.query_one(&qa, &[]), side.client.query_one(&qb, &[]))?;
            Ok::<_, stepwise_db::DbError>((hi, (a.get::<_, i64>(0), a.get::<_, String>(1)), (b.get::<_, i64>(0), b.get::<_, String>(1))))
        }
        .await;
        let _ = conn.batch("COMMIT").await;
        let _ = side.batch("ROLLBACK").await;
        let (hi, a, b) = match checked {
            // A column type without a hash function: compare through text.
            Err(e) if hash == sql::RowHash::Typed && e.server().is_some_and(|s| s.sqlstate == "42883") => {
                hash = sql::RowHash::Text;
                continue;
            }
            r => r?,
        };
        chunks += 1;
        if a != b {
            let range = format!(
                "keys {} to {}",
                lo.as_ref().map(|l| format!("after ({})", l.join(", "))).unwrap_or_else(|| "from the start".into()),
                hi.as_ref().map(|h| format!("({})", h.join(", "))).unwrap_or_else(|| "the end".into())
            );
            let why =
                format!("verification failed for {range}: the original has {} rows, the copy {} (or their contents differ)", a.0, b.0);
            jobs::set_state(conn, &opts.state_schema, job.id, "failed", Some(&why)).await?;
            return Err(OnlineError::Refused(format!("{why}; the original table is untouched, `stepwise osc cancel` removes the copy")));
        }
        rows += a.0;
        match hi {
            Some(h) => lo = Some(h),
            None => break,
        }
    }
    conn.batch(&format!("ANALYZE {}", n.shadow_q())).await?;
    // Only from verifying: a capture trigger that failed meanwhile, or a
    // cancel, must not be overwritten by a ready job.
    let moved = conn
        .client
        .execute(&format!("UPDATE {} SET state = 'ready', updated_at = now() WHERE id = $1 AND state = 'verifying'", n.jobs()), &[&job.id])
        .await?;
    if moved == 1 {
        progress(&Progress::Verified { job: job.id, rows, chunks });
    }
    Ok(())
}
