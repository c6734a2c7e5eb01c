//! Local accounts: created by the `petrel` CLI, read by every function.

use crate::crypto;
use crate::model::{valid_username, Account};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{str_attr_of, Cond, StoreError, Table, TxOp, Update, Value};

/// Creates an account with a fresh RSA-2048 key pair. One transaction writes the username claim
/// and the profile, so a taken name leaves nothing behind.
pub async fn create(
    table: &dyn Table,
    username: &str,
    password: &str,
) -> Result<Account, RepoError> {
    if !valid_username(username) {
        return Err(RepoError::Invalid(format!(
            "`{username}` is not a valid username: use 1 to 30 letters, digits or underscores"
        )));
    }
    check_password(password)?;
    let password_hash =
        crypto::hash_password(password).map_err(|e| RepoError::Invalid(e.to_string()))?;
    let keys = crypto::generate_rsa_2048().map_err(|e| RepoError::Invalid(e.to_string()))?;
    let id = crate::ids::snowflake();
    let account = Account {
        id: id.clone(),
        username: username.to_string(),
        display_name: String::new(),
        note: String::new(),
        created_at: crate::store::table::now_secs() * 1000,
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
        private_key_pem: keys.private_pem,
        public_key_pem: keys.public_pem,
    };
    let mut claim = keys::username(username).to_item();
    claim.insert("account_id".into(), Value::S(id.clone()));
    let result = table
        .transact(vec![
            TxOp::Put {
                item: claim,
                cond: Some(Cond::ItemNotExists),
            },
            TxOp::Put {
                item: to_item(&keys::account(&id), &account)?,
                cond: Some(Cond::ItemNotExists),
            },
        ])
        .await;
    match result {
        Ok(()) => Ok(account),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Err(RepoError::Conflict(format!(
            "the username `{username}` is taken"
        ))),
        Err(e) => Err(e.into()),
    }
}

fn check_password(password: &str) -> Result<(), RepoError> {
    if password.chars().count() < 8 {
        return Err(RepoError::Invalid(
            "the password must have at least 8 characters".into(),
        ));
    }
    if password.len() > 1024 {
        return Err(RepoError::Invalid(
            "the password must have at most 1024 bytes".into(),
        ));
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
    let id = str_attr_of(&claim, "account_id").ok_or_else(|| {
        StoreError::Corrupt(format!("username claim for {username} has no account id"))
    })?;
    by_id(table, id).await
}

pub async fn set_password(
    table: &dyn Table,
    username: &str,
    password: &str,
) -> Result<(), RepoError> {
    check_password(password)?;
    let account = by_username(table, username)
        .await?
        .ok_or_else(|| RepoError::NotFound(format!("account `{username}`")))?;
    let hash = crypto::hash_password(password).map_err(|e| RepoError::Invalid(e.to_string()))?;
    let update = Update::default().set("password_hash", Value::S(hash));
    match table
        .update(&keys::account(&account.id), update, Some(Cond::ItemExists))
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::NotFound(format!("account `{username}`")))
        }
        Err(e) => Err(e.into()),
    }
}
