//! Running units of work under lock_timeout with bounded retries, and turning
//! a server error into a located failure. Shared by apply and rollback.

use crate::engine::{Cancel, Engine, Failure, Recovery, Settings, TrackingOp, Watched};
use crate::error::{RunError, StatementFailure};
use crate::events::Event;
use crate::retry::RetryPolicy;
use std::time::{Duration, Instant};
use stepwise_db::sessions::cancel::CancelPolicy;
use stepwise_db::{DbError, ServerError};
use stepwise_sql::{char_pos_to_byte, LineIndex, Section, Statement};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub lock_timeout: Duration,
    pub retry: RetryPolicy,
    pub statement_timeout: Option<Duration>,
    /// Lock wait for CONCURRENTLY statements, which wait for every older
    /// transaction (blocking no one meanwhile).
    pub concurrent_timeout: Duration,
    /// How long to wait for the migration lock held by another runner.
    pub lock_wait: Duration,
    pub role: Option<String>,
    pub rails: bool,
    /// Lint pending PostgreSQL migrations first and refuse errors (None: no lint).
    pub lint: Option<stepwise_lint::LintOptions>,
    /// Batch size and rate of the copies that statements marked
    /// `-- stepwise:online` run (PostgreSQL).
    pub online: stepwise_online::batch::BatchOptions,
    /// Drop the old table of an online statement right after its swap
    /// (`osc finish`), for a throwaway database (`verify`) where nobody needs
    /// the way back; otherwise it is kept until `stepwise osc finish`.
    pub online_finish: bool,
    /// Online statements run although a publication publishes all tables.
    pub online_all_tables_publication: bool,
    /// `--cancel-blockers-after`: cancel the sessions that block a statement
    /// once it has waited this long (None: never, the default).
    pub cancel_blockers: Option<CancelPolicy>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            lock_timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            statement_timeout: None,
            concurrent_timeout: Duration::from_secs(3600),
            lock_wait: Duration::from_secs(60),
            role: None,
            rails: false,
            lint: None,
            online: stepwise_online::batch::BatchOptions::default(),
            online_finish: false,
            online_all_tables_publication: false,
            cancel_blockers: None,
        }
    }
}

impl RunOptions {
    pub fn settings_for(&self, s: &Statement) -> Settings {
        if s.info.concurrently {
            Settings { lock_timeout: self.concurrent_timeout, statement_timeout: None, role: self.role.clone(), cancel: None }
        } else {
            self.transaction_settings()
        }
    }

    pub fn transaction_settings(&self) -> Settings {
        Settings { lock_timeout: self.lock_timeout, statement_timeout: self.statement_timeout, role: self.role.clone(), cancel: None }
    }

    /// `settings` with the blocker cancelling of `--cancel-blockers-after`,
    /// its clock started now (the first attempt of a unit of work).
    pub fn with_cancel(&self, mut settings: Settings) -> Settings {
        settings.cancel = self.cancel_blockers.clone().map(|policy| Cancel { policy, since: Instant::now() });
        settings
    }
}

/// Who the work is for, to name it in events and errors.
pub struct Target<'a> {
    pub version: &'a str,
    pub name: &'a str,
    pub direction: crate::events::Direction,
}

/// Start a locked run: refuse unsafe connections, say where we are (and what
/// the engine does differently from the settings), take the migration lock.
/// Pair with `end_locked`.
pub async fn begin_locked<E: Engine>(engine: &mut E, opts: &RunOptions, report: &mut dyn FnMut(Event)) -> Result<(), RunError> {
    engine.preflight().await?;
    engine
        .check_settings(&opts.transaction_settings())
        .await
        .map_err(|e| RunError::Usage(format!("the server refuses the settings (--role, --lock-timeout, --statement-timeout): {e}")))?;
    report(Event::Connected { server: engine.server(), store: engine.store_name() });
    for message in crate::engine::setting_notes(engine.dialect(), opts.lock_timeout) {
        report(Event::Note { message });
    }
    acquire_lock(engine, opts.lock_wait, report).await
}

/// Release the migration lock. A failed unlock is harmless: the session's
/// end releases the lock.
pub async fn end_locked<E: Engine>(engine: &mut E) {
    let _ = engine.unlock().await;
}

