//! ActivityPub: the wire vocabulary, conversion to and from stored types, and sanitising of
//! remote HTML.

pub mod convert;
pub mod sanitize;
pub mod vocab;
