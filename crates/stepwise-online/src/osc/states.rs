//! Which verbs a job's state allows, the same on both engines (the
//! engines' modules do the work; these say yes, or why not).

use crate::jobs::Job;
use crate::OnlineError;

/// `resume`: Ok(true) when the job was paused (and is to copy again),
/// Ok(false) when it is to be continued where it stands.
pub fn resumable(job: &Job) -> Result<bool, OnlineError> {
    match job.state.as_str() {
        "paused" => Ok(true),
        "copying" | "indexing" | "verifying" | "ready" => Ok(false),
        "failed" => Err(OnlineError::Refused(format!(
            "job {} failed ({}); the original table is untouched: `stepwise osc cancel` removes what it left",
            job.id,
            job.error.as_deref().unwrap_or("no reason recorded")
        ))),
        other => Err(OnlineError::Refused(format!("job {} is {other}: nothing to resume", job.id))),
    }
}

/// `pause`: only a copy pauses.
pub fn pausable(job: &Job) -> Result<(), OnlineError> {
    if job.state != "copying" {
        return Err(OnlineError::Refused(format!("job {} is {}: only a copying job can be paused", job.id, job.state)));
    }
    Ok(())
}

/// `cancel`: only before the swap.
pub fn cancellable(job: &Job) -> Result<(), OnlineError> {
    if matches!(job.state.as_str(), "swapped" | "finished" | "cancelled" | "reverted") {
        return Err(OnlineError::Refused(format!(
            "job {} is {}: cancel undoes only a job that has not swapped (after the swap, `osc revert` swaps back and `osc finish` drops the old table)",
            job.id, job.state
        )));
    }
    Ok(())
}

/// `finish`: only after a swap.
pub fn finishable(job: &Job) -> Result<(), OnlineError> {
    if job.state != "swapped" {
        return Err(OnlineError::Refused(format!("job {} is {}: finish drops the old table after a swap", job.id, job.state)));
    }
    Ok(())
}
