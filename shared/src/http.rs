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

/// Answers 403 to every request that does not carry `secret` in `x-petrel-origin`. Compared in
/// constant time (an HMAC of each, checked by ring), as any secret is.
pub fn require_origin_secret(router: axum::Router, secret: String) -> axum::Router {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"petrel origin secret");
    let expected = std::sync::Arc::new((key.clone(), hmac::sign(&key, secret.as_bytes())));
    router.layer(axum::middleware::from_fn(move |req: Request, next: Next| {
        let expected = expected.clone();
        async move {
            let given = req.headers().get(ORIGIN_SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
            let (key, tag) = expected.as_ref();
            if hmac::verify(key, given, tag.as_ref()).is_ok() {
                next.run(req).await
            } else {
                error_response(StatusCode::FORBIDDEN, "this address only answers requests through the site's domain")
            }
        }
    }))
}
