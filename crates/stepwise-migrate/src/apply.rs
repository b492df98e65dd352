//! `migrate`: apply pending migrations in order under the migration lock,
//! each in one transaction or, when it cannot be, statement by statement with
//! its progress recorded so a crash can be resumed.

use crate::engine::{Engine, Failure, OnlineOutcome, OnlineStep, Recovery, TrackingOp};
use crate::error::RunError;
use crate::events::{Direction, Event};
use crate::execute::{begin_locked, end_locked, failure_at, resumed_single, transaction_with_retries, RunOptions, Target};
use crate::history::{applied_by, HistoryRow, RowStatus, Stamp};
use crate::migration::{Migration, MigrationKind};
use crate::resolve::{check_runnable, resolve, runs_in_transaction, select_pending, Selection, State};
use crate::source::MigrationSet;
use std::time::Instant;
use stepwise_db::DbError;
use stepwise_sql::{OnlineAlter, Statement};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub version: String,
    pub name: String,
    pub duration_ms: u64,
}

/// Apply what `sel` selects. Returns the migrations applied, in order.
pub async fn migrate<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    sel: &Selection,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<Vec<Applied>, RunError> {
    begin_locked(engine, opts, report).await?;
    let result = migrate_locked(engine, set, sel, opts, report).await;
    end_locked(engine).await;
    result
}

async fn migrate_locked<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    sel: &Selection,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<Vec<Applied>, RunError> {
    // Read the history under the lock: a runner that waited sees what the
    // previous one applied and does not apply it again. (Without a store the
    // history is empty, as it would be right after creating it.)
    let history = engine.history().await?;
    let entries = resolve(set, &history);
    let pending = select_pending(&entries, sel)?;
    refuse_unrunnable(engine, set, &pending, opts, report)?;
    // Only now, with nothing refused, create the state tables: a refused run
    // leaves the database as it found it.
    engine.ensure_store().await?;
    let mut applied = Vec::new();
    for m in pending {
        let row = entries.iter().find(|e| e.migration.is_some_and(|em| std::ptr::eq(em, m))).and_then(|e| e.row);
        let resume =
            entries.iter().any(|e| e.migration.is_some_and(|em| std::ptr::eq(em, m)) && matches!(e.state, State::Failed | State::Running));
        let started = Instant::now();
        apply_one(engine, m, if resume { row } else { None }, opts, report).await?;
        let duration_ms = started.elapsed().as_millis() as u64;
        report(Event::MigrationDone { version: m.version.text.clone(), name: m.name.clone(), direction: Direction::Up, duration_ms });
        applied.push(Applied { version: m.version.text.clone(), name: m.name.clone(), duration_ms });
    }
    Ok(applied)
}

/// Refuse pending migrations that cannot run (statements the runner cannot
/// run as written) or that the lint gate refuses, before anything is
/// touched; the lint's warnings are summed up in a note.
pub(crate) fn refuse_unrunnable<E: Engine>(
    engine: &E,
    set: &MigrationSet,
    pending: &[&Migration],
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let invalid: Vec<_> = pending.iter().flat_map(|m| check_runnable(&m.up, engine.dialect())).collect();
    if !invalid.is_empty() {
        return Err(RunError::Invalid(invalid));
    }
    if let Some(lint_opts) = &opts.lint {
        let lint_opts = crate::lint_gate::for_server(lint_opts, engine.pg_major(), engine.mysql_version().as_deref());
        let findings = crate::lint_gate::lint_pending(set, pending, &lint_opts, engine.dialect());
        if let Some(message) = crate::lint_gate::warnings_summary(&findings) {
            report(Event::Note { message });
        }
        let blocking: Vec<_> = crate::lint_gate::blocking(&findings).into_iter().cloned().collect();
        if !blocking.is_empty() {
            return Err(RunError::Lint(blocking));
        }
    }
    Ok(())
}

/// The tracking row once statement `i` of `total` is done: it commits with
/// the statement where they can share a transaction (see `single_with_retries`).
pub(crate) fn row_after(row: &HistoryRow, i: usize, total: usize) -> HistoryRow {
    let mut next = row.clone();
    next.statements_applied = (i + 1) as i32;
    next.in_flight = (i + 1 < total).then_some((i + 1) as i32);
    next.osc_job = None;
    next
}

