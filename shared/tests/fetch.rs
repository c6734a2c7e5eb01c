//! The safe client against a local axum server that counts the connections it accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use petrel::activitypub::fetch::{check_ip, parse_retry_after, FetchError, FetchPolicy, SafeClient};
use petrel::activitypub::signatures::{parse, Incoming, PrivateKey, PublicKey, Scheme, Signer};
use petrel::crypto::generate_rsa_2048;
use serde_json::json;
use time::OffsetDateTime;
use url::Url;

/// A request the server recorded: method, path, headers, body.
type Recorded = (Method, String, HeaderMap, Bytes);

#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<Recorded>>>,
}

struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    seen: Seen,
}

impl Server {
    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

const ACTIVITY: &str = "application/activity+json";

fn document(headers: &HeaderMap, path: &str) -> serde_json::Value {
    let host = headers.get("host").unwrap().to_str().unwrap();
    json!({"id": format!("http://{host}{path}"), "type": "Person", "preferredUsername": "bob"})
}

fn with_type(content_type: &'static str, body: impl Into<Body>) -> Response {
    ([("content-type", content_type)], body.into()).into_response()
}

fn router(seen: Seen) -> Router {
    Router::new()
        .route("/actor", get(|h: HeaderMap| async move { with_type(ACTIVITY, document(&h, "/actor").to_string()) }))
        .route(
            "/ld-actor",
            get(|h: HeaderMap| async move {
                with_type(
                    r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#,
                    document(&h, "/ld-actor").to_string(),
                )
            }),
        )
        .route(
            "/json-actor",
            get(|h: HeaderMap| async move { with_type("application/json", document(&h, "/json-actor").to_string()) }),
        )
        .route(
            "/other-id",
            get(|| async { with_type(ACTIVITY, json!({"id": "https://elsewhere.example/actor"}).to_string()) }),
        )
        .route("/big", get(|| async { with_type(ACTIVITY, vec![b' '; 2 * 1024 * 1024]) }))
        .route(
            "/big-stream",
            get(|| async {
                // No Content-Length: the cap must hold while streaming.
                let chunks = (0..32).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 64 * 1024])));
                with_type(ACTIVITY, Body::from_stream(futures::stream::iter(chunks)))
            }),
        )
        .route(
            "/to-metadata",
            get(|| async { (StatusCode::FOUND, [("location", "http://169.254.169.254/latest/meta-data/")]) }),
        )
        .route(
            "/hop/{n}/{last}",
            get(|Path((n, last)): Path<(u32, u32)>, h: HeaderMap| async move {
                if n < last {
                    (StatusCode::FOUND, [("location", format!("/hop/{}/{last}", n + 1))]).into_response()
                } else {
                    with_type(ACTIVITY, document(&h, &format!("/hop/{n}/{last}")).to_string())
                }
            }),
        )
        .route(
            "/signed",
            get(|State(seen): State<Seen>, h: HeaderMap| async move {
                let doc = document(&h, "/signed").to_string();
                seen.requests.lock().unwrap().push((Method::GET, "/signed".into(), h, Bytes::new()));
                with_type(ACTIVITY, doc)
            }),
        )
        .route(
            "/inbox",
            post(|State(seen): State<Seen>, h: HeaderMap, body: Bytes| async move {
                seen.requests.lock().unwrap().push((Method::POST, "/inbox".into(), h, body));
                (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "120")], "busy")
            }),
        )
        .route(
            "/.well-known/webfinger",
            get(|| async { with_type("application/jrd+json", json!({"subject": "acct:bob@x"}).to_string()) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .with_state(seen)
}

async fn serve_on(bind: &str, connections: Arc<AtomicUsize>, seen: Seen) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(move |_| {
        connections.fetch_add(1, Ordering::SeqCst);
    });
    tokio::spawn(async move { axum::serve(listener, router(seen)).await });
    Ok(addr)
}

async fn start() -> Server {
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = Seen::default();
    let addr = serve_on("127.0.0.1:0", connections.clone(), seen.clone()).await.unwrap();
    Server { addr, connections, seen }
}

fn default_client() -> SafeClient {
    SafeClient::new(FetchPolicy::default())
}

fn local_client() -> SafeClient {
    SafeClient::new(FetchPolicy { allow_private_network: true, ..FetchPolicy::default() })
}

#[tokio::test]
async fn private_targets_are_refused_before_connecting() {
    let server = start().await;
    let port = server.addr.port();
    let client = default_client();
    let targets = [
        format!("http://127.0.0.1:{port}/actor"),
        "http://10.0.0.1/actor".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::1]:{port}/actor"),
        format!("http://[::ffff:127.0.0.1]:{port}/actor"),
        // A name that resolves to loopback is refused by the resolver.
        format!("http://localhost:{port}/actor"),
    ];
    for target in &targets {
        let url = Url::parse(target).unwrap();
        let started = std::time::Instant::now();
        let result = client.get_activity(&url, None).await;
        assert!(matches!(result, Err(FetchError::Blocked(_))), "{target}: {result:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{target} took {:?}", started.elapsed());
        assert!(matches!(client.get_json(&url).await, Err(FetchError::Blocked(_))), "{target}");
    }
    // The same server is reachable when allowed, so zero connections above means "refused first".
    assert_eq!(server.connections(), 0);
    local_client().get_activity(&server.url("/actor"), None).await.unwrap();
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn ipv6_loopback_is_refused_before_connecting() {
    // Only where the machine has an IPv6 loopback; the address check itself is covered above.
    let connections = Arc::new(AtomicUsize::new(0));
    let Ok(addr) = serve_on("[::1]:0", connections.clone(), Seen::default()).await else {
        eprintln!("no IPv6 loopback here: connection count for [::1] not checked");
        return;
    };
    let url = Url::parse(&format!("http://[::1]:{}/actor", addr.port())).unwrap();
    assert!(matches!(default_client().get_activity(&url, None).await, Err(FetchError::Blocked(_))));
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    local_client().get_activity(&url, None).await.unwrap();
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redirect_to_the_metadata_address_is_refused() {
    let server = start().await;
    let result = local_client().get_activity(&server.url("/to-metadata"), None).await;
    assert!(matches!(&result, Err(FetchError::Blocked(ip)) if ip == "169.254.169.254"), "{result:?}");
}

#[tokio::test]
async fn three_redirects_are_followed_and_a_fourth_is_not() {
    let server = start().await;
    let client = local_client();
    let doc = client.get_activity(&server.url("/hop/0/3"), None).await.unwrap();
    // The id is checked against the final URL, not the first.
    assert_eq!(doc["id"], format!("http://{}/hop/3/3", server.addr));
    let result = client.get_activity(&server.url("/hop/0/4"), None).await;
    assert!(matches!(result, Err(FetchError::TooManyRedirects)), "{result:?}");
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let server = start().await;
    let client = local_client();
    for path in ["/big", "/big-stream"] {
        let result = client.get_activity(&server.url(path), None).await;
        assert!(matches!(result, Err(FetchError::TooLarge)), "{path}: {result:?}");
    }
}

#[tokio::test]
async fn content_type_and_id_are_checked() {
    let server = start().await;
    let client = local_client();
    let result = client.get_activity(&server.url("/json-actor"), None).await;
    assert!(matches!(&result, Err(FetchError::ContentType(t)) if t == "application/json"), "{result:?}");
    let result = client.get_activity(&server.url("/other-id"), None).await;
    assert!(matches!(result, Err(FetchError::IdMismatch)), "{result:?}");
    let ld = client.get_activity(&server.url("/ld-actor"), None).await.unwrap();
    assert_eq!(ld["preferredUsername"], "bob");
    // get_json takes plain JSON and JRD.
    let jrd = client.get_json(&server.url("/.well-known/webfinger")).await.unwrap();
    assert_eq!(jrd["subject"], "acct:bob@x");
    client.get_json(&server.url("/json-actor")).await.unwrap();
    let missing = client.get_activity(&server.url("/nowhere"), None).await;
    assert!(matches!(missing, Err(FetchError::Status(404))), "{missing:?}");
}

#[tokio::test]
async fn a_good_document_is_returned() {
    let server = start().await;
    let doc = local_client().get_activity(&server.url("/actor"), None).await.unwrap();
    assert_eq!(doc["id"], format!("http://{}/actor", server.addr));
    assert_eq!(doc["type"], "Person");
}

fn test_signer() -> (Signer, PublicKey) {
    let pair = generate_rsa_2048().unwrap();
    let key = PrivateKey::from_pkcs8_pem(&pair.private_pem).unwrap();
    (Signer::new("http://petrel.test/users/alice#main-key", key), PublicKey::from_spki_pem(&pair.public_pem).unwrap())
}

fn verify_seen(server: &Server, public: &PublicKey) -> Scheme {
    let seen = server.seen.requests.lock().unwrap();
    let (method, path, headers, body) = seen.last().unwrap();
    let authority = server.addr.to_string();
    let incoming = Incoming { method, path_and_query: path, scheme: "http", authority: &authority, headers, body };
    let parsed = parse(&incoming, OffsetDateTime::now_utc()).unwrap();
    assert_eq!(parsed.key_id(), "http://petrel.test/users/alice#main-key");
    parsed.verify(public).unwrap();
    parsed.scheme()
}

#[tokio::test]
async fn signed_get_carries_a_signature_the_verifier_accepts() {
    let server = start().await;
    let (signer, public) = test_signer();
    local_client().get_activity(&server.url("/signed"), Some(&signer)).await.unwrap();
    assert_eq!(verify_seen(&server, &public), Scheme::Cavage);
    let seen = server.seen.requests.lock().unwrap();
    let accept = seen[0].2.get("accept").unwrap().to_str().unwrap();
    assert!(accept.starts_with("application/activity+json"), "{accept}");
    assert!(seen[0].2.get("digest").is_none());
}

#[tokio::test]
async fn post_activity_reports_status_and_retry_after() {
    let server = start().await;
    let (signer, public) = test_signer();
    let body = br#"{"type":"Create"}"#;
    let outcome = local_client().post_activity(&server.url("/inbox"), body, &signer).await.unwrap();
    assert_eq!(outcome.status, 503);
    assert_eq!(outcome.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(verify_seen(&server, &public), Scheme::Cavage);
    {
        let seen = server.seen.requests.lock().unwrap();
        assert_eq!(seen[0].2.get("content-type").unwrap(), "application/activity+json");
        assert_eq!(&seen[0].3[..], body);
    }
    // Deliveries go through the same address checks.
    let blocked = default_client().post_activity(&server.url("/inbox"), body, &signer).await;
    assert!(matches!(blocked, Err(FetchError::Blocked(_))), "{blocked:?}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = start().await;
    let policy =
        FetchPolicy { allow_private_network: true, timeout: Duration::from_millis(500), ..FetchPolicy::default() };
    let result = SafeClient::new(policy).get_activity(&server.url("/slow"), None).await;
    assert!(matches!(result, Err(FetchError::Timeout)), "{result:?}");
    assert!(result.unwrap_err().is_transient());
}

#[test]
fn address_classes() {
    let strict = FetchPolicy::default();
    let local = FetchPolicy { allow_private_network: true, ..FetchPolicy::default() };
    // (address, allowed by default, allowed with allow_private_network)
    let cases = [
        ("93.184.215.14", true, true),
        ("8.8.8.8", true, true),
        ("127.0.0.1", false, true),
        ("127.8.9.10", false, true),
        ("10.0.0.1", false, true),
        ("172.16.0.1", false, true),
        ("172.31.255.255", false, true),
        ("172.32.0.1", true, true),
        ("192.168.1.1", false, true),
        ("169.254.169.254", false, false),
        ("169.254.170.2", false, false),
        ("100.64.0.1", false, false),
        ("100.127.255.255", false, false),
        ("100.128.0.1", true, true),
        ("0.0.0.0", false, false),
        ("0.1.2.3", false, false),
        ("224.0.0.1", false, false),
        ("239.255.255.250", false, false),
        ("240.0.0.1", false, false),
        ("255.255.255.255", false, false),
        ("192.0.0.8", false, false),
        ("192.0.2.1", false, false),
        ("198.18.0.1", false, false),
        ("198.51.100.1", false, false),
        ("203.0.113.1", false, false),
        ("2606:4700:4700::1111", true, true),
        ("::1", false, true),
        ("::", false, false),
        ("::ffff:127.0.0.1", false, true),
        ("::ffff:169.254.169.254", false, false),
        ("::ffff:8.8.8.8", true, true),
        ("::127.0.0.1", false, true),
        ("64:ff9b::a9fe:a9fe", false, false),
        ("64:ff9b::808:808", true, true),
        ("2002:a9fe:a9fe::1", false, false),
        ("2002:0808:0808::1", true, true),
        ("fc00::1", false, false),
        ("fd00:ec2::254", false, false),
        ("fe80::1", false, false),
        ("fec0::1", false, false),
        ("ff02::1", false, false),
        ("2001:db8::1", false, false),
        ("2001::1", false, false),
        ("3fff::1", false, false),
        ("100::1", false, false),
    ];
    for (ip, by_default, when_local) in cases {
        let addr: IpAddr = ip.parse().unwrap();
        assert_eq!(check_ip(addr, &strict).is_ok(), by_default, "{ip} by default");
        assert_eq!(check_ip(addr, &local).is_ok(), when_local, "{ip} with allow_private_network");
    }
}

#[test]
fn transient_errors_and_retry_after() {
    assert!(FetchError::Status(503).is_transient());
    assert!(FetchError::Status(429).is_transient());
    assert!(FetchError::Network("reset".into()).is_transient());
    assert!(!FetchError::Status(404).is_transient());
    assert!(!FetchError::Blocked("10.0.0.1".into()).is_transient());
    assert!(!FetchError::IdMismatch.is_transient());

    let now = SystemTime::now();
    assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(3600));
    let parsed = parse_retry_after(&later, now).unwrap();
    assert!(parsed <= Duration::from_secs(3600) && parsed > Duration::from_secs(3598), "{parsed:?}");
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("soon", now), None);
}
