use serde::{Deserialize, Serialize};

/// Something that happened to a local account: a follow, a mention, a favourite, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// A snowflake: notifications sort by time.
    pub id: String,
    /// Mastodon's type: `follow`, `follow_request`, `mention`, `favourite`, `reblog`, `update`, …
    pub kind: String,
    /// Who did it.
    pub from_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// The table's expiry attribute (epoch seconds); see `config::Retention`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}
