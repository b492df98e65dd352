//! What jobs are the same on both engines: which verbs a job's state
//! allows (the engines' modules do the work; these say yes, or why not),
//! how a job's spec is read, and how its tables are named.

use crate::jobs::Job;
use crate::OnlineError;

/// The spec stored with `job`, as the engine's type.
pub fn spec_of<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, OnlineError> {
    serde_json::from_value(job.spec.clone()).map_err(|e| OnlineError::Refused(format!("job {} has an unreadable spec: {e}", job.id)))
}

/// `_sw<job>_<table><suffix>`: the name carries the job so that any job's
/// leftovers can be found; the table's part is cut (whole characters)
/// until the name is at most `max` as `len` counts it (PostgreSQL: 63
/// bytes; MySQL: 64 characters).
pub fn job_name(table: &str, job: i64, suffix: &str, max: usize, len: fn(&str) -> usize) -> String {
    let prefix = format!("_sw{job}_");
    let mut base = table.to_string();
    while len(&prefix) + len(&base) + len(suffix) > max {
        base.pop();
    }
    format!("{prefix}{base}{suffix}")
}

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

#[cfg(test)]
mod tests {
    use super::job_name;

    #[test]
    fn job_names_fit_each_engine_whole_characters_kept() {
        let long = "é".repeat(40);
        // PostgreSQL counts bytes (63): "_sw12_" 6 + "_new" 4 leaves 53 bytes, 26 two-byte characters.
        let pg = job_name(&long, 12, "_new", 63, str::len);
        assert!(pg.len() <= 63 && pg == format!("_sw12_{}_new", "é".repeat(26)), "{pg}");
        // MySQL counts characters (64): 54 of them fit, all 40 here.
        let my = job_name(&long, 12, "_new", 64, |s| s.chars().count());
        assert_eq!(my, format!("_sw12_{long}_new"));
        assert_eq!(job_name("orders", 3, "_old", 63, str::len), "_sw3_orders_old");
    }
}
