//! `mark`: record a migration as applied without running it.

use crate::apply::row_for;
use crate::engine::{Engine, TrackingOp};
use crate::error::RunError;
use crate::events::Event;
use crate::execute::{begin_locked, end_locked, RunOptions};
use crate::history::{RowStatus, Stamp};
use crate::migration::Version;
use crate::resolve::runs_in_transaction;
use crate::source::MigrationSet;

pub async fn mark<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    version: &str,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let v = Version::parse(version).ok_or_else(|| RunError::Usage(format!("`{version}` is not a version")))?;
    let m = set
        .migrations
        .iter()
        .find(|m| m.version == v)
        .ok_or_else(|| RunError::Usage(format!("no migration file has version {version}")))?;
    begin_locked(engine, opts, report).await?;
    let result = async {
        // Marking an applied migration again would overwrite its real history.
        let history = engine.history().await?;
        if history.iter().any(|r| r.version == m.key() && r.status == RowStatus::Applied) {
            return Err(RunError::Refused(format!("{} is already applied; nothing to mark", m.version)));
        }
        engine.ensure_store().await?;
        let mut row = row_for(m, RowStatus::Applied, runs_in_transaction(&m.up, engine.dialect()), m.up.statements.len());
        row.duration_ms = Some(0);
        row.applied_by = format!("{} (marked, not run)", row.applied_by);
        let mut ops = vec![TrackingOp::Save(row, Stamp::Finish)];
        if opts.rails {
            ops.push(TrackingOp::Rails(m.version.text.clone(), true));
        }
        engine.track(&ops).await?;
        report(Event::Marked { version: m.version.text.clone(), name: m.name.clone() });
        Ok(())
    }
    .await;
    end_locked(engine).await;
    result
}
