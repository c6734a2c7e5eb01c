use serde::{Deserialize, Serialize};

/// The notification types a Web Push subscription can ask for (`data[alerts][…]`), as Mastodon
/// names them.
pub const ALERT_TYPES: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "quote",
    "quoted_update",
];

/// Whose notifications are pushed (`data[policy]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushPolicy {
    /// Everyone's.
    #[default]
    All,
    /// Only from accounts the user follows.
    Followed,
    /// Only from accounts that follow the user.
    Follower,
    /// Nobody's.
    None,
}

impl PushPolicy {
    pub fn parse(s: &str) -> Option<PushPolicy> {
        match s {
            "all" => Some(PushPolicy::All),
            "followed" => Some(PushPolicy::Followed),
            "follower" => Some(PushPolicy::Follower),
            "none" => Some(PushPolicy::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PushPolicy::All => "all",
            PushPolicy::Followed => "followed",
            PushPolicy::Follower => "follower",
            PushPolicy::None => "none",
        }
    }
}

/// A Web Push subscription of one access token (`POST /api/v1/push/subscription`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushSubscription {
    /// A snowflake, new with every `POST`: a 404 or 410 from the push service removes the
    /// subscription only while it is still the one that was tried.
    pub id: String,
    pub endpoint: String,
    /// The subscriber's P-256 public key and auth secret, base64url.
    pub p256dh: String,
    pub auth: String,
    /// RFC 8291 `aes128gcm` when true; Mastodon's draft `aesgcm` otherwise (its default).
    #[serde(default)]
    pub standard: bool,
    /// The notification types pushed (members of [`ALERT_TYPES`]).
    #[serde(default)]
    pub alerts: Vec<String>,
    #[serde(default)]
    pub policy: PushPolicy,
    /// The token the subscription belongs to, which each push names (`access_token`) so an app
    /// signed in to several accounts knows whose notification it is. Kept as Mastodon keeps it;
    /// revoking the token deletes the subscription with it.
    pub access_token: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

impl PushSubscription {
    pub fn wants(&self, kind: &str) -> bool {
        self.policy != PushPolicy::None && self.alerts.iter().any(|a| a == kind)
    }
}
