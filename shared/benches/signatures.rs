//! Operations per second for HTTP signatures, next to raw ring RSA-2048 for scale:
//! `cargo bench -p petrel --bench signatures`. Each figure is the median of several rounds.
// A benchmark's setup failing is a bug to see at once, like in a test.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Method};
use petrel::activitypub::signatures::{parse, sign, sign_rfc9421, Incoming, PrivateKey, PublicKey, Signer};
use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use time::OffsetDateTime;
use url::Url;

const ROUNDS: usize = 7;
/// How long one round runs; the iteration count is calibrated to it.
const ROUND: Duration = Duration::from_millis(300);
const BODY: &[u8] = br#"{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","actor":"https://petrel.example/users/alice","object":{"type":"Note","content":"hello"}}"#;

fn ops_per_second(mut op: impl FnMut()) -> f64 {
    op();
    let start = Instant::now();
    let mut calibration = 0u64;
    while start.elapsed() < ROUND / 4 {
        op();
        calibration += 1;
    }
    let per_round = (calibration * 4).max(1);
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                op();
            }
            per_round as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[ROUNDS / 2]
}

type Signing = fn(
    &Signer,
    &Method,
    &Url,
    &mut HeaderMap,
    Option<&[u8]>,
    OffsetDateTime,
) -> Result<(), petrel::activitypub::signatures::SignatureError>;

fn signed(signing: Signing, signer: &Signer, url: &Url, now: OffsetDateTime) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/activity+json"));
    signing(signer, &Method::POST, url, &mut headers, Some(BODY), now).expect("sign");
    headers
}

fn main() {
    let pair = petrel::crypto::generate_rsa_2048().expect("key generation");
    let private = PrivateKey::from_pkcs8_pem(&pair.private_pem).expect("private key");
    let public = PublicKey::from_spki_pem(&pair.public_pem).expect("public key");
    let signer = Signer::new("https://petrel.example/users/alice#main-key", private);
    let url = Url::parse("https://remote.example/users/bob/inbox").expect("url");
    let now = OffsetDateTime::now_utc();

    let verify = |headers: &HeaderMap| {
        let incoming = Incoming {
            method: &Method::POST,
            path_and_query: "/users/bob/inbox",
            scheme: "https",
            authority: "remote.example",
            headers,
            body: BODY,
        };
        parse(&incoming, now).expect("parse").verify(&public).expect("verify");
    };

    let der = rsa::RsaPrivateKey::from_pkcs8_pem(&pair.private_pem).expect("pem").to_pkcs8_der().expect("der");
    let ring_pair = RsaKeyPair::from_pkcs8(der.as_bytes()).expect("ring key");
    let ring_public = ring_pair.public().as_ref().to_vec();
    let rng = ring::rand::SystemRandom::new();
    let message = b"(request-target): post /users/bob/inbox\nhost: remote.example\ndate: Thu, 01 Jan 2026 00:00:00 GMT\ndigest: SHA-256=AAAA";
    let mut ring_signature = vec![0; ring_pair.public().modulus_len()];
    ring_pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut ring_signature).expect("ring sign");

    let cavage_headers = signed(sign, &signer, &url, now);
    let rfc9421_headers = signed(sign_rfc9421, &signer, &url, now);
    verify(&cavage_headers);
    verify(&rfc9421_headers);

    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("HTTP signatures, RSA-2048, {profile} build, median of {ROUNDS} rounds of ~{ROUND:?}");
    let results = [
        ("cavage sign", ops_per_second(|| drop(black_box(signed(sign, &signer, &url, now))))),
        ("cavage verify (parse + verify)", ops_per_second(|| verify(black_box(&cavage_headers)))),
        ("RFC 9421 sign", ops_per_second(|| drop(black_box(signed(sign_rfc9421, &signer, &url, now))))),
        ("RFC 9421 verify (parse + verify)", ops_per_second(|| verify(black_box(&rfc9421_headers)))),
        (
            "ring RSA-2048 sign",
            ops_per_second(|| {
                let mut out = vec![0; ring_pair.public().modulus_len()];
                ring_pair.sign(&RSA_PKCS1_SHA256, &rng, black_box(message), &mut out).expect("ring sign");
                black_box(out);
            }),
        ),
        (
            "ring RSA-2048 verify",
            ops_per_second(|| {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &ring_public)
                    .verify(black_box(message), &ring_signature)
                    .expect("ring verify");
            }),
        ),
    ];
    for (name, rate) in results {
        println!("{name:<34} {rate:>10.0} ops/s");
    }
}
