//! The web function: Mastodon client API, OAuth, ActivityPub GETs and pages. For now it serves
//! the health route; the client API and federation documents build on this router.

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use petrel::Ctx;

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/health", get(petrel::http::health))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(petrel::http::request_span))
        .with_state(ctx)
}

async fn not_found() -> axum::response::Response {
    petrel::http::error_response(StatusCode::NOT_FOUND, "Record not found")
}
