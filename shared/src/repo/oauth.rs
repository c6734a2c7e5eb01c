//! OAuth records: apps, authorization codes and access tokens. Secrets and tokens are stored
//! under their SHA-256, so these records hold no usable credential. (A token with a Web Push
//! subscription is also kept in that subscription, which every push names it in, as Mastodon's
//! does: see `repo::push`.)

use crate::crypto::sha256_hex;
use crate::ids;
use crate::model::{AccessToken, App, AuthCode};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, Query, StoreError, Table, TxOp, Update};
use serde::{Deserialize, Serialize};

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

/// What an account's token list keeps of one token, for its owner to see and revoke it: never
/// the token, only the hash it is stored under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenEntry {
    pub id: String,
    pub token_hash: String,
    pub client_id: String,
    #[serde(default)]
    pub app_name: Option<String>,
    #[serde(default)]
    pub app_website: Option<String>,
    pub scopes: Vec<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// Issues an access token; returns its value (shown once). A user's token is written together
/// with its entry in the account's token list (one transaction), so every token issued since
/// the list exists can be listed and revoked without a Scan.
pub async fn issue_token(table: &dyn Table, mut token: AccessToken) -> Result<String, RepoError> {
    let value = ids::random_token(32);
    let hash = sha256_hex(&value);
    let Some(account_id) = token.account_id.clone() else {
        table.put(to_item(&keys::token(&hash), &token)?, Some(Cond::ItemNotExists)).await?;
        return Ok(value);
    };
    let id = ids::snowflake();
    token.id = Some(id.clone());
    let entry = TokenEntry {
        id: id.clone(),
        token_hash: hash.clone(),
        client_id: token.client_id.clone(),
        app_name: token.app_name.clone(),
        app_website: token.app_website.clone(),
        scopes: token.scopes.clone(),
        created_at: token.created_at,
    };
    table
        .transact(vec![
            TxOp::Put { item: to_item(&keys::token(&hash), &token)?, cond: Some(Cond::ItemNotExists) },
            TxOp::Put {
                item: to_item(&keys::account_token(&account_id, &id), &entry)?,
                cond: Some(Cond::ItemNotExists),
            },
        ])
        .await?;
    Ok(value)
}

/// An account's listed tokens, oldest first (one query per 100).
pub async fn account_tokens(table: &dyn Table, account_id: &str) -> Result<Vec<TokenEntry>, RepoError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(Query::new(keys::account_tokens(account_id)).limit(100).cursor(cursor)).await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// The deletes that revoke a listed token: the token, its list entry and its Web Push
/// subscription, if any.
fn revoke_ops(account_id: &str, entry: &TokenEntry) -> [TxOp; 3] {
    [
        TxOp::Delete { key: keys::push_subscription(account_id, &entry.token_hash), cond: None },
        TxOp::Delete { key: keys::token(&entry.token_hash), cond: None },
        TxOp::Delete { key: keys::account_token(account_id, &entry.id), cond: None },
    ]
}

/// Revokes one of an account's listed tokens by its id; false when the account has none by
/// that id.
pub async fn revoke_account_token(table: &dyn Table, account_id: &str, token_id: &str) -> Result<bool, RepoError> {
    if token_id.is_empty() || token_id.len() > 64 {
        return Ok(false);
    }
    let Some(item) = table.get(&keys::account_token(account_id, token_id)).await? else { return Ok(false) };
    let entry: TokenEntry = from_item(item)?;
    table.transact(revoke_ops(account_id, &entry).into()).await?;
    Ok(true)
}

/// Revokes every token of an account: moves its token generation on (which voids every token
/// it has, listed or not, at the next request) and deletes the listed ones. Returns how many
/// listed tokens were deleted.
pub async fn revoke_all_tokens(table: &dyn Table, account_id: &str) -> Result<usize, RepoError> {
    let bump = Update::default().add("token_generation", 1);
    match table.update(&keys::account(account_id), bump, Some(Cond::ItemExists)).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound("account".into())),
        Err(e) => return Err(e.into()),
    }
    delete_listed_tokens(table, account_id).await
}

/// Deletes every listed token of an account (after its generation moved on, so a failure part
/// way leaves only tokens that are already refused) and every Web Push subscription it has, the
/// subscriptions of tokens no list names included: a voided token's pushes stop too.
pub(crate) async fn delete_listed_tokens(table: &dyn Table, account_id: &str) -> Result<usize, RepoError> {
    let entries = account_tokens(table, account_id).await?;
    for chunk in entries.chunks(crate::store::table::MAX_TRANSACT_ITEMS / 3) {
        table.transact(chunk.iter().flat_map(|e| revoke_ops(account_id, e)).collect()).await?;
    }
    for (hash, _) in crate::repo::push::of_account(table, account_id).await? {
        crate::repo::push::delete_by_hash(table, account_id, &hash).await?;
    }
    Ok(entries.len())
}

pub async fn token(table: &dyn Table, value: &str) -> Result<Option<AccessToken>, RepoError> {
    if value.is_empty() || value.len() > 256 {
        return Ok(None);
    }
    table.get(&keys::token(&sha256_hex(value))).await?.map(from_item).transpose()
}

/// Revokes a token its app hands back (`POST /oauth/revoke`) and what lives only as long as it:
/// its Web Push subscription first (a failure in between leaves a token that can be revoked
/// again, never a subscription that outlives its token), then the token and its list entry.
pub async fn revoke_token(table: &dyn Table, value: &str, token: &AccessToken) -> Result<(), RepoError> {
    if let Some(account_id) = &token.account_id {
        crate::repo::push::delete(table, account_id, value).await?;
    }
    let key = keys::token(&sha256_hex(value));
    match (&token.account_id, &token.id) {
        (Some(account_id), Some(id)) => {
            table
                .transact(vec![
                    TxOp::Delete { key, cond: None },
                    TxOp::Delete { key: keys::account_token(account_id, id), cond: None },
                ])
                .await?
        }
        _ => table.delete(&key, None).await?,
    }
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
