//! `rollback`: run down sections of applied migrations, newest first.

use crate::apply::{row_for, Applied};
use crate::engine::Recovery;
use crate::engine::{Engine, TrackingOp};
use crate::error::RunError;
use crate::events::{Direction, Event};
use crate::execute::{begin_locked, end_locked, resumed_single, transaction_with_retries, RunOptions, Target};
use crate::history::{HistoryRow, RowStatus, Stamp};
use crate::migration::{Migration, MigrationKind, Version};
use crate::resolve::{check_runnable, resolve, runs_in_transaction, State};
use crate::source::MigrationSet;
use std::time::Instant;
use stepwise_sql::Section;

#[derive(Debug, Clone)]
pub enum RollbackTarget {
    /// The newest N applied migrations.
    Steps(usize),
    /// Everything applied after this version (it stays applied).
    To(String),
}

pub async fn rollback<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    target: &RollbackTarget,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<Vec<Applied>, RunError> {
    begin_locked(engine, opts, report).await?;
    let result = rollback_locked(engine, set, target, opts, report).await;
    end_locked(engine).await;
    result
}

async fn rollback_locked<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    target: &RollbackTarget,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<Vec<Applied>, RunError> {
    let history = engine.history().await?;
    let entries = resolve(set, &history);
    // A rollback that stopped halfway comes first, then applied versioned
    // migrations, newest first.
    let interrupted = |e: &&crate::resolve::Entry| {
        matches!(e.state, State::Failed | State::Running) && e.row.is_some_and(|r| r.direction == Direction::Down)
    };
    let mut applied: Vec<_> = entries
        .iter()
        .filter(|e| matches!(e.state, State::Applied | State::MissingFile) || interrupted(e))
        .filter(|e| e.migration.is_none_or(|m| m.kind == MigrationKind::Versioned))
        .collect();
    applied.reverse();
    applied.sort_by_key(|e| !interrupted(e));
    let chosen: Vec<_> = match target {
        RollbackTarget::Steps(n) => applied.into_iter().take(*n).collect(),
        RollbackTarget::To(v) => {
            let to = Version::parse(v).ok_or_else(|| RunError::Usage(format!("--to {v}: not a version")))?;
            if !entries.iter().any(|e| e.state == State::Applied && e.migration.is_some_and(|m| m.version == to)) {
                return Err(RunError::Usage(format!("--to {v}: no applied migration has this version")));
            }
            applied.into_iter().filter(|e| Version::parse(&e.key()).is_some_and(|ev| ev > to)).collect()
        }
    };
    // Check every down before running any: a rollback that stops halfway for
    // a missing file is worse than one that does not start.
    let mut downs: Vec<(&Migration, Option<&HistoryRow>)> = Vec::new();
    for e in &chosen {
        let Some(m) = e.migration else {
            return Err(RunError::Refused(format!("cannot roll back {}: its migration file is missing", e.key())));
        };
        if m.down.is_none() {
            return Err(RunError::Refused(format!(
                "cannot roll back {} ({}): it has no down section",
                m.version,
                m.files.first().cloned().unwrap_or_default()
            )));
        }
        downs.push((m, e.row.filter(|r| r.direction == Direction::Down && r.status != RowStatus::Applied)));
    }
    let invalid: Vec<_> = downs.iter().filter_map(|(m, _)| m.down.as_ref()).flat_map(|d| check_runnable(d, engine.dialect())).collect();
    if !invalid.is_empty() {
        return Err(RunError::Invalid(invalid));
    }
    if !downs.is_empty() {
        // A store made by an earlier stepwise gains the columns this one
        // writes (as `migrate` would upgrade it) before a down records progress.
        engine.ensure_store().await?;
    }
    let mut done = Vec::new();
    for (m, resume) in downs {
        let Some(down) = m.down.as_ref() else { continue };
        let t = Target { version: &m.version.text, name: &m.name, direction: Direction::Down };
        let transactional = runs_in_transaction(down, engine.dialect());
        engine.fresh_session().await?;
        report(Event::MigrationStarted {
            version: m.version.text.clone(),
            name: m.name.clone(),
            direction: Direction::Down,
            transactional,
            statements: down.statements.len(),
        });
        let started = Instant::now();
        let mut ops = vec![TrackingOp::Delete(m.key())];
        if opts.rails {
            ops.push(TrackingOp::Rails(m.version.text.clone(), false));
        }
        if transactional && resume.is_none() {
            transaction_with_retries(engine, &t, down, opts, &ops, report).await?;
        } else {
            down_statements(engine, m, down, &t, resume, opts, report).await?;
            engine.track(&ops).await?;
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        report(Event::MigrationDone { version: m.version.text.clone(), name: m.name.clone(), direction: Direction::Down, duration_ms });
        done.push(Applied { version: m.version.text.clone(), name: m.name.clone(), duration_ms });
    }
    Ok(done)
}

/// A down section outside a transaction: like `apply`, record progress in the
/// migration's row (direction `down`) so that a failure or crash halfway is
/// recorded, and the next `rollback` continues where it stopped.
async fn down_statements<E: Engine>(
    engine: &mut E,
    m: &Migration,
    down: &Section,
    t: &Target<'_>,
    resume: Option<&HistoryRow>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let total = down.statements.len();
    let mut start = 0;
    let mut killed_at = None;
    if let Some(prev) = resume {
        start = (prev.statements_applied.max(0) as usize).min(total);
        if let Some(k) = prev.in_flight.map(|k| k as usize).filter(|&k| k < total) {
            match engine.recover(&down.statements[k], &opts.settings_for(&down.statements[k])).await? {
                Recovery::AlreadyDone(action) => {
                    report(Event::Recovered { version: m.version.text.clone(), statement: k, action });
                    start = start.max(k + 1);
                }
                Recovery::CleanedUp(action) => report(Event::Recovered { version: m.version.text.clone(), statement: k, action }),
                Recovery::Rerun => {}
            }
        }
        report(Event::Resuming { version: m.version.text.clone(), statement: start, statements: total });
        killed_at = (prev.status == RowStatus::Running).then_some(prev.in_flight).flatten().map(|k| k as usize);
    }
    let mut row = row_for(m, RowStatus::Running, false, start);
    row.direction = Direction::Down;
    row.statements_total = total as i32;
    row.in_flight = (start < total).then_some(start as i32);
    engine.track(&[TrackingOp::Save(row.clone(), Stamp::Progress)]).await?;
    for i in start..total {
        let s = &down.statements[i];
        report(Event::StatementStarted { version: m.version.text.clone(), statement: i, line: s.line, summary: s.info.summary.clone() });
        let next = crate::apply::row_after(&row, i, total);
        let done = [TrackingOp::Save(next.clone(), Stamp::Progress)];
        if let Err(e) = resumed_single(engine, t, down, i, &done, killed_at, opts, report).await {
            if matches!(e, RunError::Tracking(_)) {
                return Err(e);
            }
            row.status = RowStatus::Failed;
            row.error = Some(format!("rolling back: {e}"));
            if let Err(te) = engine.track(&[TrackingOp::Save(row.clone(), Stamp::Progress)]).await {
                return Err(RunError::Tracking(format!("{e}\nand recording the failure failed too: {te}")));
            }
            return Err(e);
        }
        row = next;
    }
    Ok(())
}
