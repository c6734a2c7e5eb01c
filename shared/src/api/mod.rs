//! What every client-API function shares (web and media): bearer-token authentication with
//! scopes, Mastodon-style errors, and lenient parameter parsing.

pub mod auth;
pub mod error;
pub mod params;
pub mod scopes;
