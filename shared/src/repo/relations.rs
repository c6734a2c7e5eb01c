//! Blocks and mutes by local accounts. Each is an index entry (for the lists) and the local
//! account's id in the target's `blocked_by` / `muted_by`, written in one transaction.

use crate::model::Account;
use crate::repo::{keys, RepoError};
use crate::store::{StoreError, Table, TxOp, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Block,
    Mute,
}

impl Kind {
    pub fn partition_kind(self) -> &'static str {
        match self {
            Kind::Block => "BLOCKS",
            Kind::Mute => "MUTES",
        }
    }
}

/// Turns a block or mute on or off; returns whether anything changed. The target's list is
/// replaced under a condition on its previous value, so two changes at once cannot lose one.
pub async fn set(table: &dyn Table, kind: Kind, local_id: &str, target: &Account, on: bool) -> Result<bool, RepoError> {
    let (field, current) = match kind {
        Kind::Block => ("blocked_by", &target.blocked_by),
        Kind::Mute => ("muted_by", &target.muted_by),
    };
    let has = current.iter().any(|l| l == local_id);
    if has == on {
        return Ok(false);
    }
    let next: Vec<String> =
        current.iter().filter(|l| *l != local_id).cloned().chain(on.then(|| local_id.to_string())).collect();
    let (guard, update) = crate::repo::replace_list(field, current, &next);
    if on {
        // The lists live on the actor's item: a blocked or muted actor must never expire.
        crate::repo::actors::keep(table, target).await?;
    }
    let index = keys::relation(kind.partition_kind(), local_id, &target.id);
    let ops = vec![
        TxOp::Update { key: keys::account(&target.id), update, cond: Some(guard) },
        if on { TxOp::Put { item: index.to_item(), cond: None } } else { TxOp::Delete { key: index, cond: None } },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::Conflict("the account changed at the same time; try again".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// At most this many characters in a note on an account (Mastodon's limit).
pub const MAX_NOTE: usize = 2000;

/// Sets (or, when empty, removes) a local account's private note on another account; read back
/// with the relationship (`Relationship.note`).
pub async fn set_note(table: &dyn Table, local_id: &str, target_id: &str, comment: &str) -> Result<(), RepoError> {
    if comment.chars().count() > MAX_NOTE {
        return Err(RepoError::Invalid(format!("Comment is too long (maximum is {MAX_NOTE} characters)")));
    }
    let key = keys::account_note(local_id, target_id);
    if comment.is_empty() {
        table.delete(&key, None).await?;
    } else {
        let mut item = key.to_item();
        item.insert("comment".into(), Value::S(comment.to_string()));
        table.put(item, None).await?;
    }
    Ok(())
}
