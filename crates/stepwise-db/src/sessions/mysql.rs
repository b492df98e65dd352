//! MySQL/MariaDB sessions and locks: the processlist for who, InnoDB's
//! transactions and lock waits for row locks, and metadata locks from
//! performance_schema (`metadata_locks`, MySQL 8's default) or MariaDB's
//! `metadata_lock_info` plugin. Without either, whom a metadata-lock waiter
//! waits behind is inferred (older transactions, an earlier DDL) and the
//! snapshot says so: it is not exact enough to cancel anyone by.

use super::cancel::Action;
use super::mdl::{self, Mdl, Waiter};
use super::{LockRef, Session, Snapshot};
use crate::mysql::MyConn;
use crate::DbError;
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;

type ProcessRow = (u64, Option<String>, Option<String>, Option<String>, Option<String>, Option<i64>, Option<String>, Option<String>);
type LockWaitRow = (u64, u64, Option<String>, Option<String>, Option<String>);
type MdlRow = (i64, String, Option<String>, Option<String>, i64);

const PROCESSLIST: &str = "SELECT ID, USER, HOST, DB, COMMAND, CAST(TIME AS SIGNED), STATE, INFO FROM information_schema.PROCESSLIST \
     WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID') \
       AND USER NOT IN ('system user', 'event_scheduler') ORDER BY ID";

const TRANSACTIONS: &str = "SELECT trx_mysql_thread_id, CAST(TIMESTAMPDIFF(MICROSECOND, trx_started, NOW(6)) / 1e6 AS DOUBLE) \
     FROM information_schema.INNODB_TRX";

const ROW_WAITS_MARIADB: &str = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id, rl.lock_mode, rl.lock_table, bl.lock_mode \
     FROM information_schema.INNODB_LOCK_WAITS w \
     JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id \
     JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id \
     JOIN information_schema.INNODB_LOCKS rl ON rl.lock_id = w.requested_lock_id \
     JOIN information_schema.INNODB_LOCKS bl ON bl.lock_id = w.blocking_lock_id";

// MySQL 8 (from its manual; not run here).
const ROW_WAITS_MYSQL: &str = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id, rl.LOCK_MODE, \
            CONCAT(rl.OBJECT_SCHEMA, '.', rl.OBJECT_NAME), bl.LOCK_MODE \
     FROM performance_schema.data_lock_waits w \
     JOIN information_schema.INNODB_TRX r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID \
     JOIN information_schema.INNODB_TRX b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID \
     JOIN performance_schema.data_locks rl ON rl.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID \
     JOIN performance_schema.data_locks bl ON bl.ENGINE_LOCK_ID = w.BLOCKING_ENGINE_LOCK_ID";

const MDL_PLUGIN: &str = "SELECT CAST(THREAD_ID AS SIGNED), LOCK_MODE, TABLE_SCHEMA, TABLE_NAME, 1 \
     FROM information_schema.METADATA_LOCK_INFO WHERE LOCK_TYPE = 'Table metadata lock'";

const MDL_PERFORMANCE_SCHEMA: &str = "SELECT CAST(t.PROCESSLIST_ID AS SIGNED), m.LOCK_TYPE, m.OBJECT_SCHEMA, m.OBJECT_NAME, \
            CAST(m.LOCK_STATUS = 'GRANTED' AS SIGNED) \
     FROM performance_schema.metadata_locks m JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID \
     WHERE m.OBJECT_TYPE = 'TABLE' AND t.PROCESSLIST_ID IS NOT NULL";

fn errno(e: &DbError) -> Option<u16> {
    e.server().and_then(|s| s.errno)
}

