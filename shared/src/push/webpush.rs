//! Web Push's cryptography: message encryption for the subscriber (RFC 8291 `aes128gcm`, and
//! the draft `aesgcm` that Mastodon sends to subscriptions made without `standard`) and the
//! application server's VAPID signature (RFC 8292, an ES256 JWT).
//!
//! Built on ring, which the workspace already uses for HTTP signatures and digests: it has P-256
//! ECDH (`agreement::ECDH_P256`), HKDF-SHA-256, AES-128-GCM and ECDSA P-256 signing, so Web Push
//! costs no new dependency. The Web Push crates were not taken: `web-push` encrypts through
//! `ece`, whose default backend is OpenSSL (which the arm64 Lambda build avoids), and the pure
//! Rust ones pull in a second elliptic-curve stack (RustCrypto's p256) for what ring already does.
//!
//! ring's ECDH keys are ephemeral (used once, then dropped), which is what both schemes want: a
//! fresh sender key pair and salt for every message.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use ring::{aead, hkdf};

/// Length of an uncompressed P-256 point (`0x04 || x || y`).
pub const P256_POINT_LEN: usize = 65;
/// Length of the subscriber's authentication secret.
pub const AUTH_SECRET_LEN: usize = 16;
/// The record size written into an `aes128gcm` header: one record carries the whole message.
const RECORD_SIZE: u32 = 4096;
/// The largest plaintext sent: RFC 8030 push services must accept 4096-byte bodies, and an
/// `aes128gcm` body adds an 86-byte header, a delimiter byte and a 16-byte tag.
pub const MAX_PLAINTEXT: usize = 4096 - 86 - 1 - 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebPushError {
    #[error("the subscription's p256dh is not an uncompressed P-256 point")]
    BadPublicKey,
    #[error("the subscription's auth secret is not {AUTH_SECRET_LEN} bytes")]
    BadAuthSecret,
    #[error("the message is too long for one push ({0} bytes)")]
    TooLong(usize),
    #[error("the VAPID key is unusable: {0}")]
    BadVapidKey(String),
    #[error("a cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

/// Base64 as clients send it: standard or URL-safe alphabet, padded or not (Mastodon.py sends
/// standard with padding, browsers URL-safe without). A `+` that reached us as a space (an
/// unescaped form value) is read back as `+`.
pub fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let cleaned: String = s
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            ' ' => '+',
            c => c,
        })
        .collect();
    STANDARD_NO_PAD.decode(cleaned).ok()
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The subscriber's keys, checked: a point on P-256 (ring refuses a point off the curve when
/// agreeing with it) and a 16-byte secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberKeys {
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

