//! The osc verbs as one surface over both engines, so that what drives a
//! job (the CLI's `osc` command) is written once: [`Pg`] calls the
//! PostgreSQL orchestration in this module's parent, [`My`] the
//! MySQL/MariaDB one in `osc::mysql`.

use super::{OnProgress, OscOptions, OscRequest};
use crate::jobs::Job;
use crate::OnlineError;
use stepwise_db::mysql::MyConn;
use stepwise_db::pg::PgConn;

#[allow(async_fn_in_trait)]
pub trait OscEngine {
    /// What a dry run shows.
    async fn plan(&mut self, req: &OscRequest, opts: &OscOptions) -> Result<String, OnlineError>;
    /// Start a job and run it to its swap (or until it stops).
    async fn start(&mut self, req: &OscRequest, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError>;
    /// The osc jobs (with `all`, finished ones too).
    async fn jobs(&mut self, opts: &OscOptions, all: bool) -> Result<Vec<Job>, OnlineError>;
    /// The job to act on: the one given, or the only unfinished one.
    async fn pick(&mut self, opts: &OscOptions, id: Option<i64>) -> Result<Job, OnlineError>;
    async fn resume(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError>;
    async fn pause(&mut self, job: &Job, opts: &OscOptions) -> Result<(), OnlineError>;
    async fn cancel(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError>;
    async fn finish(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError>;
    async fn revert(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError>;
}

/// PostgreSQL.
pub struct Pg<'a>(pub &'a PgConn);

impl OscEngine for Pg<'_> {
    async fn plan(&mut self, req: &OscRequest, opts: &OscOptions) -> Result<String, OnlineError> {
        super::plan(self.0, req, opts).await
    }
    async fn start(&mut self, req: &OscRequest, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
        super::start(self.0, req, opts, progress).await
    }
    async fn jobs(&mut self, opts: &OscOptions, all: bool) -> Result<Vec<Job>, OnlineError> {
        crate::jobs::list(self.0, &opts.state_schema, "osc", all).await
    }
    async fn pick(&mut self, opts: &OscOptions, id: Option<i64>) -> Result<Job, OnlineError> {
        super::pick(self.0, opts, id).await
    }
    async fn resume(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
        super::resume(self.0, job, opts, progress).await
    }
    async fn pause(&mut self, job: &Job, opts: &OscOptions) -> Result<(), OnlineError> {
        super::pause(self.0, job, opts).await
    }
    async fn cancel(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
        super::cancel(self.0, job, opts, progress).await
    }
    async fn finish(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
        super::finish(self.0, job, opts, progress).await
    }
    async fn revert(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
        super::revert(self.0, job, opts, progress).await
    }
}

/// MySQL/MariaDB.
pub struct My<'a>(pub &'a mut MyConn);

impl OscEngine for My<'_> {
    async fn plan(&mut self, req: &OscRequest, opts: &OscOptions) -> Result<String, OnlineError> {
        super::mysql::plan(self.0, req, &opts.state_schema).await
    }
    async fn start(&mut self, req: &OscRequest, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
        super::mysql::start(self.0, req, opts, progress).await
    }
    async fn jobs(&mut self, opts: &OscOptions, all: bool) -> Result<Vec<Job>, OnlineError> {
        crate::jobs_mysql::list(self.0, &opts.state_schema, "osc", all).await
    }
    async fn pick(&mut self, opts: &OscOptions, id: Option<i64>) -> Result<Job, OnlineError> {
        super::mysql::pick(self.0, &opts.state_schema, id).await
    }
    async fn resume(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Job, OnlineError> {
        super::mysql::resume(self.0, job, opts, progress).await
    }
    async fn pause(&mut self, job: &Job, opts: &OscOptions) -> Result<(), OnlineError> {
        super::mysql::pause(self.0, job, opts).await
    }
    async fn cancel(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
        super::mysql::cancel(self.0, job, opts, progress).await
    }
    async fn finish(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
        super::mysql::finish(self.0, job, opts, progress).await
    }
    async fn revert(&mut self, job: &Job, opts: &OscOptions, progress: OnProgress<'_>) -> Result<(), OnlineError> {
        super::mysql::revert(self.0, job, opts, progress).await
    }
}
