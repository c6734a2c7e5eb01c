//! Local accounts: created by the `petrel` CLI, read by every function.

use crate::crypto;
use crate::model::{valid_username, Account};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{str_attr_of, Cond, StoreError, Table, TxOp, Update, Value};

/// Creates an account with a fresh RSA-2048 key pair. One transaction writes the username claim
/// and the profile, so a taken name leaves nothing behind.
pub async fn create(table: &dyn Table, username: &str, password: &str) -> Result<Account, RepoError> {
    if !valid_username(username) {
        return Err(RepoError::Invalid(format!(
            "`{username}` is not a valid username: use 1 to 30 letters, digits or underscores"
        )));
    }
    check_password(password)?;
    let password_hash = crypto::hash_password(password).map_err(|e| RepoError::Invalid(e.to_string()))?;
    insert(table, username, password_hash, crate::store::table::now_secs() * 1000).await
}

/// Creates an account restored from an archive: no password (none can log in until `petrel
/// account password` sets one; an empty hash never verifies) and a fresh key pair, since archives
/// never hold private keys.
pub async fn create_without_password(table: &dyn Table, username: &str, created_at: i64) -> Result<Account, RepoError> {
    if !valid_username(username) {
        return Err(RepoError::Invalid(format!(
            "`{username}` is not a valid username: use 1 to 30 letters, digits or underscores"
        )));
    }
    insert(table, username, String::new(), created_at).await
}

async fn insert(
    table: &dyn Table,
    username: &str,
    password_hash: String,
    created_at: i64,
) -> Result<Account, RepoError> {
    let keys = crypto::generate_rsa_2048().map_err(|e| RepoError::Invalid(e.to_string()))?;
    let id = crate::ids::snowflake();
    let account = Account {
        id: id.clone(),
        username: username.to_string(),
        display_name: String::new(),
        note: String::new(),
        created_at,
        locked: false,
        bot: false,
        discoverable: true,
        fields: Vec::new(),
        avatar_key: None,
        header_key: None,
        statuses_count: 0,
        followers_count: 0,
        following_count: 0,
        last_status_at: None,
        password_hash,
        token_generation: 0,
        private_key_pem: keys.private_pem,
        public_key_pem: keys.public_pem,
        remote: None,
        blocked_by: Vec::new(),
        muted_by: Vec::new(),
        posting: Default::default(),
        blocked_domains: Vec::new(),
        ttl: None,
        filters_count: 0,
        emojis: Vec::new(),
        verified_links: Default::default(),
    };
    let mut local_entry = keys::local_account(&id).to_item();
    local_entry.insert("account_id".into(), Value::S(id.clone()));
    let mut claim = keys::username(username).to_item();
    claim.insert("account_id".into(), Value::S(id.clone()));
    let result = table
        .transact(vec![
            TxOp::Put { item: claim, cond: Some(Cond::ItemNotExists) },
            TxOp::Put { item: to_item(&keys::account(&id), &account)?, cond: Some(Cond::ItemNotExists) },
            TxOp::Put { item: local_entry, cond: None },
            // No followers yet: its delivery inbox set is complete, and kept so by every follow.
            TxOp::Put { item: keys::delivery_inboxes_built(&id).to_item(), cond: None },
        ])
        .await;
    match result {
        Ok(()) => Ok(account),
        Err(StoreError::ConditionFailed { index: Some(0) }) => {
            Err(RepoError::Conflict(format!("the username `{username}` is taken")))
        }
        Err(e) => Err(e.into()),
    }
}

fn check_password(password: &str) -> Result<(), RepoError> {
    if password.chars().count() < 8 {
        return Err(RepoError::Invalid("the password must have at least 8 characters".into()));
    }
    if password.len() > 1024 {
        return Err(RepoError::Invalid("the password must have at most 1024 bytes".into()));
    }
    Ok(())
}

