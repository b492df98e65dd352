//! Statements that lock the live table, run under lock_timeout with bounded
//! retries, and the swap itself.

use super::sql::Names;
use super::{OnProgress, OscOptions, Progress};
use crate::jobs::Job;
use crate::OnlineError;
use std::time::{Duration, Instant};
use stepwise_db::pg::{quote_ident, quote_literal, PgConn};

/// Sessions holding a lock on `table` (for messages about lock waits).
async fn holders(conn: &PgConn, table: &str) -> Vec<String> {
    let sql = "SELECT a.pid::text || ' (' || coalesce(a.state, '?') || ', ' || left(coalesce(a.query, ''), 60) || ')'
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.relation = to_regclass($1) AND l.granted AND l.pid <> pg_backend_pid()";
    conn.rows(sql, &[&table]).await.map(|rows| rows.iter().map(|r| r.get(0)).collect()).unwrap_or_default()
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
    loop {
        attempt += 1;
        let r = conn.batch(&format!("BEGIN; SET LOCAL lock_timeout = '{}ms';\n{sql}\nCOMMIT;", opts.lock_timeout.as_millis())).await;
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

/// Rows of text from a query run inside the swap transaction.
async fn texts(conn: &PgConn, sql: &str, oid: u32) -> Result<Vec<String>, tokio_postgres::Error> {
    Ok(conn.client.query(sql, &[&oid]).await?.iter().map(|r| r.get(0)).collect())
}

/// GRANT statements that give `to` the privileges `oid` has (table and columns).
const GRANTS: &str = "SELECT format('GRANT %s ON %%s TO %s%s', a.privilege_type,
                             CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                             CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                        FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1
                      UNION ALL
                      SELECT format('GRANT %s (%I) ON %%s TO %s%s', a.privilege_type, t.attname,
                             CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                             CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                        FROM pg_attribute t, aclexplode(t.attacl) a WHERE t.attrelid = $1 AND t.attacl IS NOT NULL AND NOT t.attisdropped";

/// The statements that re-create the views on the table (and views on those),
/// in creation order, with owner, options, grants and comments; and their names.
async fn views(conn: &PgConn, oid: u32) -> Result<(Vec<String>, Vec<String>), OnlineError> {
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
        for g in texts(conn, GRANTS, view_oid).await? {
            create.push(g.replace("%s", &name));
        }
        if let Some(c) = comment {
            create.push(format!("COMMENT ON VIEW {name} IS {}", quote_literal(&c)));
        }
        names.push(name);
    }
    Ok((create, names))
}

/// `(name, definition without its name)` of a table's indexes, for pairing
/// the original's with the shadow's.
async fn indexes(conn: &PgConn, oid: u32) -> Result<Vec<(String, String)>, tokio_postgres::Error> {
    let rows = conn
        .client
        .query(
            "SELECT i.relname, regexp_replace(pg_get_indexdef(i.oid), '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+', 'CREATE \\1INDEX ON')
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1 ORDER BY i.oid",
            &[&oid],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The swap: one transaction under lock_timeout, retried; the old table is
/// kept (renamed) until `osc finish`.
pub async fn swap(conn: &PgConn, job: &Job, n: &Names, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        conn.batch(&format!("BEGIN; SET LOCAL lock_timeout = '{}ms'", opts.lock_timeout.as_millis())).await?;
        let locking = conn
            .batch(&format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE; LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", n.original(), n.shadow_q()))
            .await;
        if let Err(e) = locking {
            let _ = conn.batch("ROLLBACK").await;
            if e.is_retryable() && attempt <= opts.retries {
                progress(&Progress::LockWait {
                    job: job.id,
                    what: "swap the tables".into(),
                    attempt,
                    blockers: holders(conn, &n.original()).await,
                });
                tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
                continue;
            }
            return Err(OnlineError::Refused(format!("could not lock {} for the swap after {attempt} attempt(s): {e}", n.original())));
        }
        let held = Instant::now();
        let result = swap_locked(conn, job, n).await;
        match result {
            Ok(()) => {
                conn.batch("COMMIT").await?;
                let lock_held_ms = held.elapsed().as_millis() as u64;
                progress(&Progress::Swapped { job: job.id, table: n.original(), old: n.old.clone(), lock_held_ms });
                return Ok(());
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK").await;
                return Err(e);
            }
        }
    }
}

async fn swap_locked(conn: &PgConn, job: &Job, n: &Names) -> Result<(), OnlineError> {
    let state: String =
        conn.client.query_one(&format!("SELECT state FROM {} WHERE id = $1 FOR UPDATE", n.jobs()), &[&job.id]).await?.get(0);
    if state != "ready" {
        return Err(OnlineError::Refused(format!("job {} is {state}, not ready to swap", job.id)));
    }
    let oid_of = |name: String| async move {
        let r = conn.client.query_one("SELECT to_regclass($1)::oid", &[&name]).await?;
        Ok::<u32, tokio_postgres::Error>(r.get(0))
    };
    let (orig, shadow) = (oid_of(n.original()).await?, oid_of(n.shadow_q()).await?);
    let (view_sql, view_names) = views(conn, orig).await?;
    let grants = texts(conn, GRANTS, orig).await?;
    let facts = conn
        .client
        .query_one(
            "SELECT pg_get_userbyid(relowner), obj_description(oid, 'pg_class'), array_to_string(reloptions, ', ') FROM pg_class WHERE oid = $1",
            &[&orig],
        )
        .await?;
    let (owner, comment, reloptions): (String, Option<String>, Option<String>) = (facts.get(0), facts.get(1), facts.get(2));
    // Sequences that belong to a column (serial: 'a'; identity: 'i').
    let seqs = conn
        .client
        .query(
            "SELECT d.objid::regclass::text, a.attname, d.deptype::text, format_type(s.seqtypid, NULL)
               FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')",
            &[&orig],
        )
        .await?;
    let (old_idx, new_idx) = (indexes(conn, orig).await?, indexes(conn, shadow).await?);

    let table = n.original();
    let mut ddl = Vec::new();
    if !view_names.is_empty() {
        ddl.push(format!("DROP VIEW {}", view_names.iter().rev().cloned().collect::<Vec<_>>().join(", ")));
    }
    ddl.push(super::sql::drop_triggers(n, &table));
    ddl.push(super::sql::drop_functions(n));
    ddl.push(format!("ALTER TABLE {table} RENAME TO {}", quote_ident(&n.old)));
    ddl.push(format!("ALTER TABLE {} RENAME TO {}", n.shadow_q(), quote_ident(&n.table)));
    // Index (and so constraint) names move to the new table.
    let mut taken = vec![false; new_idx.len()];
    for (i, (name, def)) in old_idx.iter().enumerate() {
        let kept = Names::new(&n.schema, &format!("{i}_{name}"), &n.state_schema, n.job).old;
        ddl.push(format!("ALTER INDEX {} RENAME TO {}", n.qualified(name), quote_ident(&kept)));
        if let Some(j) = new_idx.iter().enumerate().position(|(j, (_, d))| !taken[j] && d == def) {
            taken[j] = true;
            ddl.push(format!("ALTER INDEX {} RENAME TO {}", n.qualified(&new_idx[j].0), quote_ident(name)));
        }
    }
    let new_type = |col: String| async move {
        let r = conn
            .client
            .query_opt(
                "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND NOT attisdropped",
                &[&shadow, &col],
            )
            .await?;
        Ok::<Option<String>, tokio_postgres::Error>(r.map(|r| r.get(0)))
    };
    for s in &seqs {
        let (seq, col, kind, seq_type): (String, String, String, String) = (s.get(0), s.get(1), s.get(2), s.get(3));
        let Some(col_type) = new_type(col.clone()).await? else { continue };
        if kind == "a" {
            // A serial's sequence follows its column to the new table, widened with it.
            ddl.push(format!("ALTER SEQUENCE {seq} OWNED BY {table}.{}", quote_ident(&col)));
            if col_type == "bigint" && seq_type != "bigint" {
                ddl.push(format!("ALTER SEQUENCE {seq} AS bigint"));
            }
        } else {
            // The new table's identity has its own sequence: start it where the old one is.
            ddl.push(format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), last_value, is_called) FROM {seq}",
                quote_literal(&table),
                quote_literal(&col)
            ));
        }
    }
    let me: String = conn.client.query_one("SELECT current_user", &[]).await?.get(0);
    if owner != me {
        ddl.push(format!("ALTER TABLE {table} OWNER TO {}", quote_ident(&owner)));
    }
    for g in &grants {
        ddl.push(g.replace("%s", &table));
    }
    if let Some(c) = comment {
        ddl.push(format!("COMMENT ON TABLE {table} IS {}", quote_literal(&c)));
    }
    if let Some(o) = reloptions.filter(|o| !o.is_empty()) {
        ddl.push(format!("ALTER TABLE {table} SET ({o})"));
    }
    ddl.extend(view_sql);
    ddl.push(format!("UPDATE {} SET state = 'swapped', updated_at = now() WHERE id = {}", n.jobs(), job.id));
    conn.batch(&ddl.join(";\n"))
        .await
        .map_err(|e| OnlineError::Refused(format!("the swap failed and was rolled back (the original is untouched): {e}")))
}
