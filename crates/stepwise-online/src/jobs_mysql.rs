//! `<prefix>_jobs` on MySQL/MariaDB: the same job rows as [`crate::jobs`]
//! keeps on PostgreSQL. MySQL has no partial unique index, so "one
//! unfinished job of a kind per table" is a unique index on a generated
//! column that is NULL once the job is done (NULLs never collide).

use crate::jobs::Job;
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use stepwise_db::mysql::{quote_ident, MyConn};
use stepwise_db::DbError;

pub fn table(prefix: &str) -> String {
    quote_ident(&format!("{prefix}_jobs"))
}

pub async fn ensure(conn: &mut MyConn, prefix: &str) -> Result<(), OnlineError> {
    conn.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (
             id BIGINT AUTO_INCREMENT PRIMARY KEY,
             kind VARCHAR(32) NOT NULL,
             target VARCHAR(400) NOT NULL,
             state VARCHAR(32) NOT NULL,
             spec LONGTEXT NOT NULL,
             cursor_keys LONGTEXT NULL,
             rows_done BIGINT NOT NULL DEFAULT 0,
             rows_changed BIGINT NOT NULL DEFAULT 0,
             rows_total BIGINT NULL,
             error TEXT NULL,
             revert_blocked TEXT NULL,
             created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
             updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
             unfinished VARCHAR(440) AS
                 (CASE WHEN state NOT IN ('finished', 'cancelled', 'reverted') THEN CONCAT(kind, ':', target) END) PERSISTENT,
             UNIQUE KEY one_unfinished_per_kind_target (unfinished)
         ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4",
        table(prefix)
    ))
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, kind, target, state, spec, cursor_keys, rows_done, rows_total, error, revert_blocked,
     CAST(TIMESTAMPDIFF(MICROSECOND, updated_at, CURRENT_TIMESTAMP(6)) / 1e6 AS DOUBLE), rows_changed,
     CAST(TIMESTAMPDIFF(MICROSECOND, created_at, updated_at) / 1e6 AS DOUBLE)";

fn from_row(r: mysql_async::Row) -> Job {
    let text = |i: usize| r.get::<Option<String>, _>(i).flatten();
    let num = |i: usize| r.get::<Option<i64>, _>(i).flatten();
    let float = |i: usize| r.get::<Option<f64>, _>(i).flatten().unwrap_or_default();
    Job {
        id: num(0).unwrap_or_default(),
        kind: text(1).unwrap_or_default(),
        target: text(2).unwrap_or_default(),
        state: text(3).unwrap_or_default(),
        spec: text(4).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(serde_json::Value::Null),
        cursor: text(5).and_then(|c| serde_json::from_str(&c).ok()),
        rows_done: num(6).unwrap_or_default(),
        rows_total: num(7),
        error: text(8),
        revert_blocked: text(9),
        updated_secs_ago: float(10),
        rows_changed: num(11).unwrap_or_default(),
        elapsed_secs: float(12),
    }
}

/// The cursor as stored: a JSON array of the key's values as text.
pub fn cursor_text(cursor: Option<&[String]>) -> Option<String> {
    cursor.map(|c| serde_json::Value::from(c.to_vec()).to_string())
}

pub async fn create(
    conn: &mut MyConn,
    prefix: &str,
    kind: &str,
    target: &str,
    state: &str,
    spec: &serde_json::Value,
) -> Result<Job, OnlineError> {
    let sql = format!("INSERT INTO {} (kind, target, state, spec) VALUES (?, ?, ?, ?)", table(prefix));
    match conn.conn.exec_drop(sql, (kind, target, state, spec.to_string())).await {
        Ok(()) => {}
        Err(mysql_async::Error::Server(e)) if e.code == 1062 => {
            return Err(OnlineError::Refused(format!("{target} already has an unfinished {kind} job: see `stepwise {kind} status`")))
        }
        Err(e) => return Err(DbError::from(e).into()),
    }
    let id = conn.conn.last_insert_id().unwrap_or_default() as i64;
    get(conn, prefix, id).await?.ok_or_else(|| OnlineError::Refused(format!("job {id} vanished as it was created")))
}

pub async fn get(conn: &mut MyConn, prefix: &str, id: i64) -> Result<Option<Job>, OnlineError> {
    let row: Option<mysql_async::Row> =
        conn.conn.exec_first(format!("SELECT {COLUMNS} FROM {} WHERE id = ?", table(prefix)), (id,)).await.map_err(DbError::from)?;
    Ok(row.map(from_row))
}

/// Jobs of `kind`, newest first; only unfinished ones unless `all`.
pub async fn list(conn: &mut MyConn, prefix: &str, kind: &str, all: bool) -> Result<Vec<Job>, OnlineError> {
    let exists: Option<i64> = conn
        .conn
        .exec_first(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            (format!("{prefix}_jobs"),),
        )
        .await
        .map_err(DbError::from)?;
    if exists.is_none() {
        return Ok(vec![]);
    }
    let filter = if all { "" } else { "AND unfinished IS NOT NULL" };
    let rows: Vec<mysql_async::Row> = conn
        .conn
        .exec(format!("SELECT {COLUMNS} FROM {} WHERE kind = ? {filter} ORDER BY id DESC", table(prefix)), (kind,))
        .await
        .map_err(DbError::from)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn set_state(conn: &mut MyConn, prefix: &str, id: i64, state: &str, error: Option<&str>) -> Result<(), OnlineError> {
    conn.conn
        .exec_drop(
            format!("UPDATE {} SET state = ?, error = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?", table(prefix)),
            (state, error, id),
        )
        .await
        .map_err(DbError::from)?;
    Ok(())
}

/// Move a job from `from` to `to`; false when it was no longer in `from`
/// (a trigger failed it, or a cancel or pause came first).
pub async fn move_state(conn: &mut MyConn, prefix: &str, id: i64, from: &str, to: &str) -> Result<bool, OnlineError> {
    conn.conn
        .exec_drop(
            format!("UPDATE {} SET state = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ? AND state = ?", table(prefix)),
            (to, id, from),
        )
        .await
        .map_err(DbError::from)?;
    Ok(conn.conn.affected_rows() == 1)
}