/// The tracking row for `m` in a given state.
pub(crate) fn row_for(m: &Migration, status: RowStatus, transactional: bool, applied: usize) -> HistoryRow {
    HistoryRow {
        version: m.key(),
        name: m.name.clone(),
        kind: match m.kind {
            MigrationKind::Versioned => "versioned".into(),
            MigrationKind::Repeatable => "repeatable".into(),
        },
        checksum: m.checksum.clone(),
        phase: m.phase.as_str().into(),
        status,
        transactional,
        started_at: None,
        finished_at: None,
        duration_ms: None,
        statements_total: m.up.statements.len() as i32,
        statements_applied: applied as i32,
        in_flight: None,
        error: None,
        applied_by: applied_by(),
        direction: Direction::Up,
        osc_job: None,
    }
}

async fn apply_one<E: Engine>(
    engine: &mut E,
    m: &Migration,
    previous: Option<&HistoryRow>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let key = m.key();
    let target = Target { version: &m.version.text, name: &m.name, direction: Direction::Up };
    let transactional = runs_in_transaction(&m.up, engine.dialect());
    engine.fresh_session().await?;
    report(Event::MigrationStarted {
        version: m.version.text.clone(),
        name: m.name.clone(),
        direction: Direction::Up,
        transactional,
        statements: m.up.statements.len(),
    });
    if transactional {
        name_old_transactions(engine, &m.up.statements, opts, report).await;
        let mut ops = vec![TrackingOp::Save(row_for(m, RowStatus::Applied, true, m.up.statements.len()), Stamp::Whole)];
        if opts.rails && m.kind == MigrationKind::Versioned {
            ops.push(TrackingOp::Rails(m.version.text.clone(), true));
        }
        let result = transaction_with_retries(engine, &target, &m.up, opts, &ops, report).await;
        if let Err(e) = &result {
            // The transaction rolled back; record the failure so `status` shows it.
            let mut row = row_for(m, RowStatus::Failed, true, 0);
            row.error = Some(e.to_string());
            let _ = engine.track(&[TrackingOp::Save(row, Stamp::Start)]).await;
        }
        return result;
    }
    apply_statements(engine, m, &key, previous, opts, report).await
}

/// DDL queues for a table's lock behind any open transaction that holds it:
/// name the old ones before the statements wait (each table once).
async fn name_old_transactions<E: Engine>(engine: &mut E, statements: &[Statement], opts: &RunOptions, report: &mut dyn FnMut(Event)) {
    let mut seen = Vec::new();
    for stmt in statements {
        if let Some(table) = &stmt.info.ddl_table {
            if seen.contains(table) {
                continue;
            }
            seen.push(table.clone());
        }
        match engine.old_transactions(stmt, opts.lock_timeout).await {
            Ok(lines) => lines.into_iter().for_each(|message| report(Event::Note { message })),
            Err(e) => report(Event::Note { message: format!("could not look for old transactions before the DDL: {e}") }),
        }
    }
}

