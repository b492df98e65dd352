use stepwise_db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The request cannot be carried out as asked (exit 1): a table without a
    /// key, a job in the wrong state, a mismatch found by verification.
    #[error("{0}")]
    Refused(String),
    /// Bad input (exit 2).
    #[error("{0}")]
    Usage(String),
}

impl From<tokio_postgres::Error> for OnlineError {
    fn from(e: tokio_postgres::Error) -> Self {
        OnlineError::Db(DbError::from(e))
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
