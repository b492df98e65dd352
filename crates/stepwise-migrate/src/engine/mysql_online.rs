//! MySQL/MariaDB: a statement marked `-- stepwise:online` runs as an
//! online schema change (`stepwise_online::osc::mysql`) on the runner's own
//! session, which holds the migration lock throughout. As on PostgreSQL
//! (see `pg_online`), the job is written on the migration's row from the
//! monitor session as soon as it exists, so the next `migrate` after a crash
//! resumes that very job; any other unfinished job on the table is left
//! alone with what settles it.

use super::mysql::MyEngine;
use super::online_job::{self, pump, Prior, RecordJob};
use super::{OnlineFailure, OnlineOutcome, OnlineStep};
use crate::events::Event;
use crate::execute::RunOptions;
use mysql_async::prelude::Queryable;
use stepwise_db::mysql::MyConn;
use stepwise_online::backfill::mysql::MyDb;
use stepwise_online::backfill::Db;
use stepwise_online::jobs::Job;
use stepwise_online::jobs_mysql as jobs;
use stepwise_online::osc::mysql as osc;
use stepwise_online::osc::{OscOptions, OscRequest, Progress};
use stepwise_online::OnlineError;
use tokio::sync::mpsc::unbounded_channel;

impl MyEngine {
    pub(super) async fn run_online(
        &mut self,
        step: &OnlineStep<'_>,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineFailure> {
        let o = OscOptions {
            state_schema: self.prefix.clone(),
            batch: opts.online.clone(),
            lock_timeout: opts.lock_timeout,
            retries: opts.retry.retries,
            cancel_blockers: opts.cancel_blockers.clone(),
            ..OscOptions::default()
        };
        let mut job = step.job;
        let mut result = self.online_job(step, &o, &mut job, report).await;
        if let (true, Ok(OnlineOutcome::Swapped { job: id, table, old: Some(_) })) = (opts.online_finish, &result) {
            let (id, table) = (*id, table.clone());
            result = self.finish_now(id, &o, step, &mut job, report).await.map(|()| OnlineOutcome::Swapped { job: id, table, old: None });
        }
        match result {
            Ok(outcome) => Ok(outcome),
            Err(e) => Err(OnlineFailure { job, message: self.explain(e, job, &o).await }),
        }
    }

    async fn online_job(
        &mut self,
        step: &OnlineStep<'_>,
        o: &OscOptions,
        job_id: &mut Option<i64>,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineError> {
        let alter = step.alter;
        let Some(info) = MyDb::new(&mut self.conn, &o.state_schema).table(&alter.table).await? else {
            if alter.if_exists {
                report(Event::Note { message: format!("{} does not exist: ALTER TABLE IF EXISTS has nothing to change", alter.table) });
                return Ok(OnlineOutcome::NoTable);
            }
            return Err(OnlineError::Usage(format!("no table named {}", alter.table)));
        };
        let target = format!("{}.{}", info.schema, info.name);
        let (tx, mut rx) = unbounded_channel::<Progress>();
        let progress = move |p: &Progress| {
            let _ = tx.send(p.clone());
        };
        let table = self.table();
        let (conn, monitor) = (&mut self.conn, &mut self.monitor);
        let mut record = Recorder { table, monitor };

        let found = match step.job {
            Some(id) => jobs::get(conn, &o.state_schema, id).await?,
            None => None,
        };
        match online_job::prior(found, &target, step, report)? {
            Prior::Resume(j) => {
                let done = pump(osc::resume(conn, &j, o, &progress), &mut rx, &mut record, step, job_id, report).await?;
                return outcome(done);
            }
            Prior::Swapped(j) => return outcome(j),
            Prior::Start => {}
        }
        online_job::refuse_other(jobs::list(conn, &o.state_schema, "osc", false).await?, &target)?;
        let req = OscRequest { table: alter.table.clone(), alter: alter.clauses.clone(), rebuild_child_keys: false };
        let done = pump(osc::start(conn, &req, o, &progress), &mut rx, &mut record, step, job_id, report).await?;
        outcome(done)
    }

    /// `osc finish` at once: drop the old table of a job that swapped.
    async fn finish_now(
        &mut self,
        id: i64,
        o: &OscOptions,
        step: &OnlineStep<'_>,
        job_id: &mut Option<i64>,
        report: &mut dyn FnMut(Event),
    ) -> Result<(), OnlineError> {
        let table = self.table();
        let (conn, monitor) = (&mut self.conn, &mut self.monitor);
        let mut record = Recorder { table, monitor };
        let Some(j) = jobs::get(conn, &o.state_schema, id).await? else { return Ok(()) };
        let (tx, mut rx) = unbounded_channel::<Progress>();
        let progress = move |p: &Progress| {
            let _ = tx.send(p.clone());
        };
        pump(osc::finish(conn, &j, o, &progress), &mut rx, &mut record, step, job_id, report).await
    }

    /// The error, and what to do next given where the job stands.
    async fn explain(&mut self, e: OnlineError, job: Option<i64>, o: &OscOptions) -> String {
        let found = match job {
            Some(id) => jobs::get(&mut self.conn, &o.state_schema, id).await.ok().flatten(),
            None => None,
        };
        online_job::explain(e, found)
    }
}

/// Where the job is written on the migration's row, and the session that writes it.
struct Recorder<'a> {
    table: String,
    monitor: &'a mut MyConn,
}

impl RecordJob for Recorder<'_> {
    async fn record(&mut self, job: i64, key: &str) -> Result<(), String> {
        let sql = format!("UPDATE {} SET osc_job = ? WHERE version = ?", self.table);
        self.monitor.conn.exec_drop(sql, (job, key)).await.map_err(|e| e.to_string())
    }
}

/// What a job that returned means for the statement.
fn outcome(job: Job) -> Result<OnlineOutcome, OnlineError> {
    let spec = |k: &str| job.spec.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let n = osc::Names::new(&spec("schema"), &spec("table"), job.id);
    let old = format!("{}.{}", n.schema, n.old);
    online_job::outcome(job, old)
}
