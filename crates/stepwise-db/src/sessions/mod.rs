//! Who is connected, who waits for whom, and on which lock: one snapshot
//! per engine (`pg`, `mysql`), one tree for both (`tree`), and the rule for
//! which sessions stepwise may cancel when they block it (`cancel`).

pub mod cancel;
pub mod mdl;
pub mod monitor;
pub mod mysql;
pub mod own;
pub mod pg;
pub mod tree;

use crate::mysql::MyConn;
use crate::pg::PgConn;
use crate::progress::DdlProgress;
use crate::DbError;
use cancel::Action;
use serde::Serialize;

/// A session that watches the others: what `locks`, `progress`, and the
/// blocker cancelling of migrate, osc and backfill need from an engine.
#[allow(async_fn_in_trait)] // used on the caller's task only
pub trait Observer {
    /// This session's own id (pid, thread id).
    fn own_id(&self) -> i64;
    async fn snapshot(&mut self) -> Result<Snapshot, DbError>;
    /// Cancel the statement of, or end, session `id`. Ok(false): no such session.
    async fn act(&mut self, id: i64, action: Action) -> Result<bool, DbError>;
    /// Long statements in flight, of session `id` only if given.
    async fn progress(&mut self, id: Option<i64>) -> Result<Vec<DdlProgress>, DbError>;
}

impl Observer for PgConn {
    fn own_id(&self) -> i64 {
        self.pid as i64
    }
    async fn snapshot(&mut self) -> Result<Snapshot, DbError> {
        pg::snapshot(self).await
    }
    async fn act(&mut self, id: i64, action: Action) -> Result<bool, DbError> {
        pg::act(self, id, action).await
    }
    async fn progress(&mut self, id: Option<i64>) -> Result<Vec<DdlProgress>, DbError> {
        crate::progress::pg::in_flight(self, id.map(|i| i as i32)).await
    }
}

impl Observer for MyConn {
    fn own_id(&self) -> i64 {
        self.id as i64
    }
    async fn snapshot(&mut self) -> Result<Snapshot, DbError> {
        mysql::snapshot(self).await
    }
    async fn act(&mut self, id: i64, action: Action) -> Result<bool, DbError> {
        mysql::act(self, id, action).await
    }
    async fn progress(&mut self, id: Option<i64>) -> Result<Vec<DdlProgress>, DbError> {
        crate::progress::mysql::in_flight(self, id.map(|i| i as u64)).await
    }
}

/// A lock a session waits for or holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockRef {
    /// `relation`, `transactionid`, `tuple`, `advisory`, ... (PostgreSQL);
    /// `metadata` or `record` (MySQL/MariaDB).
    pub kind: String,
    /// `AccessExclusiveLock`, `MDL_SHARED_UPGRADABLE`, `X`, ...
    pub mode: String,
    /// The table as `schema.table` where the lock is on one; else what it is on.
    pub object: String,
}

impl LockRef {
    /// Whether the lock is on `table` (`name` or `schema.name`).
    pub fn is_on(&self, table: &str) -> bool {
        let table = table.trim_matches('"').trim_matches('`');
        self.object == table || self.object.rsplit_once('.').is_some_and(|(_, name)| name == table)
    }
}

impl std::fmt::Display for LockRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind.as_str() {
            "metadata" => "metadata lock ",
            "record" => "row lock ",
            _ => "",
        };
        if self.object.is_empty() {
            write!(f, "{} {}", self.kind, self.mode)
        } else {
            write!(f, "{kind}{} on {}", self.mode, self.object)
        }
    }
}

/// One server session as `locks` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Session {
    /// PostgreSQL backend pid, MySQL thread (connection) id.
    pub id: i64,
    pub user: String,
    /// PostgreSQL `application_name` (MySQL has none).
    pub application: String,
    /// Client address (`host:port`).
    pub client: String,
    pub database: String,
    /// `active`, `idle in transaction`, ... (PostgreSQL); `Query`, `Sleep`,
    /// `idle in transaction` (MySQL).
    pub state: String,
    /// Seconds since its transaction started (None: no transaction, or not visible).
    pub transaction_secs: Option<f64>,
    /// Seconds since its current (or last) statement started.
    pub query_secs: Option<f64>,
    /// What it waits on (`Lock:relation`, `Waiting for table metadata lock`).
    pub wait: Option<String>,
    /// The lock it waits for, where the server says.
    pub waiting_for: Option<LockRef>,
    /// Locks it holds that others wait for.
    pub holds: Vec<LockRef>,
    /// The sessions it waits behind.
    pub blocked_by: Vec<i64>,
    /// The current (or last) statement; None when this role may not see it.
    pub query: Option<String>,
}

impl Session {
    pub fn is_waiting(&self) -> bool {
        !self.blocked_by.is_empty()
    }

    /// Whether the session touches `table`, by a lock it waits for or holds.
    pub fn touches(&self, table: &str) -> bool {
        self.waiting_for.as_ref().is_some_and(|l| l.is_on(table)) || self.holds.iter().any(|l| l.is_on(table))
    }

    /// The query on one line, cut to `max` characters, with string and
    /// number literals replaced by `?` unless `literals`: queries carry
    /// customer data, and a lock report is pasted into chat rooms.
    pub fn query_line(&self, max: usize, literals: bool) -> Option<String> {
        let q = self.query.as_deref()?;
        let q = if literals { q.to_string() } else { mask_literals(q) };
        let q = q.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(if q.chars().count() > max { format!("{}...", q.chars().take(max.saturating_sub(3)).collect::<String>()) } else { q })
    }
}

/// Everything `locks` knows right now.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    pub server: String,
    /// Sessions other than the one that took the snapshot.
    pub sessions: Vec<Session>,
    /// What this role or server could not show, and how to see it.
    pub notes: Vec<String>,
    /// False where blockers are inferred rather than read from the server
    /// (MySQL/MariaDB metadata locks without instrumentation).
    pub exact: bool,
}

/// Replace quoted strings and bare numbers with `?`. Identifiers in
/// double quotes (PostgreSQL) and backquotes (MySQL) are kept.
pub fn mask_literals(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                // A string literal, with '' and \' inside.
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                out.push('?');
            }
            '"' | '`' => {
                let end = chars[i + 1..].iter().position(|&x| x == c).map(|p| i + 1 + p).unwrap_or(chars.len() - 1);
                out.extend(&chars[i..=end]);
                i = end + 1;
            }
            '$' if chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                // A parameter placeholder: not a value.
                while i < chars.len() && (chars[i] == '$' || chars[i].is_ascii_digit()) {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            d if d.is_ascii_digit() && !out.chars().last().is_some_and(|p| p.is_alphanumeric() || p == '_') => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                out.push('?');
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_masked_and_identifiers_kept() {
        assert_eq!(
            mask_literals(r#"UPDATE "t1" SET a = 'x''y', b = 42.5 WHERE id = $1 AND c2 = 'it\'s' AND `k9` = 7"#),
            r#"UPDATE "t1" SET a = ?, b = ? WHERE id = $1 AND c2 = ? AND `k9` = ?"#
        );
        assert_eq!(mask_literals("select 'unterminated"), "select ?");
        assert_eq!(mask_literals("select \"open"), "select \"open");
    }

    #[test]
    fn a_lock_is_on_a_table_by_either_name() {
        let l = LockRef { kind: "relation".into(), mode: "AccessShareLock".into(), object: "public.items".into() };
        assert!(l.is_on("items") && l.is_on("public.items") && l.is_on("\"items\""));
        assert!(!l.is_on("item") && !l.is_on("other.items2"));
    }
}
