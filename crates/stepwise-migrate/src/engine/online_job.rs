//! What both engines decide the same way about the osc job of a
//! `-- stepwise:online` statement: whether the job an interrupted attempt
//! started is resumed, already done, or to be started again; the refusal
//! when another unfinished job holds the table; what a finished job means
//! for the statement; what to do next after an error; and how an osc call
//! runs with its progress passed on and its job written on the migration's
//! row ([`pump`]).

use super::{OnlineOutcome, OnlineStep};
use crate::events::Event;
use std::future::Future;
use stepwise_online::jobs::Job;
use stepwise_online::osc::Progress;
use stepwise_online::OnlineError;
use tokio::sync::mpsc::UnboundedReceiver;

/// States of a job that has not swapped yet and can be resumed.
pub(super) const BEFORE_SWAP: &[&str] = &["copying", "paused", "indexing", "verifying", "ready"];

/// The job an interrupted attempt of this statement started, as found.
pub(super) enum Prior {
    /// Before its swap, started for these clauses: resume it.
    Resume(Job),
    /// It swapped before the interruption: the change is made.
    Swapped(Job),
    /// None, or cancelled or reverted since: start the change.
    Start,
}

/// Decide about `found` (the job the migration's row names, on `target`).
pub(super) fn prior(found: Option<Job>, target: &str, step: &OnlineStep<'_>, report: &mut dyn FnMut(Event)) -> Result<Prior, OnlineError> {
    let Some(j) = found.filter(|j| j.target == target) else { return Ok(Prior::Start) };
    let id = j.id;
    let started_for = j.spec.get("alter").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    match j.state.as_str() {
        s if BEFORE_SWAP.contains(&s) => {
            if started_for.trim() != step.alter.clauses.trim() {
                return Err(OnlineError::Refused(format!(
                    "osc job {id} on {target} was started for `{started_for}`, but the statement now says `{}`",
                    step.alter.clauses
                )));
            }
            report(Event::OnlineResuming {
                version: step.version.to_string(),
                statement: step.index,
                job: id,
                state: j.state.clone(),
                rows_done: j.rows_done,
            });
            Ok(Prior::Resume(j))
        }
        "swapped" | "finished" => {
            report(Event::Recovered {
                version: step.version.to_string(),
                statement: step.index,
                action: format!("osc job {id} had already swapped {target}"),
            });
            Ok(Prior::Swapped(j))
        }
        "failed" | "cancelling" => Err(OnlineError::Refused(format!(
            "osc job {id} on {target} is {}{}",
            j.state,
            j.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        ))),
        other => {
            report(Event::Note { message: format!("osc job {id} on {target} was {other}; starting the change again") });
            Ok(Prior::Start)
        }
    }
}

/// osc allows one unfinished job per table: one this migration did not
/// start is left alone, with what settles it.
pub(super) fn refuse_other(unfinished: Vec<Job>, target: &str) -> Result<(), OnlineError> {
    let Some(j) = unfinished.into_iter().find(|j| j.target == target) else { return Ok(()) };
    let id = j.id;
    Err(OnlineError::Refused(if j.state == "swapped" {
        format!(
            "{target} still keeps the old table of osc job {id} (an earlier change): `stepwise osc finish --job {id}` drops it, or `stepwise osc revert --job {id}` swaps it back; then `stepwise migrate` makes this change"
        )
    } else {
        format!(
            "{target} has an unfinished osc job {id} ({}, `{}`) that this migration did not start: `stepwise osc resume --job {id}` completes it, or `stepwise osc cancel --job {id}` removes it; then `stepwise migrate` makes this change",
            j.state,
            j.spec.get("alter").and_then(|v| v.as_str()).unwrap_or_default()
        )
    }))
}

/// What a job that returned means for the statement; `old` is the old
/// table's name (kept until `osc finish`).
pub(super) fn outcome(job: Job, old: String) -> Result<OnlineOutcome, OnlineError> {
    match job.state.as_str() {
        "swapped" => Ok(OnlineOutcome::Swapped { job: job.id, table: job.target.clone(), old: Some(old) }),
        "finished" => Ok(OnlineOutcome::Swapped { job: job.id, table: job.target.clone(), old: None }),
        "paused" => Err(OnlineError::Refused(format!("osc job {} was paused (`stepwise osc pause`)", job.id))),
        other => Err(OnlineError::Refused(format!(
            "osc job {} stopped {other}{}",
            job.id,
            job.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        ))),
    }
}

/// The error, and what to do next given where the job stands.
pub(super) fn explain(e: OnlineError, job: Option<Job>) -> String {
    let mut message = e.to_string();
    let Some(j) = job else { return message };
    let id = j.id;
    let next = match j.state.as_str() {
        s if BEFORE_SWAP.contains(&s) => format!(
            "osc job {id} is {s} ({} rows copied): `stepwise migrate` resumes it; `stepwise osc cancel --job {id}` gives it up",
            j.rows_done
        ),
        // osc's own message already says the original is untouched.
        "failed" | "cancelling" if message.contains("the original table is untouched") => {
            format!("`stepwise osc cancel --job {id}` removes what the job left, then `stepwise migrate` starts the change again")
        }
        "failed" | "cancelling" => format!(
            "the original table is untouched: `stepwise osc cancel --job {id}` removes what the job left, then `stepwise migrate` starts the change again"
        ),
        _ => String::new(),
    };
    if !next.is_empty() {
        message.push_str("; ");
        message.push_str(&next);
    }
    message
}

/// Writes a job's id on the migration's row, from the engine's monitor
/// session (the runner's own is busy with the change).
#[allow(async_fn_in_trait)]
pub(super) trait RecordJob {
    async fn record(&mut self, job: i64, key: &str) -> Result<(), String>;
}

/// Run an osc call to its end, passing its progress on as it comes; the
/// job is recorded on the migration's row as soon as it starts, so from
/// there on a crash leaves a row that names the job.
pub(super) async fn pump<T, F: Future<Output = Result<T, OnlineError>>>(
    work: F,
    rx: &mut UnboundedReceiver<Progress>,
    record: &mut impl RecordJob,
    step: &OnlineStep<'_>,
    job_id: &mut Option<i64>,
    report: &mut dyn FnMut(Event),
) -> Result<T, OnlineError> {
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            // Progress first: the job is recorded before the copy goes on.
            biased;
            Some(p) = rx.recv() => forward(p, record, step, job_id, report).await,
            r = &mut work => break r,
        }
    };
    while let Ok(p) = rx.try_recv() {
        forward(p, record, step, job_id, report).await;
    }
    result
}

async fn forward(p: Progress, record: &mut impl RecordJob, step: &OnlineStep<'_>, job_id: &mut Option<i64>, report: &mut dyn FnMut(Event)) {
    if let Progress::Started { job, .. } = &p {
        *job_id = Some(*job);
        if let Err(e) = record.record(*job, step.key).await {
            report(Event::Note {
                message: format!(
                    "could not record osc job {job} on the migration's row ({e}); if this run is interrupted, `stepwise osc resume --job {job}` continues the job"
                ),
            });
        }
    }
    report(Event::Online { version: step.version.to_string(), statement: step.index, progress: p });
}
