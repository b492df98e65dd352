//! The copy: key ranges of the original into the shadow, each range one
//! short transaction that also moves the job's cursor (so a `kill -9`
//! loses nothing and `resume` continues after the last committed range).
//!
//! Each range is `INSERT IGNORE INTO shadow SELECT ... LOCK IN SHARE MODE`:
//! the locking read sees the latest committed version of every row, and a
//! row the capture triggers already wrote is at least as new, so the copy
//! must not overwrite it (IGNORE skips it on the key). IGNORE also turns
//! other errors into warnings (a duplicate on a new unique key, a value cut
//! to fit): any warning but the expected key duplicate fails the job at
//! once, and the verification counts and checksums every range anyway.
//! `innodb_lock_wait_timeout` is 1 s and a range that waits longer is
//! retried smaller: stepwise yields, never the application.
//!
//! With `innodb_autoinc_lock_mode` 0 or 1 (MariaDB's default is 1; MySQL
//! 8's is 2) an `INSERT ... SELECT` into a table with an AUTO_INCREMENT
//! column holds the table's AUTO-INC lock to its end, and a capture
//! trigger's REPLACE queues behind it while the copy waits for a gap lock
//! that trigger's transaction holds: a deadlock whose victim is the
//! application's transaction (seen on MariaDB 10.11). There the range is
//! read with the same locking SELECT and written back as a multi-row
//! `INSERT IGNORE ... VALUES`, which takes no AUTO-INC lock.

use super::verify::Checked;
use super::{Names, Spec};
use crate::backfill::mysql::{key_range, where_clause, MyDb};
use crate::backfill::Db;
use crate::batch::{Sizer, DEFAULT_TARGET};
use crate::jobs::Job;
use crate::jobs_mysql as jobs;
use crate::osc::table::TableInfo;
use crate::osc::{OnProgress, OscOptions, Progress};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use std::time::{Duration, Instant};
use stepwise_db::mysql::{quote_ident as qi, MyConn};
use stepwise_db::DbError;
use tokio::sync::watch;

/// ER_DUP_ENTRY: the row the triggers already wrote.
const DUP_ENTRY: u32 = 1062;

/// Copy the ranges after the job's cursor; meanwhile a second session
/// verifies the ranges already copied, recording in `checked` how far it got.
pub async fn copy(
    conn: &mut MyConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    table: &TableInfo,
    columns: &[String],
    opts: &OscOptions,
    checked: &mut Checked,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let mut side = conn.another().await?;
    let (copied, follow) = watch::channel(job.cursor.clone());
    let (copy, verified) = tokio::join!(
        batches(conn, job, spec, n, table, columns, opts, copied, progress),
        super::verify::follow(&mut side, n, &spec.key_index, table, columns, opts, checked, follow)
    );
    copy?;
    verified
}

