//! HTTP message signatures: verifying draft-cavage-12 (as Mastodon does) and RFC 9421, and signing
//! outgoing requests (cavage, which every peer accepts).
//!
//! Verification is split so the caller can fetch the key in between: [`parse`] does everything
//! but the cryptography (picks the scheme, checks which components are covered, the time window
//! and the body digest, builds the signing base), and [`Parsed::verify`] checks the RSA signature
//! against the key of [`Parsed::key_id`]. Every error here means "answer 401": a peer that
//! double-knocks (RFC 9421 first, then cavage) falls back on a 401.

mod cavage;
mod digest;
mod keys;
mod rfc9421;

use http::{HeaderMap, Method};
use time::OffsetDateTime;

pub use digest::{content_digest_header, digest_header, verify_content_digest_header, verify_digest_header};
pub use keys::{PrivateKey, PublicKey, Signer};

/// How far a signature's date or `created` may lie in the future, and how long after it (or after
/// its `expires`) it is still accepted: Mastodon's clock-skew margin.
pub const WINDOW: time::Duration = time::Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no HTTP signature")]
    Missing,
    #[error("unsupported signature: {0}")]
    Unsupported(String),
    #[error("malformed signature: {0}")]
    Malformed(String),
    #[error("the signature does not cover {0}")]
    NotCovered(String),
    #[error("the signature has expired: {0}")]
    Expired(String),
    #[error("the signature is not valid yet: {0}")]
    NotYetValid(String),
    #[error("the body does not match its digest")]
    DigestMismatch,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("unusable key: {0}")]
    Key(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// Which signature standard a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// draft-cavage-http-signatures-12 (`Signature: keyId=…,headers=…,signature=…`).
    Cavage,
    /// RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`).
    Rfc9421,
}

/// A received request as the verifier sees it; `authority`/`scheme` come from configuration.
///
/// Behind API Gateway or CloudFront the Host header and path the function sees are not the ones
/// the sender signed, so the caller rebuilds them from configuration; the request's own `Host`
/// header is never consulted.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub method: &'a Method,
    /// As sent by the peer, e.g. `/users/alice/inbox` or `/users/alice?page=1`.
    pub path_and_query: &'a str,
    /// `https` (or `http` in local tests).
    pub scheme: &'a str,
    /// `host` or `host:port`, lowercase.
    pub authority: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Incoming<'_> {
    /// A header's field value, several lines joined by ", " as both standards prescribe; `None`
    /// when absent. A non-ASCII value cannot be a signed header: malformed.
    fn header(&self, name: &str) -> Result<Option<String>, SignatureError> {
        let mut values = self.headers.get_all(name).iter().peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let mut joined = Vec::new();
        for value in values {
            let text =
                value.to_str().map_err(|_| SignatureError::Malformed(format!("header {name} is not visible ASCII")))?;
            joined.push(text.trim());
        }
        Ok(Some(joined.join(", ")))
    }

    /// Whether the body is non-empty, which is what makes a digest mandatory on a POST.
    fn has_body(&self) -> bool {
        !self.body.is_empty()
    }
}

/// A signature that passed every check but the cryptographic one.
#[derive(Debug, Clone)]
pub struct Parsed {
    key_id: String,
    scheme: Scheme,
    /// The signing string (cavage) or signature base (RFC 9421) the signature covers.
    base: String,
    signature: Vec<u8>,
}

impl Parsed {
    /// The key to fetch: usually `https://host/users/alice#main-key`.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The exact bytes the signature covers (for logging a failed verification).
    pub fn signing_base(&self) -> &str {
        &self.base
    }

    /// Checks the RSA-SHA256 (PKCS#1 v1.5) signature with the key behind [`Parsed::key_id`].
    pub fn verify(&self, key: &PublicKey) -> Result<(), SignatureError> {
        key.verify_sha256(self.base.as_bytes(), &self.signature)
    }
}

/// Everything but the cryptography: picks the scheme, checks covered components, window, digest.
///
/// A request with `Signature-Input` is RFC 9421; otherwise a `Signature` header (or
/// `Authorization: Signature …`) is cavage.
pub fn parse(req: &Incoming<'_>, now: OffsetDateTime) -> Result<Parsed, SignatureError> {
    if req.headers.contains_key("signature-input") {
        return rfc9421::parse(req, now);
    }
    if let Some(value) = req.header("signature")? {
        return cavage::parse(req, &value, now);
    }
    if let Some(value) = req.header("authorization")? {
        if let Some(params) = value.strip_prefix("Signature ") {
            return cavage::parse(req, params, now);
        }
    }
    Err(SignatureError::Missing)
}

/// Adds Host, Date, Digest (when body is Some) and Signature headers (draft-cavage-12,
/// `algorithm="rsa-sha256"`, `headers="(request-target) host date [digest]"`), replacing any
/// already there.
pub fn sign(
    signer: &Signer,
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    cavage::sign(signer, method, url, headers, body, now)
}

/// RFC 9421 signing too (tests and the bench need it; outbound requests use cavage). Adds Host,
/// Date, Content-Digest (when body is Some), Signature-Input and Signature headers.
pub fn sign_rfc9421(
    signer: &Signer,
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    rfc9421::sign(signer, method, url, headers, body, now)
}

/// Checks a signature's creation time (and expiry, when given) against `now` with [`WINDOW`].
fn check_window(
    created: OffsetDateTime,
    expires: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    if created > now + WINDOW {
        return Err(SignatureError::NotYetValid(format!("created {} is more than an hour ahead", unix(created))));
    }
    if now - created > WINDOW {
        return Err(SignatureError::Expired(format!("created {} is more than an hour old", unix(created))));
    }
    if let Some(expires) = expires {
        if now > expires + WINDOW {
            return Err(SignatureError::Expired(format!("expired at {}", unix(expires))));
        }
    }
    Ok(())
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_unix(seconds: i64, what: &str) -> Result<OffsetDateTime, SignatureError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| SignatureError::Malformed(format!("{what} out of range")))
}

/// `host[:port]` of a URL as the Host header carries it (default ports omitted).
fn authority_of(url: &url::Url) -> Result<String, SignatureError> {
    let host = url.host_str().ok_or_else(|| SignatureError::Sign(format!("URL {url} has no host")))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Path and query of a URL as the request line carries it.
fn path_and_query_of(url: &url::Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The HTTP-date (IMF-fixdate) form of `now`.
fn http_date(now: OffsetDateTime) -> String {
    httpdate::fmt_http_date(now.into())
}

fn header_value(value: &str) -> Result<http::HeaderValue, SignatureError> {
    http::HeaderValue::from_str(value).map_err(|_| SignatureError::Sign(format!("not a valid header value: {value:?}")))
}
