//! The one error of the operations; each adapter turns it into its own answer (the API into the
//! contract's status codes and bodies, API.md §1).

use store::StoreError;

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is refused: every message, in contract order (API.md §1).
    #[error("invalid request: {}", .0.join(" "))]
    Invalid(Vec<String>),
    /// What the request names does not exist (or is another account's): the message says what.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists: the message says how.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached; the cause is for the log only.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the cause is for the log only.
    #[error("internal: {0}")]
    Internal(String),
    /// A refusal of a transactional route (API.md §9), in its own error body.
    #[error("{}", .0.message())]
    Transactional(domain::transactional::TxError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid(vec![message.into()])
    }

    pub fn internal(cause: impl std::fmt::Display) -> ServiceError {
        ServiceError::Internal(cause.to_string())
    }

    /// `Invalid` with `errors` unless there are none.
    pub(crate) fn check(errors: Vec<String>) -> ServiceResult<()> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(errors))
        }
    }
}

/// A store failure the operation did not map itself (operations name what was not found with
/// [`named`]). What an operation read a moment ago and is gone now, or a concurrent request that
/// made the same thing first, is still the caller's (404, 409), never a fault of the server.
impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> ServiceError {
        match e {
            StoreError::Unavailable(cause) => ServiceError::Unavailable(cause),
            StoreError::NotFound => ServiceError::NotFound("Not found.".into()),
            StoreError::Conflict(_) => {
                ServiceError::Conflict("The request conflicts with a concurrent change.".into())
            }
            other @ StoreError::Other(_) => ServiceError::Internal(other.to_string()),
        }
    }
}

/// Maps a store error for an object named `what` (`Message abc`): not found and conflicts are
/// the caller's (API.md §7).
pub(crate) fn named(what: &str) -> impl Fn(StoreError) -> ServiceError + '_ {
    move |e| match e {
        StoreError::NotFound => ServiceError::NotFound(format!("{what} not found.")),
        StoreError::Conflict(_) => ServiceError::Conflict(format!("{what} already exists.")),
        other => other.into(),
    }
}
