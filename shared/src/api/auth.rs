//! Bearer tokens: who is calling, and with which scopes. Two table reads per request: the token
//! (stored under its SHA-256) and its account, whose token generation the token must match.

use crate::model::{AccessToken, Account};
use crate::repo::{accounts, oauth};
use crate::Ctx;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::api::error::{ApiError, ApiResult};
use crate::api::scopes;

pub struct Auth {
    pub token: AccessToken,
    pub account: Option<Account>,
    /// The token as presented, for what is kept per token (its Web Push subscription).
    pub bearer: String,
}

impl Auth {
    pub fn require(&self, scope: &str) -> ApiResult<()> {
        if scopes::allows(&self.token.scopes, scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The user behind the token, with the scope checked.
    pub fn user(&self, scope: &str) -> ApiResult<&Account> {
        self.require(scope)?;
        self.account
            .as_ref()
            .ok_or_else(|| ApiError::Unprocessable("This method requires an authenticated user".into()))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub async fn authenticate(ctx: &Ctx, bearer: &str) -> ApiResult<Auth> {
    let table = ctx.stores.table.as_ref();
    let token = oauth::token(table, bearer).await?.ok_or(ApiError::Unauthorized)?;
    let account = match &token.account_id {
        Some(id) => Some(accounts::by_id(table, id).await?.ok_or(ApiError::Unauthorized)?),
        None => None,
    };
    // A password change or "revoke all" moved the account's generation past the token's: this
    // voids every older token, including those no token list names, with the read made anyway.
    if account.as_ref().is_some_and(|a| token.generation < a.token_generation) {
        return Err(ApiError::Unauthorized);
    }
    Ok(Auth { token, account, bearer: bearer.to_string() })
}

impl FromRequestParts<Ctx> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        authenticate(ctx, token).await
    }
}

/// For endpoints open to anonymous callers: no header is fine, a bad token is still 401.
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequestParts<Ctx> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            None => Ok(MaybeAuth(None)),
            Some(token) => Ok(MaybeAuth(Some(authenticate(ctx, token).await?))),
        }
    }
}

impl MaybeAuth {
    pub fn account(&self) -> Option<&Account> {
        self.0.as_ref().and_then(|a| a.account.as_ref())
    }
}
