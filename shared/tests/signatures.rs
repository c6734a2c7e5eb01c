//! HTTP signatures: round trips through `sign`/`sign_rfc9421` and `parse`/`verify`, every
//! rejection Mastodon makes, and requests built by hand (independently of the signer) the way
//! Mastodon and an RFC 9421 peer build them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, HeaderValue, Method};
use petrel::activitypub::signatures::{
    parse, sign, sign_rfc9421, Incoming, Parsed, PrivateKey, PublicKey, Scheme, SignatureError, Signer,
};
use petrel::crypto::{generate_rsa_2048, KeyPair};
use rsa::pkcs8::DecodePrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use time::{Duration, OffsetDateTime};
use url::Url;

const AUTHORITY: &str = "petrel.example";
const KEY_ID: &str = "https://remote.example/users/bob#main-key";

/// Two key pairs for the whole file (generation is the slow part).
fn keys() -> &'static (KeyPair, KeyPair) {
    static KEYS: OnceLock<(KeyPair, KeyPair)> = OnceLock::new();
    KEYS.get_or_init(|| (generate_rsa_2048().unwrap(), generate_rsa_2048().unwrap()))
}

fn signer() -> Signer {
    Signer::new(KEY_ID, PrivateKey::from_pkcs8_pem(&keys().0.private_pem).unwrap())
}

fn public_key() -> PublicKey {
    PublicKey::from_spki_pem(&keys().0.public_pem).unwrap()
}

fn other_public_key() -> PublicKey {
    PublicKey::from_spki_pem(&keys().1.public_pem).unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

/// A request as received at `https://petrel.example{path}`.
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            path_and_query: &self.path,
            scheme: "https",
            authority: AUTHORITY,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn parse_at(&self, at: OffsetDateTime) -> Result<Parsed, SignatureError> {
        parse(&self.incoming(), at)
    }

    fn check(&self, at: OffsetDateTime) -> Result<Parsed, SignatureError> {
        let parsed = self.parse_at(at)?;
        parsed.verify(&public_key())?;
        Ok(parsed)
    }
}

/// `sign` or `sign_rfc9421`.
type Signing = fn(&Signer, &Method, &Url, &mut HeaderMap, Option<&[u8]>, OffsetDateTime) -> Result<(), SignatureError>;

fn signed_with(signing: Signing, method: Method, path: &str, body: Option<&[u8]>, at: OffsetDateTime) -> Received {
    let url = Url::parse(&format!("https://{AUTHORITY}{path}")).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/activity+json"));
    signing(&signer(), &method, &url, &mut headers, body, at).unwrap();
    Received { method, path: path.to_owned(), headers, body: body.unwrap_or_default().to_vec() }
}

fn cavage(method: Method, path: &str, body: Option<&[u8]>, at: OffsetDateTime) -> Received {
    signed_with(sign, method, path, body, at)
}

fn rfc9421(method: Method, path: &str, body: Option<&[u8]>, at: OffsetDateTime) -> Received {
    signed_with(sign_rfc9421, method, path, body, at)
}

fn header(r: &Received, name: &str) -> String {
    r.headers.get(name).unwrap().to_str().unwrap().to_owned()
}

fn set_header(r: &mut Received, name: &'static str, value: &str) {
    r.headers.insert(name, HeaderValue::from_str(value).unwrap());
}

/// RSA-SHA256 with ring straight from the PEM, without the library's key types.
fn ring_sign(private_pem: &str, message: &str) -> String {
    let der = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap().to_pkcs8_der().unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).unwrap();
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message.as_bytes(), &mut signature)
        .unwrap();
    STANDARD.encode(signature)
}

fn sha256_b64(body: &[u8]) -> String {
    STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, body))
}

