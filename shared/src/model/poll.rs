//! Polls, stored inside the status they belong to, and scheduled statuses.

use serde::{Deserialize, Serialize};

/// Mastodon's defaults, which `/api/v1/instance` advertises.
pub const MAX_OPTIONS: usize = 4;
pub const MAX_OPTION_CHARS: usize = 50;
pub const MIN_EXPIRATION_SECS: i64 = 300;
pub const MAX_EXPIRATION_SECS: i64 = 2_629_746;
/// Options read from a remote Question (other servers allow more than four).
pub const MAX_REMOTE_OPTIONS: usize = 20;

/// A poll: its options and settings, and for a remote poll the counts its server last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poll {
    pub options: Vec<String>,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub hide_totals: bool,
    /// Milliseconds since the epoch; `None` for a remote poll that never ends.
    pub expires_at: Option<i64>,
    /// A remote poll's per-option counts (`replies.totalItems`); local polls count in `PollTally`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_counts: Vec<i64>,
    /// A remote poll's `votersCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_voters: Option<i64>,
    /// A remote poll its server says is closed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

impl Poll {
    pub fn expired_at(&self, now_ms: i64) -> bool {
        self.closed || self.expires_at.is_some_and(|at| at <= now_ms)
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A local poll's tallies: top-level attributes of the status item (flattened into it), so a
/// vote bumps them with one atomic ADD in the vote's transaction. Four options at most.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollTally {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_votes_0: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_votes_1: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_votes_2: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_votes_3: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_votes_count: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_voters_count: i64,
}

impl PollTally {
    /// The attribute that counts option `i`.
    pub fn attr(i: usize) -> Option<&'static str> {
        ["poll_votes_0", "poll_votes_1", "poll_votes_2", "poll_votes_3"].get(i).copied()
    }

    pub fn votes(&self, i: usize) -> i64 {
        [self.poll_votes_0, self.poll_votes_1, self.poll_votes_2, self.poll_votes_3].get(i).copied().unwrap_or(0)
    }
}

/// A poll as typed by the author, before it has an end time (a scheduled status keeps it so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollParams {
    pub options: Vec<String>,
    pub expires_in: i64,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub hide_totals: bool,
}

impl PollParams {
    /// The poll of a status published at `now_ms`.
    pub fn poll(&self, now_ms: i64) -> Poll {
        Poll {
            options: self.options.clone(),
            multiple: self.multiple,
            hide_totals: self.hide_totals,
            expires_at: Some(now_ms + self.expires_in * 1000),
            remote_counts: Vec::new(),
            remote_voters: None,
            closed: false,
        }
    }
}

/// A status to publish later: what the client sent (`params`, returned as the ScheduledStatus's
/// params) and the status prepared from it at scheduling time (text rendered, mentions resolved,
/// media listed), which gets its id and time when it is published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledStatus {
    pub id: String,
    pub account_id: String,
    /// Milliseconds since the epoch.
    pub scheduled_at: i64,
    pub params: serde_json::Value,
    pub prepared: crate::model::Status,
    #[serde(default)]
    pub poll: Option<PollParams>,
    /// Inboxes of remote accounts mentioned.
    #[serde(default)]
    pub inboxes: Vec<String>,
    /// Set in the transaction that publishes it: the status it became (a redelivered message
    /// then only re-sends the fan-out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
}
