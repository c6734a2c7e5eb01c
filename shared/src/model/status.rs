use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
    Direct,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "private" => Some(Visibility::Private),
            "direct" => Some(Visibility::Direct),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// A mention as stored with the status that makes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionRef {
    pub account_id: String,
    pub username: String,
    pub acct: String,
    pub url: String,
    /// The actor id (Mention tags point at it); absent on mentions stored before federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// A status: written by a local account, or received from another server (`remote_uri` set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub account_id: String,
    /// What the author typed (returned as `text` and by `/source`).
    pub text: String,
    /// The rendered HTML.
    pub content: String,
    #[serde(default)]
    pub spoiler_text: String,
    pub visibility: Visibility,
    #[serde(default)]
    pub sensitive: bool,
    pub language: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    /// The parent's ActivityPub id, so the Note can name it without another read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to_uri: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Absent until the first edit (conditions test for its absence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub mentions: Vec<MentionRef>,
    #[serde(default)]
    pub favourites_count: i64,
    #[serde(default)]
    pub reblogs_count: i64,
    #[serde(default)]
    pub replies_count: i64,
    /// Attachments as they were when the status was written, so a status renders without
    /// reading its media.
    #[serde(default)]
    pub media: Vec<crate::model::Media>,
    pub application: Option<String>,
    pub application_website: Option<String>,
    /// The ActivityPub id of a remote status (local ones derive theirs from the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_uri: Option<String>,
    /// The remote status's HTML page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
    /// Set on a boost: the id of the status boosted (the boost itself has no content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reblog_of: Option<String>,
    /// The id of the thread's first status, for a reply (conversations and thread mutes are
    /// keyed by it); absent on a status that starts a thread, and on replies stored before it
    /// was kept (those count as starting their own thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// A poll attached to the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<crate::model::Poll>,
    /// A local poll's counts, as top-level attributes of the status item.
    #[serde(flatten)]
    pub poll_tally: crate::model::PollTally,
    /// Custom emoji of a remote post (its `Emoji` tags whose shortcodes the text uses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emojis: Vec<crate::model::Emoji>,
    /// The preview card of the post's first link, copied from the URL's card once fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<crate::model::PreviewCard>,
    /// The table's expiry attribute (epoch seconds): set on a remote post nobody here has
    /// interacted with yet, removed when someone does (`repo::statuses::keep`). Never on a
    /// local account's own post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl Status {
    /// A boost by `account_id` of the status `reblog_of`: public, with no content of its own.
    pub fn boost(id: String, account_id: String, reblog_of: String, created_at: i64) -> Status {
        Status {
            id,
            account_id,
            text: String::new(),
            content: String::new(),
            spoiler_text: String::new(),
            visibility: Visibility::Public,
            sensitive: false,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            in_reply_to_uri: None,
            created_at,
            edited_at: None,
            tags: Vec::new(),
            mentions: Vec::new(),
            favourites_count: 0,
            reblogs_count: 0,
            replies_count: 0,
            media: Vec::new(),
            application: None,
            application_website: None,
            remote_uri: None,
            remote_url: None,
            reblog_of: Some(reblog_of),
            conversation: None,
            poll: None,
            poll_tally: Default::default(),
            emojis: Vec::new(),
            card: None,
            ttl: None,
        }
    }

    /// The id of the thread this status belongs to (its root's id).
    pub fn thread_root(&self) -> &str {
        self.conversation.as_deref().unwrap_or(&self.id)
    }
}
