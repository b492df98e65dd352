//! `status`: what is applied, pending, failed, drifted or missing.

use super::{connect, dialect_of, load_set, target};
use crate::cli::Format;
use crate::config::Config;
use crate::render::Out;
use serde::Serialize;
use stepwise_migrate::engine::Engine;
use stepwise_migrate::resolve::{resolve, State};
use stepwise_migrate::RunError;

#[derive(Serialize)]
struct Line {
    version: String,
    name: String,
    phase: String,
    state: State,
    drift: bool,
    file: Option<String>,
    applied_at: Option<String>,
    duration_ms: Option<i64>,
    statements_applied: Option<i32>,
    statements_total: Option<i32>,
    error: Option<String>,
    direction: Option<String>,
    /// The osc job of the online statement in flight.
    osc_job: Option<i64>,
}

pub async fn status(cfg: &Config, out: &Out, scratch: bool) -> i32 {
    let t = match target(cfg, out, scratch).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    let code = async {
        let set = load_set(cfg, out, dialect_of(&t.url))?;
        let mut engine = connect(cfg, out, &t.url).await?;
        let history = engine.history().await.map_err(|e| out.run_error(&RunError::Db(e)))?;
        let entries = resolve(&set, &history);
        let lines: Vec<Line> = entries
            .iter()
            .map(|e| Line {
                version: e.migration.map(|m| m.version.text.clone()).unwrap_or_else(|| e.key()),
                name: e.migration.map(|m| m.name.clone()).or_else(|| e.row.map(|r| r.name.clone())).unwrap_or_default(),
                phase: e.phase().as_str().into(),
                state: e.state,
                drift: e.drift,
                file: e.migration.and_then(|m| m.files.first().cloned()),
                applied_at: e.row.and_then(|r| r.finished_at.clone().or(r.started_at.clone())),
                duration_ms: e.row.and_then(|r| r.duration_ms),
                statements_applied: e.row.map(|r| r.statements_applied),
                statements_total: e.row.map(|r| r.statements_total),
                error: e.row.and_then(|r| r.error.clone()),
                direction: e.row.map(|r| r.direction.as_str().to_string()),
                osc_job: e.row.and_then(|r| r.osc_job),
            })
            .collect();
        if out.format == Format::Json {
            out.json(&serde_json::json!({"server": engine.server(), "migrations": lines}));
            return Ok(0);
        }
        out.line(&format!("{} — state in {}", engine.server(), engine.store_name()));
        if lines.is_empty() {
            out.line("No migrations.");
        }
        let width = lines.iter().map(|l| l.version.len()).max().unwrap_or(7).max(7);
        out.line(&format!("{:width$}  {:12}  {:11}  {:24}  name", "version", "state", "phase", "applied at"));
        for l in &lines {
            let state = match (l.state, l.drift) {
                (State::Applied, true) => "drifted".to_string(),
                (State::Applied, false) => "applied".into(),
                (State::Pending, _) => "pending".into(),
                (State::Failed, _) => "FAILED".into(),
                (State::Running, _) => "interrupted".into(),
                (State::MissingFile, _) => "no file".into(),
            };
            out.line(&format!(
                "{:width$}  {:12}  {:11}  {:24}  {}",
                l.version,
                state,
                l.phase,
                l.applied_at.as_deref().unwrap_or("-"),
                l.name
            ));
        }
        for l in &lines {
            match l.state {
                State::Failed | State::Running if l.direction.as_deref() == Some("down") => {
                    out.line(&format!(
                        "\n{} was being rolled back and stopped after {} of {} down statements{}.\n  `stepwise rollback` continues the rollback from there.",
                        l.version,
                        l.statements_applied.unwrap_or(0),
                        l.statements_total.unwrap_or(0),
                        l.error.as_deref().map(|e| format!(": {}", e.lines().next().unwrap_or(""))).unwrap_or_default()
                    ));
                }
                State::Failed | State::Running => {
                    let what = if l.state == State::Failed { "failed" } else { "was interrupted" };
                    out.line(&format!(
                        "\n{} {what} after {} of {} statements{}.\n  `stepwise migrate` checks the statement that was running and continues from there.",
                        l.version,
                        l.statements_applied.unwrap_or(0),
                        l.statements_total.unwrap_or(0),
                        l.error.as_deref().map(|e| format!(": {}", e.lines().next().unwrap_or(""))).unwrap_or_default()
                    ));
                    if let Some(job) = l.osc_job {
                        out.line(&format!(
                            "  Its online statement runs as osc job {job}: `stepwise migrate` resumes that job (`stepwise osc status` shows where it stands)."
                        ));
                    }
                }
                State::MissingFile => out.line(&format!("\n{} is applied but its file is missing from {}.", l.version, cfg.migrations_dir.display())),
                State::Applied if l.drift => out.line(&format!(
                    "\n{} changed since it was applied ({}): `migrate` refuses to run until the file is restored, or with --allow-drift.",
                    l.version,
                    l.file.as_deref().unwrap_or("")
                )),
                _ => {}
            }
        }
        Ok::<i32, i32>(0)
    }
    .await
    .unwrap_or_else(|c| c);
    t.close().await;
    code
}
