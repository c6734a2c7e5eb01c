//! A function URL behind CloudFront answers only requests carrying the distribution's secret
//! header (template.yaml `OriginCustomHeaders` and `OriginSecrets`, `petrel::lambda::run_http`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

async fn status(router: &axum::Router, header: Option<&str>) -> StatusCode {
    let mut req = Request::get("/health");
    if let Some(h) = header {
        req = req.header(petrel::http::ORIGIN_SECRET_HEADER, h);
    }
    router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap().status()
}

fn health() -> axum::Router {
    axum::Router::new().route("/health", axum::routing::get(petrel::http::health))
}

const CURRENT: &str = "Xq3v8bT0m2cQk9sLr4wYh7nJd1pFz6gA5eUo0iRtBcM";
const PREVIOUS: &str = "0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn only_the_distributions_requests_are_served() {
    let guarded = petrel::http::require_origin_secret(health(), [CURRENT]);
    assert_eq!(status(&guarded, Some(CURRENT)).await, StatusCode::OK);
    assert_eq!(status(&guarded, None).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&guarded, Some("")).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&guarded, Some(&CURRENT[..CURRENT.len() - 1])).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&guarded, Some(PREVIOUS)).await, StatusCode::FORBIDDEN);
}

/// During a rotation the functions hold `current,previous` (PETREL_ORIGIN_SECRET, as the
/// template's OriginSecrets.Accepted gives it) while CloudFront's edges switch from one to the
/// other; both are served, the list itself and anything else are not.
#[tokio::test]
async fn during_a_rotation_both_secrets_are_served() {
    let accepted = petrel::http::origin_secrets(&format!("{CURRENT},{PREVIOUS}"));
    let guarded = petrel::http::require_origin_secret(health(), accepted);
    assert_eq!(status(&guarded, Some(CURRENT)).await, StatusCode::OK);
    assert_eq!(status(&guarded, Some(PREVIOUS)).await, StatusCode::OK);
    assert_eq!(status(&guarded, Some(&format!("{CURRENT},{PREVIOUS}"))).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&guarded, None).await, StatusCode::FORBIDDEN);
    // After the rotation's second deploy only the new one is left.
    let retired = petrel::http::require_origin_secret(health(), petrel::http::origin_secrets(CURRENT));
    assert_eq!(status(&retired, Some(CURRENT)).await, StatusCode::OK);
    assert_eq!(status(&retired, Some(PREVIOUS)).await, StatusCode::FORBIDDEN);
}
