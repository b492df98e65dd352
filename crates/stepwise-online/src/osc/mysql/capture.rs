//! The capture triggers: AFTER INSERT, UPDATE and DELETE on the original
//! write each change into the shadow in the application's own transaction,
//! so at every commit the shadow's copied rows equal the original's.
//!
//! - insert: `REPLACE` the new row (the copy may not have reached it, or
//!   may have: either way the shadow ends with this version);
//! - update: delete the old key's row when the key changed, then `REPLACE`
//!   the new row;
//! - delete: delete the key's row.
//!
//! Statements that take the table's metadata lock (CREATE and DROP TRIGGER,
//! RENAME TABLE) run through [`locked`]: a short `lock_wait_timeout`, retried
//! with backoff, every failed attempt naming the sessions that may hold it.

use super::Names;
use crate::osc::{OnProgress, OscOptions, Progress};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use std::time::Duration;
use stepwise_db::mysql::{quote_ident as qi, MyConn};
use stepwise_db::DbError;

/// The three triggers' names on the original.
pub fn trigger_names(n: &Names) -> [String; 3] {
    ["ins", "upd", "del"].map(|e| cut(&format!("_sw{}_{}_{e}", n.job, n.table)))
}

/// MySQL names are at most 64 characters.
fn cut(name: &str) -> String {
    name.chars().take(64).collect()
}

/// `CREATE TRIGGER` statements for the original, writing `columns` into the shadow.
pub fn create_triggers(n: &Names, key: &[String], columns: &[String]) -> Vec<String> {
    let [ins, upd, del] = trigger_names(n);
    let (orig, shadow) = (n.original(), n.shadow());
    let cols = columns.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", ");
    let new_values = columns.iter().map(|c| format!("NEW.{}", qi(c))).collect::<Vec<_>>().join(", ");
    let key_is = |row: &str| key.iter().map(|k| format!("{} <=> {row}.{}", qi(k), qi(k))).collect::<Vec<_>>().join(" AND ");
    let key_changed = key.iter().map(|k| format!("NOT (OLD.{0} <=> NEW.{0})", qi(k))).collect::<Vec<_>>().join(" OR ");
    vec![
        format!("CREATE TRIGGER {} AFTER INSERT ON {orig} FOR EACH ROW REPLACE INTO {shadow} ({cols}) VALUES ({new_values})", qi(&ins)),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {orig} FOR EACH ROW BEGIN \
               IF {key_changed} THEN DELETE FROM {shadow} WHERE {}; END IF; \
               REPLACE INTO {shadow} ({cols}) VALUES ({new_values}); \
             END",
            qi(&upd),
            key_is("OLD")
        ),
        format!("CREATE TRIGGER {} AFTER DELETE ON {orig} FOR EACH ROW DELETE FROM {shadow} WHERE {}", qi(&del), key_is("OLD")),
    ]
}

/// `DROP TRIGGER IF EXISTS` for the three, wherever they are (the
/// original, or after the swap the old table: triggers follow a rename).
pub fn drop_triggers(n: &Names) -> Vec<String> {
    trigger_names(n).iter().map(|t| format!("DROP TRIGGER IF EXISTS {}.{}", qi(&n.schema), qi(t))).collect()
}

/// Install the triggers (all three, or none: a failure drops those made).
pub async fn install(
    conn: &mut MyConn,
    n: &Names,
    key: &[String],
    columns: &[String],
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    for sql in create_triggers(n, key, columns) {
        if let Err(e) = locked(conn, opts, n.job, &n.original(), "create a capture trigger", &[sql], progress).await {
            for d in drop_triggers(n) {
                let _ = locked(conn, opts, n.job, &n.original(), "drop a capture trigger", &[d], progress).await;
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Sessions (other than this one) whose transaction has been open longer
/// than `secs`, described for the user.
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
            let q = if q.is_empty() { String::new() } else { format!(": {q}") };
            format!("pid {id} (user {user}, host {host}, transaction open {age}s{q})")
        })
        .collect())
}

/// Run `sql` (statements that take `table`'s metadata lock) under a short
/// `lock_wait_timeout`, retried with backoff; each timeout names the
/// sessions that may hold the lock.
///
/// A statement waiting for a metadata lock stalls every later query on the
/// table, so before each attempt the transactions open longer than the
/// lock wait (any of them may hold the table's lock until it ends; MySQL
/// does not say which without performance_schema) are waited out, named,
/// instead of queued behind.
pub async fn locked(
    conn: &mut MyConn,
    opts: &OscOptions,
    job: i64,
    table: &str,
    what: &str,
    sql: &[String],
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    // Whole seconds: lock_wait_timeout takes no fraction.
    let wait = opts.lock_timeout.as_secs().max(1);
    conn.exec(&format!("SET SESSION lock_wait_timeout = {wait}")).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let old = old_transactions(conn, wait).await?;
        if !old.is_empty() {
            if attempt > opts.retries {
                return Err(OnlineError::Refused(format!(
                    "could not {what} on {table}: transactions open longer than the lock wait ({wait}s) may hold its metadata \
                     lock, and a statement queued behind them would stall every query on the table: {}. Nothing waited; \
                     `stepwise osc resume` (or the same command) tries again",
                    old.join("; ")
                )));
            }
            progress(&Progress::LockWait {
                job,
                what: format!("{what} on {table} (waiting out older transactions)"),
                attempt,
                blockers: old,
            });
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt.min(10)))).await;
            continue;
        }
        let mut result = Ok(());
        for s in sql {
            result = conn.exec(s).await;
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => return Ok(()),
            Err(e) if e.server().is_some_and(|s| s.is_lock_timeout()) && attempt <= opts.retries => {
                let blockers = conn.possible_blockers(0).await.unwrap_or_default();
                progress(&Progress::LockWait {
                    job,
                    what: format!("{what} on {table}"),
                    attempt,
                    blockers: blockers.iter().map(|b| b.to_string()).collect(),
                });
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt.min(10)))).await;
            }
            Err(e) if e.server().is_some_and(|s| s.is_lock_timeout()) => {
                let blockers = conn.possible_blockers(0).await.unwrap_or_default();
                let named = if blockers.is_empty() {
                    String::new()
                } else {
                    format!("; sessions that may hold it: {}", blockers.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; "))
                };
                return Err(OnlineError::Refused(format!(
                    "could not {what} on {table}: its metadata lock stayed taken through {attempt} waits of {wait}s{named}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A server error's number, when it is one.
pub fn errno(e: &DbError) -> Option<u16> {
    e.server().and_then(|s| s.errno)
}