/// Every session but the one asking, with who blocks whom.
pub async fn snapshot(conn: &mut MyConn) -> Result<Snapshot, DbError> {
    let mariadb = conn.is_mariadb();
    let rows: Vec<ProcessRow> = conn.conn.query(PROCESSLIST).await?;
    let mut notes = Vec::new();
    let mut sessions: Vec<Session> = rows
        .into_iter()
        .map(|(id, user, host, db, command, time, state, info)| {
            let command = command.unwrap_or_default();
            let state = state.unwrap_or_default();
            let waits = state.starts_with("Waiting for") && state.ends_with("lock");
            Session {
                id: id as i64,
                user: user.unwrap_or_default(),
                client: host.unwrap_or_default(),
                database: db.unwrap_or_default(),
                state: if state.is_empty() || command == "Sleep" { command } else { format!("{command}: {state}") },
                query_secs: time.map(|t| t as f64),
                wait: waits.then_some(state),
                // NULL: no statement running (every session in the list is visible).
                query: Some(info.unwrap_or_default()),
                ..Default::default()
            }
        })
        .collect();
    let trx: Result<Vec<(u64, f64)>, DbError> = conn.conn.query(TRANSACTIONS).await.map_err(DbError::from);
    match trx {
        Ok(trx) => {
            for (thread, secs) in trx {
                if let Some(s) = sessions.iter_mut().find(|s| s.id == thread as i64) {
                    s.transaction_secs = Some(secs);
                    if s.state == "Sleep" {
                        s.state = "idle in transaction".into();
                    }
                }
            }
        }
        Err(e) if errno(&e) == Some(1227) => {
            let user: Option<String> = conn.conn.query_first("SELECT CURRENT_USER()").await.unwrap_or(None);
            let grant_to = user.as_deref().map(quote_account).unwrap_or_else(|| "<user>".into());
            notes.push(format!(
                "this user lacks the PROCESS privilege: only its own sessions are shown, without transactions or lock waits \
                 (GRANT PROCESS ON *.* TO {grant_to})"
            ))
        }
        Err(e) => return Err(e),
    }
    // Row locks.
    let waits: Result<Vec<LockWaitRow>, _> = conn.conn.query(if mariadb { ROW_WAITS_MARIADB } else { ROW_WAITS_MYSQL }).await;
    if let Ok(waits) = waits {
        for (waiter, blocker, wanted, table, held) in waits {
            let object = table.map(|t| t.replace('`', "")).unwrap_or_default();
            if let Some(s) = sessions.iter_mut().find(|s| s.id == waiter as i64) {
                s.waiting_for = Some(LockRef { kind: "record".into(), mode: wanted.unwrap_or_default(), object: object.clone() });
                s.wait.get_or_insert_with(|| "Waiting for a row lock".into());
                s.blocked_by.push(blocker as i64);
            }
            if let Some(s) = sessions.iter_mut().find(|s| s.id == blocker as i64) {
                let r = LockRef { kind: "record".into(), mode: held.unwrap_or_default(), object };
                if !s.holds.contains(&r) {
                    s.holds.push(r);
                }
            }
        }
    }
    // Metadata locks.
    let exact = match metadata_locks(conn, mariadb).await {
        Some(locks) => {
            attach_mdl(&mut sessions, &locks);
            true
        }
        None => {
            let waiting = sessions.iter().any(|s| s.wait.as_deref().is_some_and(|w| w.contains("metadata lock")));
            if waiting {
                notes.push(if mariadb {
                    "who holds a metadata lock is not visible on this server: install the metadata_lock_info plugin \
                     (INSTALL SONAME 'metadata_lock_info') or start it with performance_schema=ON; \
                     until then the sessions a waiter waits behind are inferred from transaction age"
                        .into()
                } else {
                    "who holds a metadata lock is not visible: enable performance_schema and the \
                     wait/lock/metadata/sql/mdl instrument; until then the sessions a waiter waits behind are inferred"
                        .into()
                });
                infer_mdl(&mut sessions);
            }
            !waiting
        }
    };
    let current: Option<String> = conn.conn.query_first("SELECT DATABASE()").await?.flatten();
    if let Some(db) = current {
        retain_database(&mut sessions, &db);
    }
    Ok(Snapshot { server: conn.version_text(), sessions, notes, exact })
}

/// Keep the sessions of database `db`, those holding or waiting for a lock
/// on one of its tables, and whoever blocks them or waits behind them.
fn retain_database(sessions: &mut Vec<Session>, db: &str) {
    let prefix = format!("{}.", db.to_ascii_lowercase());
    let on_db = |l: &LockRef| l.object.to_ascii_lowercase().starts_with(&prefix);
    let mut keep: std::collections::BTreeSet<i64> = sessions
        .iter()
        .filter(|s| s.database.eq_ignore_ascii_case(db) || s.waiting_for.as_ref().is_some_and(on_db) || s.holds.iter().any(on_db))
        .map(|s| s.id)
        .collect();
    loop {
        let before = keep.len();
        for s in sessions.iter() {
            if keep.contains(&s.id) {
                keep.extend(s.blocked_by.iter().copied());
            } else if s.blocked_by.iter().any(|b| keep.contains(b)) {
                keep.insert(s.id);
            }
        }
        if keep.len() == before {
            break;
        }
    }
    sessions.retain(|s| keep.contains(&s.id));
}

