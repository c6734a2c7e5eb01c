//! Body digests: cavage's `Digest: SHA-256=<base64>` (RFC 3230) and RFC 9421's companion
//! `Content-Digest: sha-256=:<base64>:` (RFC 9530).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::digest::{digest, SHA256, SHA512};

use super::SignatureError;

/// The `Digest` header value for `body`.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(digest(&SHA256, body)))
}

/// The `Content-Digest` header value for `body`.
pub fn content_digest_header(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(digest(&SHA256, body)))
}

/// Checks a `Digest` header against the raw body. Only SHA-256 is accepted (as Mastodon does):
/// the header may list several algorithms, and the SHA-256 one must be there and match.
pub fn verify_digest_header(value: &str, body: &[u8]) -> Result<(), SignatureError> {
    let mut found = false;
    for part in value.split(',') {
        // base64 ends in '=' padding, so split at the first '=' only.
        let Some((alg, encoded)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed(format!("Digest header {value:?}")));
        };
        if !alg.trim().eq_ignore_ascii_case("sha-256") {
            continue;
        }
        let claimed = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SignatureError::Malformed("Digest SHA-256 value is not base64".into()))?;
        // The body and its digest are public: no need for a constant-time comparison.
        if claimed != digest(&SHA256, body).as_ref() {
            return Err(SignatureError::DigestMismatch);
        }
        found = true;
    }
    if found {
        Ok(())
    } else {
        Err(SignatureError::Unsupported("Digest header without SHA-256".into()))
    }
}

/// Checks a `Content-Digest` header (an RFC 8941 dictionary) against the raw body: every
/// sha-256/sha-512 member must match, and at least one must be present.
pub fn verify_content_digest_header(value: &str, body: &[u8]) -> Result<(), SignatureError> {
    let dict: sfv::Dictionary =
        sfv::Parser::new(value).parse().map_err(|e| SignatureError::Malformed(format!("Content-Digest: {e}")))?;
    let mut found = false;
    for (alg, member) in &dict {
        let algorithm = match alg.as_str() {
            "sha-256" => &SHA256,
            "sha-512" => &SHA512,
            _ => continue,
        };
        let claimed = match member {
            sfv::ListEntry::Item(item) => item.bare_item.as_byte_sequence(),
            sfv::ListEntry::InnerList(_) => None,
        }
        .ok_or_else(|| SignatureError::Malformed(format!("Content-Digest {} is not a byte sequence", alg.as_str())))?;
        if claimed != digest(algorithm, body).as_ref() {
            return Err(SignatureError::DigestMismatch);
        }
        found = true;
    }
    if found {
        Ok(())
    } else {
        Err(SignatureError::Unsupported("Content-Digest without sha-256 or sha-512".into()))
    }
}
