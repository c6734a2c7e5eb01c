//! HTTP pieces every function's router shares: a span per request carrying its id, and the
//! Mastodon-style JSON error body.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracing::Instrument;

/// The request's id: Lambda's request id when there is one, else the caller's `x-request-id`,
/// else a fresh one. It is logged on every line of the request and returned in `x-request-id`.
fn request_id(req: &Request) -> String {
    if let Some(ctx) = req.extensions().get::<lambda_http::Context>() {
        return ctx.request_id.clone();
    }
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_string)
        .unwrap_or_else(|| crate::ids::random_token(8))
}

/// Middleware: one span per request, with method, path, status and duration logged at the end.
pub async fn request_span(req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    async move {
        let started = std::time::Instant::now();
        let mut response = next.run(req).await;
        tracing::info!(status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "done");
        if let Ok(v) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", v);
        }
        response
    }
    .instrument(span)
    .await
}

/// Mastodon's error entity: `{"error": "..."}` with an optional `error_description`.
pub fn error_response(status: StatusCode, error: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": error.into() }))).into_response()
}

/// What every HTTP function answers to a method its path does not take: Mastodon's answer (its
/// router sends unmatched method and path pairs to "not found"), with its JSON error body rather
/// than axum's empty 405.
pub async fn wrong_method() -> Response {
    error_response(StatusCode::NOT_FOUND, "Record not found")
}

/// Mastodon's answer to a path nothing serves.
pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "Record not found")
}

/// The health route every HTTP function serves.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// The service every HTTP entry point runs: the router behind trailing-slash normalisation
/// (Mastodon.py calls `/api/v1/instance/`; routing happens after this, so it must wrap the router).
pub type App = tower_http::normalize_path::NormalizePath<axum::Router>;

pub fn app(router: axum::Router) -> App {
    tower_http::normalize_path::NormalizePath::trim_trailing_slash(router)
}

/// Browser clients (Elk, Phanpy) call the API from other origins with bearer tokens, never
/// cookies, so any origin may call it.
pub fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderName, Method};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::LINK, HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(86400))
}

/// The header CloudFront adds to every request it forwards to a function URL (template.yaml).
pub const ORIGIN_SECRET_HEADER: &str = "x-petrel-origin";

/// The secrets `PETREL_ORIGIN_SECRET` holds: comma-separated, the one CloudFront sends first and,
/// while a rotation is under way, the previous one after it (template.yaml, `OriginSecrets`).
/// Blanks around the commas and empty entries are ignored.
pub fn origin_secrets(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Answers 403 to every request whose `x-petrel-origin` is none of `secrets`. Each secret is
/// compared in constant time (an HMAC of each side, checked by ring), and every one is checked
/// whatever the header holds, so the time taken does not tell which one matched, if any. With no
/// secret at all, every request is refused.
pub fn require_origin_secret<S: AsRef<[u8]>>(
    router: axum::Router,
    secrets: impl IntoIterator<Item = S>,
) -> axum::Router {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"petrel origin secret");
    let tags: Vec<hmac::Tag> = secrets.into_iter().map(|s| hmac::sign(&key, s.as_ref())).collect();
    let expected = std::sync::Arc::new((key, tags));
    router.layer(axum::middleware::from_fn(move |mut req: Request, next: Next| {
        let expected = expected.clone();
        async move {
            let given = req.headers().get(ORIGIN_SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
            let (key, tags) = expected.as_ref();
            // `|`, not `||`: no early exit.
            let known = tags.iter().fold(false, |known, tag| hmac::verify(key, given, tag.as_ref()).is_ok() | known);
            if known {
                req.extensions_mut().insert(ViaCloudFront);
                next.run(req).await
            } else {
                error_response(StatusCode::FORBIDDEN, "this address only answers requests through the site's domain")
            }
        }
    }))
}

/// Whether `given` is one of `secrets`, compared in constant time as the HTTP layer compares
/// them (the WebSocket API's `$connect`, which no HTTP layer sees).
pub fn origin_secret_matches<S: AsRef<[u8]>>(secrets: &[S], given: &str) -> bool {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"petrel origin secret");
    let given = hmac::sign(&key, given.as_bytes());
    // `|`, not `||`: no early exit.
    secrets.iter().fold(false, |known, s| hmac::verify(&key, s.as_ref(), given.as_ref()).is_ok() | known)
}

/// Set on a request whose origin secret was verified: it came through the site's CloudFront
/// distribution, so the headers CloudFront sets can be believed.
#[derive(Debug, Clone, Copy)]
pub struct ViaCloudFront;

/// The header CloudFront sets to the viewer's address and port (`198.51.100.7:46532`,
/// `2001:db8::7:46532`); the distribution's origin request policy (AllViewerExceptHostHeader)
/// forwards it.
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// The client's IP address, for throttling and logs, from the one source each way of running
/// can vouch for:
///
/// - behind CloudFront (the origin secret verified): `CloudFront-Viewer-Address`, which
///   CloudFront derives from the viewer's connection. Not `X-Forwarded-For`: function URLs have
///   been seen to hand the function only the left-most entry of that header, which is whatever
///   the client sent, so the right-most hop CloudFront appends cannot be relied on to arrive;
/// - in Lambda otherwise (a function URL called directly, no origin secret configured): the
///   event's `sourceIp`, the address that connected to the function URL;
/// - under `petrel serve`: the TCP peer's address. A reverse proxy in front of `petrel serve`
///   makes every client look like the proxy (one shared address budget), never like someone
///   else: no forwarded header is believed there.
///
/// None when no source applies (an in-process call in a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_ip(&parts.headers, &parts.extensions)))
    }
}

