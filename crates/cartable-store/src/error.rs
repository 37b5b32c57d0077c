use thiserror::Error;

/// What can go wrong in storage, in terms the layers above can act on.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database cannot be reached in time: answer 503 and let the client retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (a login, a school code, an external id).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the operation depends on does not exist in this school.
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::Database(db) if is_busy_or_timeout(db.code().as_deref()) => {
                StoreError::Unavailable(db.message().to_string())
            }
            sqlx::Error::RowNotFound => StoreError::NotFound(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

/// SQLite busy/locked (5, 6) and PostgreSQL statement timeout / cannot connect now.
fn is_busy_or_timeout(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "517" | "57014" | "57P03" | "53300"))
}