/// A cavage request built by hand: `covered` in order, each header's value given, signed over
/// the signing string the draft defines.
fn cavage_by_hand(
    method: Method,
    path: &str,
    body: &[u8],
    covered: &[&str],
    values: &[(&'static str, String)],
    extra_params: &str,
) -> Received {
    let mut headers = HeaderMap::new();
    for (name, value) in values {
        headers.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    let lines: Vec<String> = covered
        .iter()
        .map(|name| match *name {
            "(request-target)" => format!("(request-target): {} {path}", method.as_str().to_lowercase()),
            "(created)" | "(expires)" => {
                let key = &name[1..name.len() - 1];
                let value = extra_params.split(',').find_map(|p| p.strip_prefix(&format!("{key}="))).unwrap();
                format!("{name}: {}", value.trim_matches('"'))
            }
            other => format!("{other}: {}", values.iter().find(|(n, _)| n.eq_ignore_ascii_case(other)).unwrap().1),
        })
        .collect();
    let signature = ring_sign(&keys().0.private_pem, &lines.join("\n"));
    let value = format!(r#"keyId="{KEY_ID}",{extra_params}headers="{}",signature="{signature}""#, covered.join(" "));
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    Received { method, path: path.to_owned(), headers, body: body.to_vec() }
}

fn http_date(t: OffsetDateTime) -> String {
    httpdate::fmt_http_date(t.into())
}

const BODY: &[u8] = br#"{"type":"Follow","actor":"https://remote.example/users/bob"}"#;

#[test]
fn cavage_get_round_trip() {
    let at = now();
    let r = cavage(Method::GET, "/users/alice?page=1", None, at);
    let signature = header(&r, "signature");
    assert!(signature.contains(r#"algorithm="rsa-sha256""#), "{signature}");
    assert!(signature.contains(r#"headers="(request-target) host date""#), "{signature}");
    assert_eq!(header(&r, "host"), AUTHORITY);
    assert!(r.headers.get("digest").is_none());
    let parsed = r.check(at).unwrap();
    assert_eq!(parsed.key_id(), KEY_ID);
    assert_eq!(parsed.scheme(), Scheme::Cavage);
}

#[test]
fn cavage_post_round_trip() {
    let at = now();
    let r = cavage(Method::POST, "/users/alice/inbox", Some(BODY), at);
    assert!(header(&r, "signature").contains(r#"headers="(request-target) host date digest""#));
    assert_eq!(header(&r, "digest"), format!("SHA-256={}", sha256_b64(BODY)));
    assert_eq!(header(&r, "date"), http_date(at));
    let parsed = r.check(at).unwrap();
    assert_eq!(parsed.scheme(), Scheme::Cavage);
    // Within the hour either way is still fine.
    r.check(at + Duration::minutes(59)).unwrap();
    r.check(at - Duration::minutes(59)).unwrap();
}

#[test]
fn rfc9421_round_trips() {
    let at = now();
    let get = rfc9421(Method::GET, "/users/alice", None, at);
    assert!(header(&get, "signature-input").starts_with(r#"sig1=("@method" "@target-uri" "host" "date");created="#));
    let parsed = get.check(at).unwrap();
    assert_eq!(parsed.scheme(), Scheme::Rfc9421);
    assert_eq!(parsed.key_id(), KEY_ID);

    let post = rfc9421(Method::POST, "/inbox", Some(BODY), at);
    assert_eq!(header(&post, "content-digest"), format!("sha-256=:{}:", sha256_b64(BODY)));
    assert!(header(&post, "signature-input").contains(r#""content-digest""#));
    assert_eq!(post.check(at).unwrap().scheme(), Scheme::Rfc9421);
}

#[test]
fn no_signature_is_missing() {
    let r = Received { method: Method::POST, path: "/inbox".into(), headers: HeaderMap::new(), body: BODY.to_vec() };
    assert!(matches!(r.parse_at(now()), Err(SignatureError::Missing)));
    // A bearer token is not a signature either.
    let mut r = r;
    set_header(&mut r, "authorization", "Bearer abc");
    assert!(matches!(r.parse_at(now()), Err(SignatureError::Missing)));
}

#[test]
fn unknown_algorithms_are_unsupported() {
    let at = now();
    let mut r = cavage(Method::POST, "/inbox", Some(BODY), at);
    let value = header(&r, "signature").replace("rsa-sha256", "ecdsa-sha256");
    set_header(&mut r, "signature", &value);
    assert!(matches!(r.parse_at(at), Err(SignatureError::Unsupported(_))), "{:?}", r.parse_at(at));

    let mut r = rfc9421(Method::POST, "/inbox", Some(BODY), at);
    let value = header(&r, "signature-input").replace("rsa-v1_5-sha256", "ed25519");
    set_header(&mut r, "signature-input", &value);
    assert!(matches!(r.parse_at(at), Err(SignatureError::Unsupported(_))), "{:?}", r.parse_at(at));

    // A component with parameters (here `;sf`) is a form we do not implement.
    let mut r = rfc9421(Method::POST, "/inbox", Some(BODY), at);
    let value = header(&r, "signature-input").replace(r#""date""#, r#""date";sf"#);
    set_header(&mut r, "signature-input", &value);
    assert!(matches!(r.parse_at(at), Err(SignatureError::Unsupported(_))), "{:?}", r.parse_at(at));
}

#[test]
fn malformed_headers_are_rejected() {
    let at = now();
    let cases = [
        r#"keyId="k",headers="(request-target) host date",signature="not base64!""#,
        r#"keyId="k",headers="(request-target) host date,signature="AAAA"#,
        r#"keyId="k",headers="(request-target) host date""#,
        r#"headers="(request-target) host date",signature="AAAA""#,
        r#"keyId="k",keyId="j",headers="(request-target) host date",signature="AAAA""#,
        r#"keyId="k",headers="(request-target) host host date",signature="AAAA""#,
        r#"garbage"#,
    ];
    for case in cases {
        let mut r = cavage(Method::GET, "/users/alice", None, at);
        set_header(&mut r, "signature", case);
        assert!(matches!(r.parse_at(at), Err(SignatureError::Malformed(_))), "{case}: {:?}", r.parse_at(at));
    }
    // A Signature without Signature-Input is cavage, and `sig1=:…:` is no cavage header.
    let mut r = rfc9421(Method::GET, "/users/alice", None, at);
    r.headers.remove("signature-input");
    assert!(matches!(r.parse_at(at), Err(SignatureError::Malformed(_))));
    // Structured-field syntax errors and a missing `created`.
    let mut r = rfc9421(Method::GET, "/users/alice", None, at);
    set_header(&mut r, "signature-input", r#"sig1=("@method" "@target-uri"#);
    assert!(matches!(r.parse_at(at), Err(SignatureError::Malformed(_))));
    let mut r = rfc9421(Method::GET, "/users/alice", None, at);
    let value = header(&r, "signature-input");
    let without_created: String = value.split(';').filter(|p| !p.starts_with("created=")).collect::<Vec<_>>().join(";");
    set_header(&mut r, "signature-input", &without_created);
    assert!(matches!(r.parse_at(at), Err(SignatureError::Malformed(_))), "{:?}", r.parse_at(at));
}

#[test]
fn a_changed_body_fails_its_digest() {
    let at = now();
    let mut r = cavage(Method::POST, "/inbox", Some(BODY), at);
    r.body = br#"{"type":"Delete"}"#.to_vec();
    assert!(matches!(r.parse_at(at), Err(SignatureError::DigestMismatch)));

    let mut r = rfc9421(Method::POST, "/inbox", Some(BODY), at);
    r.body.push(b' ');
    assert!(matches!(r.parse_at(at), Err(SignatureError::DigestMismatch)));
}

#[test]
fn digest_must_be_signed_on_post() {
    let at = now();
    let date = http_date(at);
    let digest = format!("SHA-256={}", sha256_b64(BODY));
    let values = [("host", AUTHORITY.to_owned()), ("date", date), ("digest", digest)];
    // Signed correctly, but over a list without the digest: the body is not bound.
    let r = cavage_by_hand(Method::POST, "/inbox", BODY, &["(request-target)", "host", "date"], &values, "");
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotCovered(_))), "{:?}", r.parse_at(at));
    // The same with the digest covered passes, so it is the coverage that fails above.
    let r = cavage_by_hand(Method::POST, "/inbox", BODY, &["(request-target)", "host", "date", "digest"], &values, "");
    r.check(at).unwrap();

    // RFC 9421: a POST with a body must cover content-digest.
    let mut r = rfc9421(Method::POST, "/inbox", Some(BODY), at);
    let value = header(&r, "signature-input").replace(r#" "content-digest""#, "");
    set_header(&mut r, "signature-input", &value);
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotCovered(_))), "{:?}", r.parse_at(at));
}

#[test]
fn host_must_be_signed_on_get() {
    let at = now();
    let values = [("host", AUTHORITY.to_owned()), ("date", http_date(at))];
    let r = cavage_by_hand(Method::GET, "/users/alice", b"", &["(request-target)", "date"], &values, "");
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotCovered(_))), "{:?}", r.parse_at(at));
    let r = cavage_by_hand(Method::GET, "/users/alice", b"", &["(request-target)", "host", "date"], &values, "");
    r.check(at).unwrap();
}

#[test]
fn date_or_created_and_target_or_digest_must_be_signed() {
    let at = now();
    let values = [("host", AUTHORITY.to_owned()), ("date", http_date(at))];
    let r = cavage_by_hand(Method::GET, "/users/alice", b"", &["(request-target)", "host"], &values, "");
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotCovered(_))));
    let r = cavage_by_hand(Method::GET, "/users/alice", b"", &["host", "date"], &values, "");
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotCovered(_))));
    // RFC 9421 must cover @target-uri.
    let mut r = rfc9421(Method::GET, "/users/alice", None, at);
    let value = header(&r, "signature-input").replace(r#" "@target-uri""#, "");
    set_header(&mut r, "signature-input", &value);
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotCovered(_))));
}

