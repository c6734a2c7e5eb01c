//! OAuth records: apps, authorization codes and access tokens. Secrets and tokens are stored
//! under their SHA-256, so these records hold no usable credential. (A token with a Web Push
//! subscription is also kept in that subscription, which every push names it in, as Mastodon's
//! does: see `repo::push`.)

use crate::ids;
use crate::model::{AccessToken, App, AuthCode};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, StoreError, Table};

pub fn sha256_hex(s: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, s.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` is the secret whose hash is stored. Comparing hashes, not secrets, leaks
/// nothing usable through timing: an attacker cannot steer the hash's prefix.
pub fn same_secret(given: &str, stored_hash: &str) -> bool {
    sha256_hex(given) == stored_hash
}

fn now_ms() -> i64 {
    crate::store::table::now_secs() * 1000
}

/// Registers an app; returns it with its client secret (shown once).
pub async fn create_app(
    table: &dyn Table,
    name: &str,
    website: Option<String>,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
) -> Result<(App, String), RepoError> {
    let secret = ids::random_token(32);
    let app = App {
        id: ids::snowflake(),
        client_id: ids::random_token(16),
        secret_hash: sha256_hex(&secret),
        name: name.to_string(),
        website,
        redirect_uris,
        scopes,
        created_at: now_ms(),
    };
    table.put(to_item(&keys::app(&app.client_id), &app)?, Some(Cond::ItemNotExists)).await?;
    Ok((app, secret))
}

pub async fn app(table: &dyn Table, client_id: &str) -> Result<Option<App>, RepoError> {
    if client_id.is_empty() || client_id.len() > 128 {
        return Ok(None);
    }
    table.get(&keys::app(client_id)).await?.map(from_item).transpose()
}

/// Issues an access token; returns its value (shown once).
pub async fn issue_token(table: &dyn Table, token: AccessToken) -> Result<String, RepoError> {
    let value = ids::random_token(32);
    table.put(to_item(&keys::token(&sha256_hex(&value)), &token)?, Some(Cond::ItemNotExists)).await?;
    Ok(value)
}

pub async fn token(table: &dyn Table, value: &str) -> Result<Option<AccessToken>, RepoError> {
    if value.is_empty() || value.len() > 256 {
        return Ok(None);
    }
    table.get(&keys::token(&sha256_hex(value))).await?.map(from_item).transpose()
}

/// Revokes a token (`stored`: its record) and what lives only as long as it: its Web Push
/// subscription. The subscription goes first, so a failure in between leaves a token that can be
/// revoked again, never a subscription that outlives its token. Every way of revoking a token
/// comes through here.
pub async fn revoke_token(table: &dyn Table, value: &str, stored: &AccessToken) -> Result<(), RepoError> {
    if let Some(account_id) = &stored.account_id {
        crate::repo::push::delete(table, account_id, value).await?;
    }
    table.delete(&keys::token(&sha256_hex(value)), None).await?;
    Ok(())
}

/// Stores an authorization code valid for ten minutes; returns its value.
pub async fn issue_code(table: &dyn Table, mut code: AuthCode) -> Result<String, RepoError> {
    let value = ids::random_token(24);
    code.ttl = crate::store::table::now_secs() + 600;
    // `ttl` is the table's expiry attribute: the code disappears by itself.
    table.put(to_item(&keys::auth_code(&sha256_hex(&value)), &code)?, Some(Cond::ItemNotExists)).await?;
    Ok(value)
}

/// Takes a code: reads and deletes it in one conditional step, so it works once.
pub async fn redeem_code(table: &dyn Table, value: &str) -> Result<Option<AuthCode>, RepoError> {
    if value.is_empty() || value.len() > 256 {
        return Ok(None);
    }
    let key = keys::auth_code(&sha256_hex(value));
    let Some(item) = table.get(&key).await? else {
        return Ok(None);
    };
    match table.delete(&key, Some(Cond::ItemExists)).await {
        Ok(()) => {}
        // Someone redeemed it between our read and delete.
        Err(StoreError::ConditionFailed { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(Some(from_item(item)?))
}
