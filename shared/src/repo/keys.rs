//! The one place key formats live. See infra/table-design.md for the access patterns they serve.

use crate::store::Key;

/// A local account's profile item.
pub fn account(id: &str) -> Key {
    Key::new(format!("ACCT#{id}"), "PROFILE")
}

/// The claim on a username: makes usernames unique and maps one to its account id.
/// Usernames compare case-insensitively, as Mastodon's do.
pub fn username(name: &str) -> Key {
    Key::new(format!("USERNAME#{}", name.to_ascii_lowercase()), "CLAIM")
}
