use serde::{Deserialize, Serialize};

/// A local account: the owner (or owners) of this Petrel instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    /// Profile bio, HTML.
    #[serde(default)]
    pub note: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub bot: bool,
    #[serde(default = "yes")]
    pub discoverable: bool,
    /// Profile fields: (name, value) pairs.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    /// Blob keys of the avatar and header images, when set.
    #[serde(default)]
    pub avatar_key: Option<String>,
    #[serde(default)]
    pub header_key: Option<String>,
    /// Counters, kept by atomic adds in the same transactions that change what they count.
    #[serde(default)]
    pub statuses_count: i64,
    #[serde(default)]
    pub followers_count: i64,
    #[serde(default)]
    pub following_count: i64,
    /// Milliseconds since the epoch of the latest status.
    #[serde(default)]
    pub last_status_at: Option<i64>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// PKCS#8 PEM; the table is encrypted at rest, and this never leaves it otherwise.
    pub private_key_pem: String,
    pub public_key_pem: String,
}

fn yes() -> bool {
    true
}

/// Mastodon's username rule: letters, digits and underscores, at most 30 characters.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty() && name.len() <= 30 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
