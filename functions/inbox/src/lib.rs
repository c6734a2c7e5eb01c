//! The inbox function: receives signed activities over HTTP and processes each in the request
//! (verify, process, answer 202), idempotently, since senders retry.

pub mod process;
pub mod receive;

use petrel::activitypub::resolve::ResolveError;
use petrel::repo::RepoError;

pub use receive::router;

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("queue: {0}")]
    Queue(#[from] petrel::store::StoreError),
}
