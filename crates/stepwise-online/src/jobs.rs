//! `<schema>.jobs`: one row per long-running job (an online schema change, a
//! backfill). Every step that changes what the job has done updates its row
//! in the same transaction as the work, so the row is the truth after a crash.

use crate::OnlineError;
use stepwise_db::pg::{quote_ident, PgConn};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// `schema.table`.
    pub target: String,
    pub state: String,
    /// What was asked (kind-specific).
    pub spec: serde_json::Value,
    /// Where the copy stopped: the last key copied, as text values.
    pub cursor: Option<Vec<String>>,
    /// Rows the job has gone past (copied, or examined by a backfill).
    pub rows_done: i64,
    /// Rows a backfill changed (updated or deleted); 0 for other kinds.
    pub rows_changed: i64,
    pub rows_total: Option<i64>,
    pub error: Option<String>,
    /// Why the way back (`osc revert`) closed after the swap, if it did.
    pub revert_blocked: Option<String>,
    pub updated_secs_ago: f64,
    /// Seconds from the job's creation to its last update (for an average rate).
    pub elapsed_secs: f64,
}

/// A job in any state but these still holds triggers or tables.
const DONE: &str = "('finished', 'cancelled', 'reverted')";

pub fn table(schema: &str) -> String {
    format!("{}.jobs", quote_ident(schema))
}

pub async fn ensure(conn: &PgConn, schema: &str) -> Result<(), OnlineError> {
    let s = quote_ident(schema);
    conn.batch(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.jobs (
             id bigserial PRIMARY KEY,
             kind text NOT NULL,
             target text NOT NULL,
             state text NOT NULL,
             spec jsonb NOT NULL,
             cursor text[],
             rows_done bigint NOT NULL DEFAULT 0,
             rows_total bigint,
             error text,
             created_at timestamptz NOT NULL DEFAULT now(),
             updated_at timestamptz NOT NULL DEFAULT now()
         );
         ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS revert_blocked text,
                              ADD COLUMN IF NOT EXISTS rows_changed bigint NOT NULL DEFAULT 0;
         DROP INDEX IF EXISTS {s}.jobs_one_active_per_target;
         -- One unfinished job of each kind per table (a backfill may run
         -- while an osc job copies the same table: its triggers capture it).
         CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_unfinished_per_kind_target ON {s}.jobs (kind, target)
             WHERE state NOT IN {DONE};
         DROP INDEX IF EXISTS {s}.jobs_one_unfinished_per_target;"
    ))
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, kind, target, state, spec::text, cursor, rows_done, rows_total, error, revert_blocked,
     extract(epoch FROM now() - updated_at)::float8, rows_changed, extract(epoch FROM updated_at - created_at)::float8";

fn from_row(r: &tokio_postgres::Row) -> Job {
    Job {
        id: r.get(0),
        kind: r.get(1),
        target: r.get(2),
        state: r.get(3),
        spec: serde_json::from_str(r.get::<_, &str>(4)).unwrap_or(serde_json::Value::Null),
        cursor: r.get(5),
        rows_done: r.get(6),
        rows_total: r.get(7),
        error: r.get(8),
        revert_blocked: r.get(9),
        updated_secs_ago: r.get(10),
        rows_changed: r.get(11),
        elapsed_secs: r.get(12),
    }
}

