//! Account archives: `petrel export` writes one, `petrel import` restores from one.
//!
//! The format is Mastodon's "Request your archive" `.tar.gz`, so other tools read it:
//!
//! | entry | holds |
//! |---|---|
//! | `actor.json` | the actor document; `icon`/`image` name the avatar and header by archive path |
//! | `outbox.json` | an `OrderedCollection` of `Create(Note)` for the account's posts and `Announce` for its boosts, oldest first |
//! | `media_attachments/files/{blob key}` | every media file the posts and the profile use, under the key it has in the bucket |
//! | `likes.json`, `bookmarks.json` | `OrderedCollection`s of the ids of favourited and bookmarked posts |
//! | `followers.json` | Petrel addition: the follower actor documents Petrel holds (id, inbox, sharedInbox, publicKey, …) |
//! | `following.json` | Petrel addition: the actor documents of accounts followed (accepted follows) |
//! | `mentioned.json` | Petrel addition: the actor documents of remote accounts the posts mention |
//!
//! Notes are the ones federation sends (`activitypub::convert`), with three Petrel additions that
//! make the round trip exact: `source` (the text as typed, the ActivityStreams property Misskey
//! and Pleroma use), attachment `url`s that are archive paths, and an attachment `icon` naming the
//! small rendition. The private key is never exported (Mastodon does not export it either): an
//! import makes a new key pair, and remote servers refetch the actor when a signature does not
//! verify against the key they cached.

mod actors;
mod export;
mod file;
mod import;

pub use actors::remote_actor_document;
pub use export::export;
pub use file::MAX_ENTRIES;
pub use import::{import, plan, Plan, Report};

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{json, Value};
use thiserror::Error;

use crate::repo::RepoError;
use crate::store::StoreError;

pub const ACTOR: &str = "actor.json";
pub const OUTBOX: &str = "outbox.json";
pub const LIKES: &str = "likes.json";
pub const BOOKMARKS: &str = "bookmarks.json";
pub const FOLLOWERS: &str = "followers.json";
pub const FOLLOWING: &str = "following.json";
pub const MENTIONED: &str = "mentioned.json";
/// The JSON documents an archive may hold; `actor.json` and `outbox.json` must be there.
pub const DOCUMENTS: [&str; 7] = [ACTOR, OUTBOX, LIKES, BOOKMARKS, FOLLOWERS, FOLLOWING, MENTIONED];
/// Where media files live in the archive, followed by their blob key.
pub const FILES_DIR: &str = "media_attachments/files/";

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a .tar.gz archive: {0}")]
    NotAnArchive(String),
    #[error("the archive is truncated or damaged: {0}")]
    Truncated(String),
    #[error("the archive has no {0}")]
    Missing(String),
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
    #[error("the archive is too large: {0}")]
    TooLarge(String),
    #[error("the archive is of @{archive}, not of @{requested}")]
    WrongAccount { archive: String, requested: String },
    #[error("{0}")]
    Conflict(String),
    #[error("media file {0} is missing from the bucket")]
    MissingBlob(String),
    #[error("account `{0}` not found")]
    NoAccount(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

pub(crate) fn invalid(file: &str, problem: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid { file: file.to_string(), problem: problem.into() }
}

/// An archive in memory: its JSON documents by entry name and its media files by archive path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Archive {
    pub documents: BTreeMap<String, Value>,
    pub files: BTreeMap<String, Bytes>,
}

impl Archive {
    pub fn document(&self, name: &str) -> Option<&Value> {
        self.documents.get(name)
    }
}

/// The archive path of a blob key.
pub fn file_path(key: &str) -> String {
    format!("{FILES_DIR}{key}")
}

/// The blob key an archive path names (`None` for anything outside `media_attachments/files/`
/// or a key the bucket would refuse).
pub fn key_of_path(path: &str) -> Option<&str> {
    let key = path.trim_start_matches('/').strip_prefix(FILES_DIR)?;
    crate::store::blobs::validate_key(key).ok().map(|()| key)
}

/// An `OrderedCollection` document as Mastodon's archive writes them.
pub(crate) fn collection(name: &str, items: Vec<Value>) -> Value {
    json!({
        "@context": crate::activitypub::vocab::AS_CONTEXT,
        "id": name,
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    })
}

/// What long steps report, so the CLI can draw a progress bar; the library draws nothing.
pub trait Progress: Sync {
    /// A step starts with `total` units of work.
    fn phase(&self, name: &str, total: u64);
    fn advance(&self, n: u64);
}

/// No progress output (tests, library callers).
pub struct Quiet;

impl Progress for Quiet {
    fn phase(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}
