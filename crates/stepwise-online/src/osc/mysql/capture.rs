//! The triggers: forward ones on the original write each change into the
//! shadow in the application's own transaction, so at every commit the
//! shadow's copied rows equal the original's; reverse ones on the shadow do
//! the same the other way, and once the swap has made the shadow the table
//! they keep the old table in sync for `revert`.
//!
//! - insert: write the new row (an upsert of the copied columns: forward
//!   it replaces only the row with the same key and fails the job on a
//!   duplicate of another unique key, never folding two rows into one as
//!   `REPLACE` would; backward columns the change dropped keep their
//!   values in the old table);
//! - update: delete the old key's row when the key changed, then the same;
//! - delete: delete the key's row.
//!
//! Each trigger runs only when it is not itself inside one of this job's
//! triggers (a session variable set around the write), so a change goes
//! one way and stops: before the swap the reverse triggers never act
//! (the copy's session sets the variable too), after it the forward ones
//! never do. Neither ever fails the application's write: a value the
//! other table cannot take (out of range, too long, NULL, duplicate)
//! fails the job before the swap, or closes the way back after it, and
//! says why in the job's row. Both sets exist before the swap (the reverse
//! one from the end of the copy), so the swap is one atomic RENAME (with
//! empty placeholder tables taking the names the triggers write to, which
//! MySQL opens before it runs a statement).
//!
//! Statements that take the table's metadata lock (CREATE and DROP TRIGGER,
//! RENAME TABLE) run through [`locked`]: a short `lock_wait_timeout`, retried
//! with backoff, every failed attempt naming the sessions that may hold it.

use super::Names;
use crate::jobs_mysql as jobs;
use crate::osc::{OnProgress, OscOptions, Progress};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use std::time::Duration;
use stepwise_db::mysql::{quote_ident as qi, quote_literal as ql, MyConn};
use stepwise_db::DbError;

/// Errors a write into the other table can meet because of the value
/// itself: out of range (1264), truncated (1265, 1292), incorrect (1366),
/// too long (1406), NULL (1048), no default (1364), duplicate (1062),
/// foreign key (1451, 1452), CHECK (4025 MariaDB, 3819 MySQL), and the
/// forward upsert's refusal to fold two rows into one (1365). Lock waits
/// and deadlocks are not among them: those end the application's
/// statement as they would without osc.
const VALUE_ERRORS: &str = "1264, 1265, 1292, 1366, 1406, 1048, 1364, 1062, 1451, 1452, 4025, 3819, 1365";

/// The same for the reverse triggers, but for a child row that still needs
/// the parent (1451): until a child's key is pointed at the new table it
/// holds through the old one, and the application's delete fails as it
/// would have without osc (see `foreign_keys`).
const REVERSE_VALUE_ERRORS: &str = "1264, 1265, 1292, 1366, 1406, 1048, 1364, 1062, 1452, 4025, 3819, 1365";

/// The session variable that marks a write made by one of this job's triggers.
pub fn gate(job: i64) -> String {
    format!("@stepwise_osc_{job}")
}

/// The forward triggers' names (on the original), then the reverse ones' (on the shadow).
pub fn trigger_names(n: &Names) -> [String; 6] {
    ["ins", "upd", "del", "rins", "rupd", "rdel"].map(|e| cut(&format!("_sw{}_{}_{e}", n.job, n.table)))
}

/// MySQL names are at most 64 characters.
fn cut(name: &str) -> String {
    name.chars().take(64).collect()
}