/// A new job in state `state`. A second active job on the same table is
/// refused by the unique index.
pub async fn create(
    conn: &PgConn,
    schema: &str,
    kind: &str,
    target: &str,
    state: &str,
    spec: &serde_json::Value,
) -> Result<Job, OnlineError> {
    let sql = format!("INSERT INTO {} (kind, target, state, spec) VALUES ($1, $2, $3, $4::text::jsonb) RETURNING {COLUMNS}", table(schema));
    match conn.client.query_one(&sql, &[&kind, &target, &state, &spec.to_string()]).await {
        Ok(r) => Ok(from_row(&r)),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            Err(OnlineError::Refused(format!("{target} already has an unfinished {kind} job: see `stepwise {kind} status`")))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn get(conn: &PgConn, schema: &str, id: i64) -> Result<Option<Job>, OnlineError> {
    let rows = conn.rows(&format!("SELECT {COLUMNS} FROM {} WHERE id = $1", table(schema)), &[&id]).await?;
    Ok(rows.first().map(from_row))
}

/// Jobs of `kind`, newest first; only unfinished ones unless `all`.
pub async fn list(conn: &PgConn, schema: &str, kind: &str, all: bool) -> Result<Vec<Job>, OnlineError> {
    let exists = conn.rows("SELECT to_regclass($1) IS NOT NULL", &[&format!("{}.jobs", quote_ident(schema))]).await?;
    if !exists.first().is_some_and(|r| r.get::<_, bool>(0)) {
        return Ok(vec![]);
    }
    let filter = if all { String::new() } else { format!("AND state NOT IN {DONE}") };
    let rows = conn.rows(&format!("SELECT {COLUMNS} FROM {} WHERE kind = $1 {filter} ORDER BY id DESC", table(schema)), &[&kind]).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The job to act on when none was named: the only unfinished one of `kind`.
pub fn the_only(kind: &str, mut open: Vec<Job>) -> Result<Job, OnlineError> {
    match open.len() {
        0 => Err(OnlineError::Usage(format!("there is no unfinished {kind} job"))),
        1 => Ok(open.remove(0)),
        _ => Err(OnlineError::Usage(format!(
            "{} unfinished {kind} jobs ({}): name one with --job",
            open.len(),
            open.iter().map(|j| format!("{} on {}", j.id, j.target)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The advisory lock that says "this session works job `id`": two int4
/// keys, the jobs table's name hashed and the job id, so that no other
/// stepwise lock (the migration lock takes one bigint) can collide.
const CLAIM_KEYS: &str = "hashtext($1), ($2 % 2147483648)::int";
const CLAIMED: &str = "l.locktype = 'advisory' AND l.granted AND l.classid = hashtext($1)::oid
                       AND l.objid = ($2 % 2147483648)::int::oid AND l.objsubid = 2";

/// Take the job for this session (once: taking it again is a no-op), or say
/// which process has it. Held until [`release`] or the session ends: a
/// process killed with `kill -9` lets go once the server has finished the
/// statement it was running.
pub async fn claim(conn: &PgConn, schema: &str, id: i64) -> Result<(), OnlineError> {
    let name = table(schema);
    let sql = format!(
        "SELECT EXISTS (SELECT FROM pg_locks l WHERE {CLAIMED} AND l.pid = pg_backend_pid()) OR pg_try_advisory_lock({CLAIM_KEYS})"
    );
    let got: bool = conn.client.query_one(&sql, &[&name, &id]).await?.get(0);
    if got {
        return Ok(());
    }
    let holder: Option<String> = conn
        .client
        .query_one(
            &format!(
                "SELECT string_agg(format('pid %s, %s', a.pid, coalesce(nullif(a.application_name, ''), 'no application name')), '; ')
                   FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE {CLAIMED}"
            ),
            &[&name, &id],
        )
        .await?
        .get(0);
    Err(OnlineError::Refused(format!(
        "job {id} is being worked by another process ({}): wait for it to end, or stop it first",
        holder.unwrap_or_else(|| "a session stepwise cannot see".into())
    )))
}

/// Let go of a job taken with [`claim`].
pub async fn release(conn: &PgConn, schema: &str, id: i64) -> Result<(), OnlineError> {
    let sql = format!("SELECT pg_advisory_unlock({CLAIM_KEYS}) FROM pg_locks l WHERE {CLAIMED} AND l.pid = pg_backend_pid()");
    conn.client.execute(&sql, &[&table(schema), &id]).await?;
    Ok(())
}

/// Set the state (and error) of a job.
pub async fn set_state(conn: &PgConn, schema: &str, id: i64, state: &str, error: Option<&str>) -> Result<(), OnlineError> {
    conn.client
        .execute(&format!("UPDATE {} SET state = $2, error = $3, updated_at = now() WHERE id = $1", table(schema)), &[&id, &state, &error])
        .await?;
    Ok(())
}

/// Replace the spec of a job (kind-specific facts learnt as it runs).
pub async fn set_spec(conn: &PgConn, schema: &str, id: i64, spec: &serde_json::Value) -> Result<(), OnlineError> {
    conn.client
        .execute(
            &format!("UPDATE {} SET spec = $2::text::jsonb, updated_at = now() WHERE id = $1", table(schema)),
            &[&id, &spec.to_string()],
        )
        .await?;
    Ok(())
}