pub async fn by_id(table: &dyn Table, id: &str) -> Result<Option<Account>, RepoError> {
    match table.get(&keys::account(id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Two reads: the username claim, then the profile.
pub async fn by_username(table: &dyn Table, username: &str) -> Result<Option<Account>, RepoError> {
    let Some(claim) = table.get(&keys::username(username)).await? else {
        return Ok(None);
    };
    let id = str_attr_of(&claim, "account_id")
        .ok_or_else(|| StoreError::Corrupt(format!("username claim for {username} has no account id")))?;
    by_id(table, id).await
}

/// Sets an account's password and revokes every token it has: the same update moves its token
/// generation on (voiding all its tokens, listed or not), then the listed tokens are deleted.
/// Returns how many listed tokens were deleted.
pub async fn set_password(table: &dyn Table, username: &str, password: &str) -> Result<usize, RepoError> {
    check_password(password)?;
    let account =
        by_username(table, username).await?.ok_or_else(|| RepoError::NotFound(format!("account `{username}`")))?;
    let hash = crypto::hash_password(password).map_err(|e| RepoError::Invalid(e.to_string()))?;
    let update = Update::default().set("password_hash", Value::S(hash)).add("token_generation", 1);
    match table.update(&keys::account(&account.id), update, Some(Cond::ItemExists)).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound(format!("account `{username}`"))),
        Err(e) => return Err(e.into()),
    }
    crate::repo::oauth::delete_listed_tokens(table, &account.id).await
}

/// Replaces a password hash made under older argon2 parameters with `new_hash` of the same
/// password, unless the password changed meanwhile. Tokens stay valid: the password is the same.
pub async fn rehash_password(table: &dyn Table, id: &str, old_hash: &str, new_hash: String) -> Result<(), RepoError> {
    let update = Update::default().set("password_hash", Value::S(new_hash));
    let unchanged = Cond::AttrEq("password_hash".into(), Value::S(old_hash.to_string()));
    match table.update(&keys::account(id), update, Some(unchanged)).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Every local account (an instance has one or a few): one query and a batch get per 100.
pub async fn list_local(table: &dyn Table) -> Result<Vec<Account>, RepoError> {
    by_ids(table, &local_ids(table).await?).await
}

/// The ids of the local accounts: one query of the index, without reading the accounts.
pub async fn local_ids(table: &dyn Table) -> Result<Vec<String>, RepoError> {
    let items = crate::repo::query_all(table, crate::store::Query::new(keys::LOCAL_ACCOUNTS)).await?;
    Ok(items.iter().filter_map(|i| str_attr_of(i, "account_id")).map(str::to_string).collect())
}

/// Accounts by id (missing ones skipped, repeated ones once): one batch get per 100.
pub async fn by_ids(table: &dyn Table, ids: &[String]) -> Result<Vec<Account>, RepoError> {
    by_ids_with(table, ids, crate::repo::Freshness::Strong).await
}

/// As `by_ids`, as fresh as asked.
pub async fn by_ids_with(
    table: &dyn Table,
    ids: &[String],
    freshness: crate::repo::Freshness,
) -> Result<Vec<Account>, RepoError> {
    // BatchGetItem refuses a key named twice (notifications from one sender, interleaved).
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<&String> = ids.iter().filter(|id| seen.insert(*id)).collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<crate::store::Key> = chunk.iter().map(|id| keys::account(id)).collect();
        for item in crate::repo::batch_get(table, &keys, freshness).await?.into_iter().flatten() {
            out.push(from_item(item)?);
        }
    }
    Ok(out)
}

/// Profile changes from `update_credentials`; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    /// HTML.
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub fields: Option<Vec<(String, String)>>,
    /// Blob keys of newly stored images.
    pub avatar_key: Option<String>,
    pub header_key: Option<String>,
    /// New posting defaults (`source[privacy]` …), when they change.
    pub posting: Option<crate::model::PostingDefaults>,
}

/// Applies the changes in one conditional update and returns the account as it is now.
pub async fn update_profile(table: &dyn Table, id: &str, p: ProfileUpdate) -> Result<Account, RepoError> {
    let mut update = Update::default();
    if let Some(v) = p.display_name {
        update = update.set("display_name", Value::S(v));
    }
    if let Some(v) = p.note {
        update = update.set("note", Value::S(v));
    }
    for (name, flag) in [("locked", p.locked), ("bot", p.bot), ("discoverable", p.discoverable)] {
        if let Some(flag) = flag {
            update = update.set(name, Value::Bool(flag));
        }
    }
    if let Some(fields) = p.fields {
        let stored = serde_dynamo::to_attribute_value(&fields).map_err(|e| RepoError::Invalid(e.to_string()))?;
        update = update.set("fields", stored);
    }
    for (name, key) in [("avatar_key", p.avatar_key), ("header_key", p.header_key)] {
        if let Some(key) = key {
            update = update.set(name, Value::S(key));
        }
    }
    if let Some(posting) = p.posting {
        let stored = serde_dynamo::to_attribute_value(&posting).map_err(|e| RepoError::Invalid(e.to_string()))?;
        update = update.set("posting", stored);
    }
    if update.set.is_empty() {
        return by_id(table, id).await?.ok_or_else(|| RepoError::NotFound("account".into()));
    }
    match table.update(&keys::account(id), update, Some(Cond::ItemExists)).await {
        Ok(item) => from_item(item),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("account".into())),
        Err(e) => Err(e.into()),
    }
}

/// Records which profile field values link back (value → when it was checked, ms), replacing
/// what was recorded before.
pub async fn set_verified_links(
    table: &dyn Table,
    id: &str,
    verified: &std::collections::BTreeMap<String, i64>,
) -> Result<(), RepoError> {
    let update = if verified.is_empty() {
        Update::default().remove("verified_links")
    } else {
        let stored = serde_dynamo::to_attribute_value(verified).map_err(|e| RepoError::Invalid(e.to_string()))?;
        Update::default().set("verified_links", stored)
    };
    match table.update(&keys::account(id), update, Some(Cond::ItemExists)).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn by_ids_reads_a_repeated_id_once() {
        let dir = tempfile::tempdir().unwrap();
        let stores = crate::store::Stores::embedded(dir.path(), "http://localhost:8080/media").unwrap();
        let t = stores.table.as_ref();
        let a = create(t, "ann", "correct horse battery").await.unwrap();
        let b = create(t, "bob", "correct horse battery").await.unwrap();
        let found = by_ids(t, &[a.id.clone(), b.id.clone(), a.id.clone()]).await.unwrap();
        assert_eq!(found.iter().map(|x| x.username.as_str()).collect::<Vec<_>>(), ["ann", "bob"]);
    }
}
