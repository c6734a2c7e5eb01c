//! ActivityPub transport: HTTP signatures and the one safe client for every outbound request.

pub mod fetch;
pub mod signatures;
