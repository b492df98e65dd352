//! Database errors, carrying what the server said: SQLSTATE (or MySQL error
//! number), message, detail, hint and the error position in the statement.

use crate::Engine;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerError {
    pub engine: Engine,
    /// SQLSTATE (both engines report one).
    pub sqlstate: String,
    /// MySQL/MariaDB error number.
    pub errno: Option<u16>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// PostgreSQL: 1-based character position in the statement text.
    pub position: Option<usize>,
    /// MySQL: "at line N" of the statement, parsed from the message.
    pub line: Option<usize>,
}

impl ServerError {
    /// A lock wait gave up (lock_timeout, lock_wait_timeout, innodb_lock_wait_timeout).
    pub fn is_lock_timeout(&self) -> bool {
        self.sqlstate == "55P03" || self.errno == Some(1205)
    }

    pub fn is_deadlock(&self) -> bool {
        self.sqlstate == "40P01" || self.errno == Some(1213)
    }

    /// Worth retrying the whole unit: nothing about the SQL itself was wrong.
    pub fn is_retryable(&self) -> bool {
        self.is_lock_timeout() || self.is_deadlock() || self.sqlstate == "40001"
    }

    pub fn is_statement_timeout(&self) -> bool {
        self.sqlstate == "57014" || self.errno == Some(1969) || self.errno == Some(3024)
    }
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (SQLSTATE {}", self.message, self.sqlstate)?;
        if let Some(n) = self.errno {
            write!(f, ", error {n}")?;
        }
        write!(f, ")")?;
        if let Some(d) = &self.detail {
            write!(f, "\ndetail: {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Bad configuration (a URL we cannot use); exit code 2 territory.
    #[error("{0}")]
    Config(String),
    /// Could not connect or authenticate. The message never carries a password.
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{0}")]
    Server(ServerError),
    /// The connection broke or the driver failed without a server error.
    #[error("database connection error: {0}")]
    Connection(String),
    #[error("{0}")]
    Other(String),
}

impl DbError {
    pub fn server(&self) -> Option<&ServerError> {
        match self {
            DbError::Server(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.server().is_some_and(ServerError::is_retryable)
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => DbError::Server(ServerError {
                engine: Engine::Postgres,
                sqlstate: db.code().code().to_string(),
                errno: None,
                message: db.message().to_string(),
                detail: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
                position: match db.position() {
                    Some(tokio_postgres::error::ErrorPosition::Original(p)) => Some(*p as usize),
                    _ => None,
                },
                line: None,
            }),
            None => DbError::Connection(e.to_string()),
        }
    }
}

impl From<mysql_async::Error> for DbError {
    fn from(e: mysql_async::Error) -> Self {
        match e {
            mysql_async::Error::Server(s) => {
                let line = s.message.rsplit_once(" at line ").and_then(|(_, n)| n.trim().parse::<usize>().ok());
                DbError::Server(ServerError {
                    engine: Engine::MySql,
                    sqlstate: s.state.clone(),
                    errno: Some(s.code),
                    message: s.message.clone(),
                    detail: None,
                    hint: None,
                    position: None,
                    line,
                })
            }
            other => DbError::Connection(other.to_string()),
        }
    }
}
