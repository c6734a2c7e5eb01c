//! A function URL behind CloudFront answers only requests carrying the distribution's secret
//! header (template.yaml `OriginCustomHeaders`, `petrel::lambda::run_http`).
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

#[tokio::test]
async fn only_the_distributions_requests_are_served() {
    let router = axum::Router::new().route("/health", axum::routing::get(petrel::http::health));
    let guarded = petrel::http::require_origin_secret(router, "5f2c9a60-0b1e-11ef-9a4e-0a1b2c3d4e5f".into());
    assert_eq!(status(&guarded, Some("5f2c9a60-0b1e-11ef-9a4e-0a1b2c3d4e5f")).await, StatusCode::OK);
    assert_eq!(status(&guarded, None).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&guarded, Some("")).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&guarded, Some("5f2c9a60-0b1e-11ef-9a4e-0a1b2c3d4e5")).await, StatusCode::FORBIDDEN);
}
