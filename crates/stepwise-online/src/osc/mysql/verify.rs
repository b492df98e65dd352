//! Before the swap, every key range of the original and the shadow is
//! compared: row count and `BIT_XOR(CRC32(...))` over the copied columns,
//! both tables read in one consistent snapshot per range. While the copy
//! runs, a second session checks the ranges behind its cursor ([`follow`]);
//! what is left (everything, after a restart) is checked once the copy ends.
//!
//! A range checked once stays equal: the capture triggers write every later
//! change into the shadow in the application's own transaction, and a change
//! they cannot write exactly (a value the new type cannot hold, a duplicate
//! of a new unique key, which would fold two rows into one) fails the job
//! instead. So a difference is a real one (a row the copy's IGNORE skipped,
//! a value the new type changed) and stops the job with the original
//! untouched and the first differing range named.
//!
//! The original's values are converted to the shadow's column types first
//! where they differ (`DECIMAL(10,2)` to `DECIMAL(12,4)` prints `1.5000`),
//! so that only a change the conversion does not explain counts.

use super::Names;
use crate::backfill::mysql::{key_range, where_clause, MyDb};
use crate::jobs::Job;
use crate::jobs_mysql as jobs;
use crate::osc::table::TableInfo;
use crate::osc::{OnProgress, OscOptions, Progress};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use stepwise_db::mysql::{quote_ident as qi, MyConn};
use stepwise_db::DbError;
use tokio::sync::watch;

/// A column as the comparison reads it on each side.
pub struct Compared {
    pub original: String,
    pub shadow: String,
}

/// How each copied column is compared: the shadow's value as it is, the
/// original's cast to the shadow's type where the types differ and MySQL's
/// CAST has the type.
pub async fn compared_columns(conn: &mut MyConn, n: &Names, columns: &[String]) -> Result<Vec<Compared>, DbError> {
    let orig: Vec<(String, String)> = column_types(conn, &n.schema, &n.table).await?;
    let shadow: Vec<(String, String)> = column_types(conn, &n.schema, &n.shadow).await?;
    let ty = |list: &[(String, String)], c: &str| {
        list.iter().find(|(n, _)| n.eq_ignore_ascii_case(c)).map(|(_, t)| t.clone()).unwrap_or_default()
    };
    Ok(columns
        .iter()
        .map(|c| {
            let (from, to) = (ty(&orig, c), ty(&shadow, c));
            let col = qi(c);
            let original = if from == to { col.clone() } else { cast(&col, &to).unwrap_or_else(|| col.clone()) };
            Compared { original, shadow: col }
        })
        .collect())
}

async fn column_types(conn: &mut MyConn, schema: &str, table: &str) -> Result<Vec<(String, String)>, DbError> {
    Ok(conn
        .conn
        .exec(
            "SELECT COLUMN_NAME, LOWER(COLUMN_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (schema, table),
        )
        .await?)
}

/// `CAST(col AS <type>)` for the types CAST takes; None for the rest
/// (integers, strings, enums: their text is the value either way).
fn cast(col: &str, to: &str) -> Option<String> {
    let base = to.split('(').next().unwrap_or(to).trim();
    let unsigned = to.contains("unsigned");
    let args = to.find('(').map(|i| &to[i..to.find(')').map_or(to.len(), |j| j + 1)]).unwrap_or("");
    Some(match base {
        "decimal" | "numeric" => format!("CAST({col} AS DECIMAL{args})"),
        "float" | "double" | "real" => format!("CAST({col} AS DOUBLE)"),
        "datetime" | "timestamp" => format!("CAST({col} AS DATETIME{args})"),
        "time" => format!("CAST({col} AS TIME{args})"),
        "date" => format!("CAST({col} AS DATE)"),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
            format!("CAST({col} AS {})", if unsigned { "UNSIGNED" } else { "SIGNED" })
        }
        _ => return None,
    })
}

/// `COUNT(*), BIT_XOR(CRC32(...))` over `exprs`, NULLs told apart from ''.
fn checksum(exprs: &[String]) -> String {
    let nulls = exprs.iter().map(|e| format!("ISNULL({e})")).collect::<Vec<_>>().join(", ");
    format!("COUNT(*), CAST(COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', {}, CONCAT({nulls})))), 0) AS UNSIGNED)", exprs.join(", "))
}

/// How far the verification got: every range up to `lo` (None: the
/// start) matched. Kept in memory only: a new process checks from the
/// start again.
#[derive(Default)]
pub struct Checked {
    pub lo: Option<Vec<String>>,
    pub rows: i64,
    pub chunks: u64,
}

/// One range's outcome.
#[derive(PartialEq)]
enum Step {
    /// Matched; more is left before the bound.
    More,
    /// Matched up to the bound given.
    Reached,
}

/// The two checksum queries' column lists.
pub struct Comparison {
    orig_sum: String,
    shadow_sum: String,
    /// The index the ranges are read through (the job's key).
    key_index: String,
}