#[test]
fn a_two_hour_old_date_has_expired() {
    let at = now();
    let r = cavage(Method::POST, "/inbox", Some(BODY), at - Duration::hours(2));
    assert!(matches!(r.parse_at(at), Err(SignatureError::Expired(_))), "{:?}", r.parse_at(at));
    let r = rfc9421(Method::POST, "/inbox", Some(BODY), at - Duration::hours(2));
    assert!(matches!(r.parse_at(at), Err(SignatureError::Expired(_))), "{:?}", r.parse_at(at));
}

#[test]
fn created_two_hours_ahead_is_not_valid_yet() {
    let at = now();
    let r = rfc9421(Method::POST, "/inbox", Some(BODY), at + Duration::hours(2));
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotYetValid(_))), "{:?}", r.parse_at(at));

    // Cavage with hs2019 and (created), built by hand.
    let created = (at + Duration::hours(2)).unix_timestamp();
    let values = [("host", AUTHORITY.to_owned()), ("digest", format!("SHA-256={}", sha256_b64(BODY)))];
    let covered = ["(request-target)", "(created)", "host", "digest"];
    let r = cavage_by_hand(
        Method::POST,
        "/inbox",
        BODY,
        &covered,
        &values,
        &format!(r#"algorithm="hs2019",created={created},"#),
    );
    assert!(matches!(r.parse_at(at), Err(SignatureError::NotYetValid(_))), "{:?}", r.parse_at(at));
    // The same request signed now is accepted: (created) is honoured, not just present.
    let created = at.unix_timestamp();
    let r = cavage_by_hand(
        Method::POST,
        "/inbox",
        BODY,
        &covered,
        &values,
        &format!(r#"algorithm="hs2019",created={created},"#),
    );
    r.check(at).unwrap();
}

#[test]
fn a_signature_by_another_key_fails() {
    let at = now();
    for r in [cavage(Method::POST, "/inbox", Some(BODY), at), rfc9421(Method::POST, "/inbox", Some(BODY), at)] {
        let parsed = r.parse_at(at).unwrap();
        assert!(matches!(parsed.verify(&other_public_key()), Err(SignatureError::BadSignature)));
        parsed.verify(&public_key()).unwrap();
    }
}

#[test]
fn a_tampered_path_fails() {
    let at = now();
    for mut r in [cavage(Method::POST, "/inbox", Some(BODY), at), rfc9421(Method::POST, "/inbox", Some(BODY), at)] {
        r.path = "/users/alice/inbox".into();
        let parsed = r.parse_at(at).unwrap();
        assert!(matches!(parsed.verify(&public_key()), Err(SignatureError::BadSignature)));
    }
}

#[test]
fn host_comes_from_configuration_not_the_request() {
    let at = now();
    // Behind a gateway the received Host differs; the configured authority is what counts.
    let mut r = cavage(Method::GET, "/users/alice", None, at);
    set_header(&mut r, "host", "abc123.execute-api.eu-west-1.amazonaws.com");
    r.check(at).unwrap();
    // A signature made for another host does not verify here, whatever Host the request claims.
    let url = Url::parse("https://other.example/users/alice").unwrap();
    let mut headers = HeaderMap::new();
    sign(&signer(), &Method::GET, &url, &mut headers, None, at).unwrap();
    let r = Received { method: Method::GET, path: "/users/alice".into(), headers, body: Vec::new() };
    assert!(matches!(r.check(at), Err(SignatureError::BadSignature)));
}

/// Mastodon's outgoing POST, built by hand: `(request-target) host date digest`, hs2019.
#[test]
fn a_request_signed_as_mastodon_does_verifies() {
    let at = now();
    let values = [
        ("host", AUTHORITY.to_owned()),
        ("date", http_date(at)),
        ("digest", format!("SHA-256={}", sha256_b64(BODY))),
        ("content-type", "application/activity+json".to_owned()),
    ];
    let r = cavage_by_hand(
        Method::POST,
        "/users/alice/inbox",
        BODY,
        &["(request-target)", "host", "date", "digest"],
        &values,
        r#"algorithm="hs2019","#,
    );
    let parsed = r.check(at).unwrap();
    assert_eq!(parsed.key_id(), KEY_ID);
    assert_eq!(
        parsed.signing_base(),
        format!(
            "(request-target): post /users/alice/inbox\nhost: {AUTHORITY}\ndate: {}\ndigest: SHA-256={}",
            http_date(at),
            sha256_b64(BODY)
        )
    );
}

/// An RFC 9421 POST built by hand with another parameter order than ours (as Fedify writes it).
#[test]
fn an_rfc9421_request_built_by_hand_verifies() {
    let at = now();
    let created = at.unix_timestamp();
    let digest = format!("sha-256=:{}:", sha256_b64(BODY));
    let params = format!(
        r#"("@method" "@target-uri" "@authority" "content-digest");alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={created}"#
    );
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": https://{AUTHORITY}/users/alice/inbox\n\"@authority\": {AUTHORITY}\n\
         \"content-digest\": {digest}\n\"@signature-params\": {params}"
    );
    let signature = ring_sign(&keys().0.private_pem, &base);
    let mut headers = HeaderMap::new();
    headers.insert("content-digest", HeaderValue::from_str(&digest).unwrap());
    headers.insert("signature-input", HeaderValue::from_str(&format!("sig1={params}")).unwrap());
    headers.insert("signature", HeaderValue::from_str(&format!("sig1=:{signature}:")).unwrap());
    let r = Received { method: Method::POST, path: "/users/alice/inbox".into(), headers, body: BODY.to_vec() };
    let parsed = r.check(at).unwrap();
    assert_eq!(parsed.signing_base(), base);
}