impl SubscriberKeys {
    pub fn parse(p256dh: &str, auth: &str) -> Result<SubscriberKeys, WebPushError> {
        let p256dh = decode_b64(p256dh).ok_or(WebPushError::BadPublicKey)?;
        let auth = decode_b64(auth).ok_or(WebPushError::BadAuthSecret)?;
        if p256dh.len() != P256_POINT_LEN || p256dh.first() != Some(&4) {
            return Err(WebPushError::BadPublicKey);
        }
        if auth.len() != AUTH_SECRET_LEN {
            return Err(WebPushError::BadAuthSecret);
        }
        // An agreement with a throwaway key is the only way ring offers to validate a point.
        let probe = EphemeralPrivateKey::generate(&ECDH_P256, &SystemRandom::new())
            .map_err(|_| WebPushError::Crypto("key generation"))?;
        agreement::agree_ephemeral(probe, &UnparsedPublicKey::new(&ECDH_P256, &p256dh), |_| ())
            .map_err(|_| WebPushError::BadPublicKey)?;
        Ok(SubscriberKeys { p256dh, auth })
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand of `prk` with `info` to `N` bytes.
fn expand<const N: usize>(prk: &hkdf::Prk, info: &[&[u8]]) -> Result<[u8; N], WebPushError> {
    let mut out = [0u8; N];
    prk.expand(info, Len(N)).and_then(|okm| okm.fill(&mut out)).map_err(|_| WebPushError::Crypto("hkdf"))?;
    Ok(out)
}

/// HKDF (extract, then expand) to `N` bytes.
fn hkdf<const N: usize>(salt: &[u8], ikm: &[u8], info: &[&[u8]]) -> Result<[u8; N], WebPushError> {
    expand(&hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm), info)
}

fn seal(cek: &[u8; 16], nonce: [u8; 12], mut record: Vec<u8>) -> Result<Vec<u8>, WebPushError> {
    let key = aead::UnboundKey::new(&aead::AES_128_GCM, cek).map_err(|_| WebPushError::Crypto("aes key"))?;
    aead::LessSafeKey::new(key)
        .seal_in_place_append_tag(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::empty(), &mut record)
        .map_err(|_| WebPushError::Crypto("aes-gcm"))?;
    Ok(record)
}

/// The sender's ephemeral key pair and the ECDH secret it shares with the subscriber.
fn agree(keys: &SubscriberKeys, rng: &dyn SecureRandom) -> Result<(Vec<u8>, Vec<u8>), WebPushError> {
    let private = EphemeralPrivateKey::generate(&ECDH_P256, rng).map_err(|_| WebPushError::Crypto("key generation"))?;
    let public = private.compute_public_key().map_err(|_| WebPushError::Crypto("public key"))?.as_ref().to_vec();
    let secret = agreement::agree_ephemeral(private, &UnparsedPublicKey::new(&ECDH_P256, &keys.p256dh), |s| s.to_vec())
        .map_err(|_| WebPushError::BadPublicKey)?;
    Ok((public, secret))
}

fn check_len(plaintext: &[u8]) -> Result<(), WebPushError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(WebPushError::TooLong(plaintext.len()));
    }
    Ok(())
}

fn random_salt(rng: &dyn SecureRandom) -> Result<[u8; 16], WebPushError> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| WebPushError::Crypto("random salt"))?;
    Ok(salt)
}

/// RFC 8291: the `aes128gcm` body of one message (header with salt, record size and the
/// sender's public key, then one record), with a fresh key pair and salt from the system.
pub fn encrypt_aes128gcm(keys: &SubscriberKeys, plaintext: &[u8]) -> Result<Vec<u8>, WebPushError> {
    let rng = SystemRandom::new();
    let salt = random_salt(&rng)?;
    encrypt_aes128gcm_with(keys, plaintext, &rng, salt)
}

