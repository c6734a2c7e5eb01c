//! Queue message types: the only way one function hands work to another. The one work queue
//! carries `OutboxEvent`, tagged by `type`, so the consumer rejects (and after `MAX_RECEIVES`
//! dead-letters) any message it does not know instead of guessing.

use serde::{Deserialize, Serialize};

/// Fan-out and delivery work, processed by outbox-fanout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OutboxEvent {
    /// Expand an activity's audience into deliveries, a page of followers at a time.
    Publish(Publish),
    /// Sign and POST one activity to one inbox.
    Deliver(Delivery),
    /// Encrypt a notification for Web Push subscribers and POST it to their push services.
    Push(Push),
    /// Re-render feeds and pages. A message of its own, sent beside the `Publish` it goes with,
    /// so a render that fails is retried alone and never holds up delivery.
    Render(Render),
    /// Send a local poll's results to other servers, a while after a vote (see
    /// `repo::polls::claim_update`: one Update per burst of votes, not one per vote).
    PollUpdate(PollWork),
    /// A poll has ended (held until `due_at`): its author and local voters are notified, and a
    /// local poll's final results go out.
    PollEnded(PollWork),
    /// Publish a scheduled status at `due_at` (held until then).
    PublishScheduled(ScheduledWork),
    /// Give a public status the preview card of its first link: the URL's stored card, or one
    /// made from the page (fetched here, off the request path).
    Card(CardWork),
    /// Check which of a local account's https profile fields link back with `rel="me"`.
    VerifyLinks(VerifyWork),
    /// Change media files' lifecycle off the request path: the web function has no S3 client
    /// (issue #20: it kept web's binary over 10 MB), so posting and deleting queue this.
    Files(FileWork),
}

impl OutboxEvent {
    /// The queue message carrying this event.
    pub fn message(&self) -> Result<crate::store::OutMessage, serde_json::Error> {
        Ok(crate::store::OutMessage::new(serde_json::to_string(self)?))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    /// The local account that signs.
    pub account_id: String,
    pub activity: serde_json::Value,
    /// Whether the account's followers are in the audience.
    pub to_followers: bool,
    /// Inboxes of addressed accounts (mentions, the followed, the followed-back …).
    #[serde(default)]
    pub inboxes: Vec<String>,
    /// The status the activity is about, for its delivery report.
    #[serde(default)]
    pub status_id: Option<String>,
    /// Where the listing of delivery inboxes continues (set on the message that carries on a
    /// large fan-out, which also keeps `inboxes`: they were sent by the first page and are
    /// skipped by the rest).
    #[serde(default)]
    pub cursor: Option<String>,
    /// What the cursor pages over: `inboxes` (the account's distinct delivery inboxes). Messages
    /// queued before the inbox set existed paged the followers; their cursor is not valid for the
    /// set, so such a message starts the set over (receivers drop the repeats by activity id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<String>,
    /// Only in messages queued before renders had messages of their own (`OutboxEvent::Render`):
    /// passed on as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<FeedEvent>,
}

/// A re-render of an account's feeds and profile page, the feeds of `tags`, and the post pages
/// of `statuses` (see `FeedEvent::Render`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Render {
    pub account_id: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub statuses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub account_id: String,
    pub inbox: String,
    pub activity: serde_json::Value,
    #[serde(default)]
    pub status_id: Option<String>,
    /// Tries made so far.
    #[serde(default)]
    pub attempt: u32,
    /// Milliseconds since the epoch of the first try: retries stop two days after it.
    pub first_try_at: i64,
    /// Not before this time (ms): longer waits than SQS's 15-minute delay take several hops.
    #[serde(default)]
    pub due_at: i64,
}

impl Delivery {
    /// The first try of delivering `activity` to `inbox`, due now.
    pub fn first(account_id: &str, inbox: &str, activity: serde_json::Value, status_id: Option<String>) -> Delivery {
        let now = crate::clock::now_ms();
        Delivery {
            account_id: account_id.to_string(),
            inbox: inbox.to_string(),
            activity,
            status_id,
            attempt: 0,
            first_try_at: now,
            due_at: now,
        }
    }
}