/// The table metadata locks, from whichever source this server has; None when it has none.
async fn metadata_locks(conn: &mut MyConn, mariadb: bool) -> Option<Vec<Mdl>> {
    let sources = if mariadb { [MDL_PLUGIN, MDL_PERFORMANCE_SCHEMA] } else { [MDL_PERFORMANCE_SCHEMA, MDL_PLUGIN] };
    for sql in sources {
        if sql == MDL_PERFORMANCE_SCHEMA {
            let on: Option<i64> = conn.conn.query_first("SELECT @@performance_schema").await.ok().flatten();
            if on != Some(1) {
                continue;
            }
        }
        let rows: Result<Vec<MdlRow>, _> = conn.conn.query(sql).await;
        if let Ok(rows) = rows {
            // performance_schema may be on with the MDL instrument off: no rows at all then.
            if sql == MDL_PERFORMANCE_SCHEMA && rows.is_empty() {
                continue;
            }
            return Some(
                rows.into_iter()
                    .map(|(thread, mode, schema, table, granted)| Mdl {
                        thread,
                        mode,
                        schema: schema.unwrap_or_default(),
                        table: table.unwrap_or_default(),
                        granted: granted != 0,
                    })
                    .collect(),
            );
        }
    }
    None
}

/// The threads holding a metadata lock on `schema.table` (the current
/// database when `schema` is None); None when the server does not show
/// metadata locks (no plugin, no performance_schema).
pub async fn table_lock_holders(conn: &mut MyConn, schema: Option<&str>, table: &str) -> Option<Vec<i64>> {
    let mariadb = conn.is_mariadb();
    let schema = match schema {
        Some(s) => s.to_string(),
        None => conn.conn.query_first::<Option<String>, _>("SELECT DATABASE()").await.ok().flatten().flatten()?,
    };
    let locks = metadata_locks(conn, mariadb).await?;
    Some(
        locks
            .into_iter()
            .filter(|l| l.granted && l.schema.eq_ignore_ascii_case(&schema) && l.table.eq_ignore_ascii_case(table))
            .map(|l| l.thread)
            .collect(),
    )
}

fn attach_mdl(sessions: &mut [Session], locks: &[Mdl]) {
    let waiters: Vec<Waiter> = sessions
        .iter()
        .filter(|s| s.wait.as_deref().is_some_and(|w| w.contains("metadata lock")))
        .map(|s| Waiter { thread: s.id, query: s.query.clone().unwrap_or_default() })
        .collect();
    let found = mdl::blockers(&waiters, locks);
    let mut holds: BTreeMap<i64, Vec<LockRef>> = BTreeMap::new();
    for s in sessions.iter_mut() {
        let Some(((schema, table), by)) = found.get(&s.id) else { continue };
        let object = format!("{schema}.{table}");
        let mode = if mdl::is_ddl_statement(s.query.as_deref().unwrap_or("")) { "EXCLUSIVE" } else { "SHARED" };
        s.waiting_for = Some(LockRef { kind: "metadata".into(), mode: mode.into(), object: object.clone() });
        for b in by {
            if !s.blocked_by.contains(b) {
                s.blocked_by.push(*b);
            }
            for l in locks
                .iter()
                .filter(|l| l.thread == *b && l.granted && l.schema.eq_ignore_ascii_case(schema) && l.table.eq_ignore_ascii_case(table))
            {
                let r = LockRef { kind: "metadata".into(), mode: l.mode.clone(), object: object.clone() };
                let list = holds.entry(*b).or_default();
                if !list.contains(&r) {
                    list.push(r);
                }
            }
        }
    }
    for s in sessions.iter_mut() {
        if let Some(h) = holds.remove(&s.id) {
            for r in h {
                if !s.holds.contains(&r) {
                    s.holds.push(r);
                }
            }
        }
    }
}

