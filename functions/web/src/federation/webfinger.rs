//! WebFinger (RFC 7033) and host-meta: how `@name@domain` becomes an actor URL.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use petrel::mastodon::convert::{account_url, actor_uri};
use petrel::repo::accounts;
use petrel::Ctx;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct Resource {
    resource: Option<String>,
}

/// The local username a resource names: `acct:name@handle-domain` (or the serving domain), the
/// actor URL, or the profile URL.
fn username_of<'a>(ctx: &Ctx, resource: &'a str) -> Option<&'a str> {
    let base = ctx.config.base_url();
    if let Some(acct) = resource.strip_prefix("acct:") {
        let (name, domain) = acct.trim_start_matches('@').rsplit_once('@')?;
        let ours =
            domain.eq_ignore_ascii_case(&ctx.config.handle_domain) || domain.eq_ignore_ascii_case(&ctx.config.domain);
        return ours.then_some(name);
    }
    let path = resource.strip_prefix(&base)?;
    path.strip_prefix("/users/").or_else(|| path.strip_prefix("/@")).filter(|n| !n.contains('/'))
}

fn cors_json(content_type: &'static str, body: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], axum::Json(body))
        .into_response()
}

pub async fn webfinger(State(ctx): State<Ctx>, Query(q): Query<Resource>) -> Response {
    let Some(resource) = q.resource.filter(|r| !r.is_empty()) else {
        return petrel::http::error_response(StatusCode::BAD_REQUEST, "resource parameter is required");
    };
    let Some(name) = username_of(&ctx, &resource).filter(|n| petrel::model::valid_username(n)) else {
        return super::not_found();
    };
    let account = match accounts::by_username(ctx.stores.table.as_ref(), name).await {
        Ok(Some(a)) => a,
        Ok(None) => return super::not_found(),
        Err(e) => return petrel::api::error::ApiError::from(e).into_response(),
    };
    let actor = actor_uri(&ctx.config, &account.username);
    let profile = account_url(&ctx.config, &account.username);
    cors_json(
        "application/jrd+json; charset=utf-8",
        json!({
            "subject": format!("acct:{}@{}", account.username, ctx.config.handle_domain),
            "aliases": [actor, profile],
            "links": [
                { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile },
                { "rel": "self", "type": "application/activity+json", "href": actor },
                { "rel": "http://ostatus.org/schema/1.0/subscribe",
                  "template": format!("{}/authorize_interaction?uri={{uri}}", ctx.config.base_url()) },
            ],
        }),
    )
}

pub async fn host_meta(State(ctx): State<Ctx>) -> Response {
    let template = format!("{}/.well-known/webfinger?resource={{uri}}", ctx.config.base_url());
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{}\"/>\n</XRD>\n",
        html_escape::encode_double_quoted_attribute(&template)
    );
    ([(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8"), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], xml)
        .into_response()
}

pub async fn host_meta_json(State(ctx): State<Ctx>) -> Response {
    let template = format!("{}/.well-known/webfinger?resource={{uri}}", ctx.config.base_url());
    cors_json("application/json", json!({ "links": [{ "rel": "lrdd", "template": template }] }))
}
