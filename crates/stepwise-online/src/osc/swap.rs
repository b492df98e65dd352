//! Statements that lock the live table, run under lock_timeout with bounded
//! retries, and the swap itself.

use super::carry::{self, Carry};
use super::index::{self, Index};
use super::sql::{self, BackColumn, Names};
use super::{OnProgress, OscOptions, Progress, Spec};
use crate::jobs::Job;
use crate::OnlineError;
use std::time::{Duration, Instant};
use stepwise_db::pg::{quote_ident, quote_literal, PgConn};

/// Sessions holding a lock on `table` (for messages about lock waits).
pub(super) async fn holders(conn: &PgConn, table: &str) -> Vec<String> {
    let sql = "SELECT a.pid::text || ' (' || coalesce(a.state, '?') || ', ' || left(coalesce(a.query, ''), 60) || ')'
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.relation = to_regclass($1) AND l.granted AND l.pid <> pg_backend_pid()";
    conn.rows(sql, &[&table]).await.map(|rows| rows.iter().map(|r| r.get(0)).collect()).unwrap_or_default()
}

/// `--cancel-blockers-after` around the statements that lock the live
/// table: a second session watches, and once the wait (counted from the
/// first attempt) has lasted long enough, cancels exactly the sessions
/// blocking ours. Without the option it only runs the work.
pub(super) struct Guard {
    monitor: Option<PgConn>,
    cancel: Option<stepwise_db::sessions::cancel::Cancel>,
    canceller: stepwise_db::sessions::cancel::Canceller,
}

impl Guard {
    pub(super) async fn new(conn: &PgConn, opts: &OscOptions) -> Result<Guard, OnlineError> {
        let cancel = opts.cancel_blockers.as_ref().map(stepwise_db::sessions::cancel::Cancel::starting_now);
        let monitor = if cancel.is_some() { Some(conn.another().await?) } else { None };
        Ok(Guard { monitor, cancel, canceller: Default::default() })
    }

    pub(super) async fn run<R>(&mut self, pid: i32, job: i64, work: impl std::future::Future<Output = R>, progress: OnProgress<'_>) -> R {
        let Some(monitor) = &mut self.monitor else { return work.await };
        let mut report = |e: stepwise_db::sessions::cancel::CancelEvent| match e {
            stepwise_db::sessions::cancel::CancelEvent::Acted(cancellation) => progress(&Progress::BlockerCancelled { job, cancellation }),
            stepwise_db::sessions::cancel::CancelEvent::Note(message) => progress(&Progress::Note { job, message }),
        };
        let every = (self.cancel.as_ref().map(|c| c.policy.after).unwrap_or_default() / 4)
            .clamp(Duration::from_millis(20), Duration::from_millis(250));
        stepwise_db::sessions::cancel::guarded(monitor, pid as i64, &mut self.canceller, self.cancel.as_ref(), every, work, &mut report)
            .await
    }
}

/// Run `sql`, which locks `table`, in one transaction under the lock
/// timeout, retrying a lock wait up to `opts.retries` times with a growing
/// pause and naming the sessions that hold the table.
pub async fn locked(
    conn: &PgConn,
    opts: &OscOptions,
    job: i64,
    table: &str,
    what: &str,
    sql: &str,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let mut attempt = 0;
    let mut guard = Guard::new(conn, opts).await?;
    loop {
        attempt += 1;
        let text = format!("BEGIN; SET LOCAL lock_timeout = '{}ms';\n{sql};\nCOMMIT;", opts.lock_timeout.as_millis());
        let r = guard.run(conn.pid, job, conn.batch(&text), progress).await;
        match r {
            Ok(()) => return Ok(()),
            Err(e) => {
                let _ = conn.batch("ROLLBACK").await;
                if !e.is_retryable() || attempt > opts.retries {
                    return Err(OnlineError::Refused(format!("could not {what} after {attempt} attempt(s): {e}")));
                }
                progress(&Progress::LockWait { job, what: what.into(), attempt, blockers: holders(conn, table).await });
                tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
            }
        }
    }
}

/// Lock `tables` (name, mode) in order inside the open transaction, under
/// its lock_timeout. `Ok(false)`: a lock was not granted in time; the
/// transaction is rolled back and the caller may retry.
pub(super) async fn lock_in_order(conn: &PgConn, tables: &[(String, &str)]) -> Result<bool, OnlineError> {
    for (table, mode) in tables {
        if let Err(e) = conn.batch(&format!("LOCK TABLE {table} IN {mode} MODE")).await {
            let _ = conn.batch("ROLLBACK").await;
            if e.is_retryable() {
                return Ok(false);
            }
            return Err(e.into());
        }
    }
    Ok(true)
}

