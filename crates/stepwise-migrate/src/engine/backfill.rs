//! A `-- stepwise:backfill` step inside a migration, on either engine: the
//! same batched, resumable job as `stepwise backfill`, on the runner's own
//! session (which holds the migration lock, so a second runner waits).
//!
//! After a crash the step runs again; an unfinished job on the same table
//! doing the same work is resumed from its cursor (and a fresh one would
//! change nothing twice either: only rows that differ are updated).

use crate::events::Event;
use crate::execute::RunOptions;
use std::future::Future;
use stepwise_online::backfill::{self, Db, Options, Progress, Request};
use stepwise_sql::BackfillStep;
use tokio::sync::mpsc::unbounded_channel;

/// Run the step to the end; the error says what to do next.
pub async fn run<D: Db>(
    db: &mut D,
    state: &str,
    step: &BackfillStep,
    version: &str,
    index: usize,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<(), String> {
    let req = Request { table: step.table.clone(), set: Some(step.set.clone()), condition: step.condition.clone(), ..Request::default() };
    let o = Options { state: state.to_string(), batch: opts.online.clone(), cancel_blockers: opts.cancel_blockers.clone() };
    let (tx, mut rx) = unbounded_channel::<Progress>();
    let progress = move |p: &Progress| {
        let _ = tx.send(p.clone());
    };
    let work = backfill::start_or_resume(db, &req, &o, &progress);
    let result = pump(work, &mut rx, version, index, report).await;
    while let Ok(p) = rx.try_recv() {
        report(Event::Backfill { version: version.to_string(), statement: index, progress: p });
    }
    match result {
        Ok(job) if job.state == "finished" => Ok(()),
        Ok(job) => Err(format!(
            "backfill job {} on {} is {}: `stepwise migrate` resumes it{}",
            job.id,
            job.target,
            job.state,
            if job.state == "cancelled" { " no more; start it again by running the migration again" } else { "" }
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Pass progress on while the work runs.
async fn pump<T>(
    work: impl Future<Output = T>,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Progress>,
    version: &str,
    index: usize,
    report: &mut dyn FnMut(Event),
) -> T {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            Some(p) = rx.recv() => report(Event::Backfill { version: version.to_string(), statement: index, progress: p }),
            r = &mut work => return r,
        }
    }
}
