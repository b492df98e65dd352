//! Rows of the tracking table (`stepwise.migrations` / `stepwise_migrations`).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Applied,
    Failed,
    Running,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Applied => "applied",
            RowStatus::Failed => "failed",
            RowStatus::Running => "running",
        }
    }

    pub fn parse(s: &str) -> Option<RowStatus> {
        match s {
            "applied" => Some(RowStatus::Applied),
            "failed" => Some(RowStatus::Failed),
            "running" => Some(RowStatus::Running),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// `Migration::key()`: the canonical version, or `R__<name>` for repeatables.
    pub version: String,
    pub name: String,
    pub kind: String,
    pub checksum: String,
    pub phase: String,
    pub status: RowStatus,
    pub transactional: bool,
    /// Times as the server printed them (ISO 8601, UTC).
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub statements_total: i32,
    pub statements_applied: i32,
    /// Non-transactional runs: index of the statement that was running.
    pub in_flight: Option<i32>,
    pub error: Option<String>,
    pub applied_by: String,
    /// `Down` while a non-transactional rollback is under way or stopped:
    /// `statements_applied` then counts the down section's statements.
    pub direction: crate::events::Direction,
    /// PostgreSQL: the osc job of the online statement in flight (`--
    /// stepwise:online`), recorded as soon as the job exists, so that the
    /// next `migrate` resumes that job after a crash instead of starting over.
    pub osc_job: Option<i64>,
}

/// What a tracking write sets for the time columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// A new attempt starts now; no finish time.
    Start,
    /// Keep started_at as stored (now, for a new row); no finish time.
    Progress,
    /// Finished now after the row's `duration_ms` (measured by the client):
    /// finished_at is now and started_at is now minus the duration.
    Finish,
    /// A whole migration in one transaction: started when the transaction
    /// began, finished now (both measured by the server).
    Whole,
}

/// Who applies migrations: OS user and host, and the tool version.
pub fn applied_by() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown-host".into());
    format!("{user}@{host} (stepwise {})", env!("CARGO_PKG_VERSION"))
}
