//! `progress`: long DDL in flight (index builds, CLUSTER/VACUUM, MariaDB's
//! copying ALTERs) and stepwise's own osc and backfill jobs, in one view,
//! each with how far it is and, once there is a rate, an ETA.

use super::watch::{self, Repeat};
use crate::cli::{Format, ProgressArgs};
use crate::config::Config;
use crate::render::Out;
use serde::Serialize;
use stepwise_db::progress::{human_secs, DdlProgress};
use stepwise_db::sessions::monitor::Monitor;
use stepwise_online::jobs::Job;

/// A stepwise job's progress, as `progress` shows it.
#[derive(Debug, Serialize)]
struct JobProgress {
    id: i64,
    kind: String,
    target: String,
    state: String,
    rows_done: i64,
    rows_total: Option<i64>,
    fraction: Option<f64>,
    rows_per_sec: Option<f64>,
    eta_secs: Option<f64>,
    updated_secs_ago: f64,
}

impl JobProgress {
    fn of(j: Job) -> JobProgress {
        let fraction = j.rows_total.filter(|t| *t > 0).map(|t| (j.rows_done as f64 / t as f64).clamp(0.0, 1.0));
        let rate = (j.elapsed_secs > 0.0 && j.rows_done > 0).then(|| j.rows_done as f64 / j.elapsed_secs);
        let running = matches!(j.state.as_str(), "copying" | "running" | "verifying" | "indexing");
        let eta = match (j.rows_total, rate) {
            (Some(t), Some(r)) if running && r > 0.0 && t > j.rows_done => Some((t - j.rows_done) as f64 / r),
            _ => None,
        };
        JobProgress {
            id: j.id,
            kind: j.kind,
            target: j.target,
            state: j.state,
            rows_done: j.rows_done,
            rows_total: j.rows_total,
            fraction,
            rows_per_sec: rate,
            eta_secs: eta,
            updated_secs_ago: j.updated_secs_ago,
        }
    }

    fn line(&self) -> String {
        let mut s = format!("{} job {} on {}: {}, {} rows", self.kind, self.id, self.target, self.state, self.rows_done);
        if let Some(t) = self.rows_total {
            s.push_str(&format!(" of about {t}"));
        }
        if let Some(f) = self.fraction {
            s.push_str(&format!(" ({:.0}%)", f * 100.0));
        }
        if let Some(r) = self.rows_per_sec {
            s.push_str(&format!(", {r:.0} rows/s on average"));
        }
        if let Some(e) = self.eta_secs {
            s.push_str(&format!(", about {} left", human_secs(e)));
        }
        if self.updated_secs_ago > 30.0 {
            s.push_str(&format!(" (no progress for {})", human_secs(self.updated_secs_ago)));
        }
        s
    }
}

pub async fn progress(cfg: &Config, out: &Out, args: &ProgressArgs) -> i32 {
    let mut monitor = match watch::monitor(cfg, out, "stepwise progress").await {
        Ok(m) => m,
        Err(code) => return code,
    };
    let mut repeat = Repeat::new(&args.watch, out);
    loop {
        let ddl = match monitor.progress().await {
            Ok(d) => d,
            Err(e) => {
                out.error(&format!("could not read the server's progress reports: {e}"));
                return 1;
            }
        };
        let jobs = match jobs(&mut monitor, &cfg.schema).await {
            Ok(j) => j,
            Err(e) => {
                out.error(&format!("could not read stepwise's jobs: {e}"));
                return 1;
            }
        };
        if out.format == Format::Json {
            out.json(&serde_json::json!({"server": monitor.server(), "statements": ddl, "jobs": jobs}));
        } else {
            repeat.header(out);
            out.line(text(&monitor, &ddl, &jobs).trim_end());
        }
        if !repeat.again().await {
            return 0;
        }
    }
}

async fn jobs(monitor: &mut Monitor, schema: &str) -> Result<Vec<JobProgress>, stepwise_online::OnlineError> {
    let mut all = Vec::new();
    for kind in ["osc", stepwise_online::backfill::KIND] {
        let found = match monitor {
            Monitor::Pg(c) => stepwise_online::jobs::list(c, schema, kind, false).await?,
            Monitor::My(c) => stepwise_online::jobs_mysql::list(c, schema, kind, false).await?,
        };
        all.extend(found.into_iter().map(JobProgress::of));
    }
    Ok(all)
}

fn text(monitor: &Monitor, ddl: &[DdlProgress], jobs: &[JobProgress]) -> String {
    let word = monitor.id_word();
    let mut s = String::new();
    if ddl.is_empty() && jobs.is_empty() {
        s.push_str(&format!("{}: no long statement or stepwise job in progress\n", monitor.server()));
        return s;
    }
    s.push_str(&format!("{}:\n", monitor.server()));
    for d in ddl {
        s.push_str(&format!("  {word} {}: {}\n", d.id, d.line()));
    }
    for j in jobs {
        s.push_str(&format!("  {}\n", j.line()));
    }
    s
}
