//! Stored types: what Petrel keeps in the table, apart from the wire formats (ActivityPub,
//! Mastodon API) that are converted to and from them in one place each.

mod account;
mod media;
mod oauth;
mod status;

pub use account::{valid_username, Account};
pub use media::{Dimensions, Media};
pub use oauth::{AccessToken, App, AuthCode};
pub use status::{MentionRef, Status, Visibility};
