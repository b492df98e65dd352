//! PostgreSQL sessions and locks: `pg_stat_activity` for who, `pg_locks`
//! for what, `pg_blocking_pids` for whom each waiter waits behind (asked
//! only for sessions with a lock not granted: it takes the lock manager's
//! partition locks).

use super::cancel::Action;
use super::{LockRef, Session, Snapshot};
use crate::pg::PgConn;
use crate::DbError;
use std::collections::BTreeMap;

const SESSIONS: &str = "
SELECT a.pid::int8, coalesce(a.usename::text, ''), coalesce(a.application_name, ''),
       coalesce(host(a.client_addr) || ':' || a.client_port, CASE WHEN a.client_port = -1 THEN 'local socket' ELSE '' END),
       coalesce(a.datname::text, ''), coalesce(a.state, ''),
       extract(epoch FROM now() - a.xact_start)::float8, extract(epoch FROM now() - a.query_start)::float8,
       a.wait_event_type || ':' || a.wait_event,
       CASE WHEN a.query = '<insufficient privilege>' THEN NULL ELSE a.query END,
       CASE WHEN EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = a.pid AND NOT w.granted)
            THEN pg_blocking_pids(a.pid) ELSE '{}' END::int4[]
  FROM pg_stat_activity a
 -- backend_type is hidden (NULL) in other roles' rows without pg_read_all_stats.
 -- Locks on one database's tables can only block sessions of that database.
 WHERE coalesce(a.backend_type = 'client backend', a.usesysid IS NOT NULL) AND a.pid <> pg_backend_pid()
   AND a.datname = current_database()
 ORDER BY a.pid";

const LOCKS: &str = "
SELECT l.pid::int8, l.locktype, l.mode, l.granted,
       concat_ws(':', l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid, l.transactionid, l.classid, l.objid, l.objsubid),
       CASE WHEN l.relation IS NOT NULL THEN coalesce(n.nspname || '.' || c.relname, 'relation ' || l.relation)
            WHEN l.locktype = 'transactionid' THEN 'transaction ' || l.transactionid
            WHEN l.locktype = 'virtualxid' THEN 'virtual transaction ' || l.virtualxid
            WHEN l.locktype = 'advisory' THEN 'advisory lock ' || l.classid || ':' || l.objid
            ELSE l.locktype END
  FROM pg_locks l
  LEFT JOIN pg_class c ON c.oid = l.relation AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = ANY ($1)";

struct Lock {
    pid: i64,
    kind: String,
    mode: String,
    granted: bool,
    target: String,
    object: String,
}

/// Every client session but the one asking, with who blocks whom.
pub async fn snapshot(conn: &PgConn) -> Result<Snapshot, DbError> {
    let rows = conn.rows(SESSIONS, &[]).await?;
    let mut sessions: Vec<Session> = rows
        .iter()
        .map(|r| Session {
            id: r.get(0),
            user: r.get(1),
            application: r.get(2),
            client: r.get(3),
            database: r.get(4),
            state: r.get(5),
            transaction_secs: r.get(6),
            query_secs: r.get(7),
            wait: r.get(8),
            query: r.get(9),
            blocked_by: r.get::<_, Vec<i32>>(10).into_iter().map(i64::from).collect(),
            ..Default::default()
        })
        .collect();
    let mut notes = Vec::new();
    let hidden = sessions.iter().filter(|s| s.query.is_none()).count();
    if hidden > 0 {
        let me: String = conn.rows("SELECT current_user::text", &[]).await?.first().map(|r| r.get(0)).unwrap_or_default();
        notes.push(format!(
            "role {me} may not read other roles' queries, states and transaction ages ({hidden} sessions hidden): \
             GRANT pg_read_all_stats TO {}; pids, users, applications and locks are shown",
            grantee(&me)
        ));
    }
    attach_locks(conn, &mut sessions).await?;
    Ok(Snapshot { server: conn.version_text(), sessions, notes, exact: true })
}

