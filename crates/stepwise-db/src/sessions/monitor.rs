//! A session that watches the others, on either engine: what `locks` and
//! `progress` connect with.

use super::{Observer, Snapshot};
use crate::mysql::MyConn;
use crate::pg::PgConn;
use crate::{DbError, DbUrl, Engine};

pub enum Monitor {
    Pg(PgConn),
    My(MyConn),
}

impl Monitor {
    pub async fn connect(url: &DbUrl, application: &str) -> Result<Monitor, DbError> {
        Ok(match url.engine {
            Engine::Postgres => Monitor::Pg(PgConn::connect(url, application).await?),
            Engine::MySql => Monitor::My(MyConn::connect(url).await?),
        })
    }

    pub fn server(&self) -> String {
        match self {
            Monitor::Pg(c) => c.version_text(),
            Monitor::My(c) => c.version_text(),
        }
    }

    /// "pid" on PostgreSQL, "thread" on MySQL/MariaDB.
    pub fn id_word(&self) -> &'static str {
        match self {
            Monitor::Pg(_) => "pid",
            Monitor::My(_) => "thread",
        }
    }

    pub async fn snapshot(&mut self) -> Result<Snapshot, DbError> {
        match self {
            Monitor::Pg(c) => c.snapshot().await,
            Monitor::My(c) => c.snapshot().await,
        }
    }

    /// Long DDL in flight in the current database, with how far it is.
    pub async fn progress(&mut self) -> Result<Vec<crate::progress::DdlProgress>, DbError> {
        match self {
            Monitor::Pg(c) => Observer::progress(c, None).await,
            Monitor::My(c) => Observer::progress(c, None).await,
        }
    }
}