/// The copy itself; `copied` hears the cursor after each batch commits.
async fn batches(
    conn: &mut MyConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    table: &TableInfo,
    columns: &[String],
    opts: &OscOptions,
    copied: watch::Sender<Option<Vec<String>>>,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    conn.exec("SET SESSION innodb_lock_wait_timeout = 1").await?;
    // The copy's rows are not changes to send back: the reverse triggers skip them.
    conn.exec(&format!("SET {} = 1", super::capture::gate(job.id))).await?;
    conn.exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ").await?;
    let mut sizer = Sizer::new(opts.batch.clone(), DEFAULT_TARGET);
    let mut cursor: Option<Vec<String>> = job.cursor.clone();
    let mut done = job.rows_done;
    let total = table.estimated_rows.max(done);
    let cols = columns.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", ");
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut copied_here = 0i64;
    let through_client = autoinc_locks(conn, n).await?;
    let order = table.key.iter().map(|k| qi(k)).collect::<Vec<_>>().join(", ");
    // Through the client with an integer key, a range's end is read from its
    // last row (one scan instead of two).
    let fused: Option<Vec<usize>> = if through_client && table.key.iter().all(|k| integer(table, k)) {
        table.key.iter().map(|k| columns.iter().position(|c| c == k)).collect()
    } else {
        None
    };
    let mut db = MyDb::keyed(conn, &opts.state_schema, &spec.key_index);
    loop {
        if !throttle(&mut db, job.id, opts, progress).await? {
            return Ok(());
        }
        let t0 = Instant::now();
        let head = format!("INSERT IGNORE INTO {} ({cols}) VALUES ", n.shadow());
        let (planned, write) = match &fused {
            // The range is the next `rows` keys: the locking read finds its end
            // (and locks up to it) in the same scan.
            Some(at) => {
                let after = where_clause(&key_range(table, cursor.as_deref(), None));
                let select = format!(
                    "SELECT {cols} FROM {} FORCE INDEX ({}){after} ORDER BY {order} LIMIT {} LOCK IN SHARE MODE",
                    n.original(),
                    qi(&spec.key_index),
                    sizer.rows().max(1)
                );
                (None, Write::Values { select, head, columns: columns.len(), ends: Some((at.clone(), sizer.rows().max(1) as usize)) })
            }
            None => {
                let hi = db.chunk_end(table, cursor.as_deref(), sizer.rows()).await?;
                let range = where_clause(&key_range(table, cursor.as_deref(), hi.as_deref()));
                let select = format!("SELECT {cols} FROM {} FORCE INDEX ({}){range} LOCK IN SHARE MODE", n.original(), qi(&spec.key_index));
                let write = if through_client {
                    Write::Values { select, head, columns: columns.len(), ends: None }
                } else {
                    Write::Statement(format!("INSERT IGNORE INTO {} ({cols}) {select}", n.shadow()))
                };
                (hi, write)
            }
        };
        match batch(db.conn, &opts.state_schema, job.id, cursor.as_deref(), planned, &write, done).await {
            Ok(Step::Copied(rows, hi)) => {
                let took = t0.elapsed();
                done += rows;
                db.record_position(done);
                copied_here += rows;
                sizer.done(rows.max(1) as u64, took);
                if last_report.elapsed() > Duration::from_millis(500) || hi.is_none() {
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    progress(&Progress::Copied {
                        job: job.id,
                        rows_done: done,
                        rows_total: total.max(done),
                        rows_per_sec: copied_here as f64 / secs,
                    });
                    last_report = Instant::now();
                }
                if hi.is_none() {
                    return Ok(());
                }
                copied.send_replace(hi.clone());
                cursor = hi;
                let pause = sizer.pause(rows as u64, took);
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
            // Paused, cancelled or moved on by another process: the job row says what next.
            Ok(Step::Stopped) => return Ok(()),
            Err(e) if e.server().is_some_and(|s| s.is_retryable()) => sizer.lock_timed_out(),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Wait while the server is loaded (`Threads_running` above `max_load`) or
/// a replica is too far behind; pause the job at `critical_load`. False
/// when the job is no longer copying (paused, cancelled) meanwhile.
async fn throttle(db: &mut MyDb<'_>, id: i64, opts: &OscOptions, progress: OnProgress<'_>) -> Result<bool, OnlineError> {
    use crate::load::{self, Verdict};
    loop {
        let running = load::mysql(db.conn).await?;
        match load::judge(running, &opts.batch) {
            Verdict::Go => break,
            Verdict::Critical(c) => {
                let why = load::critical(running, load::MYSQL_MEASURE, c);
                jobs::set_state(db.conn, &opts.state_schema, id, "paused", Some(&why)).await?;
                return Err(OnlineError::Refused(format!("{why}; `stepwise osc resume` continues it once the load is down")));
            }
            Verdict::Wait(max) => {
                progress(&Progress::Loaded { job: id, threads_running: running, max, measure: load::MYSQL_MEASURE.into() });
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if !still_copying(db, &opts.state_schema, id).await? {
            return Ok(false);
        }
    }
    let Some(max) = opts.batch.max_replica_lag else { return Ok(true) };
    let max_ms = max.as_millis() as u64;
    let mut report = |behind: Duration, replica: &str| {
        progress(&Progress::Throttled { job: id, replica: replica.into(), lag_ms: behind.as_millis() as u64, max_ms })
    };
    while !db.wait_for_replicas(id, max, Duration::from_secs(3), &mut report).await? {
        if !still_copying(db, &opts.state_schema, id).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn still_copying(db: &mut MyDb<'_>, prefix: &str, id: i64) -> Result<bool, OnlineError> {
    Ok(jobs::get(db.conn, prefix, id).await?.is_some_and(|j| j.state == "copying"))
}

/// Whether an `INSERT ... SELECT` into the shadow would hold its AUTO-INC
/// table lock to the end of the statement.
async fn autoinc_locks(conn: &mut MyConn, n: &Names) -> Result<bool, DbError> {
    let mode: Option<i64> = conn.conn.query_first("SELECT @@innodb_autoinc_lock_mode").await?;
    if mode == Some(2) {
        return Ok(false);
    }
    let auto: Option<i64> = conn
        .conn
        .exec_first(
            "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA LIKE '%auto_increment%'",
            (&n.schema, &n.shadow),
        )
        .await?;
    Ok(auto.is_some())
}

/// How a range is written into the shadow.
enum Write {
    /// `INSERT IGNORE ... SELECT ... LOCK IN SHARE MODE`.
    Statement(String),
    /// The locking SELECT, then `head` followed by its rows as VALUES.
    /// `ends`: the key's positions in a row and the SELECT's LIMIT, when the
    /// range ends at the last row read (the end of the table when fewer come).
    Values { select: String, head: String, columns: usize, ends: Option<(Vec<usize>, usize)> },
}

/// Whether column `k` is an integer (its values read back as numbers).
fn integer(table: &TableInfo, k: &str) -> bool {
    let ty = table.column(k).map(|c| c.ty.to_ascii_lowercase()).unwrap_or_default();
    let base = ty.split(|c: char| c == '(' || c == ' ').next().unwrap_or("");
    matches!(base, "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint")
}

/// Where a range read through the client ends: `Some(None)` at the end of
/// the table, `Some(key)` at its last row, None when it was planned before.
type Found = Option<Option<Vec<String>>>;

/// Placeholders per INSERT (the protocol allows 65,535).
const MAX_PARAMS: usize = 60_000;

/// Rows per multi-row INSERT of the client path (measured: see bench/results/osc_mariadb.md).
const ROWS_PER_INSERT: usize = 1000;

/// Run `w` in the open transaction; the rows it inserted, and where the range ended.
async fn write(conn: &mut MyConn, w: &Write) -> Result<(i64, Found), DbError> {
    match w {
        Write::Statement(sql) => {
            conn.exec(sql).await?;
            Ok((conn.conn.affected_rows() as i64, None))
        }
        Write::Values { select, head, columns, ends } => {
            // The binary protocol both ways: values go back exactly as read.
            let rows: Vec<mysql_async::Row> = conn.conn.exec(select.as_str(), ()).await?;
            let found = match ends {
                None => None,
                Some((_, limit)) if rows.len() < *limit => Some(None),
                Some((at, _)) => {
                    let last = rows.last().ok_or_else(|| DbError::Other("the copy read no row of a full range".into()))?;
                    Some(Some(at.iter().map(|&i| key_text(last, i)).collect::<Result<Vec<_>, _>>()?))
                }
            };
            // Full statements of one fixed size, so the driver prepares it
            // once and reuses it; the rest goes in one more.
            let per = (MAX_PARAMS / (*columns).max(1)).clamp(1, ROWS_PER_INSERT);
            let one = format!("({})", vec!["?"; *columns].join(", "));
            let mut inserted = 0i64;
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let params: Vec<mysql_async::Value> = rows.by_ref().take(per).flat_map(|r| r.unwrap()).collect();
                let sql = format!("{head}{}", vec![one.as_str(); params.len() / (*columns).max(1)].join(", "));
                conn.conn.exec_drop(sql, mysql_async::Params::Positional(params)).await?;
                inserted += conn.conn.affected_rows() as i64;
                check_warnings(conn).await?;
            }
            Ok((inserted, found))
        }
    }
}

/// An integer key's value as the cursor keeps it.
fn key_text(row: &mysql_async::Row, i: usize) -> Result<String, DbError> {
    match row.as_ref(i) {
        Some(mysql_async::Value::Int(v)) => Ok(v.to_string()),
        Some(mysql_async::Value::UInt(v)) => Ok(v.to_string()),
        Some(mysql_async::Value::Bytes(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
        other => Err(DbError::Other(format!("the copy read a key value it cannot keep as a cursor: {other:?}"))),
    }
}

/// Any warning but the expected key duplicate fails the range.
async fn check_warnings(conn: &mut MyConn) -> Result<(), DbError> {
    if conn.conn.get_warnings() > 0 {
        let warnings: Vec<(String, u32, String)> = conn.conn.query("SHOW WARNINGS").await?;
        if let Some((_, code, message)) = warnings.into_iter().find(|w| w.1 != DUP_ENTRY) {
            return Err(DbError::Other(format!(
                "the copy would change a value or skip a row: {message} (warning {code}); nothing of this range was kept"
            )));
        }
    }
    Ok(())
}

enum Step {
    /// The rows inserted, and where the range ended (None: the table's end).
    Copied(i64, Option<Vec<String>>),
    Stopped,
}

/// One range and the cursor in one transaction; the job row is locked
/// first, so a `pause` or `cancel` (or a second process) is seen.
async fn batch(
    conn: &mut MyConn,
    prefix: &str,
    id: i64,
    lo: Option<&[String]>,
    planned: Option<Vec<String>>,
    w: &Write,
    done: i64,
) -> Result<Step, DbError> {
    let jobs_table = jobs::table(prefix);
    conn.exec("START TRANSACTION").await?;
    let work = async {
        let row: Option<(String, Option<String>)> =
            conn.conn.exec_first(format!("SELECT state, cursor_keys FROM {jobs_table} WHERE id = ? FOR UPDATE"), (id,)).await?;
        let Some((state, cursor)) = row else { return Ok(Step::Stopped) };
        let cursor: Option<Vec<String>> = cursor.and_then(|c| serde_json::from_str(&c).ok());
        if state != "copying" || cursor.as_deref() != lo {
            return Ok(Step::Stopped);
        }
        let (inserted, found) = write(conn, w).await?;
        if matches!(w, Write::Statement(_)) {
            check_warnings(conn).await?;
        }
        let hi = found.unwrap_or(planned);
        let (state, next) = if hi.is_some() { ("copying", hi.as_deref()) } else { ("verifying", lo) };
        conn.conn
            .exec_drop(
                format!(
                    "UPDATE {jobs_table} SET cursor_keys = ?, rows_done = ?, state = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?"
                ),
                (jobs::cursor_text(next), done + inserted, state, id),
            )
            .await?;
        Ok::<_, DbError>(Step::Copied(inserted, hi))
    };
    match work.await {
        Ok(Step::Copied(n, hi)) => {
            conn.exec("COMMIT").await?;
            Ok(Step::Copied(n, hi))
        }
        other => {
            let _ = conn.exec("ROLLBACK").await;
            other
        }
    }
}