#[test]
fn keys_parse_once_from_pem_and_reject_the_wrong_kind() {
    let (pair, _) = keys();
    let private = PrivateKey::from_pkcs8_pem(&pair.private_pem).unwrap();
    assert_eq!(private.public_key(), public_key());
    assert!(matches!(PublicKey::from_spki_pem(&pair.private_pem), Err(SignatureError::Key(_))));
    assert!(matches!(PrivateKey::from_pkcs8_pem(&pair.public_pem), Err(SignatureError::Key(_))));
    assert!(matches!(PublicKey::from_spki_pem("not a key"), Err(SignatureError::Key(_))));
    // Signatures made with ring directly verify through the library's key types.
    let signature = STANDARD.decode(ring_sign(&pair.private_pem, "hello")).unwrap();
    public_key().verify_sha256(b"hello", &signature).unwrap();
    assert!(public_key().verify_sha256(b"hellO", &signature).is_err());
}

#[test]
fn authorization_form_and_expires_are_understood() {
    let at = now();
    // `Authorization: Signature …` carries the same parameters as the Signature header.
    let mut r = cavage(Method::POST, "/inbox", Some(BODY), at);
    let value = format!("Signature {}", header(&r, "signature"));
    r.headers.remove("signature");
    set_header(&mut r, "authorization", &value);
    assert_eq!(r.check(at).unwrap().scheme(), Scheme::Cavage);

    // hs2019 with (created) and (expires) covered, as draft-12 signers write it.
    let values = [("host", AUTHORITY.to_owned()), ("digest", format!("SHA-256={}", sha256_b64(BODY)))];
    let covered = ["(request-target)", "(created)", "(expires)", "host", "digest"];
    let (created, expires) = (at.unix_timestamp(), (at + Duration::minutes(5)).unix_timestamp());
    let params = format!(r#"algorithm="hs2019",created={created},expires={expires},"#);
    let r = cavage_by_hand(Method::POST, "/inbox", BODY, &covered, &values, &params);
    let parsed = r.check(at).unwrap();
    assert!(parsed.signing_base().contains(&format!("(expires): {expires}")), "{}", parsed.signing_base());
    // More than an hour after its creation (and expiry) it is refused.
    assert!(matches!(r.parse_at(at + Duration::minutes(66)), Err(SignatureError::Expired(_))));
}
