//! Actor documents and statuses as Notes, with content negotiation: ActivityPub JSON for servers,
//! a redirect to the HTML page for browsers.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use petrel::activitypub::convert;
use petrel::mastodon::convert::{account_url, status_url};
use petrel::model::{Account, Status};
use petrel::repo::visibility::{self, Decision};
use petrel::repo::{accounts, statuses};
use petrel::Ctx;

use super::{activity_json, not_found, to_html, wants_json};

pub(crate) async fn local_account(ctx: &Ctx, name: &str) -> Result<Option<Account>, Response> {
    if !petrel::model::valid_username(name) {
        return Ok(None);
    }
    accounts::by_username(ctx.stores.table.as_ref(), name)
        .await
        .map_err(|e| petrel::api::error::ApiError::from(e).into_response())
}

pub async fn actor(State(ctx): State<Ctx>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    // `/users/NAME.rss` and `.atom` are Mastodon's feed URLs: the feeds live under `/@NAME`.
    for ext in [".rss", ".atom"] {
        if let Some(base) = name.strip_suffix(ext) {
            return axum::response::Redirect::permanent(&format!("/@{base}{ext}")).into_response();
        }
    }
    let account = match local_account(&ctx, &name).await {
        Ok(Some(a)) => a,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    if !wants_json(&headers) {
        return to_html(account_url(&ctx.config, &account.username));
    }
    activity_json(convert::actor(&ctx.config, &account))
}

/// A status others may see without being addressed: public or unlisted.
async fn published_status(ctx: &Ctx, name: &str, id: &str) -> Result<(Account, Status), Response> {
    let account = match local_account(ctx, name).await? {
        Some(a) => a,
        None => return Err(not_found()),
    };
    let status = statuses::get(ctx.stores.table.as_ref(), id)
        .await
        .map_err(|e| petrel::api::error::ApiError::from(e).into_response())?
        .filter(|s| s.account_id == account.id && s.reblog_of.is_none())
        .filter(|s| visibility::decide(s, None) == Decision::Yes)
        .ok_or_else(not_found)?;
    Ok((account, status))
}

pub async fn status(State(ctx): State<Ctx>, Path((name, id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    match published_status(&ctx, &name, &id).await {
        Ok((author, s)) if wants_json(&headers) => {
            let mut note = convert::note(&ctx.config, &author, &s);
            note["@context"] = petrel::activitypub::vocab::context();
            activity_json(note)
        }
        Ok((author, s)) => to_html(status_url(&ctx.config, &author.username, &s.id)),
        Err(r) => r,
    }
}

pub async fn status_activity(State(ctx): State<Ctx>, Path((name, id)): Path<(String, String)>) -> Response {
    match published_status(&ctx, &name, &id).await {
        Ok((author, s)) => activity_json(convert::create(&ctx.config, &author, &s)),
        Err(r) => r,
    }
}
