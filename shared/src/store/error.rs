//! The one error type of the storage layer. Both adapters map their failures onto it, so the
//! domain never sees an SDK or SQLite error and behaves the same on either backend.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A conditional write did not hold. In a transaction, `index` names the operation that failed.
    #[error("condition failed{}", index.map(|i| format!(" (operation {i})")).unwrap_or_default())]
    ConditionFailed { index: Option<usize> },
    /// The item, object or message does not exist (for example a stale receipt handle).
    #[error("not found: {0}")]
    NotFound(String),
    /// A table, bucket or queue that the configuration names does not exist.
    #[error("missing resource: {0} (create it with infra/local/provision.py or deploy template.yaml)")]
    MissingResource(String),
    /// An AWS service limit would be exceeded (item size, batch size, message size, delay…).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The request is malformed (bad key, empty set, unparsable number, bad cursor…).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Stored data could not be decoded; never a panic.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Throttling or a transient fault: the caller may retry later.
    #[error("throttled or transient failure: {0}")]
    Transient(String),
    /// Anything else the backend reported.
    #[error("backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Transient(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
