//! OAuth 2.0 as Mastodon clients use it: the authorize page (login and approve in one form),
//! the token endpoint (authorization_code with PKCE S256, password, client_credentials),
//! revocation, the owner's page of authorised apps, and the server metadata document.

pub mod authorize;
pub mod authorized_applications;
pub mod metadata;
pub mod token;

use petrel::http::{address_bucket, ClientAddr};
use petrel::model::{Account, App};
use petrel::repo::logins::{self, Verdict};
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

/// The account name a sign-in names: `alice`, `@alice` and `alice@social.example` all name the
/// local account alice (clients call the field e-mail). Lower-cased, as usernames compare.
fn sign_in_name(username: &str) -> String {
    let name = username.trim().trim_start_matches('@');
    name.split_once('@').map_or(name, |(user, _)| user).to_ascii_lowercase()
}

/// Checks a username and password, for the password grant and the sign-in forms alike.
///
/// Throttled per username and per client address (`repo::logins`): over budget, the answer is
/// 429 before the password is looked at, right or wrong. Every attempt that gets past the
/// throttle spends one argon2 verification, against a fixed dummy hash when the name is
/// unknown (or the account has no password), so a wrong name answers no faster than a wrong
/// password. Failures are counted and logged with the name and address, never the password.
pub async fn check_login(ctx: &Ctx, username: &str, password: &str, client: ClientAddr) -> ApiResult<Option<Account>> {
    let table = ctx.stores.table.as_ref();
    let name = sign_in_name(username);
    let valid = petrel::model::valid_username(&name);
    let counted_name = valid.then_some(name.as_str());
    let address = address_bucket(client.0);
    // For the logs: the name as given, bounded (Debug formatting escapes it).
    let shown: String = name.chars().take(64).collect();
    let now = petrel::store::table::now_secs();
    if let Verdict::Throttled { retry_after, by } = logins::check(table, counted_name, &address, now).await? {
        tracing::warn!(username = ?shown, address = %address, by, retry_after, "sign-in refused: too many failures");
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let account = match counted_name {
        Some(n) => accounts::by_username(table, n).await?,
        None => None,
    };
    let hash = account.as_ref().map(|a| a.password_hash.clone()).filter(|h| !h.is_empty());
    let given = password.to_string();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || match &hash {
        Some(hash) => petrel::crypto::verify_password(&given, hash),
        None => petrel::crypto::verify_dummy(&given),
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match account {
        Some(account) if ok => {
            if petrel::crypto::needs_rehash(&account.password_hash) {
                rehash(ctx, &account, password).await;
            }
            Ok(Some(account))
        }
        account => {
            logins::record_failure(table, counted_name, &address, now).await?;
            tracing::warn!(username = ?shown, address = %address, known = account.is_some(), "sign-in failed");
            Ok(None)
        }
    }
}

/// Stores the password's hash under the current argon2 parameters (its stored one was made under
/// others). Best effort: the sign-in succeeds either way.
async fn rehash(ctx: &Ctx, account: &Account, password: &str) {
    let password = password.to_string();
    let fresh = match tokio::task::spawn_blocking(move || petrel::crypto::hash_password(&password)).await {
        Ok(Ok(h)) => h,
        _ => return,
    };
    let table = ctx.stores.table.as_ref();
    if let Err(e) = accounts::rehash_password(table, &account.id, &account.password_hash, fresh).await {
        tracing::warn!(error = %e, "could not store the password's new hash");
    }
}
