//! PostgreSQL: a statement marked `-- stepwise:online` runs as an online
//! schema change (stepwise-online's osc) on the runner's own session, which
//! holds the migration lock throughout: a second runner waits, and cannot
//! start the same change beside it.
//!
//! The job is written on the migration's row as soon as it exists (from the
//! monitor session, while the runner's session copies), so that after a
//! crash or `kill -9` the next `migrate` resumes that very job: a job before
//! its swap is continued from its cursor, a job that swapped is done. Any
//! other unfinished job on the table is someone else's, and is left alone
//! with a message saying how to settle it (osc allows one per table).

use super::online_job::{self, pump, Prior, RecordJob};
use super::pg::PgEngine;
use super::{OnlineFailure, OnlineOutcome, OnlineStep};
use crate::events::Event;
use crate::execute::RunOptions;
use stepwise_db::pg::quote_ident as qi;
use stepwise_online::jobs::{self, Job};
use stepwise_online::osc::{self, OscOptions, OscRequest, Progress};
use stepwise_online::OnlineError;
use tokio::sync::mpsc::unbounded_channel;

impl PgEngine {
    pub(super) async fn run_online(
        &mut self,
        step: &OnlineStep<'_>,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineFailure> {
        let o = OscOptions {
            state_schema: self.schema.clone(),
            batch: opts.online.clone(),
            lock_timeout: opts.lock_timeout,
            retries: opts.retry.retries,
            allow_all_tables_publication: opts.online_all_tables_publication,
            cancel_blockers: opts.cancel_blockers.clone(),
            ..OscOptions::default()
        };
        // Objects made for the change (the shadow becomes the table) belong
        // to the role migrations run as, like those of any other statement.
        if let Some(role) = &opts.role {
            if let Err(e) = self.conn.batch(&format!("SET ROLE {}", qi(role))).await {
                return Err(OnlineFailure { job: step.job, message: e.to_string() });
            }
        }
        let mut job = step.job;
        let mut result = self.online_job(step, &o, &mut job, report).await;
        if let (true, Ok(OnlineOutcome::Swapped { job: id, table, old: Some(_) })) = (opts.online_finish, &result) {
            let (id, table) = (*id, table.clone());
            result = self.finish_now(id, &o, step, &mut job, report).await.map(|()| OnlineOutcome::Swapped { job: id, table, old: None });
        }
        if opts.role.is_some() {
            let _ = self.conn.batch("RESET ROLE").await;
        }
        match result {
            Ok(outcome) => Ok(outcome),
            Err(e) => Err(OnlineFailure { job, message: self.explain(e, job, &o).await }),
        }
    }

    async fn online_job(
        &self,
        step: &OnlineStep<'_>,
        o: &OscOptions,
        job_id: &mut Option<i64>,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineError> {
        let alter = step.alter;
        let Some(info) = osc::table::load(&self.conn, &alter.table).await? else {
            if alter.if_exists {
                report(Event::Note { message: format!("{} does not exist: ALTER TABLE IF EXISTS has nothing to change", alter.table) });
                return Ok(OnlineOutcome::NoTable);
            }
            return Err(OnlineError::Usage(format!("no table named {}", alter.table)));
        };
        let target = format!("{}.{}", info.schema, info.name);
        let (tx, rx) = unbounded_channel::<Progress>();
        let progress = move |p: &Progress| {
            let _ = tx.send(p.clone());
        };
        let mut rx = rx;

        let found = match step.job {
            Some(id) => jobs::get(&self.conn, &o.state_schema, id).await?,
            None => None,
        };
        match online_job::prior(found, &target, step, report)? {
            Prior::Resume(j) => {
                let done = pump(osc::resume(&self.conn, &j, o, &progress), &mut rx, &mut self.recorder(), step, job_id, report).await?;
                return self.outcome(done, o);
            }
            Prior::Swapped(j) => {
                // `run` completes a foreign-key validation that the crash
                // cut short (and returns at once otherwise).
                let done = if j.state == "swapped" {
                    pump(osc::run(&self.conn, j.id, o, &progress), &mut rx, &mut self.recorder(), step, job_id, report).await?
                } else {
                    j
                };
                return self.outcome(done, o);
            }
            Prior::Start => {}
        }
        online_job::refuse_other(jobs::list(&self.conn, &o.state_schema, "osc", false).await?, &target)?;
        let req = OscRequest { table: alter.table.clone(), alter: alter.clauses.clone(), rebuild_child_keys: false };
        let done = pump(osc::start(&self.conn, &req, o, &progress), &mut rx, &mut self.recorder(), step, job_id, report).await?;
        self.outcome(done, o)
    }

    /// `osc finish` at once: drop the old table of a job that swapped.
    async fn finish_now(
        &self,
        id: i64,
        o: &OscOptions,
        step: &OnlineStep<'_>,
        job_id: &mut Option<i64>,
        report: &mut dyn FnMut(Event),
    ) -> Result<(), OnlineError> {
        let Some(j) = jobs::get(&self.conn, &o.state_schema, id).await? else { return Ok(()) };
        let (tx, mut rx) = unbounded_channel::<Progress>();
        let progress = move |p: &Progress| {
            let _ = tx.send(p.clone());
        };
        pump(osc::finish(&self.conn, &j, o, &progress), &mut rx, &mut self.recorder(), step, job_id, report).await
    }

    fn recorder(&self) -> Recorder<'_> {
        Recorder { table: self.table(), monitor: &self.monitor }
    }

    /// What a job that returned means for the statement.
    fn outcome(&self, job: Job, o: &OscOptions) -> Result<OnlineOutcome, OnlineError> {
        let spec = |k: &str| job.spec.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let n = osc::sql::Names::new(&spec("schema"), &spec("table"), &o.state_schema, job.id);
        let old = format!("{}.{}", n.schema, n.old);
        online_job::outcome(job, old)
    }

    /// The error, and what to do next given where the job stands.
    async fn explain(&self, e: OnlineError, job: Option<i64>, o: &OscOptions) -> String {
        let found = match job {
            Some(id) => jobs::get(&self.conn, &o.state_schema, id).await.ok().flatten(),
            None => None,
        };
        online_job::explain(e, found)
    }
}

/// Where the job is written on the migration's row, and the session that writes it.
struct Recorder<'a> {
    table: String,
    monitor: &'a stepwise_db::pg::PgConn,
}

impl RecordJob for Recorder<'_> {
    async fn record(&mut self, job: i64, key: &str) -> Result<(), String> {
        let sql = format!("UPDATE {} SET osc_job = $1 WHERE version = $2", self.table);
        self.monitor.client.execute(&sql, &[&job, &key]).await.map(|_| ()).map_err(|e| e.to_string())
    }
}
