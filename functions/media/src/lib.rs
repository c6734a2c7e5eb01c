//! The media function: uploads from phone apps. Images are sniffed, bounded, decoded within a
//! memory budget, turned upright, stripped of metadata by re-encoding, thumbnailed and given a
//! blurhash (see `pipeline`). Audio and video keep their coding; `strip` removes their metadata.

pub mod pipeline;
pub mod profile;
pub mod strip;
pub mod upload;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use petrel::Ctx;

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/api/v1/media", post(upload::upload))
        .route("/api/v2/media", post(upload::upload))
        .route("/api/v1/media/{id}", get(upload::get).put(upload::update).delete(upload::delete))
        .route("/api/v1/accounts/update_credentials", axum::routing::patch(profile::update_credentials))
        .method_not_allowed_fallback(petrel::http::wrong_method)
        // Room for the largest file plus multipart framing; anything bigger is a 413.
        .layer(DefaultBodyLimit::max(upload::MAX_UPLOAD_BYTES + 64 * 1024))
        .layer(petrel::http::cors())
        .layer(axum::middleware::from_fn(petrel::http::request_span))
        .with_state(ctx)
}
