//! PostgreSQL: `pg_stat_progress_create_index`, `pg_stat_progress_cluster`
//! (CLUSTER, VACUUM FULL) and `pg_stat_progress_vacuum`, for the current database.

use super::{cluster_fraction, index_fraction, vacuum_fraction, DdlProgress};
use crate::pg::PgConn;
use crate::DbError;

const RELATION: &str = "LEFT JOIN pg_class c ON c.oid = p.relid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_activity a ON a.pid = p.pid";

/// Progress of every index build, CLUSTER/VACUUM FULL and VACUUM in the
/// current database, or of backend `pid` only.
pub async fn in_flight(conn: &PgConn, pid: Option<i32>) -> Result<Vec<DdlProgress>, DbError> {
    let mut out = Vec::new();
    let index = format!(
        "SELECT p.pid::int8, p.command, coalesce(n.nspname || '.' || c.relname, ''), ic.relname::text, p.phase,
                p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total, p.lockers_done, p.lockers_total,
                extract(epoch FROM now() - a.query_start)::float8,
                CASE WHEN p.phase LIKE 'waiting%' THEN pg_blocking_pids(p.pid) ELSE '{{}}' END::int4[]
           FROM pg_stat_progress_create_index p {RELATION} LEFT JOIN pg_class ic ON ic.oid = p.index_relid
          WHERE p.datname = current_database() AND ($1::int4 IS NULL OR p.pid = $1) ORDER BY p.pid"
    );
    for r in conn.rows(&index, &[&pid]).await? {
        let command: String = r.get(1);
        let phase: String = r.get(4);
        let (done, total, unit) = if phase.starts_with("waiting") {
            (r.get::<_, Option<i64>>(9), r.get::<_, Option<i64>>(10), "transactions")
        } else if phase.contains("loading tuples") {
            (r.get(7), r.get(8), "tuples")
        } else if phase.contains("scanning") {
            (r.get(5), r.get(6), "blocks")
        } else {
            // Sorting and initializing report no counters (the last phase's stay behind).
            (None, None, "")
        };
        let concurrent = command.contains("CONCURRENTLY");
        out.push(
            DdlProgress {
                id: r.get(0),
                fraction: Some(index_fraction(concurrent, &phase, done, total)),
                command,
                table: r.get(2),
                index: r.get(3),
                phase,
                done,
                total,
                unit: unit.into(),
                waiting_for: r.get::<_, Vec<i32>>(12).into_iter().map(i64::from).collect(),
                elapsed_secs: r.get(11),
                eta_secs: None,
            }
            .with_eta(),
        );
    }
    let cluster = format!(
        "SELECT p.pid::int8, p.command, coalesce(n.nspname || '.' || c.relname, ''), p.phase,
                p.heap_blks_scanned, p.heap_blks_total, extract(epoch FROM now() - a.query_start)::float8
           FROM pg_stat_progress_cluster p {RELATION}
          WHERE p.datname = current_database() AND ($1::int4 IS NULL OR p.pid = $1) ORDER BY p.pid"
    );
    for r in conn.rows(&cluster, &[&pid]).await? {
        let phase: String = r.get(3);
        let (done, total) = (r.get(4), r.get(5));
        out.push(
            DdlProgress {
                id: r.get(0),
                command: r.get(1),
                table: r.get(2),
                index: None,
                fraction: Some(cluster_fraction(&phase, done, total)),
                phase,
                done,
                total,
                unit: "blocks".into(),
                waiting_for: vec![],
                elapsed_secs: r.get(6),
                eta_secs: None,
            }
            .with_eta(),
        );
    }
    let vacuum = format!(
        "SELECT p.pid::int8, coalesce(n.nspname || '.' || c.relname, ''), p.phase,
                p.heap_blks_scanned, p.heap_blks_vacuumed, p.heap_blks_total, extract(epoch FROM now() - a.query_start)::float8,
                coalesce(a.backend_type = 'autovacuum worker', false)
           FROM pg_stat_progress_vacuum p {RELATION}
          WHERE p.datname = current_database() AND ($1::int4 IS NULL OR p.pid = $1) ORDER BY p.pid"
    );
    for r in conn.rows(&vacuum, &[&pid]).await? {
        let phase: String = r.get(2);
        let (scanned, vacuumed, total): (Option<i64>, Option<i64>, Option<i64>) = (r.get(3), r.get(4), r.get(5));
        let done = if phase == "vacuuming heap" { vacuumed } else { scanned };
        out.push(
            DdlProgress {
                id: r.get(0),
                command: if r.get::<_, bool>(7) { "autovacuum".into() } else { "VACUUM".into() },
                table: r.get(1),
                index: None,
                fraction: Some(vacuum_fraction(&phase, scanned, vacuumed, total)),
                phase,
                done,
                total,
                unit: "blocks".into(),
                waiting_for: vec![],
                elapsed_secs: r.get(6),
                eta_secs: None,
            }
            .with_eta(),
        );
    }
    Ok(out)
}
