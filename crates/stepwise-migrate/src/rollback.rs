//! `rollback`: run down sections of applied migrations, newest first.

use crate::apply::Applied;
use crate::engine::{Engine, TrackingOp};
use crate::error::RunError;
use crate::events::{Direction, Event};
use crate::execute::{acquire_lock, single_with_retries, transaction_with_retries, RunOptions, Target};
use crate::migration::{Migration, MigrationKind, Version};
use crate::resolve::{check_runnable, resolve, runs_in_transaction, State};
use crate::source::MigrationSet;
use std::time::Instant;

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
    engine.preflight().await?;
    report(Event::Connected { server: engine.server(), store: engine.store_name() });
    for message in crate::engine::setting_notes(engine.dialect(), opts.lock_timeout) {
        report(Event::Note { message });
    }
    acquire_lock(engine, opts.lock_wait, report).await?;
    let result = rollback_locked(engine, set, target, opts, report).await;
    let _ = engine.unlock().await;
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
    // Applied versioned migrations, newest first.
    let mut applied: Vec<_> = entries
        .iter()
        .filter(|e| matches!(e.state, State::Applied | State::MissingFile))
        .filter(|e| e.migration.is_none_or(|m| m.kind == MigrationKind::Versioned))
        .collect();
    applied.reverse();
    let chosen: Vec<_> = match target {
        RollbackTarget::Steps(n) => applied.into_iter().take(*n).collect(),
        RollbackTarget::To(v) => {
            let to = Version::parse(v).ok_or_else(|| RunError::Usage(format!("--to {v}: not a version")))?;
            if !entries.iter().any(|e| e.state == State::Applied && e.migration.is_some_and(|m| m.version == to)) {
                return Err(RunError::Usage(format!("--to {v}: no applied migration has this version")));
            }
            applied
                .into_iter()
                .filter(|e| Version::parse(&e.key()).is_some_and(|ev| ev > to))
                .collect()
        }
    };
    // Check every down before running any: a rollback that stops halfway for
    // a missing file is worse than one that does not start.
    let mut downs: Vec<&Migration> = Vec::new();
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
        downs.push(m);
    }
    let invalid: Vec<_> = downs.iter().filter_map(|m| m.down.as_ref()).flat_map(|d| check_runnable(d, engine.dialect())).collect();
    if !invalid.is_empty() {
        return Err(RunError::Invalid(invalid));
    }
    let mut done = Vec::new();
    for m in downs {
        let Some(down) = m.down.as_ref() else { continue };
        let t = Target { version: &m.version.text, name: &m.name };
        let transactional = runs_in_transaction(down, engine.dialect());
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
        if transactional {
            transaction_with_retries(engine, &t, down, opts, &ops, report).await?;
        } else {
            for i in 0..down.statements.len() {
                let s = &down.statements[i];
                report(Event::StatementStarted { version: m.version.text.clone(), statement: i, line: s.line, summary: s.info.summary.clone() });
                single_with_retries(engine, &t, down, i, opts, report).await?;
            }
            engine.track(&ops).await?;
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        report(Event::MigrationDone { version: m.version.text.clone(), name: m.name.clone(), direction: Direction::Down, duration_ms });
        done.push(Applied { version: m.version.text.clone(), name: m.name.clone(), duration_ms });
    }
    Ok(done)
}
