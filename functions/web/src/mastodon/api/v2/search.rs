//! `GET /api/v2/search`: local accounts, hashtags, local statuses by URL, and with `resolve=true`
//! remote accounts by `@user@domain` (WebFinger) or actor URL, through the safe client.

use axum::extract::State;
use axum::Json;
use petrel::mastodon::convert;
use petrel::Ctx;
use serde::Deserialize;
use serde_json::json;

use crate::mastodon::api::v1::{accounts, statuses};
use petrel::api::auth::Auth;
use petrel::api::error::ApiResult;
use petrel::api::params::{lenient, QueryParams};

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    limit: Option<u32>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    resolve: Option<bool>,
}

/// The id of a local status named by its URL or URI.
fn local_status_id(ctx: &Ctx, q: &str) -> Option<String> {
    let base = ctx.config.base_url();
    let path = q.strip_prefix(&base)?;
    let id = path.rsplit('/').next()?;
    (path.starts_with("/@") || path.starts_with("/users/"))
        .then(|| id.to_string())
        .filter(|id| petrel::repo::statuses::valid_id(id))
}

pub async fn search(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<SearchParams>,
) -> ApiResult<Json<serde_json::Value>> {
    auth.require("read:search")?;
    let limit = p.limit.unwrap_or(20).clamp(1, 40) as usize;
    let q = p.q.trim();
    let want = |k: &str| p.kind.as_deref().is_none_or(|t| t == k);
    let mut found_accounts = if want("accounts") { accounts::search_local(&ctx, q, limit).await? } else { Vec::new() };
    if want("accounts") && p.resolve == Some(true) && auth.account.is_some() {
        if let Some(remote) = accounts::resolve_remote(&ctx, q).await {
            found_accounts.insert(0, convert::account(&ctx.config, &remote, false));
        }
    }
    let mut found_statuses = Vec::new();
    if want("statuses") {
        // A remote post by URL, fetched through the safe client when `resolve` is set.
        let remote_id = match local_status_id(&ctx, q) {
            None if p.resolve == Some(true) && auth.account.is_some() && q.starts_with("http") => {
                match petrel::activitypub::resolve::status(&ctx, q).await {
                    Ok(found) => found.map(|s| s.id),
                    Err(e) => {
                        tracing::info!(query = q, error = %e, "status lookup failed");
                        None
                    }
                }
            }
            local => local,
        };
        if let Some(id) = remote_id {
            let viewer = auth.account.as_ref().map(|a| a.id.as_str());
            found_statuses = statuses::render_many(&ctx, auth.account.as_ref(), &[id])
                .await?
                .into_iter()
                .filter(|s| {
                    s.visibility == "public" || s.visibility == "unlisted" || Some(s.account.id.as_str()) == viewer
                })
                .collect();
        }
    }
    let tag = q.trim_start_matches('#');
    let hashtags = if want("hashtags") && !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
        vec![convert::tag(&ctx.config, &tag.to_lowercase())]
    } else {
        Vec::new()
    };
    Ok(Json(json!({ "accounts": found_accounts, "statuses": found_statuses, "hashtags": hashtags })))
}