pub fn client_ip(headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    if extensions.get::<ViaCloudFront>().is_some() {
        if let Some(ip) = headers.get(VIEWER_ADDRESS_HEADER).and_then(|v| v.to_str().ok()).and_then(parse_ip_port) {
            return Some(ip);
        }
    }
    if let Some(context) = extensions.get::<lambda_http::request::RequestContext>() {
        use lambda_http::request::RequestContext;
        let source = match context {
            // Function URLs send the HTTP API payload (2.0), the only kind compiled in.
            RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref(),
            _ => None,
        };
        return source.and_then(|s| s.parse().ok());
    }
    extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
}

/// `ip:port`, `[ipv6]:port` or `ipv6:port` (CloudFront's form) → the address.
fn parse_ip_port(s: &str) -> Option<std::net::IpAddr> {
    let s = s.trim();
    if let Ok(sock) = s.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    let (ip, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse().ok()
}

/// What the throttle counts an address as: an IPv4 address as it is, an IPv6 address by its /64
/// (one subscriber's network: a host can take any address in it), an IPv4-mapped IPv6 address
/// as the IPv4 one. `unknown` when there is none.
pub fn address_bucket(ip: Option<std::net::IpAddr>) -> String {
    use std::net::IpAddr;
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::body::Body;
    use axum::http::{Extensions, HeaderMap, HeaderValue};
    use tower::ServiceExt;

    #[test]
    fn origin_secrets_are_a_comma_separated_list() {
        assert_eq!(origin_secrets("one"), ["one"]);
        assert_eq!(origin_secrets("new,old"), ["new", "old"]);
        assert_eq!(origin_secrets(" new , old ,"), ["new", "old"]);
        assert!(origin_secrets("").is_empty() && origin_secrets(" , ").is_empty());
    }

    async fn status(router: &axum::Router, header: Option<&str>) -> StatusCode {
        let mut req = axum::http::Request::get("/health");
        if let Some(h) = header {
            req = req.header(ORIGIN_SECRET_HEADER, h);
        }
        #[allow(clippy::unwrap_used)]
        router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap().status()
    }

    fn health_router() -> axum::Router {
        axum::Router::new().route("/health", axum::routing::get(health))
    }

    #[tokio::test]
    async fn each_accepted_secret_is_served_and_nothing_else() {
        let guarded = require_origin_secret(health_router(), origin_secrets("new-secret,old-secret"));
        assert_eq!(status(&guarded, Some("new-secret")).await, StatusCode::OK);
        assert_eq!(status(&guarded, Some("old-secret")).await, StatusCode::OK);
        for refused in [None, Some(""), Some("new-secret,old-secret"), Some("new-secre"), Some("older-secret")] {
            assert_eq!(status(&guarded, refused).await, StatusCode::FORBIDDEN, "{refused:?}");
        }
    }

    #[tokio::test]
    async fn no_secret_refuses_everything() {
        let guarded = require_origin_secret(health_router(), Vec::<String>::new());
        assert_eq!(status(&guarded, None).await, StatusCode::FORBIDDEN);
        assert_eq!(status(&guarded, Some("")).await, StatusCode::FORBIDDEN);
    }

    // Client addresses.

    #[test]
    fn the_viewer_address_counts_only_through_cloudfront() {
        let mut headers = HeaderMap::new();
        headers.insert(VIEWER_ADDRESS_HEADER, HeaderValue::from_static("2406:2d40:728d:fa10::c4a:42838"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let mut ext = Extensions::new();
        let peer: std::net::SocketAddr = "192.0.2.5:1234".parse().unwrap();
        ext.insert(axum::extract::ConnectInfo(peer));
        // Without the verified origin secret the header may be the caller's own invention.
        assert_eq!(client_ip(&headers, &ext), Some("192.0.2.5".parse().unwrap()));
        ext.insert(ViaCloudFront);
        assert_eq!(client_ip(&headers, &ext), Some("2406:2d40:728d:fa10::c4a".parse().unwrap()));
        headers.insert(VIEWER_ADDRESS_HEADER, HeaderValue::from_static("198.51.100.7:46532"));
        assert_eq!(client_ip(&headers, &ext), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(client_ip(&HeaderMap::new(), &Extensions::new()), None);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a = address_bucket(Some("2406:2d40:728d:fa10::c4a".parse().unwrap()));
        let b = address_bucket(Some("2406:2d40:728d:fa10:ffff::1".parse().unwrap()));
        assert_eq!(a, "2406:2d40:728d:fa10::/64");
        assert_eq!(a, b);
        assert_eq!(address_bucket(Some("::ffff:192.0.2.1".parse().unwrap())), "192.0.2.1");
        assert_eq!(address_bucket(None), "unknown");
    }
}