/// The three triggers on `on` that write each change into `into`. `upsert`:
/// an upsert of `columns` instead of REPLACE; `on_error`: what a value
/// error does (an UPDATE of the job row).
fn triggers(
    names: &[String],
    job: i64,
    on: &str,
    into: &str,
    key: &[String],
    columns: &[String],
    upsert: bool,
    on_error: &str,
    handled: &str,
) -> Vec<String> {
    let g = gate(job);
    let cols = columns.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", ");
    let new_values = columns.iter().map(|c| format!("NEW.{}", qi(c))).collect::<Vec<_>>().join(", ");
    let write = if upsert {
        let set = columns.iter().map(|c| format!("{0} = VALUES({0})", qi(c))).collect::<Vec<_>>().join(", ");
        format!("INSERT INTO {into} ({cols}) VALUES ({new_values}) ON DUPLICATE KEY UPDATE {set}")
    } else {
        // The row with the same key is replaced; a row that only shares the
        // value of another unique key is not (REPLACE would delete it): the
        // key is set to a division by zero then, an error in strict mode
        // (1365; NULL would not do: an AUTO_INCREMENT column takes it as 0)
        // that fails the job, so a range once verified stays equal to the
        // original.
        let same = key.iter().map(|k| format!("{0} <=> VALUES({0})", qi(k))).collect::<Vec<_>>().join(" AND ");
        let zero = format!("(LENGTH({0}) - LENGTH({0}))", qi(&key[0]));
        let set = key
            .iter()
            .map(|k| format!("{0} = IF({same}, VALUES({0}), 1 DIV {zero})", qi(k)))
            .chain(columns.iter().filter(|c| !key.iter().any(|k| k.eq_ignore_ascii_case(c))).map(|c| format!("{0} = VALUES({0})", qi(c))))
            .collect::<Vec<_>>()
            .join(", ");
        format!("INSERT INTO {into} ({cols}) VALUES ({new_values}) ON DUPLICATE KEY UPDATE {set}")
    };
    let key_is = |row: &str| key.iter().map(|k| format!("{} <=> {row}.{}", qi(k), qi(k))).collect::<Vec<_>>().join(" AND ");
    let key_changed = key.iter().map(|k| format!("NOT (OLD.{0} <=> NEW.{0})", qi(k))).collect::<Vec<_>>().join(" OR ");
    let body = |event: &str, work: String| {
        format!(
            "IF {g} IS NULL THEN BEGIN \
               DECLARE EXIT HANDLER FOR {handled} BEGIN SET {g} = NULL; {on_error}; END; \
               DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SET {g} = NULL; RESIGNAL; END; \
               SET {g} = 1; {work}; SET {g} = NULL; \
             END; END IF /* {event} */"
        )
    };
    vec![
        format!("CREATE TRIGGER {} AFTER INSERT ON {on} FOR EACH ROW {}", qi(&names[0]), body("insert", write.clone())),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {on} FOR EACH ROW {}",
            qi(&names[1]),
            body("update", format!("IF {key_changed} THEN DELETE FROM {into} WHERE {}; END IF; {write}", key_is("OLD")))
        ),
        format!(
            "CREATE TRIGGER {} AFTER DELETE ON {on} FOR EACH ROW {}",
            qi(&names[2]),
            body("delete", format!("DELETE FROM {into} WHERE {}", key_is("OLD")))
        ),
    ]
}

/// Forward triggers on the original, then reverse triggers on the shadow.
pub fn create_triggers(n: &Names, prefix: &str, key: &[String], columns: &[String]) -> Vec<String> {
    let names = trigger_names(n);
    let job_row = jobs::table(prefix);
    let fail = format!(
        "UPDATE {job_row} SET state = 'failed', error = COALESCE(error, {}) WHERE id = {} AND state IN ('copying', 'paused', 'verifying', 'ready')",
        ql("a change the application made could not be written into the new table (a value it cannot hold, or a duplicate of a new unique key); the original is untouched"),
        n.job
    );
    let close = format!(
        "UPDATE {job_row} SET revert_blocked = COALESCE(revert_blocked, {}) WHERE id = {}",
        ql("a change made after the swap could not be written back into the old table (a value it cannot hold, or a duplicate)"),
        n.job
    );
    let mut out = triggers(&names[..3], n.job, &n.original(), &n.shadow(), key, columns, false, &fail, VALUE_ERRORS);
    out.extend(triggers(&names[3..], n.job, &n.shadow(), &n.old(), key, columns, true, &close, REVERSE_VALUE_ERRORS));
    out
}

/// `DROP TRIGGER IF EXISTS` for the forward three (wherever the original is).
pub fn drop_forward(n: &Names) -> Vec<String> {
    trigger_names(n)[..3].iter().map(|t| format!("DROP TRIGGER IF EXISTS {}.{}", qi(&n.schema), qi(t))).collect()
}

/// `DROP TRIGGER IF EXISTS` for the reverse three (wherever the new table is).
pub fn drop_reverse(n: &Names) -> Vec<String> {
    trigger_names(n)[3..].iter().map(|t| format!("DROP TRIGGER IF EXISTS {}.{}", qi(&n.schema), qi(t))).collect()
}

/// Which table the reverse triggers are on: the shadow before the swap,
/// the original's name after it (None when they are gone).
pub async fn reverse_on(conn: &mut MyConn, n: &Names) -> Result<Option<String>, DbError> {
    let name = &trigger_names(n)[3];
    Ok(conn
        .conn
        .exec_first(
            "SELECT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?",
            (&n.schema, name),
        )
        .await?)
}

/// Which of the two sets of triggers.
#[derive(Clone, Copy, PartialEq)]
pub enum Side {
    /// On the original, into the shadow: installed before the copy.
    Forward,
    /// On the shadow, into the old table: installed after the copy, before
    /// the swap (during the copy they would only cost every copied row a
    /// trigger call; measured at a fifth of the copy's time).
    Reverse,
}

