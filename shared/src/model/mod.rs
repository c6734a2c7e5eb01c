//! Stored types: what Petrel keeps in the table, apart from the wire formats (ActivityPub,
//! Mastodon API) that are converted to and from them in one place each.

mod account;

pub use account::{valid_username, Account};