/// The view, sequence and lock work shared by the swap and the revert:
/// one transaction that takes every lock it needs up front (the two tables,
/// then the tables whose foreign keys move) under lock_timeout, retried with
/// a growing pause; `body` runs with every lock held and returns the DDL
/// (and what it learnt). Returns that and how long the locks were held.
/// `tables[0]` is the live table, the one that carries the name.
#[allow(clippy::too_many_arguments)] // each is a distinct input; bundling them would only rename them
pub(super) async fn exchange<T>(
    conn: &PgConn,
    opts: &OscOptions,
    job: &Job,
    what: &str,
    tables: [String; 2],
    others: impl Fn(&Carry) -> Vec<(String, &'static str)>,
    progress: OnProgress<'_>,
    body: impl AsyncFn(&Carry, u32) -> Result<(Vec<String>, T), OnlineError>,
) -> Result<(u64, T), OnlineError> {
    let live = tables[0].as_str();
    let mut attempt = 0;
    let mut guard = Guard::new(conn, opts).await?;
    // Name what the swap is about to queue behind: transactions older than
    // the lock timeout holding a lock on the live table.
    if let Ok(old) = stepwise_db::sessions::pg::old_holders(conn, live, opts.lock_timeout.as_secs_f64(), conn.pid).await {
        for s in old {
            let mode = s.holds.first().map(|l| l.mode.clone()).unwrap_or_default();
            let query = s.query_line(80, false).filter(|q| !q.is_empty()).map(|q| format!("; last query: {q}")).unwrap_or_default();
            progress(&Progress::Note {
                job: job.id,
                message: format!(
                    "to {what}, osc needs a lock that a transaction open for {:.1}s holds ({mode} on {live}; pid {}, user {}, {}{query}): it will wait behind it",
                    s.transaction_secs.unwrap_or(0.0),
                    s.id,
                    s.user,
                    if s.state.is_empty() { "?" } else { &s.state },
                ),
            });
        }
    }
    loop {
        attempt += 1;
        conn.batch(&format!("BEGIN; SET LOCAL lock_timeout = '{}ms'", opts.lock_timeout.as_millis())).await?;
        let both = [(tables[0].clone(), "ACCESS EXCLUSIVE"), (tables[1].clone(), "ACCESS EXCLUSIVE")];
        let mut ok = guard.run(conn.pid, job.id, lock_in_order(conn, &both), progress).await?;
        let held = Instant::now();
        let mut carried = None;
        if ok {
            let loaded = async {
                let oid = live_oid(conn, live).await?;
                Ok::<_, OnlineError>((Carry::load(conn, oid).await?, oid))
            };
            let c = match loaded.await {
                Ok(c) => c,
                Err(e) => {
                    let _ = conn.batch("ROLLBACK").await;
                    return Err(e);
                }
            };
            ok = lock_in_order(conn, &others(&c.0)).await?;
            carried = Some(c);
        }
        let Some((carried, oid)) = carried.filter(|_| ok) else {
            if attempt > opts.retries {
                return Err(OnlineError::Refused(format!("could not lock the tables to {what} after {attempt} attempt(s)")));
            }
            progress(&Progress::LockWait { job: job.id, what: what.into(), attempt, blockers: holders(conn, live).await });
            tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
            continue;
        };
        let (ddl, learnt) = match body(&carried, oid).await {
            Ok(r) => r,
            Err(e) => {
                let _ = conn.batch("ROLLBACK").await;
                return Err(e);
            }
        };
        if let Err(e) = conn.batch(&ddl.join(";\n")).await {
            let _ = conn.batch("ROLLBACK").await;
            return Err(OnlineError::Refused(format!("could not {what}; rolled back, nothing changed: {e}")));
        }
        conn.batch("COMMIT").await?;
        return Ok((held.elapsed().as_millis() as u64, learnt));
    }
}

async fn live_oid(conn: &PgConn, name: &str) -> Result<u32, OnlineError> {
    let r = conn.client.query_one("SELECT to_regclass($1)::oid", &[&name]).await?;
    r.get::<_, Option<u32>>(0).ok_or_else(|| OnlineError::Refused(format!("{name} is gone")))
}

/// The job's state, its row locked for the rest of the transaction.
pub(super) async fn locked_state(conn: &PgConn, n: &Names, job: i64) -> Result<(String, Option<String>), OnlineError> {
    let r = conn.client.query_one(&format!("SELECT state, revert_blocked FROM {} WHERE id = $1 FOR UPDATE", n.jobs()), &[&job]).await?;
    Ok((r.get(0), r.get(1)))
}

/// The statements that re-create the views on the table (and views on those),
/// in creation order, with owner, options, grants and comments; and their names.
pub(super) async fn views(conn: &PgConn, oid: u32) -> Result<(Vec<String>, Vec<String>), OnlineError> {
    let rows = conn
        .client
        .query(
            "WITH RECURSIVE dep(oid, depth) AS (
                 SELECT w.ev_class, 1 FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
                  WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1 AND w.ev_class <> $1
                 UNION
                 SELECT w.ev_class, dep.depth + 1 FROM dep JOIN pg_depend d ON d.refobjid = dep.oid JOIN pg_rewrite w ON w.oid = d.objid
                  WHERE d.classid = 'pg_rewrite'::regclass AND w.ev_class <> dep.oid
             )
             SELECT c.oid, c.oid::regclass::text, pg_get_viewdef(c.oid), pg_get_userbyid(c.relowner),
                    coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', ''), obj_description(c.oid, 'pg_class'), max(dep.depth)
               FROM dep JOIN pg_class c ON c.oid = dep.oid WHERE c.relkind = 'v'
              GROUP BY c.oid ORDER BY max(dep.depth), c.oid",
            &[&oid],
        )
        .await?;
    let (mut create, mut names) = (Vec::new(), Vec::new());
    for r in &rows {
        let (view_oid, name, def, owner, options, comment): (u32, String, String, String, String, Option<String>) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        create.push(format!("CREATE VIEW {name}{options} AS {def}"));
        create.push(format!("ALTER VIEW {name} OWNER TO {}", quote_ident(&owner)));
        for g in conn.client.query(carry::GRANTS, &[&view_oid]).await? {
            create.push(g.get::<_, String>(0).replace("%s", &name));
        }
        if let Some(c) = comment {
            create.push(format!("COMMENT ON VIEW {name} IS {}", quote_literal(&c)));
        }
        names.push(name);
    }
    Ok((create, names))
}