/// How many of one set's three triggers exist where that set belongs
/// before the swap (forward: the original; reverse: the copy).
pub async fn present(conn: &mut MyConn, n: &Names, side: Side) -> Result<usize, DbError> {
    let names = trigger_names(n);
    let (table, set) = match side {
        Side::Forward => (&n.table, &names[..3]),
        Side::Reverse => (&n.shadow, &names[3..]),
    };
    let count: Option<i64> = conn
        .conn
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? AND TRIGGER_NAME IN (?, ?, ?)",
            (&n.schema, table, &set[0], &set[1], &set[2]),
        )
        .await?;
    Ok(count.unwrap_or(0) as usize)
}

/// Install one set of three triggers, or none (a failure drops those
/// made). They are created in strict mode (a trigger keeps the sql_mode it
/// was made with): a value the other table cannot hold is an error the
/// trigger handles, never a silently cut value.
pub async fn install(
    conn: &mut MyConn,
    n: &Names,
    prefix: &str,
    key: &[String],
    columns: &[String],
    side: Side,
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    let (on, drop) = match side {
        Side::Forward => (n.original(), drop_forward(n)),
        Side::Reverse => (n.shadow(), drop_reverse(n)),
    };
    let all = create_triggers(n, prefix, key, columns);
    let create = if side == Side::Forward { &all[..3] } else { &all[3..] };
    conn.exec("SET @stepwise_saved_mode = @@SESSION.sql_mode").await?;
    conn.exec("SET SESSION sql_mode = CONCAT_WS(',', @@SESSION.sql_mode, 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO')").await?;
    let mut result = Ok(());
    for sql in create {
        if let Err(e) = locked(conn, opts, n.job, &on, "create a trigger", std::slice::from_ref(sql), progress).await {
            result = Err(e);
            break;
        }
    }
    conn.exec("SET SESSION sql_mode = @stepwise_saved_mode").await?;
    if result.is_err() {
        let _ = locked(conn, opts, n.job, &on, "drop a trigger", &drop, progress).await;
    }
    result
}

/// The sessions that may hold `table`'s metadata lock: those that do where
/// the server shows metadata locks, else every session in a transaction or a statement.
async fn possible_holders(conn: &mut MyConn, table: &str) -> Vec<stepwise_db::Blocker> {
    let all = conn.possible_blockers(0).await.unwrap_or_default();
    let holders = match split_table(table) {
        Some((schema, name)) => stepwise_db::sessions::mysql::table_lock_holders(conn, schema.as_deref(), &name).await,
        None => None,
    };
    all.into_iter().filter(|b| holders.as_ref().is_none_or(|h| h.contains(&b.pid))).collect()
}

/// `db`.`t` or `t` (as osc quotes names) as (schema, table).
fn split_table(quoted: &str) -> Option<(Option<String>, String)> {
    let parts: Vec<String> = quoted.split("`.`").map(|p| p.trim_matches('`').replace("``", "`")).collect();
    match parts.as_slice() {
        [t] if !t.is_empty() => Some((None, t.clone())),
        [s, t] => Some((Some(s.clone()), t.clone())),
        _ => None,
    }
}

/// `--cancel-blockers-after` around the statements that take the table's
/// metadata lock: a second session watches and, once the wait (counted
/// from the first attempt) has lasted long enough, kills exactly the
/// sessions holding what ours waits for. Without the option it only runs the work.
struct Guard {
    monitor: Option<MyConn>,
    cancel: Option<stepwise_db::sessions::cancel::Cancel>,
    canceller: stepwise_db::sessions::cancel::Canceller,
}

impl Guard {
    async fn new(conn: &MyConn, opts: &OscOptions) -> Result<Guard, OnlineError> {
        let cancel = opts.cancel_blockers.as_ref().map(stepwise_db::sessions::cancel::Cancel::starting_now);
        let monitor = if cancel.is_some() { Some(conn.another().await?) } else { None };
        Ok(Guard { monitor, cancel, canceller: Default::default() })
    }

    fn due(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.since.elapsed() >= c.policy.after)
    }

    async fn run<R>(&mut self, id: u64, job: i64, work: impl std::future::Future<Output = R>, progress: OnProgress<'_>) -> R {
        let Some(monitor) = &mut self.monitor else { return work.await };
        let mut report = |e: stepwise_db::sessions::cancel::CancelEvent| match e {
            stepwise_db::sessions::cancel::CancelEvent::Acted(cancellation) => progress(&Progress::BlockerCancelled { job, cancellation }),
            stepwise_db::sessions::cancel::CancelEvent::Note(message) => progress(&Progress::Note { job, message }),
        };
        let every = Duration::from_millis(250);
        stepwise_db::sessions::cancel::guarded(monitor, id as i64, &mut self.canceller, self.cancel.as_ref(), every, work, &mut report)
            .await
    }
}