/// Render requests for feeds and pages as `Publish` carried them before `OutboxEvent::Render`
/// (kept so that messages queued by an older version are still understood).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FeedEvent {
    /// Re-render an account's feeds and profile page, the feeds of `tags`, and the post pages of
    /// `statuses` (a status that is gone or not public any more loses its page). The statuses are
    /// read by key, so a post is in its feed even while the (eventually consistent) index query
    /// does not show it yet.
    Render {
        account_id: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        statuses: Vec<String>,
    },
}

/// A notification to push, with everything the send needs: the message's text and the
/// subscriptions that want it (alerts and policy were checked when it was queued), so sending
/// reads nothing from the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Push {
    /// The local account notified.
    pub account_id: String,
    pub notification_id: String,
    pub notification_type: String,
    pub title: String,
    pub body: String,
    /// The notifying account's avatar.
    pub icon: String,
    pub targets: Vec<PushTarget>,
    /// Tries made so far (a retry carries only the subscriptions still to reach).
    #[serde(default)]
    pub attempt: u32,
    /// Not before this time (ms), for backoff beyond SQS's 15-minute delay.
    #[serde(default)]
    pub due_at: i64,
}

/// One subscription to push to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushTarget {
    /// The subscription's sort key (its token's SHA-256) and id, to remove it when the push
    /// service says it is gone.
    pub token_hash: String,
    pub subscription_id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub standard: bool,
    pub access_token: String,
}

impl From<FeedEvent> for Render {
    fn from(e: FeedEvent) -> Render {
        match e {
            FeedEvent::Render { account_id, tags, statuses } => Render { account_id, tags, statuses },
        }
    }
}

/// Work on one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollWork {
    pub status_id: String,
    /// Not before this time (ms); for `PollEnded`, the poll's end it was queued for (an edit that
    /// moves the end queues another, and this one finds the end moved and does nothing).
    #[serde(default)]
    pub due_at: i64,
    /// For a remote poll's end: the one local voter who queued it (each voter queues their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter: Option<String>,
}

/// A preview card for one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardWork {
    pub status_id: String,
}

/// Uploads a status now uses stop expiring (`keep`, idempotent); a deleted status's files go
/// (`delete`, idempotent). Keys are media keys (`media/…`) taken from the status's attachments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileWork {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete: Vec<String>,
}

impl FileWork {
    /// The message keeping these attachments' files, if they have any.
    pub fn keep(media: &[crate::model::Media]) -> Option<OutboxEvent> {
        let keys = media_keys(media);
        (!keys.is_empty()).then(|| OutboxEvent::Files(FileWork { keep: keys, delete: Vec::new() }))
    }

    /// The message deleting these attachments' files, if they have any.
    pub fn delete(media: &[crate::model::Media]) -> Option<OutboxEvent> {
        let keys = media_keys(media);
        (!keys.is_empty()).then(|| OutboxEvent::Files(FileWork { keep: Vec::new(), delete: keys }))
    }
}

fn media_keys(media: &[crate::model::Media]) -> Vec<String> {
    media.iter().flat_map(|m| [&m.original_key, &m.small_key]).filter(|k| !k.is_empty()).cloned().collect()
}

/// A check of a local account's profile links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyWork {
    pub account_id: String,
}

/// A scheduled status's publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledWork {
    pub account_id: String,
    pub scheduled_id: String,
    /// The time it was scheduled for when this message was sent: a reschedule sends another
    /// message, and this one then finds another time stored and does nothing.
    pub scheduled_at: i64,
}

impl OutboxEvent {
    /// The message for work due at `due_at` (ms): delayed up to SQS's 15 minutes; the consumer
    /// holds it for the rest (see outbox-fanout's `timers`).
    pub fn message_due(&self, due_at: i64) -> Result<crate::store::OutMessage, serde_json::Error> {
        let wait = (due_at - crate::clock::now_ms()).clamp(0, 900_000);
        Ok(self.message()?.delayed(std::time::Duration::from_millis(wait as u64)))
    }
}