/// Without lock instrumentation: a DDL waiter waits behind every open
/// transaction older than its statement (one of them touched the table);
/// anything else waiting for a metadata lock waits behind the DDL waiters
/// that started before it.
fn infer_mdl(sessions: &mut [Session]) {
    let snapshot: Vec<Session> = sessions.to_vec();
    for s in sessions.iter_mut() {
        if !s.wait.as_deref().is_some_and(|w| w.contains("metadata lock")) {
            continue;
        }
        let mine = s.query_secs.unwrap_or(0.0);
        let ddl = mdl::is_ddl_statement(s.query.as_deref().unwrap_or(""));
        for o in &snapshot {
            if o.id == s.id {
                continue;
            }
            let other_waits = o.wait.as_deref().is_some_and(|w| w.contains("metadata lock"));
            let before = if ddl {
                let running = o.query.is_some() && o.state != "Sleep" && o.query_secs.is_some_and(|t| t >= mine);
                !other_waits && (o.transaction_secs.is_some_and(|t| t >= mine) || running)
            } else {
                other_waits && mdl::is_ddl_statement(o.query.as_deref().unwrap_or("")) && o.query_secs.unwrap_or(0.0) >= mine
            };
            if before && !s.blocked_by.contains(&o.id) {
                s.blocked_by.push(o.id);
            }
        }
    }
}

/// `'user'@'host'` for a GRANT, from `CURRENT_USER()`'s `user@host`.
fn quote_account(account: &str) -> String {
    let (user, host) = account.rsplit_once('@').unwrap_or((account, "%"));
    format!("'{}'@'{}'", user.replace('\'', "''"), host.replace('\'', "''"))
}

/// `KILL QUERY` (cancel) or `KILL` (terminate) thread `id`. Ok(false): no such thread.
pub async fn act(conn: &mut MyConn, id: i64, action: Action) -> Result<bool, DbError> {
    // An integer, not user text.
    let sql = match action {
        Action::Cancel => format!("KILL QUERY {id}"),
        Action::Terminate => format!("KILL {id}"),
        Action::Skip | Action::StillBlocking => return Ok(true),
    };
    match conn.conn.query_drop(sql).await.map_err(DbError::from) {
        Ok(()) => Ok(true),
        Err(e) if errno(&e) == Some(1094) => Ok(false), // Unknown thread id
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: i64, query: &str, secs: f64, trx: Option<f64>, waits: bool) -> Session {
        Session {
            id,
            query: Some(query.into()),
            query_secs: Some(secs),
            transaction_secs: trx,
            state: if waits { "Query: Waiting for table metadata lock".into() } else { "idle in transaction".into() },
            wait: waits.then(|| "Waiting for table metadata lock".into()),
            ..Default::default()
        }
    }

    #[test]
    fn without_instrumentation_a_ddl_waits_for_older_transactions_and_queries_for_the_ddl() {
        let mut s = vec![
            session(1, "", 30.0, Some(30.0), false),
            session(2, "ALTER TABLE t ADD c int", 5.0, None, true),
            session(3, "SELECT * FROM t", 2.0, None, true),
            // A transaction younger than the ALTER's wait cannot be what it waits for.
            session(4, "", 1.0, Some(1.0), false),
        ];
        infer_mdl(&mut s);
        assert_eq!(s[1].blocked_by, vec![1]);
        assert_eq!(s[2].blocked_by, vec![2]);
        assert!(s[0].blocked_by.is_empty() && s[3].blocked_by.is_empty());
    }

    #[test]
    fn sessions_of_another_database_are_left_out_unless_they_block_ours() {
        let mut s = vec![
            Session { id: 1, database: "app".into(), blocked_by: vec![5], ..Default::default() },
            Session { id: 5, database: String::new(), ..Default::default() },
            Session { id: 7, database: "other".into(), blocked_by: vec![8], ..Default::default() },
            Session { id: 8, database: "other".into(), ..Default::default() },
        ];
        retain_database(&mut s, "app");
        assert_eq!(s.iter().map(|x| x.id).collect::<Vec<_>>(), vec![1, 5]);
    }

    #[test]
    fn accounts_are_quoted_for_grant() {
        assert_eq!(quote_account("app@%"), "'app'@'%'");
        assert_eq!(quote_account("o'brien@10.0.0.1"), "'o''brien'@'10.0.0.1'");
    }
}
