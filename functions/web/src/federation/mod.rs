//! What other servers GET: WebFinger, host-meta, NodeInfo, actors, their collections and each
//! status as a Note. Browsers asking for an actor or a status are sent to its HTML page.

pub mod actor;
pub mod collections;
pub mod nodeinfo;
pub mod outbox;
pub mod webfinger;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use petrel::activitypub::vocab;

/// An ActivityPub document with its media type.
pub fn activity_json(doc: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, "application/activity+json; charset=utf-8"), (header::VARY, "Accept")], axum::Json(doc))
        .into_response()
}

pub fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(vocab::wants_activity_json)
}

/// A browser (or anything not asking for ActivityPub) goes to the HTML page.
pub fn to_html(url: String) -> Response {
    let mut r = Redirect::to(&url).into_response();
    r.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Accept"));
    r
}

pub fn not_found() -> Response {
    petrel::http::error_response(StatusCode::NOT_FOUND, "Record not found")
}

pub fn router() -> axum::Router<petrel::Ctx> {
    use axum::routing::get;
    axum::Router::new()
        .route("/.well-known/webfinger", get(webfinger::webfinger))
        .route("/.well-known/host-meta", get(webfinger::host_meta))
        .route("/.well-known/host-meta.json", get(webfinger::host_meta_json))
        .route("/.well-known/nodeinfo", get(nodeinfo::discovery))
        .route("/nodeinfo/2.0", get(nodeinfo::v2_0))
        .route("/nodeinfo/2.1", get(nodeinfo::v2_1))
        .route("/users/{name}", get(actor::actor))
        .route("/users/{name}/outbox", get(collections::outbox))
        .route("/users/{name}/followers", get(collections::followers))
        .route("/users/{name}/following", get(collections::following))
        .route("/users/{name}/collections/featured", get(collections::featured))
        .route("/users/{name}/collections/tags", get(collections::featured_tags))
        .route("/users/{name}/statuses/{id}", get(actor::status))
        .route("/users/{name}/statuses/{id}/activity", get(actor::status_activity))
}
