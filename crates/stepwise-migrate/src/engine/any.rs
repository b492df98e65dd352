//! One engine chosen at run time from the URL, so that commands are written
//! once and the orchestration stays generic.

use super::mysql::MyEngine;
use super::pg::PgEngine;
use super::{Engine, Failure, OnlineFailure, OnlineOutcome, OnlineStep, Recovery, Settings, TrackingOp, Watched};
use crate::events::Event;
use crate::execute::RunOptions;
use crate::history::HistoryRow;
use stepwise_db::{DbError, DbUrl, Engine as Kind};
use stepwise_sql::{BackfillStep, Dialect, Statement};

// One per run, never moved around in bulk: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyEngine {
    Pg(PgEngine),
    My(MyEngine),
}

impl AnyEngine {
    /// Connect to `url`; `schema` names PostgreSQL's state schema and
    /// MySQL's state-table prefix.
    pub async fn connect(url: &DbUrl, schema: &str, rails: bool) -> Result<AnyEngine, DbError> {
        Ok(match url.engine {
            Kind::Postgres => AnyEngine::Pg(PgEngine::connect(url, schema, rails).await?),
            Kind::MySql => AnyEngine::My(MyEngine::connect(url, schema, rails).await?),
        })
    }
}

macro_rules! each {
    ($self:ident, $e:ident => $body:expr) => {
        match $self {
            AnyEngine::Pg($e) => $body,
            AnyEngine::My($e) => $body,
        }
    };
}

impl Engine for AnyEngine {
    fn dialect(&self) -> Dialect {
        each!(self, e => e.dialect())
    }
    fn server(&self) -> String {
        each!(self, e => e.server())
    }
    fn pg_major(&self) -> Option<u32> {
        each!(self, e => e.pg_major())
    }
    fn mysql_version(&self) -> Option<String> {
        each!(self, e => e.mysql_version())
    }
    fn store_name(&self) -> String {
        each!(self, e => e.store_name())
    }
    async fn preflight(&mut self) -> Result<(), DbError> {
        each!(self, e => e.preflight().await)
    }
    async fn check_settings(&mut self, settings: &Settings) -> Result<(), DbError> {
        each!(self, e => e.check_settings(settings).await)
    }
    async fn try_lock(&mut self) -> Result<bool, DbError> {
        each!(self, e => e.try_lock().await)
    }
    async fn lock_holder(&mut self) -> Result<Option<String>, DbError> {
        each!(self, e => e.lock_holder().await)
    }
    async fn unlock(&mut self) -> Result<(), DbError> {
        each!(self, e => e.unlock().await)
    }
    async fn ensure_store(&mut self) -> Result<(), DbError> {
        each!(self, e => e.ensure_store().await)
    }
    async fn history(&mut self) -> Result<Vec<HistoryRow>, DbError> {
        each!(self, e => e.history().await)
    }
    async fn transaction(
        &mut self,
        statements: &[&Statement],
        settings: &Settings,
        ops: &[TrackingOp],
        watch: &mut dyn FnMut(Watched),
    ) -> Result<(), Failure> {
        each!(self, e => e.transaction(statements, settings, ops, watch).await)
    }
    async fn single(&mut self, statement: &Statement, settings: &Settings, watch: &mut dyn FnMut(Watched)) -> Result<(), Failure> {
        each!(self, e => e.single(statement, settings, watch).await)
    }
    async fn old_transactions(&mut self, statement: &Statement, older_than: std::time::Duration) -> Result<Vec<String>, DbError> {
        each!(self, e => e.old_transactions(statement, older_than).await)
    }
    async fn fresh_session(&mut self) -> Result<(), DbError> {
        each!(self, e => e.fresh_session().await)
    }

    async fn track(&mut self, ops: &[TrackingOp]) -> Result<(), DbError> {
        each!(self, e => e.track(ops).await)
    }
    fn finished_before(&self, error: &stepwise_db::ServerError) -> bool {
        each!(self, e => e.finished_before(error))
    }
    async fn recover(&mut self, statement: &Statement, settings: &Settings) -> Result<Recovery, DbError> {
        each!(self, e => e.recover(statement, settings).await)
    }
    async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        each!(self, e => e.text_rows(sql).await)
    }
    async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
        each!(self, e => e.table_exists(table).await)
    }
    async fn dump_schema(&mut self) -> Result<String, DbError> {
        each!(self, e => e.dump_schema().await)
    }
    async fn column_exists(&mut self, table: &str, column: &str) -> Result<bool, DbError> {
        each!(self, e => e.column_exists(table, column).await)
    }
    async fn online(
        &mut self,
        step: &OnlineStep<'_>,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<OnlineOutcome, OnlineFailure> {
        each!(self, e => e.online(step, opts, report).await)
    }
    async fn backfill(
        &mut self,
        step: &BackfillStep,
        version: &str,
        index: usize,
        opts: &RunOptions,
        report: &mut dyn FnMut(Event),
    ) -> Result<(), String> {
        each!(self, e => e.backfill(step, version, index, opts, report).await)
    }
}