/// Sessions (other than this one) whose transaction has been open longer
/// than `secs`, described for the user: those holding `table`'s metadata
/// lock where the server shows metadata locks, else all of them (any may
/// have touched the table).
async fn old_transactions(conn: &mut MyConn, secs: u64, table: &str) -> Result<Vec<String>, DbError> {
    let holders = match split_table(table) {
        Some((schema, name)) => stepwise_db::sessions::mysql::table_lock_holders(conn, schema.as_deref(), &name).await,
        None => None,
    };
    let me = conn.id;
    let rows: Vec<(u64, String, String, i64, String)> = conn
        .conn
        .exec(
            "SELECT t.trx_mysql_thread_id, COALESCE(p.USER, ''), COALESCE(p.HOST, ''),
                    TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), COALESCE(t.trx_query, p.INFO, '')
               FROM information_schema.INNODB_TRX t
               LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
              WHERE t.trx_mysql_thread_id <> ? AND t.trx_started < NOW() - INTERVAL ? SECOND
              ORDER BY t.trx_started",
            (me, secs),
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(id, ..)| holders.as_ref().is_none_or(|h| h.contains(&(*id as i64))))
        .map(|(id, user, host, age, query)| {
            let q: String = query.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(100).collect();
            let q = if q.is_empty() { String::new() } else { format!(": {q}") };
            format!("pid {id} (user {user}, host {host}, transaction open {age}s{q})")
        })
        .collect())
}

/// Run `sql` (statements that take `table`'s metadata lock) under a short
/// `lock_wait_timeout`, retried with backoff; each timeout names the
/// sessions that may hold the lock.
///
/// A statement waiting for a metadata lock stalls every later query on the
/// table, so before each attempt the transactions open longer than the
/// lock wait (any of them may hold the table's lock until it ends; MySQL
/// does not say which without performance_schema) are waited out, named,
/// instead of queued behind.
pub async fn locked(
    conn: &mut MyConn,
    opts: &OscOptions,
    job: i64,
    table: &str,
    what: &str,
    sql: &[String],
    progress: OnProgress<'_>,
) -> Result<(), OnlineError> {
    // Whole seconds: lock_wait_timeout takes no fraction.
    let wait = opts.lock_timeout.as_secs().max(1);
    conn.exec(&format!("SET SESSION lock_wait_timeout = {wait}")).await?;
    let mut attempt = 0;
    let mut guard = Guard::new(conn, opts).await?;
    loop {
        attempt += 1;
        let old = old_transactions(conn, wait, table).await?;
        // With --cancel-blockers-after, once due, the statement queues and
        // the guard cancels exactly the sessions it then waits behind.
        if !old.is_empty() && !guard.due() {
            if attempt > opts.retries {
                return Err(OnlineError::Refused(format!(
                    "could not {what} on {table}: transactions open longer than the lock wait ({wait}s) may hold its metadata \
                     lock, and a statement queued behind them would stall every query on the table: {}. Nothing waited; \
                     `stepwise osc resume` (or the same command) tries again",
                    old.join("; ")
                )));
            }
            progress(&Progress::LockWait {
                job,
                what: format!("{what} on {table} (waiting out older transactions)"),
                attempt,
                blockers: old,
            });
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt.min(10)))).await;
            continue;
        }
        let id = conn.id;
        let work = async {
            for s in sql {
                conn.exec(s).await?;
            }
            Ok::<(), DbError>(())
        };
        let result = guard.run(id, job, work, progress).await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if e.server().is_some_and(|s| s.is_lock_timeout()) && attempt <= opts.retries => {
                let blockers = possible_holders(conn, table).await;
                progress(&Progress::LockWait {
                    job,
                    what: format!("{what} on {table}"),
                    attempt,
                    blockers: blockers.iter().map(|b| b.to_string()).collect(),
                });
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt.min(10)))).await;
            }
            Err(e) if e.server().is_some_and(|s| s.is_lock_timeout()) => {
                let blockers = possible_holders(conn, table).await;
                let named = if blockers.is_empty() {
                    String::new()
                } else {
                    format!("; sessions that may hold it: {}", blockers.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; "))
                };
                return Err(OnlineError::Refused(format!(
                    "could not {what} on {table}: its metadata lock stayed taken through {attempt} waits of {wait}s{named}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
}