pub(super) fn drop_views(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| format!("DROP VIEW {}", names.iter().rev().cloned().collect::<Vec<_>>().join(", ")))
}

/// Sequences owned by a column of `oid`: (sequence, column, 'a' serial or
/// 'i' identity, the sequence's type).
pub(super) async fn sequences(conn: &PgConn, oid: u32) -> Result<Vec<(String, String, String, String)>, OnlineError> {
    let rows = conn
        .client
        .query(
            "SELECT d.objid::regclass::text, a.attname, d.deptype::text, format_type(s.seqtypid, NULL)
               FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')",
            &[&oid],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect())
}

/// Columns of `oid` by name: (type, generated).
async fn column_types(conn: &PgConn, oid: u32) -> Result<Vec<(String, String, bool)>, OnlineError> {
    let rows = conn
        .client
        .query(
            "SELECT attname, format_type(atttypid, atttypmod), attgenerated <> '' FROM pg_attribute
              WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&oid],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// The swap: one transaction under lock_timeout, retried; the old table is
/// kept (renamed) and kept in sync by the reverse trigger until `osc finish`
/// or `osc revert`. Foreign keys moved NOT VALID are validated afterwards.
pub async fn swap(
    conn: &PgConn,
    job: &Job,
    spec: &Spec,
    n: &Names,
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let table = n.original();
    // Changes since the verification, replayed before locking so that the
    // swap replays only the last few while it holds the table.
    let (info, common) = super::copy::source(conn, n, spec).await?;
    let common: Vec<String> = common.into_iter().map(|c| c.name).collect();
    super::replay::drain(conn, n, &info, &spec.key, &common, opts.batch.lock_timeout).await?;
    let (lock_held_ms, spec) = exchange(
        conn,
        opts,
        job,
        "swap the tables",
        [table.clone(), n.shadow_q()],
        |c| c.other_tables(Some("SHARE ROW EXCLUSIVE")),
        progress,
        async |carried: &Carry, orig: u32| {
            let (state, _) = locked_state(conn, n, job.id).await?;
            if state != "ready" {
                return Err(OnlineError::Refused(format!("job {} is {state}, not ready to swap", job.id)));
            }
            let shadow = live_oid(conn, &n.shadow_q()).await?;
            let mut spec = spec.clone();
            let mut ddl = sql::replay(n, &info, &spec.key, &common, None).to_vec();
            ddl.extend(swap_ddl(conn, n, orig, shadow, carried, &mut spec).await?);
            Ok((ddl, spec))
        },
    )
    .await?;
    progress(&Progress::Swapped { job: job.id, table: table.clone(), old: n.old.clone(), lock_held_ms });
    finish_validation(conn, job, spec, n, opts, progress).await
}

/// Validate the foreign keys a swap or revert moved, then forget them.
pub(super) async fn finish_validation(
    conn: &PgConn,
    job: &Job,
    mut spec: Spec,
    n: &Names,
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    if spec.validate.is_empty() {
        return Ok(());
    }
    carry::validate(conn, opts, job.id, &spec.validate, progress).await?;
    progress(&Progress::Validated {
        job: job.id,
        foreign_keys: spec.validate.iter().map(|p| format!("{} on {}", p.name, p.table)).collect(),
    });
    spec.validate.clear();
    crate::jobs::set_spec(conn, &n.state_schema, job.id, &serde_json::to_value(&spec).unwrap_or_default()).await
}

async fn swap_ddl(conn: &PgConn, n: &Names, orig: u32, shadow: u32, carried: &Carry, spec: &mut Spec) -> Result<Vec<String>, OnlineError> {
    let table = n.original();
    let old = n.qualified(&n.old);
    let (view_sql, view_names) = views(conn, orig).await?;
    let seqs = sequences(conn, orig).await?;
    let (old_idx, new_idx) = (index::indexes(conn, orig).await?, index::indexes(conn, shadow).await?);
    let (old_cols, new_cols) = (column_types(conn, orig).await?, column_types(conn, shadow).await?);
    let me: String = conn.client.query_one("SELECT current_user", &[]).await?.get(0);

    let mut ddl = Vec::new();
    ddl.extend(drop_views(&view_names));
    ddl.push(sql::drop_triggers(n, &table));
    ddl.push(sql::drop_functions(n));
    ddl.push(sql::drop_log(n));
    ddl.push(format!("ALTER TABLE {table} RENAME TO {}", quote_ident(&n.old)));
    ddl.push(format!("ALTER TABLE {} RENAME TO {}", n.shadow_q(), quote_ident(&n.table)));
    ddl.extend(carried.off(&old));
    // Index (and so constraint) names move to the new table; the old
    // table's are kept under names that `revert` maps back.
    spec.index_names.clear();
    for (i, (ix, paired)) in old_idx.iter().zip(index::pair(&old_idx, &new_idx)).enumerate() {
        let kept = Names::new(&n.schema, &format!("{i}_{}", ix.name), &n.state_schema, n.job).old;
        ddl.push(format!("ALTER INDEX {} RENAME TO {}", n.qualified(&ix.name), quote_ident(&kept)));
        spec.index_names.push((kept, ix.name.clone()));
        if let Some(p) = paired {
            ddl.push(format!("ALTER INDEX {} RENAME TO {}", n.qualified(&p.name), quote_ident(&ix.name)));
        }
    }
    // Constraints the ALTER added, on the indexes built after the copy
    // (these locks are already held, so this waits for nothing).
    for later in &spec.later {
        if let Some(kind) = &later.constraint {
            ddl.push(format!("ALTER TABLE {table} ADD CONSTRAINT {0} {kind} USING INDEX {0}", quote_ident(&later.name)));
        }
    }
    // Names PostgreSQL derived from the shadow's name read as the table's.
    let paired_new: Vec<&Index> = index::pair(&old_idx, &new_idx).into_iter().flatten().collect();
    for ix in new_idx.iter().filter(|ix| !paired_new.iter().any(|p| p.name == ix.name)) {
        if let Some(rest) = ix.name.strip_prefix(&n.shadow) {
            ddl.push(format!("ALTER INDEX {} RENAME TO {}", n.qualified(&ix.name), quote_ident(&format!("{}{rest}", n.table))));
        }
    }
    for (seq, col, kind, seq_type) in &seqs {
        let Some((_, col_type, _)) = new_cols.iter().find(|(c, _, _)| c == col) else { continue };
        if kind == "a" {
            // A serial's sequence follows its column to the new table, widened with it.
            ddl.push(format!("ALTER SEQUENCE {seq} OWNED BY {table}.{}", quote_ident(col)));
            if col_type == "bigint" && seq_type != "bigint" {
                ddl.push(format!("ALTER SEQUENCE {seq} AS bigint"));
            }
        } else {
            // The new table's identity has its own sequence: start it where the old one is.
            ddl.push(format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), last_value, is_called) FROM {seq}",
                quote_literal(&table),
                quote_literal(col)
            ));
        }
    }
    ddl.extend(carried.onto(&table, true, &me));
    ddl.extend(view_sql);
    // The way back: every change to the new table is written to the old one.
    let back: Vec<BackColumn> = new_cols
        .iter()
        .filter_map(|(name, ty, _)| {
            let (_, old_ty, generated) = old_cols.iter().find(|(c, _, _)| c == name)?;
            (!generated).then(|| BackColumn { name: name.clone(), old_type: (old_ty != ty).then(|| old_ty.clone()) })
        })
        .collect();
    ddl.push(sql::reverse_trigger(n, &spec.key, &back));
    spec.validate = carried.to_validate(&table, true);
    ddl.push(format!(
        "UPDATE {} SET state = 'swapped', spec = {}::jsonb, updated_at = now() WHERE id = {}",
        n.jobs(),
        quote_literal(&serde_json::to_string(&spec).unwrap_or_default()),
        n.job
    ));
    Ok(ddl)
}
