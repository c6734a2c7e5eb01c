//! Stored types: what Petrel keeps in the table, apart from the wire formats (ActivityPub,
//! Mastodon API) that are converted to and from them in one place each.

mod account;
mod card;
mod media;
mod notification;
mod oauth;
pub mod poll;
mod push;
mod status;

pub use account::{valid_username, Account, PostingDefaults, RemoteActor};
pub use card::{valid_shortcode, Emoji, PreviewCard};
pub use media::{Dimensions, Media};
pub use notification::Notification;
pub use oauth::{AccessToken, App, AuthCode};
pub use poll::{Poll, PollParams, PollTally, ScheduledStatus};
pub use push::{PushPolicy, PushSubscription, ALERT_TYPES};
pub use status::{MentionRef, Status, Visibility};
