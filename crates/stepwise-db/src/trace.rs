//! What a statement really did on PostgreSQL, read off the server: the
//! locks its own backend took on relations that existed before it
//! (`pg_locks`), whether it rewrote a table or index (its relfilenode
//! changed), whether it scanned a table (`pg_stat_xact_user_tables`, the
//! counts of the transaction so far), and how long it took.
//!
//! A statement run inside a transaction keeps its locks until the end, so a
//! snapshot after it shows them all. A statement PostgreSQL runs only
//! outside a transaction (CONCURRENTLY) releases them as it goes: its locks
//! are sampled from a second session while it runs.

use crate::pg::PgConn;
use crate::DbError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// PostgreSQL's first OID for user objects: below it are the catalogs.
const FIRST_USER_OID: i64 = 16384;

/// A user relation as the catalog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Relation {
    name: String,
    kind: &'static str,
    filenode: i64,
}

/// The state a statement is judged against.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    relations: HashMap<i64, Relation>,
    /// (relation oid, lock mode) held by this backend.
    locks: BTreeSet<(i64, String)>,
    /// Sequential scans per table in this transaction.
    scans: HashMap<i64, i64>,
}

/// One lock taken on a relation that existed before the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct TracedLock {
    /// `name` or `schema.name` outside `public`.
    pub relation: String,
    /// `table`, `partitioned table`, `index`, `sequence`, `view`, `materialized view`, ...
    pub kind: &'static str,
    /// `AccessExclusiveLock` as pg_locks names it, in words: `ACCESS EXCLUSIVE`.
    pub mode: String,
}

/// What one statement did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Effects {
    pub locks: Vec<TracedLock>,
    /// Tables and indexes written anew (relfilenode changed).
    pub rewritten: Vec<String>,
    /// Tables read by a sequential scan.
    pub scanned: Vec<String>,
    pub ms: f64,
}

fn kind_name(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "p" => "partitioned table",
        "i" => "index",
        "I" => "partitioned index",
        "S" => "sequence",
        "v" => "view",
        "m" => "materialized view",
        "f" => "foreign table",
        "t" => "toast table",
        _ => "relation",
    }
}

/// `AccessExclusiveLock` -> `ACCESS EXCLUSIVE`.
pub fn mode_words(mode: &str) -> String {
    let m = mode.strip_suffix("Lock").unwrap_or(mode);
    let mut out = String::new();
    for (i, c) in m.char_indices() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn display_name(schema: &str, name: &str) -> String {
    if schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

/// The user relations, this backend's relation locks and the transaction's scans.
pub async fn snapshot(conn: &PgConn) -> Result<Snapshot, DbError> {
    let rows = conn
        .rows(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, c.relfilenode::int8
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid >= $1::int8 AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'",
            &[&FIRST_USER_OID],
        )
        .await?;
    let relations = rows
        .iter()
        .map(|r| {
            let (schema, name, kind): (String, String, String) = (r.get(1), r.get(2), r.get(3));
            (r.get::<_, i64>(0), Relation { name: display_name(&schema, &name), kind: kind_name(&kind), filenode: r.get(4) })
        })
        .collect();
    let locks = own_locks(conn, None).await?;
    let scans = conn
        .rows("SELECT relid::int8, seq_scan FROM pg_stat_xact_user_tables", &[])
        .await?
        .iter()
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
        .collect();
    Ok(Snapshot { relations, locks, scans })
}

/// Granted relation locks of a backend (this one when `pid` is None).
async fn own_locks(conn: &PgConn, pid: Option<i32>) -> Result<BTreeSet<(i64, String)>, DbError> {
    let rows = conn
        .rows(
            "SELECT relation::int8, mode::text FROM pg_locks
              WHERE locktype = 'relation' AND granted AND relation::int8 >= $1::int8
                AND pid = coalesce($2::int4, pg_backend_pid())",
            &[&FIRST_USER_OID, &pid],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1))).collect())
}

/// What happened between `before` and `after`, plus locks seen by sampling.
pub fn effects(before: &Snapshot, after: &Snapshot, sampled: &BTreeSet<(i64, String)>, ms: f64) -> Effects {
    let mut locks: BTreeSet<TracedLock> = BTreeSet::new();
    for (oid, mode) in after.locks.difference(&before.locks).chain(sampled.iter()) {
        // Only relations that existed before: a table the statement creates is its own.
        if let Some(r) = before.relations.get(oid) {
            locks.insert(TracedLock { relation: r.name.clone(), kind: r.kind, mode: mode_words(mode) });
        }
    }
    let mut rewritten: Vec<String> = before
        .relations
        .iter()
        .filter(|(oid, r)| r.filenode != 0 && after.relations.get(oid).is_some_and(|a| a.filenode != r.filenode))
        .map(|(_, r)| r.name.clone())
        .collect();
    rewritten.sort();
    let mut scanned: Vec<String> = after
        .scans
        .iter()
        .filter(|(oid, n)| **n > before.scans.get(oid).copied().unwrap_or(0) && before.relations.contains_key(oid))
        .filter_map(|(oid, _)| before.relations.get(oid).map(|r| r.name.clone()))
        .collect();
    scanned.sort();
    Effects { locks: locks.into_iter().collect(), rewritten, scanned, ms }
}

/// Run `sql` on `conn` (in whatever transaction state it is) and trace it.
pub async fn in_transaction(conn: &PgConn, sql: &str) -> Result<Result<Effects, DbError>, DbError> {
    let before = snapshot(conn).await?;
    let started = Instant::now();
    let ran = conn.batch(sql).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = ran {
        return Ok(Err(e));
    }
    let after = snapshot(conn).await?;
    Ok(Ok(effects(&before, &after, &BTreeSet::new(), ms)))
}

/// Run `sql` on `conn` outside a transaction while `observer` samples the
/// locks of `conn`'s backend; relfilenodes are compared before and after.
/// Scans are not counted (the counts of finished transactions are flushed
/// to the statistics late).
pub async fn sampled(conn: &PgConn, observer: &PgConn, sql: &str) -> Result<Result<Effects, DbError>, DbError> {
    let pid: i32 = conn.rows("SELECT pg_backend_pid()", &[]).await?.first().map(|r| r.get(0)).unwrap_or(0);
    let before = snapshot(conn).await?;
    let started = Instant::now();
    let run = conn.batch(sql);
    tokio::pin!(run);
    let mut seen: BTreeMap<(i64, String), ()> = BTreeMap::new();
    let ran = loop {
        tokio::select! {
            r = &mut run => break r,
            locks = own_locks(observer, Some(pid)) => {
                for l in locks? {
                    seen.insert(l, ());
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = ran {
        return Ok(Err(e));
    }
    let mut after = snapshot(conn).await?;
    after.scans = before.scans.clone();
    let sampled: BTreeSet<(i64, String)> = seen.into_keys().collect();
    Ok(Ok(effects(&before, &after, &sampled, ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_modes_in_words() {
        assert_eq!(mode_words("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(mode_words("ShareUpdateExclusiveLock"), "SHARE UPDATE EXCLUSIVE");
        assert_eq!(mode_words("ShareLock"), "SHARE");
    }
}
