//! Lists of accounts a local account follows, with timelines of their own (Mastodon's lists).
//!
//! A list is an item in its owner's `LISTS#` partition; its members are items under
//! `LISTMEMBERS#{list}`. What the inbox needs to route a received post — which lists of which
//! local followers hold its author, with each list's policies — rides on the follow entry the
//! inbox already reads (`LOCALFOLLOWERS#{author}` / `{owner}`, one attribute `l{list_id}` per
//! list): routing a post to lists costs no read beyond the one it always made.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::Status;
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{str_attr_of, Cond, Key, Query, StoreError, Table, TxOp, Update, Value, SK};

/// At most this many lists per account and members per list (Mastodon has no limit; these keep
/// each list's maintenance within bounded work).
pub const MAX_LISTS: usize = 100;
pub const MAX_MEMBERS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepliesPolicy {
    /// Replies to any account the owner follows.
    Followed,
    /// Replies to members of the list.
    List,
    /// No replies to others.
    None,
}

impl RepliesPolicy {
    pub fn parse(s: &str) -> Option<RepliesPolicy> {
        match s {
            "followed" => Some(RepliesPolicy::Followed),
            "list" => Some(RepliesPolicy::List),
            "none" => Some(RepliesPolicy::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepliesPolicy::Followed => "followed",
            RepliesPolicy::List => "list",
            RepliesPolicy::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List {
    pub id: String,
    pub title: String,
    pub replies_policy: RepliesPolicy,
    #[serde(default)]
    pub exclusive: bool,
}

impl List {
    /// The value stored on a member's follow entry: the policies routing needs.
    fn route_value(&self) -> Value {
        Value::S(format!("{}|{}", self.replies_policy.as_str(), if self.exclusive { "x" } else { "-" }))
    }
}

fn member_attr(list_id: &str) -> String {
    format!("l{list_id}")
}

pub async fn create(table: &dyn Table, owner_id: &str, list: &List) -> Result<(), RepoError> {
    if all(table, owner_id).await?.len() >= MAX_LISTS {
        return Err(RepoError::Invalid(format!("at most {MAX_LISTS} lists")));
    }
    table.put(to_item(&keys::list(owner_id, &list.id), list)?, Some(Cond::ItemNotExists)).await?;
    Ok(())
}

pub async fn get(table: &dyn Table, owner_id: &str, list_id: &str) -> Result<Option<List>, RepoError> {
    if !crate::repo::statuses::valid_id(list_id) {
        return Ok(None);
    }
    table.get(&keys::list(owner_id, list_id)).await?.map(from_item).transpose()
}

/// The owner's lists, oldest first (one query).
pub async fn all(table: &dyn Table, owner_id: &str) -> Result<Vec<List>, RepoError> {
    let items = crate::repo::query_all(table, Query::new(keys::lists(owner_id))).await?;
    items.into_iter().map(from_item).collect()
}

/// Member account ids of a list, in id order.
pub async fn members(table: &dyn Table, list_id: &str) -> Result<Vec<String>, RepoError> {
    let items = crate::repo::query_all(table, Query::new(keys::list_members(list_id))).await?;
    Ok(items.iter().filter_map(|i| str_attr_of(i, SK).map(str::to_string)).collect())
}

/// Saves a changed title or policy; the members' follow entries carry the policies, so each is
/// rewritten (a member whose follow ended meanwhile is skipped).
pub async fn update(table: &dyn Table, owner_id: &str, list: &List) -> Result<(), RepoError> {
    match table.put(to_item(&keys::list(owner_id, &list.id), list)?, Some(Cond::ItemExists)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound("list".into())),
        Err(e) => return Err(e.into()),
    }
    for member in members(table, &list.id).await? {
        let set = Update::default().set(member_attr(&list.id), list.route_value());
        match table.update(&keys::followed_by_local(&member, owner_id), set, Some(Cond::ItemExists)).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Adds members, each an account the owner follows (accepted). `NotFound` names the first that
/// is not followed; the members before it stay added (adding again is harmless).
pub async fn add_members(table: &dyn Table, owner_id: &str, list: &List, ids: &[String]) -> Result<(), RepoError> {
    if members(table, &list.id).await?.len() + ids.len() > MAX_MEMBERS {
        return Err(RepoError::Invalid(format!("at most {MAX_MEMBERS} accounts in a list")));
    }
    for id in ids {
        let mut member = keys::list_member(&list.id, id).to_item();
        member.insert("owner_id".into(), Value::S(owner_id.to_string()));
        let ops = vec![
            TxOp::Update {
                key: keys::followed_by_local(id, owner_id),
                update: Update::default().set(member_attr(&list.id), list.route_value()),
                cond: Some(Cond::ItemExists),
            },
            TxOp::Put { item: member, cond: None },
        ];
        match table.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => {
                return Err(RepoError::NotFound(format!("a follow of account {id}")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub async fn remove_members(table: &dyn Table, owner_id: &str, list_id: &str, ids: &[String]) -> Result<(), RepoError> {
    for id in ids {
        let ops = vec![
            TxOp::Delete { key: keys::list_member(list_id, id), cond: None },
            TxOp::Update {
                key: keys::followed_by_local(id, owner_id),
                update: Update::default().remove(member_attr(list_id)),
                // Never create a follow entry that is not there.
                cond: Some(Cond::ItemExists),
            },
        ];
        match table.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => table.delete(&keys::list_member(list_id, id), None).await?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Deletes a list: its members (and what their follow entries say of it), its timeline entries
/// and the list itself. Rare, so entry by entry.
pub async fn delete(table: &dyn Table, owner_id: &str, list_id: &str) -> Result<(), RepoError> {
    let ids = members(table, list_id).await?;
    remove_members(table, owner_id, list_id, &ids).await?;
    let entries = crate::repo::query_all(table, Query::new(keys::list_timeline(list_id))).await?;
    for item in entries {
        if let Some(sk) = str_attr_of(&item, SK) {
            table.delete(&keys::list_entry(list_id, sk), None).await?;
        }
    }
    table.delete(&keys::list(owner_id, list_id), None).await?;
    Ok(())
}

/// The owner's lists that hold `account_id`: one query of the lists, one batch get of the
/// membership items.
pub async fn containing(table: &dyn Table, owner_id: &str, account_id: &str) -> Result<Vec<List>, RepoError> {
    let lists = all(table, owner_id).await?;
    if lists.is_empty() {
        return Ok(lists);
    }
    let mut out = Vec::new();
    for chunk in lists.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<Key> = chunk.iter().map(|l| keys::list_member(&l.id, account_id)).collect();
        let found = table.batch_get(&keys).await?;
        out.extend(chunk.iter().zip(found).filter(|(_, f)| f.is_some()).map(|(l, _)| l.clone()));
    }
    Ok(out)
}

/// The list memberships of one member, as its follow entry (`LOCALFOLLOWERS#`) records them.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub list_id: String,
    pub replies_policy: RepliesPolicy,
    pub exclusive: bool,
}

/// A local follower of an account, with the lists of the follower that hold the account.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFollower {
    pub id: String,
    pub lists: Vec<Membership>,
}

/// The local followers of `target_id` with their lists holding it: the same one query as
/// `follows::local_followers_of`.
pub async fn local_followers(table: &dyn Table, target_id: &str) -> Result<Vec<LocalFollower>, RepoError> {
    let items = crate::repo::query_all(table, Query::new(keys::local_followers(target_id))).await?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let id = str_attr_of(i, SK)?.to_string();
            let lists = i
                .iter()
                .filter_map(|(name, v)| {
                    let list_id =
                        name.strip_prefix('l').filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))?;
                    let Value::S(route) = v else { return None };
                    let (policy, flag) = route.split_once('|')?;
                    Some(Membership {
                        list_id: list_id.to_string(),
                        replies_policy: RepliesPolicy::parse(policy)?,
                        exclusive: flag == "x",
                    })
                })
                .collect();
            Some(LocalFollower { id, lists })
        })
        .collect())
}

/// The list ids a received status of a list member goes to, as Mastodon decides: a post that is
/// not a reply to another account goes to every list holding its author; a reply to the list's
/// owner too; other replies by the list's policy (`followed`: the owner follows the account
/// replied to; `list`: that account is a member; `none`: never). A reply whose parent is not
/// known here goes to no list. Reads only for replies to third accounts: one per owner
/// (`followed`) or per list (`list`).
pub async fn route(table: &dyn Table, status: &Status, followers: &[LocalFollower]) -> Result<Vec<String>, RepoError> {
    let mut out = Vec::new();
    let is_reply = status.in_reply_to_uri.is_some() || status.in_reply_to_id.is_some();
    let parent_author = status.in_reply_to_account_id.as_deref();
    let mut follows: HashMap<String, bool> = HashMap::new();
    for f in followers {
        for m in &f.lists {
            let take = if !is_reply || status.reblog_of.is_some() || parent_author == Some(status.account_id.as_str()) {
                true
            } else if let Some(parent) = parent_author {
                if parent == f.id {
                    true
                } else {
                    match m.replies_policy {
                        RepliesPolicy::None => false,
                        RepliesPolicy::List => table.get(&keys::list_member(&m.list_id, parent)).await?.is_some(),
                        RepliesPolicy::Followed => match follows.get(&f.id) {
                            Some(v) => *v,
                            None => {
                                let v = crate::repo::follows::following(table, &f.id, parent)
                                    .await?
                                    .is_some_and(|x| x.accepted);
                                follows.insert(f.id.clone(), v);
                                v
                            }
                        },
                    }
                }
            } else {
                false
            };
            if take {
                out.push(m.list_id.clone());
            }
        }
    }
    Ok(out)
}

/// Owners among `followers` with an exclusive list holding the author: the author's posts stay
/// out of their home timelines (Mastodon's `exclusive`).
pub fn exclusive_owners(followers: &[LocalFollower]) -> Vec<String> {
    followers.iter().filter(|f| f.lists.iter().any(|m| m.exclusive)).map(|f| f.id.clone()).collect()
}

/// Partitions of the list timelines `list_ids` (for `statuses::store_remote_into`).
pub fn timelines(list_ids: &[String]) -> Vec<String> {
    list_ids.iter().map(|l| keys::list_timeline(l)).collect()
}

/// The list member items of lists the follow entry names, for deleting them when the follow ends.
pub fn member_keys_of_follow(item: &crate::store::Item, member_id: &str) -> Vec<Key> {
    item.keys()
        .filter(|n| n.len() > 1 && n.starts_with('l') && n[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(|n| keys::list_member(&n[1..], member_id))
        .collect()
}
