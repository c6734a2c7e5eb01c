//! ActivityPub: the wire vocabulary, conversion to and from stored types, sanitising of remote
//! HTML, HTTP signatures, and the one safe client for every outbound request.

pub mod convert;
pub mod extras;
pub mod fetch;
pub mod resolve;
pub mod sanitize;
pub mod signatures;
pub mod vocab;