/// As [`encrypt_aes128gcm`], with the sender's key drawn from `rng` and the salt given, so the
/// RFC's example can be reproduced.
pub fn encrypt_aes128gcm_with(
    keys: &SubscriberKeys,
    plaintext: &[u8],
    rng: &dyn SecureRandom,
    salt: [u8; 16],
) -> Result<Vec<u8>, WebPushError> {
    check_len(plaintext)?;
    let (as_public, ecdh_secret) = agree(keys, rng)?;
    // RFC 8291 §3.4: the auth secret and both public keys are mixed into the input key.
    let ikm: [u8; 32] = hkdf(&keys.auth, &ecdh_secret, &[b"WebPush: info\0", &keys.p256dh, &as_public])?;
    // RFC 8188 §2.2: content encryption key and nonce from the salt.
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&ikm);
    let cek: [u8; 16] = expand(&prk, &[b"Content-Encoding: aes128gcm\0"])?;
    let nonce: [u8; 12] = expand(&prk, &[b"Content-Encoding: nonce\0"])?;
    // One record, the last: the plaintext, then the delimiter 0x02 and no padding.
    let mut record = Vec::with_capacity(plaintext.len() + 17);
    record.extend_from_slice(plaintext);
    record.push(2);
    let sealed = seal(&cek, nonce, record)?;
    let mut body = Vec::with_capacity(16 + 4 + 1 + P256_POINT_LEN + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(P256_POINT_LEN as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// A message in the draft `aesgcm` encoding: the body, and the salt and sender key that travel in
/// the `Encryption` and `Crypto-Key` headers.
#[derive(Debug, Clone)]
pub struct Aesgcm {
    pub body: Vec<u8>,
    pub salt: [u8; 16],
    pub sender_public: Vec<u8>,
}

/// draft-ietf-webpush-encryption-04 with draft-ietf-httpbis-encryption-encoding-03 (`aesgcm`):
/// what Mastodon sends to subscriptions made without `standard` (every app written before
/// Mastodon 4.4, and Mastodon.py), so those apps can read Petrel's pushes.
pub fn encrypt_aesgcm(keys: &SubscriberKeys, plaintext: &[u8]) -> Result<Aesgcm, WebPushError> {
    let rng = SystemRandom::new();
    let salt = random_salt(&rng)?;
    encrypt_aesgcm_with(keys, plaintext, &rng, salt)
}

pub fn encrypt_aesgcm_with(
    keys: &SubscriberKeys,
    plaintext: &[u8],
    rng: &dyn SecureRandom,
    salt: [u8; 16],
) -> Result<Aesgcm, WebPushError> {
    check_len(plaintext)?;
    let (as_public, ecdh_secret) = agree(keys, rng)?;
    let prk: [u8; 32] = hkdf(&keys.auth, &ecdh_secret, &[b"Content-Encoding: auth\0"])?;
    // The context: the curve's label, then each public key behind its 16-bit length.
    let len = (P256_POINT_LEN as u16).to_be_bytes();
    let context: [&[u8]; 5] = [b"P-256\0", &len, &keys.p256dh, &len, &as_public];
    let info = |label: &'static [u8]| -> Vec<&[u8]> { std::iter::once(label).chain(context).collect() };
    let cek: [u8; 16] = hkdf(&salt, &prk, &info(b"Content-Encoding: aesgcm\0"))?;
    let nonce: [u8; 12] = hkdf(&salt, &prk, &info(b"Content-Encoding: nonce\0"))?;
    // One record: a two-byte padding length (no padding), then the plaintext.
    let mut record = Vec::with_capacity(plaintext.len() + 18);
    record.extend_from_slice(&[0, 0]);
    record.extend_from_slice(plaintext);
    Ok(Aesgcm { body: seal(&cek, nonce, record)?, salt, sender_public: as_public })
}

/// The site's VAPID key (RFC 8292): ECDSA P-256, kept as PKCS#8 and parsed once per process.
pub struct Vapid {
    key: EcdsaKeyPair,
    public_b64: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public", &self.public_b64).finish_non_exhaustive()
    }
}

/// A VAPID JWT lasts this long (RFC 8292 allows at most 24 hours).
pub const JWT_LIFETIME_SECS: i64 = 12 * 3600;

impl Vapid {
    /// A new key pair as PKCS#8, for storing.
    pub fn generate_pkcs8() -> Result<Vec<u8>, WebPushError> {
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| WebPushError::Crypto("key generation"))
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Vapid, WebPushError> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
            .map_err(|e| WebPushError::BadVapidKey(e.to_string()))?;
        let public_b64 = b64url(key.public_key().as_ref());
        Ok(Vapid { key, public_b64 })
    }

    /// The public key as Mastodon serves it (`vapid_key`, `server_key`): the uncompressed point,
    /// base64url without padding.
    pub fn public_key(&self) -> &str {
        &self.public_b64
    }

    /// The signed JWT for requests to `audience` (the push service's origin), valid until `exp`
    /// (epoch seconds), naming `subject` (a `mailto:` or https contact).
    pub fn jwt(&self, audience: &str, subject: &str, exp: i64) -> Result<String, WebPushError> {
        let header = b64url(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": exp, "sub": subject });
        let signing_input = format!("{header}.{}", b64url(claims.to_string().as_bytes()));
        // ES256 in a JWS is r || s, 64 bytes: ring's FIXED signature format.
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| WebPushError::Crypto("ecdsa signing"))?;
        Ok(format!("{signing_input}.{}", b64url(signature.as_ref())))
    }

    /// `Authorization` for an `aes128gcm` push (RFC 8292 §3).
    pub fn authorization(&self, jwt: &str) -> String {
        format!("vapid t={jwt}, k={}", self.public_b64)
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // ring's fixed-output test randomness, to inject the RFC's sender key.
    use super::*;
    use ring::signature::{UnparsedPublicKey as VerifyKey, ECDSA_P256_SHA256_FIXED};

    fn b(s: &str) -> Vec<u8> {
        decode_b64(s).unwrap()
    }

    // RFC 8291, Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn rfc_keys() -> SubscriberKeys {
        SubscriberKeys::parse(UA_PUBLIC, AUTH).unwrap()
    }

    #[test]
    fn aes128gcm_reproduces_rfc8291_appendix_a() {
        let as_private = b(AS_PRIVATE);
        let rng = ring::test::rand::FixedSliceRandom { bytes: &as_private };
        let salt: [u8; 16] = b(SALT).try_into().unwrap();
        let body = encrypt_aes128gcm_with(&rfc_keys(), PLAINTEXT.as_bytes(), &rng, salt).unwrap();
        // The header carries the sender's public key of the example, derived from its private key.
        assert_eq!(&body[21..86], b(AS_PUBLIC).as_slice());
        assert_eq!(b64url(&body), BODY);
    }

    #[test]
    fn fresh_messages_differ_in_key_and_salt() {
        let a = encrypt_aes128gcm(&rfc_keys(), b"hi").unwrap();
        let c = encrypt_aes128gcm(&rfc_keys(), b"hi").unwrap();
        assert_ne!(a[..16], c[..16], "salt");
        assert_ne!(a[21..86], c[21..86], "sender key");
        assert_eq!(a.len(), 86 + 2 + 1 + 16);
        let legacy = encrypt_aesgcm(&rfc_keys(), b"hi").unwrap();
        assert_eq!(legacy.body.len(), 2 + 2 + 16);
        assert_eq!(legacy.sender_public.len(), 65);
    }

    #[test]
    fn subscriber_keys_are_checked() {
        assert_eq!(SubscriberKeys::parse("abc", AUTH), Err(WebPushError::BadPublicKey));
        assert_eq!(SubscriberKeys::parse(UA_PUBLIC, "AAAA"), Err(WebPushError::BadAuthSecret));
        // 65 bytes with the right prefix, but not a point on the curve.
        let mut off_curve = b(UA_PUBLIC);
        off_curve[64] ^= 1;
        assert_eq!(SubscriberKeys::parse(&b64url(&off_curve), AUTH), Err(WebPushError::BadPublicKey));
        // Standard base64 with padding, as Mastodon.py sends it, reads the same.
        let standard = base64::engine::general_purpose::STANDARD.encode(b(UA_PUBLIC));
        assert_eq!(SubscriberKeys::parse(&standard, "BTBZMqHH6r4Tts7J/aSIgg==").unwrap(), rfc_keys());
        let too_long = vec![b'a'; MAX_PLAINTEXT + 1];
        assert_eq!(encrypt_aes128gcm(&rfc_keys(), &too_long), Err(WebPushError::TooLong(MAX_PLAINTEXT + 1)));
    }

    #[test]
    fn vapid_jwt_is_es256_signed_by_the_public_key() {
        let vapid = Vapid::from_pkcs8(&Vapid::generate_pkcs8().unwrap()).unwrap();
        let public = b(vapid.public_key());
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 4);
        let jwt = vapid.jwt("https://push.example.net", "https://social.example", 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&b(parts[0])).unwrap();
        assert_eq!(header, serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        let claims: serde_json::Value = serde_json::from_slice(&b(parts[1])).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"aud": "https://push.example.net", "exp": 1_700_000_000, "sub": "https://social.example"})
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        let signature = b(parts[2]);
        assert_eq!(signature.len(), 64);
        VerifyKey::new(&ECDSA_P256_SHA256_FIXED, &public).verify(signed.as_bytes(), &signature).unwrap();
        let mut forged = signature.clone();
        forged[0] ^= 1;
        assert!(VerifyKey::new(&ECDSA_P256_SHA256_FIXED, &public).verify(signed.as_bytes(), &forged).is_err());
        assert_eq!(vapid.authorization(&jwt), format!("vapid t={jwt}, k={}", vapid.public_key()));
    }
}
