//! OAuth 2.0 as Mastodon clients use it: the authorize page (login and approve in one form),
//! the token endpoint (authorization_code with PKCE S256, password, client_credentials),
//! revocation, and the server metadata document.

pub mod authorize;
pub mod metadata;
pub mod token;

use petrel::model::{Account, App};
use petrel::repo::{accounts, oauth};
use petrel::Ctx;

use petrel::api::error::{ApiError, ApiResult};

/// The app, if the client id names one and the secret (when given) is its secret.
pub async fn client(ctx: &Ctx, client_id: &str, secret: Option<&str>) -> ApiResult<App> {
    let invalid = || {
        ApiError::oauth(axum::http::StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
    };
    let app = oauth::app(ctx.stores.table.as_ref(), client_id).await?.ok_or_else(invalid)?;
    match secret {
        Some(s) if !oauth::same_secret(s, &app.secret_hash) => Err(invalid()),
        _ => Ok(app),
    }
}

/// Checks a username (or what clients call the e-mail: the username works there) and password.
pub async fn check_login(ctx: &Ctx, username: &str, password: &str) -> ApiResult<Option<Account>> {
    let name = username.trim().trim_start_matches('@');
    // `alice@social.example` and `alice` both name the local account alice.
    let name = name.split_once('@').map_or(name, |(user, _)| user);
    if !petrel::model::valid_username(name) {
        return Ok(None);
    }
    let Some(account) = accounts::by_username(ctx.stores.table.as_ref(), name).await? else { return Ok(None) };
    let hash = account.password_hash.clone();
    let password = password.to_string();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || petrel::crypto::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(ok.then_some(account))
}