impl Comparison {
    pub async fn load(conn: &mut MyConn, n: &Names, columns: &[String], key_index: &str) -> Result<Comparison, DbError> {
        let compared = compared_columns(conn, n, columns).await?;
        Ok(Comparison {
            key_index: key_index.to_string(),
            orig_sum: checksum(&compared.iter().map(|c| c.original.clone()).collect::<Vec<_>>()),
            shadow_sum: checksum(&compared.iter().map(|c| c.shadow.clone()).collect::<Vec<_>>()),
        })
    }

    /// Check the next range after `checked.lo`: at most `chunk` rows, not
    /// beyond `upto` (None: the end of the table).
    async fn step(
        &self,
        conn: &mut MyConn,
        n: &Names,
        table: &TableInfo,
        checked: &mut Checked,
        chunk: u64,
        upto: Option<&[String]>,
    ) -> Result<Step, OnlineError> {
        let lo = checked.lo.clone();
        let hi = {
            let mut db = MyDb::keyed(conn, "", &self.key_index);
            db.chunk_end_upto(table, lo.as_deref(), upto, chunk.max(1)).await?
        };
        let (end, step) = match hi {
            Some(h) => (Some(h), Step::More),
            None => (upto.map(|u| u.to_vec()), Step::Reached),
        };
        let range = where_clause(&key_range(table, lo.as_deref(), end.as_deref()));
        conn.exec("START TRANSACTION WITH CONSISTENT SNAPSHOT").await?;
        let read = async {
            let a: Option<(i64, u64)> = conn.conn.query_first(format!("SELECT {} FROM {}{range}", self.orig_sum, n.original())).await?;
            let b: Option<(i64, u64)> = conn.conn.query_first(format!("SELECT {} FROM {}{range}", self.shadow_sum, n.shadow())).await?;
            Ok::<_, DbError>((a.unwrap_or_default(), b.unwrap_or_default()))
        }
        .await;
        let _ = conn.exec("COMMIT").await;
        let (a, b) = read?;
        checked.chunks += 1;
        if a != b {
            let at = match (&lo, &end) {
                (None, None) => "the whole table".to_string(),
                (lo, hi) => format!(
                    "keys after ({}) up to ({})",
                    lo.as_ref().map(|v| v.join(", ")).unwrap_or_else(|| "the start".into()),
                    hi.as_ref().map(|v| v.join(", ")).unwrap_or_else(|| "the end".into())
                ),
            };
            return Err(OnlineError::Refused(format!(
                "verification failed: in {at} the original has {} rows and the copy {} (checksums {:08x} and {:08x}); the original \
                 is untouched: a duplicate of a new unique key, a value the new type cannot hold or a row the copy skipped. \
                 `stepwise osc cancel` removes the copy",
                a.0, b.0, a.1, b.1
            )));
        }
        checked.rows += a.0;
        checked.lo = end;
        Ok(step)
    }
}

/// While the copy runs, on a session of its own: check the ranges behind
/// the copy's cursor (sent on `copied` after each batch commits) until the
/// copy stops. Sound because a range, once copied, stays equal to the
/// original: the capture triggers write every later change in the
/// application's transaction or fail the job (see `capture`). A difference
/// fails the job at once, so the copy stops at its next batch.
pub async fn follow(
    conn: &mut MyConn,
    n: &Names,
    key_index: &str,
    table: &TableInfo,
    columns: &[String],
    opts: &OscOptions,
    checked: &mut Checked,
    mut copied: watch::Receiver<Option<Vec<String>>>,
) -> Result<(), OnlineError> {
    let comparison = Comparison::load(conn, n, columns, key_index).await?;
    loop {
        let upto = copied.borrow_and_update().clone();
        if let Some(upto) = upto {
            loop {
                match comparison.step(conn, n, table, checked, opts.verify_chunk, Some(&upto)).await {
                    Ok(Step::Reached) => break,
                    // Stop as soon as the copy does: the rest is checked after it.
                    Ok(Step::More) if copied.has_changed().is_err() => return Ok(()),
                    Ok(Step::More) => {}
                    Err(e) => {
                        jobs::set_state(conn, &opts.state_schema, n.job, "failed", Some(&e.to_string())).await?;
                        return Err(e);
                    }
                }
            }
        }
        if copied.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// Check what the copy's follower has not (everything, in a new process).
pub async fn verify(
    conn: &mut MyConn,
    job: &Job,
    n: &Names,
    key_index: &str,
    table: &TableInfo,
    columns: &[String],
    opts: &OscOptions,
    checked: &mut Checked,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let comparison = Comparison::load(conn, n, columns, key_index).await?;
    while comparison.step(conn, n, table, checked, opts.verify_chunk, None).await? == Step::More {}
    progress(&Progress::Verified { job: job.id, rows: checked.rows, chunks: checked.chunks });
    Ok(())
}
