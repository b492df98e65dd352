//! stepwise-online: work that runs for minutes or hours on a live table and
//! must survive a crash. Its state lives in the target database
//! (`<schema>.jobs`), never only in process memory, so `status`, `resume`
//! and `cancel` work from any process after a `kill -9`.

pub mod backfill;
pub mod batch;
pub mod error;
pub mod jobs;
pub mod jobs_mysql;
pub mod lag;
pub mod load;
pub mod osc;

pub use error::OnlineError;
