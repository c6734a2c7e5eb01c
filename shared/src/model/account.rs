use serde::{Deserialize, Serialize};

/// An account: a local one (the owner, or owners, of this instance) or, with `remote` set, the
/// cached copy of another server's actor. Both share one type so timelines, mentions and the
/// Mastodon entities treat them alike.
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
    /// argon2id PHC string (empty for remote accounts, which never log in here).
    #[serde(default)]
    pub password_hash: String,
    /// Tokens issued under an older generation are refused (`api::auth`). A password change or
    /// revoking all tokens adds one, which also voids tokens no list names (those issued before
    /// `TOKENS#` lists existed) without any further read.
    #[serde(default)]
    pub token_generation: i64,
    /// PKCS#8 PEM; the table is encrypted at rest, and this never leaves it otherwise. Empty for
    /// remote accounts.
    #[serde(default)]
    pub private_key_pem: String,
    /// SPKI PEM: ours for local accounts, the actor's `publicKeyPem` for remote ones.
    pub public_key_pem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteActor>,
    /// Local accounts that block this account: read with the account, so the inbox and the
    /// timelines honour a block without another read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// Local accounts that mute this account (its posts leave their timelines and notifications).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub muted_by: Vec<String>,
    /// The table's expiry attribute (epoch seconds) of a cached remote actor nothing here holds
    /// on to (`repo::actors`); never set on a local account, nor on an actor kept by a
    /// relationship or a kept post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// Custom emoji of a remote actor (its `Emoji` tags used in its name, bio or fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emojis: Vec<crate::model::Emoji>,
    /// Profile field values found to link back to this profile (`rel="me"`), with when
    /// (milliseconds). Keyed by the value, so an edited field is unverified until checked again.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub verified_links: std::collections::BTreeMap<String, i64>,
    /// How many filters (v2) the account has: rendering reads them only when there are some.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filters_count: i64,
    /// The owner's posting defaults (`source.privacy`, `sensitive`, `language`), saved by
    /// `update_credentials` and applied when a post leaves them out.
    #[serde(default, skip_serializing_if = "PostingDefaults::is_empty")]
    pub posting: PostingDefaults,
    /// Domains a local account blocks (`/api/v1/domain_blocks`), read with the account, so
    /// timelines leave their accounts out without another read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_domains: Vec<String>,
}
fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Posting defaults of a local account; empty means Mastodon's (public, not sensitive, no language).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingDefaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl PostingDefaults {
    pub fn is_empty(&self) -> bool {
        self == &PostingDefaults::default()
    }
}

/// What Petrel keeps of another server's actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteActor {
    /// The actor's id.
    pub uri: String,
    /// Host of the handle (`user@domain`): the id's host.
    pub domain: String,
    /// The HTML profile.
    pub url: String,
    pub inbox: String,
    #[serde(default)]
    pub shared_inbox: Option<String>,
    #[serde(default)]
    pub followers: Option<String>,
    #[serde(default)]
    pub outbox: Option<String>,
    /// `publicKey.id`, which signatures name as keyId.
    pub key_id: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub header_url: Option<String>,
    #[serde(default)]
    pub also_known_as: Vec<String>,
    #[serde(default)]
    pub moved_to: Option<String>,
    /// `Person`, `Service` (a bot), `Group`, …
    #[serde(default)]
    pub actor_type: String,
    /// Milliseconds since the epoch of the last fetch; older than the refresh age means refetch.
    pub fetched_at: i64,
}

impl Account {
    pub fn is_local(&self) -> bool {
        self.remote.is_none()
    }

    /// `name` for local accounts, `name@domain` for remote ones (Mastodon's `acct`).
    pub fn acct(&self) -> String {
        match &self.remote {
            Some(r) => format!("{}@{}", self.username, r.domain),
            None => self.username.clone(),
        }
    }

    /// Whether `local_id` blocks or mutes this account.
    pub fn hidden_from(&self, local_id: &str) -> bool {
        self.blocked_by.iter().chain(&self.muted_by).any(|l| l == local_id)
    }

    /// Where deliveries to this account go: the shared inbox when there is one.
    pub fn delivery_inbox(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.shared_inbox.as_deref().unwrap_or(&r.inbox))
    }
}

fn yes() -> bool {
    true
}

/// Mastodon's username rule: letters, digits and underscores, at most 30 characters.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty() && name.len() <= 30 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
