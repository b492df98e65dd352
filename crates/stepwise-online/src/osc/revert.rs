//! `osc revert`: after the swap, while the old table is kept, swap back.
//! The reverse trigger has written every change made to the new table since
//! the swap into the old one, in the same transactions, so the old table is
//! current; the revert re-points views, sequences, publications and foreign
//! keys at it, drops the new table and restores the old one's name and index
//! names, in one transaction under lock_timeout with retries.

use super::carry::Carry;
use super::sql::{self, Names};
use super::swap::{drop_views, exchange, finish_validation, locked_state, sequences, views};
use super::{OnProgress, OscOptions, Progress, Spec};
use crate::jobs::Job;
use crate::OnlineError;
use stepwise_db::pg::{quote_ident, quote_literal, PgConn};

pub async fn revert(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    if job.state != "swapped" {
        return Err(OnlineError::Refused(format!("job {} is {}: revert swaps back a job that has swapped", job.id, job.state)));
    }
    if let Some(why) = &job.revert_blocked {
        return Err(OnlineError::Refused(format!("job {} can no longer be reverted: {why}", job.id)));
    }
    let table = n.original();
    let old = n.qualified(&n.old);
    let (lock_held_ms, spec) = exchange(
        conn,
        opts,
        job,
        "revert the swap",
        [table.clone(), old.clone()],
        // The new table's own foreign keys are dropped with it.
        |c| c.other_tables(Some("ACCESS EXCLUSIVE")),
        progress,
        async |carried: &Carry, new_oid: u32| {
            let (state, blocked) = locked_state(conn, n, job.id).await?;
            if state != "swapped" {
                return Err(OnlineError::Refused(format!("job {} is {state}, not swapped", job.id)));
            }
            if let Some(why) = blocked {
                return Err(OnlineError::Refused(format!("job {} can no longer be reverted: {why}", job.id)));
            }
            let mut spec = spec.clone();
            let ddl = revert_ddl(conn, n, new_oid, carried, &mut spec).await?;
            Ok((ddl, spec))
        },
    )
    .await?;
    progress(&Progress::Reverted { job: job.id, table: table.clone(), lock_held_ms });
    finish_validation(conn, job, spec, n, opts, progress).await
}

async fn revert_ddl(conn: &PgConn, n: &Names, new_oid: u32, carried: &Carry, spec: &mut Spec) -> Result<Vec<String>, OnlineError> {
    let table = n.original();
    let old = n.qualified(&n.old);
    let (view_sql, view_names) = views(conn, new_oid).await?;
    let mut ddl = Vec::new();
    ddl.extend(drop_views(&view_names));
    // Sequences first: a serial's sequence would be dropped with the new
    // table. One of a column the ALTER added goes with it: the old table
    // has no such column to own it (a revert after `ADD COLUMN x serial`
    // failed on exactly that).
    let old_columns = super::table::load(conn, &old).await?.map(|t| t.columns).unwrap_or_default();
    let kept = |col: &str| old_columns.iter().any(|c| c.name == col);
    for (seq, col, kind, _) in sequences(conn, new_oid).await?.into_iter().filter(|(_, col, _, _)| kept(col)) {
        if kind == "a" {
            ddl.push(format!("ALTER SEQUENCE {seq} OWNED BY {old}.{}", quote_ident(&col)));
        } else {
            ddl.push(format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), last_value, is_called) FROM {seq}",
                quote_literal(&old),
                quote_literal(&col)
            ));
        }
    }
    // The new table steps aside and goes, taking its triggers, indexes and
    // publication membership with it; the keys pointing at it move below.
    ddl.push(format!("ALTER TABLE {table} RENAME TO {}", quote_ident(&n.shadow)));
    ddl.extend(carried.off(&n.shadow_q()));
    ddl.push(format!("DROP TABLE {}", n.shadow_q()));
    ddl.push(sql::drop_functions(n));
    ddl.push(format!("ALTER TABLE {old} RENAME TO {}", quote_ident(&n.table)));
    for (kept, name) in &spec.index_names {
        ddl.push(format!("ALTER INDEX {} RENAME TO {}", n.qualified(kept), quote_ident(name)));
    }
    ddl.extend(carried.onto(&table, false, ""));
    ddl.extend(view_sql);
    spec.validate = carried.to_validate(&table, false);
    ddl.push(format!(
        "UPDATE {} SET state = 'reverted', spec = {}::jsonb, updated_at = now() WHERE id = {}",
        n.jobs(),
        quote_literal(&serde_json::to_string(&spec).unwrap_or_default()),
        n.job
    ));
    Ok(ddl)
}
