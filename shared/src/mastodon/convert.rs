//! Stored types → Mastodon entities.
