//! `/api/v1/domain_blocks`: the caller's blocked domains (`petrel::repo::domain_blocks` says
//! where a block applies: inbound activities, timelines, deliveries).

use axum::extract::State;
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};
use petrel::repo::domain_blocks;
use petrel::Ctx;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct DomainParam {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    domain: Option<String>,
}

/// `GET /api/v1/domain_blocks`: the blocked domains, alphabetically (read with the account that
/// authenticated the call: no further read).
pub async fn list(auth: Auth) -> ApiResult<Json<Vec<String>>> {
    let me = auth.user("read:blocks")?;
    Ok(Json(me.blocked_domains.clone()))
}

/// The domain from the body (form or JSON) or, with an empty body (some clients send a DELETE
/// so), the query string: `Params` reads either.
fn domain_of(p: DomainParam) -> ApiResult<String> {
    let given = p.domain.filter(|d| !d.trim().is_empty());
    let given = given.ok_or_else(|| ApiError::Unprocessable("Domain can't be blank".into()))?;
    domain_blocks::normalize(&given).ok_or_else(|| ApiError::Unprocessable(format!("`{given}` is not a domain")))
}

async fn set(ctx: &Ctx, auth: &Auth, p: DomainParam, on: bool) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:blocks")?;
    let domain = domain_of(p)?;
    if on && (domain == ctx.config.domain || domain == ctx.config.handle_domain) {
        return Err(ApiError::Unprocessable("You cannot block your own domain".into()));
    }
    domain_blocks::set(ctx.stores.table.as_ref(), me, &domain, on).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /api/v1/domain_blocks` with `domain`: answers `{}`, as Mastodon does.
pub async fn block(
    State(ctx): State<Ctx>,
    auth: Auth,
    Params(p): Params<DomainParam>,
) -> ApiResult<Json<serde_json::Value>> {
    set(&ctx, &auth, p, true).await
}

/// `DELETE /api/v1/domain_blocks` with `domain`.
pub async fn unblock(
    State(ctx): State<Ctx>,
    auth: Auth,
    Params(p): Params<DomainParam>,
) -> ApiResult<Json<serde_json::Value>> {
    set(&ctx, &auth, p, false).await
}