/// Take the migration lock with a try-and-retry loop, never a blocking wait:
/// a session blocked on an advisory lock would hold up `CREATE INDEX
/// CONCURRENTLY` in another runner, which waits for it.
pub async fn acquire_lock<E: Engine>(engine: &mut E, wait: Duration, report: &mut dyn FnMut(Event)) -> Result<(), RunError> {
    let start = Instant::now();
    let mut announced = false;
    let mut pause = Duration::from_millis(50);
    loop {
        if engine.try_lock().await? {
            if announced {
                report(Event::LockAcquired { waited_ms: start.elapsed().as_millis() as u64 });
            }
            return Ok(());
        }
        if start.elapsed() >= wait {
            let holder = engine.lock_holder().await.ok().flatten();
            return Err(RunError::LockBusy { holder, waited_s: start.elapsed().as_secs() });
        }
        if !announced {
            let holder = engine.lock_holder().await.ok().flatten();
            report(Event::LockWaiting { holder, waited_ms: start.elapsed().as_millis() as u64 });
            announced = true;
        }
        tokio::time::sleep(pause.min(wait.saturating_sub(start.elapsed())).max(Duration::from_millis(10))).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Run statements and tracking ops as one transaction, retrying the whole
/// transaction when a lock wait times out.
pub async fn transaction_with_retries<E: Engine>(
    engine: &mut E,
    target: &Target<'_>,
    section: &Section,
    opts: &RunOptions,
    ops: &[TrackingOp],
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let statements: Vec<&Statement> = section.statements.iter().collect();
    let settings = opts.with_cancel(opts.transaction_settings());
    let mut attempt = 1;
    loop {
        match engine.transaction(&statements, &settings, ops, &mut |w| report(watched_event(target, None, w))).await {
            Ok(()) => return Ok(()),
            Err(f) if f.error.is_retryable() && attempt <= opts.retry.retries => {
                retry_pause(target, &f, attempt, opts, report).await;
                attempt += 1;
            }
            Err(f) => return Err(failure(target, section, f, attempt, true)),
        }
    }
}

/// Run one statement of a section that runs outside a transaction, with
/// retries, and record it as done with `done` (tracking ops).
///
/// A statement that can run inside a transaction (DML, most PostgreSQL DDL)
/// commits together with `done`: a server finishes a statement after its
/// client died, so a statement and its progress recorded one after the
/// other could run again on the next migrate (an INSERT twice). Only what
/// cannot share a transaction (CONCURRENTLY, MySQL DDL) is recorded after,
/// and the next run checks those with `recover` before re-running them.
///
/// Before a retry of a CONCURRENTLY statement the catalog is checked: a
/// build that timed out leaves an INVALID index behind, which is dropped first.
pub async fn single_with_retries<E: Engine>(
    engine: &mut E,
    target: &Target<'_>,
    section: &Section,
    index: usize,
    done: &[TrackingOp],
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let stmt = &section.statements[index];
    let recorded = |e: DbError| {
        RunError::Tracking(format!(
            "statement {} of {} ran, but recording it failed: {e}. The next migrate checks it before re-running",
            index + 1,
            target.version
        ))
    };
    // A `-- stepwise:backfill` step is a job of its own: its batches retry
    // their lock waits themselves, and a rerun resumes it.
    if let Some(step) = &stmt.backfill {
        engine.backfill(step, target.version, index, opts, report).await.map_err(|message| {
            let f = Failure { statement: Some(index), error: DbError::Other(message), blockers: vec![] };
            failure_at(target, section, index, f, 1, false)
        })?;
        return engine.track(done).await.map_err(recorded);
    }
    let settings = opts.with_cancel(opts.settings_for(stmt));
    let together = stmt.info.runs_in_transaction();
    let mut attempt = 1;
    loop {
        let mut watch = |w| report(watched_event(target, Some(index), w));
        let result = if together {
            engine.transaction(&[stmt], &settings, done, &mut watch).await
        } else {
            engine.single(stmt, &settings, &mut watch).await
        };
        match result {
            Ok(()) if together => return Ok(()),
            Ok(()) => return engine.track(done).await.map_err(recorded),
            Err(mut f) if f.error.is_retryable() && attempt <= opts.retry.retries => {
                f.statement = Some(index);
                retry_pause(target, &f, attempt, opts, report).await;
                attempt += 1;
                match engine.recover(stmt, &settings).await? {
                    Recovery::AlreadyDone(action) => {
                        report(Event::Recovered { version: target.version.to_string(), statement: index, action });
                        return engine.track(done).await.map_err(recorded);
                    }
                    Recovery::CleanedUp(action) => {
                        report(Event::Recovered { version: target.version.to_string(), statement: index, action })
                    }
                    Recovery::Rerun => {}
                }
            }
            Err(mut f) => {
                f.statement = f.statement.map(|_| index);
                return Err(failure_at(target, section, index, f, attempt, false));
            }
        }
    }
}

/// `single_with_retries` for a statement of a resumed section: when it is
/// the one a killed run was running (`killed_at`), the server may have
/// finished it after the client died, and a re-run that fails with an error
/// the engine reads as "its effect is in place" counts as done.
#[allow(clippy::too_many_arguments)]
pub async fn resumed_single<E: Engine>(
    engine: &mut E,
    target: &Target<'_>,
    section: &Section,
    index: usize,
    done: &[TrackingOp],
    killed_at: Option<usize>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    match single_with_retries(engine, target, section, index, done, opts, report).await {
        Err(e) if killed_at == Some(index) => match finished_by_server(engine, &e) {
            Some(action) => {
                report(Event::Recovered { version: target.version.to_string(), statement: index, action });
                engine.track(done).await.map_err(RunError::from)
            }
            None => Err(e),
        },
        other => other,
    }
}

fn finished_by_server<E: Engine>(engine: &E, e: &RunError) -> Option<String> {
    let RunError::Failed(f) = e else { return None };
    let server = f.server.as_ref().filter(|s| engine.finished_before(s))?;
    Some(format!(
        "the previous run was killed while the server ran it, and the server finished it ({}): counted as applied",
        server.message
    ))
}

/// The runner's event for what the engine heard while statement `index`
/// (None: a whole transaction) ran.
fn watched_event(target: &Target<'_>, index: Option<usize>, w: Watched) -> Event {
    let version = target.version.to_string();
    match w {
        Watched::Waiting(waiting_for) => Event::Waiting { version, statement: index.unwrap_or(0), waiting_for },
        Watched::Cancelled(cancellation) => Event::BlockerCancelled { version, statement: index, cancellation },
        Watched::Note(message) => Event::Note { message },
        Watched::Progress(progress) => Event::StatementProgress { version, statement: index, progress },
    }
}

async fn retry_pause(target: &Target<'_>, f: &Failure, attempt: u32, opts: &RunOptions, report: &mut dyn FnMut(Event)) {
    let delay = opts.retry.delay(attempt);
    report(Event::Retrying {
        version: target.version.to_string(),
        statement: f.statement,
        attempt,
        max_attempts: opts.retry.retries + 1,
        delay_ms: delay.as_millis() as u64,
        error: f.error.server().map(|s| s.message.clone()).unwrap_or_else(|| f.error.to_string()),
        blockers: f.blockers.clone(),
    });
    tokio::time::sleep(delay).await;
}

fn failure(target: &Target<'_>, section: &Section, f: Failure, attempts: u32, transactional: bool) -> RunError {
    match f.statement {
        Some(i) => failure_at(target, section, i, f, attempts, transactional),
        None => {
            // Not a statement of the file: settings, tracking or commit.
            let file = &section.file;
            RunError::Failed(Box::new(StatementFailure {
                version: target.version.to_string(),
                name: target.name.to_string(),
                file: file.name.clone(),
                line: section.statements.first().map(|s| s.line).unwrap_or(1),
                col: 1,
                line_text: String::new(),
                statement: 0,
                sql: String::new(),
                message: describe(&f),
                server: f.error.server().cloned(),
                attempts,
                blockers: f.blockers,
                transactional,
                direction: target.direction,
            }))
        }
    }
}

pub(crate) fn failure_at(target: &Target<'_>, section: &Section, index: usize, f: Failure, attempts: u32, transactional: bool) -> RunError {
    let stmt = &section.statements[index];
    let file = &section.file;
    let server = f.error.server().cloned();
    let offset = server.as_ref().map(|s| error_offset(stmt, s)).unwrap_or(stmt.span.start);
    let idx = LineIndex::new(&file.text);
    let (line, col) = idx.line_col(&file.text, offset);
    let mut message = describe(&f);
    if attempts > 1 {
        message.push_str(&format!(" (after {attempts} attempts)"));
    }
    RunError::Failed(Box::new(StatementFailure {
        version: target.version.to_string(),
        name: target.name.to_string(),
        file: file.name.clone(),
        line,
        col,
        line_text: idx.line_text(&file.text, line).to_string(),
        statement: index,
        sql: stmt.sql.clone(),
        server,
        message,
        attempts,
        blockers: f.blockers,
        transactional,
        direction: target.direction,
    }))
}

fn describe(f: &Failure) -> String {
    match f.error.server() {
        Some(s) if s.is_lock_timeout() => format!("{} (gave up waiting for a lock)", s.message),
        Some(s) => s.message.clone(),
        None => f.error.to_string(),
    }
}

/// Byte offset in the file where the server says the error is.
pub fn error_offset(stmt: &Statement, err: &ServerError) -> usize {
    if let Some(pos) = err.position {
        // PostgreSQL counts characters from 1 in the statement text we sent.
        return stmt.span.start + char_pos_to_byte(&stmt.sql, pos);
    }
    if let Some(line) = err.line {
        // MySQL gives a line within the statement and "near '<text>'".
        let line_start = stmt.sql.match_indices('\n').nth(line.saturating_sub(2)).map(|(i, _)| i + 1);
        let line_start = if line <= 1 { 0 } else { line_start.unwrap_or(0) };
        let near = err.message.split_once("near '").map(|(_, rest)| rest.rsplit_once("' at line").map(|(n, _)| n).unwrap_or(rest));
        let col = near
            .filter(|n| !n.is_empty())
            .and_then(|n| {
                let probe: String = n.chars().take(20).collect();
                stmt.sql[line_start..].find(probe.as_str())
            })
            .unwrap_or(0);
        return stmt.span.start + line_start + col;
    }
    stmt.span.start
}