/// A non-transactional migration: record the statement in flight before
/// running it and the count applied after, so that a crash at any point
/// leaves a row that says where to continue.
///
/// A statement marked `-- stepwise:online` runs as an online schema change
/// (which is why its section runs here, outside a transaction: the change
/// spans many transactions of its own). Its job is recorded on the row while
/// it is in flight, so the next run resumes that job after a crash, and the
/// statement counts as applied only once the job has swapped the tables.
async fn apply_statements<E: Engine>(
    engine: &mut E,
    m: &Migration,
    key: &str,
    previous: Option<&HistoryRow>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let target = Target { version: &m.version.text, name: &m.name, direction: Direction::Up };
    let total = m.up.statements.len();
    let mut start = 0;
    // The statement a killed run was running (see `finished_by_server`).
    let mut killed_at = None;
    if let Some(prev) = previous.filter(|p| !p.transactional) {
        start = (prev.statements_applied.max(0) as usize).min(total);
        if let Some(k) = prev.in_flight.map(|k| k as usize).filter(|&k| k < total) {
            // The server may have finished (or half-finished) the statement after the client died.
            match engine.recover(&m.up.statements[k], &opts.settings_for(&m.up.statements[k])).await? {
                Recovery::AlreadyDone(action) => {
                    report(Event::Recovered { version: m.version.text.clone(), statement: k, action });
                    start = start.max(k + 1);
                }
                Recovery::CleanedUp(action) => report(Event::Recovered { version: m.version.text.clone(), statement: k, action }),
                Recovery::Rerun => {}
            }
        }
        if prev.checksum != m.checksum {
            report(Event::Note {
                message: format!("{} changed since the interrupted attempt; continuing at statement {}", key, start + 1),
            });
        }
        report(Event::Resuming { version: m.version.text.clone(), statement: start, statements: total });
        killed_at = (prev.status == RowStatus::Running).then_some(prev.in_flight).flatten().map(|k| k as usize);
    }
    let started = Instant::now();
    let mut row = row_for(m, RowStatus::Running, false, start);
    row.in_flight = (start < total).then_some(start as i32);
    // The job of an online statement stays recorded until that statement is done.
    row.osc_job = previous.filter(|p| p.in_flight == Some(start as i32)).and_then(|p| p.osc_job);
    let stamp = if previous.is_some() { Stamp::Progress } else { Stamp::Start };
    engine.track(&[TrackingOp::Save(row.clone(), stamp)]).await?;
    for i in start..total {
        let stmt = &m.up.statements[i];
        report(Event::StatementStarted {
            version: m.version.text.clone(),
            statement: i,
            line: stmt.line,
            summary: match (&stmt.online, &stmt.backfill) {
                (Some(a), _) => format!("ALTER TABLE {} (online: copy, verify, swap)", a.table),
                (None, Some(b)) => format!("BACKFILL {} (in batches)", b.table),
                (None, None) => stmt.info.summary.clone(),
            },
        });
        name_old_transactions(engine, std::slice::from_ref(stmt), opts, report).await;
        let statement_started = Instant::now();
        // The row as it stands once statement `i` is done.
        let next = row_after(&row, i, total);
        let done = [TrackingOp::Save(next.clone(), Stamp::Progress)];
        let result = match &stmt.online {
            Some(alter) => match run_online(engine, &target, m, key, i, alter, row.osc_job, opts, report).await {
                Ok(()) => engine.track(&done).await.map_err(|e| {
                    RunError::Tracking(format!(
                        "statement {} of {key} ran, but recording it failed: {e}. The next migrate checks it before re-running",
                        i + 1
                    ))
                }),
                Err((job, e)) => {
                    row.osc_job = job;
                    Err(e)
                }
            },
            None => resumed_single(engine, &target, &m.up, i, &done, killed_at, opts, report).await,
        };
        if let Err(e) = result {
            if matches!(e, RunError::Tracking(_)) {
                return Err(e);
            }
            row.status = RowStatus::Failed;
            row.error = Some(e.to_string());
            // Keep in_flight: a failed concurrent build leaves an INVALID index
            // that the next run checks for and drops.
            if let Err(te) = engine.track(&[TrackingOp::Save(row.clone(), Stamp::Progress)]).await {
                return Err(RunError::Tracking(format!("{e}\nand recording the failure failed too: {te}")));
            }
            return Err(e);
        }
        report(Event::StatementDone {
            version: m.version.text.clone(),
            statement: i,
            duration_ms: statement_started.elapsed().as_millis() as u64,
        });
        row = next;
    }
    row.status = RowStatus::Applied;
    row.in_flight = None;
    row.duration_ms = Some(started.elapsed().as_millis() as i64);
    let mut ops = vec![TrackingOp::Save(row, Stamp::Finish)];
    if opts.rails && m.kind == MigrationKind::Versioned {
        ops.push(TrackingOp::Rails(m.version.text.clone(), true));
    }
    engine.track(&ops).await?;
    Ok(())
}

/// Run statement `index` of `m`, marked online, as an online schema change.
/// On failure, also the job it started or resumed (to keep on the row).
#[allow(clippy::too_many_arguments)]
async fn run_online<E: Engine>(
    engine: &mut E,
    target: &Target<'_>,
    m: &Migration,
    key: &str,
    index: usize,
    alter: &OnlineAlter,
    job: Option<i64>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), (Option<i64>, RunError)> {
    let step = OnlineStep { key, version: &m.version.text, index, alter, job };
    match engine.online(&step, opts, report).await {
        Ok(OnlineOutcome::Swapped { job, table, old }) => {
            report(Event::OnlineSwapped { version: m.version.text.clone(), statement: index, job, table, old });
            Ok(())
        }
        Ok(OnlineOutcome::NoTable) => Ok(()),
        Err(f) => {
            // Located at the statement: osc's own SQL is not in the file.
            let failure = Failure { statement: Some(index), error: DbError::Other(f.message), blockers: vec![] };
            Err((f.job, failure_at(target, &m.up, index, failure, 1, false)))
        }
    }
}
