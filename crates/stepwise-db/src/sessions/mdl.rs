//! Who waits behind whom for a MySQL/MariaDB table's metadata lock, from the
//! locks each session holds (MariaDB's `metadata_lock_info` plugin, or
//! performance_schema's `metadata_locks`) and, where the server lists no
//! pending request (MariaDB), the waiter's own statement. Pure.
//!
//! The server grants metadata locks in queue order with exclusive requests
//! first: a DDL waits for every session holding any lock on the table; a
//! query that arrives after a waiting DDL waits for that DDL (its own
//! shared request is compatible with the holders, but not with the
//! exclusive request ahead of it).

use std::collections::BTreeMap;

/// One metadata lock on a table, granted or (performance_schema only) pending.
#[derive(Debug, Clone, PartialEq)]
pub struct Mdl {
    pub thread: i64,
    /// `MDL_SHARED_READ` (MariaDB) or `SHARED_READ` (MySQL): compared without the prefix.
    pub mode: String,
    pub schema: String,
    pub table: String,
    pub granted: bool,
}

impl Mdl {
    fn mode(&self) -> &str {
        self.mode.strip_prefix("MDL_").unwrap_or(&self.mode)
    }

    fn key(&self) -> (String, String) {
        (self.schema.to_ascii_lowercase(), self.table.to_ascii_lowercase())
    }

    /// Held by a DDL on its way to an exclusive lock (ALTER holds one of these while it waits).
    fn is_ddl(&self) -> bool {
        matches!(self.mode(), "SHARED_UPGRADABLE" | "SHARED_NO_WRITE" | "SHARED_NO_READ_WRITE" | "EXCLUSIVE" | "INTENTION_EXCLUSIVE")
    }
}

/// A session waiting for a metadata lock.
#[derive(Debug, Clone)]
pub struct Waiter {
    pub thread: i64,
    /// Its statement, to find the table where the server lists no pending lock.
    pub query: String,
}

/// Whether a statement is DDL (waits for an exclusive metadata lock).
pub fn is_ddl_statement(query: &str) -> bool {
    let first = query.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("").to_ascii_uppercase();
    matches!(first.as_str(), "ALTER" | "DROP" | "RENAME" | "TRUNCATE" | "CREATE" | "OPTIMIZE" | "LOCK" | "REPAIR" | "ANALYZE")
}

/// The table each waiter waits for, and whom it waits behind.
pub fn blockers(waiters: &[Waiter], locks: &[Mdl]) -> BTreeMap<i64, ((String, String), Vec<i64>)> {
    let mut out = BTreeMap::new();
    let waiting: Vec<i64> = waiters.iter().map(|w| w.thread).collect();
    for w in waiters {
        let Some(table) = table_of(w, locks) else { continue };
        let on_table: Vec<&Mdl> = locks.iter().filter(|l| l.key() == table && l.thread != w.thread).collect();
        let ddl = is_ddl_statement(&w.query) || locks.iter().any(|l| l.thread == w.thread && l.key() == table && l.is_ddl());
        let mut by: Vec<i64> = if ddl {
            on_table.iter().filter(|l| l.granted).map(|l| l.thread).collect()
        } else {
            // A waiting DDL ahead of it; else a holder of a lock that blocks reads and writes.
            let queued_ddl: Vec<i64> = on_table
                .iter()
                .filter(|l| waiting.contains(&l.thread) && (l.is_ddl() || !l.granted && l.mode().contains("EXCLUSIVE")))
                .map(|l| l.thread)
                .collect();
            if !queued_ddl.is_empty() {
                queued_ddl
            } else {
                let strong: Vec<i64> = on_table.iter().filter(|l| l.granted && l.is_ddl()).map(|l| l.thread).collect();
                if strong.is_empty() {
                    on_table.iter().filter(|l| l.granted).map(|l| l.thread).collect()
                } else {
                    strong
                }
            }
        };
        by.sort_unstable();
        by.dedup();
        out.insert(w.thread, (table, by));
    }
    out
}

/// A pending lock names it; else a DDL lock the waiter already holds; else
/// the locked table its statement names.
fn table_of(w: &Waiter, locks: &[Mdl]) -> Option<(String, String)> {
    if let Some(l) = locks.iter().find(|l| l.thread == w.thread && !l.granted) {
        return Some(l.key());
    }
    if let Some(l) = locks.iter().find(|l| l.thread == w.thread && l.is_ddl()) {
        return Some(l.key());
    }
    let words: Vec<String> = w
        .query
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    locks.iter().filter(|l| l.thread != w.thread).map(|l| l.key()).find(|(_, t)| words.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(thread: i64, mode: &str, table: &str) -> Mdl {
        Mdl { thread, mode: mode.into(), schema: "app".into(), table: table.into(), granted: true }
    }

    #[test]
    fn a_ddl_waits_for_the_holders_and_queries_wait_for_the_ddl() {
        let locks = vec![held(11, "MDL_SHARED_READ", "t"), held(12, "MDL_SHARED_UPGRADABLE", "t"), held(30, "MDL_SHARED_READ", "other")];
        let waiters = vec![
            Waiter { thread: 12, query: "alter table t add column b int".into() },
            Waiter { thread: 13, query: "select * from t".into() },
            Waiter { thread: 14, query: "UPDATE `t` SET a = 1".into() },
        ];
        let b = blockers(&waiters, &locks);
        assert_eq!(b[&12].1, vec![11]);
        assert_eq!(b[&13].1, vec![12]);
        assert_eq!(b[&14].1, vec![12]);
        assert_eq!(b[&13].0, ("app".into(), "t".into()));
    }

    #[test]
    fn pending_locks_name_the_table_and_lock_tables_blocks_readers() {
        let locks = vec![
            held(20, "SHARED_NO_READ_WRITE", "t"),
            Mdl { thread: 21, mode: "SHARED_READ".into(), schema: "app".into(), table: "t".into(), granted: false },
        ];
        let b = blockers(&[Waiter { thread: 21, query: "select 1".into() }], &locks);
        assert_eq!(b[&21].1, vec![20]);
    }

    #[test]
    fn a_waiter_on_an_unknown_table_is_left_out() {
        let b = blockers(&[Waiter { thread: 5, query: "select * from nowhere".into() }], &[held(1, "MDL_SHARED_READ", "t")]);
        assert!(b.is_empty());
    }
}
