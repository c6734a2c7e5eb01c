//! NodeInfo 2.0 and 2.1: what software this is, for fediverse statistics and other servers.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use petrel::repo::accounts;
use petrel::Ctx;
use serde_json::json;

pub async fn discovery(State(ctx): State<Ctx>) -> Response {
    let base = ctx.config.base_url();
    (
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        axum::Json(json!({ "links": [
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": format!("{base}/nodeinfo/2.0") },
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": format!("{base}/nodeinfo/2.1") },
        ]})),
    )
        .into_response()
}

async fn document(ctx: &Ctx, version: &str) -> Response {
    // One query and one batch get: the handful of local accounts and their counters.
    let locals = match accounts::list_local(ctx.stores.table.as_ref()).await {
        Ok(l) => l,
        Err(e) => return petrel::api::error::ApiError::from(e).into_response(),
    };
    let posts: i64 = locals.iter().map(|a| a.statuses_count.max(0)).sum();
    let software = json!({ "name": "petrel", "version": env!("CARGO_PKG_VERSION") });
    let doc = json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": ["atom1.0", "rss2.0"] },
        "openRegistrations": false,
        "usage": {
            "users": { "total": locals.len(), "activeMonth": locals.len(), "activeHalfyear": locals.len() },
            "localPosts": posts,
        },
        "metadata": { "nodeName": ctx.config.domain },
    });
    let content_type = format!("application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\"");
    ([(header::CONTENT_TYPE, content_type), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_string())], axum::Json(doc))
        .into_response()
}

pub async fn v2_0(State(ctx): State<Ctx>) -> Response {
    document(&ctx, "2.0").await
}

pub async fn v2_1(State(ctx): State<Ctx>) -> Response {
    document(&ctx, "2.1").await
}
