use stepwise_db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    /// Boxed: a server error carries its message, detail and hint.
    #[error(transparent)]
    Db(Box<DbError>),
    /// The request cannot be carried out as asked (exit 1): a table without a
    /// key, a job in the wrong state, a mismatch found by verification.
    #[error("{0}")]
    Refused(String),
    /// Bad input (exit 2).
    #[error("{0}")]
    Usage(String),
}

impl From<DbError> for OnlineError {
    fn from(e: DbError) -> Self {
        OnlineError::Db(Box::new(e))
    }
}

impl From<tokio_postgres::Error> for OnlineError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::from(e).into()
    }
}

impl OnlineError {
    pub fn exit_code(&self) -> i32 {
        match self {
            OnlineError::Usage(_) => 2,
            _ => 1,
        }
    }
}