/// A role name as a GRANT needs it: bare when that reads the same, else quoted.
fn grantee(role: &str) -> String {
    let plain = role.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && role.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        role.to_string()
    } else {
        crate::pg::quote_ident(role)
    }
}

/// Fill in the lock each waiter waits for and the locks its blockers hold on the same thing.
async fn attach_locks(conn: &PgConn, sessions: &mut [Session]) -> Result<(), DbError> {
    let mut pids: Vec<i32> = Vec::new();
    for s in sessions.iter().filter(|s| s.is_waiting()) {
        pids.push(s.id as i32);
        pids.extend(s.blocked_by.iter().map(|b| *b as i32));
    }
    if pids.is_empty() {
        return Ok(());
    }
    pids.sort_unstable();
    pids.dedup();
    let locks: Vec<Lock> = conn
        .rows(LOCKS, &[&pids])
        .await?
        .iter()
        .map(|r| Lock { pid: r.get(0), kind: r.get(1), mode: r.get(2), granted: r.get(3), target: r.get(4), object: r.get(5) })
        .collect();
    let mut holds: BTreeMap<i64, Vec<LockRef>> = BTreeMap::new();
    for s in sessions.iter_mut().filter(|s| s.is_waiting()) {
        let Some(wanted) = locks.iter().find(|l| l.pid == s.id && !l.granted) else { continue };
        let mut object = wanted.object.clone();
        // A row lock is waited for as the holder's transaction id; the
        // tuple lock the waiter holds meanwhile names the table.
        if wanted.kind == "transactionid" {
            if let Some(t) = locks.iter().find(|l| l.pid == s.id && l.granted && l.kind == "tuple") {
                object = format!("{} (a row; {})", t.object, wanted.object);
            }
        }
        s.waiting_for = Some(LockRef { kind: wanted.kind.clone(), mode: wanted.mode.clone(), object });
        for b in &s.blocked_by {
            for held in locks.iter().filter(|l| l.pid == *b && l.granted && l.target == wanted.target) {
                let r = LockRef { kind: held.kind.clone(), mode: held.mode.clone(), object: held.object.clone() };
                let list = holds.entry(*b).or_default();
                if !list.contains(&r) {
                    list.push(r);
                }
            }
        }
    }
    for s in sessions.iter_mut() {
        if let Some(h) = holds.remove(&s.id) {
            s.holds = h;
        }
    }
    Ok(())
}

/// Cancel the statement of, or end, session `pid`. Ok(false): no such session.
pub async fn act(conn: &PgConn, pid: i64, action: Action) -> Result<bool, DbError> {
    let sql = match action {
        Action::Cancel => "SELECT pg_cancel_backend($1::int4)",
        Action::Terminate => "SELECT pg_terminate_backend($1::int4)",
        Action::Skip | Action::StillBlocking => return Ok(true),
    };
    let pid = pid as i32;
    Ok(conn.rows(sql, &[&pid]).await?.first().is_some_and(|r| r.get::<_, bool>(0)))
}

/// Sessions in a transaction older than `secs` that hold a lock on `table`
/// (as the statement names it, resolved on the search path), other than `me`.
pub async fn old_holders(conn: &PgConn, table: &str, secs: f64, me: i32) -> Result<Vec<Session>, DbError> {
    let rows = conn
        .rows(
            "SELECT DISTINCT a.pid::int8, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
                    extract(epoch FROM now() - a.xact_start)::float8,
                    CASE WHEN a.query = '<insufficient privilege>' THEN NULL ELSE a.query END, l.mode
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.relation = to_regclass($1) AND l.granted AND l.pid NOT IN (pg_backend_pid(), $3)
                AND a.xact_start < now() - make_interval(secs => $2)
              ORDER BY 5 DESC",
            &[&table, &secs, &me],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Session {
            id: r.get(0),
            user: r.get(1),
            application: r.get(2),
            state: r.get(3),
            transaction_secs: r.get(4),
            query: r.get(5),
            holds: vec![LockRef { kind: "relation".into(), mode: r.get(6), object: table.to_string() }],
            ..Default::default()
        })
        .collect())
}
