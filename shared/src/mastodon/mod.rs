//! The Mastodon client API's wire entities, typed as Mastodon documents them, and the one place
//! stored types are converted to them.

pub mod convert;
pub mod entities;
pub mod render;

/// What clients read to enable features: Mastodon 4.3's API, by Petrel.
pub const VERSION: &str = concat!("4.3.0 (compatible; Petrel ", env!("CARGO_PKG_VERSION"), ")");
/// `api_versions.mastodon` of Instance v2: 2 is the level of Mastodon 4.3.
pub const API_VERSION: u32 = 2;
