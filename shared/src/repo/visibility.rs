//! Who may see a status. This is the one rule: every route that opens, lists, marks or renders
//! statuses, the ActivityPub GETs and the inbox (for reactions) decide through it, before they
//! read counts, write marks or render.
//!
//! As Mastodon decides it (`StatusPolicy#show?`):
//! - the author always sees their status;
//! - an account the author blocks sees none of them;
//! - public and unlisted statuses are seen by everyone else, signed in or not;
//! - followers-only (`private`) statuses by the accounts they mention and the author's accepted
//!   followers;
//! - direct statuses by the accounts they mention, and nobody else.
//!
//! A boost is seen when the boost and the boosted status both are.

use std::collections::{HashMap, HashSet};

use crate::model::{Account, Status, Visibility};
use crate::repo::{follows, keys, RepoError};
use crate::store::{Key, Table};

/// What can be decided from the status and the viewer alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Yes,
    No,
    /// Yes exactly when the viewer is an accepted follower of the author (one read).
    IfFollower,
}

/// Decides without reading anything where the answer does not depend on a follow.
pub fn decide(status: &Status, viewer: Option<&Account>) -> Decision {
    let Some(viewer) = viewer else {
        return match status.visibility {
            Visibility::Public | Visibility::Unlisted => Decision::Yes,
            Visibility::Private | Visibility::Direct => Decision::No,
        };
    };
    if viewer.id == status.account_id {
        return Decision::Yes;
    }
    // `blocked_by` holds the local accounts that block this one; only a local author can block.
    if viewer.blocked_by.contains(&status.account_id) {
        return Decision::No;
    }
    match status.visibility {
        Visibility::Public | Visibility::Unlisted => Decision::Yes,
        _ if status.mentions.iter().any(|m| m.account_id == viewer.id) => Decision::Yes,
        Visibility::Private => Decision::IfFollower,
        Visibility::Direct => Decision::No,
    }
}

/// The key whose presence says `viewer` follows `author` with the follow accepted: a local
/// author's follower entry, or the viewer's own accepted follow of a remote author.
fn follow_key(viewer: &Account, author_is_local: bool, author_id: &str) -> (Key, bool) {
    if author_is_local {
        (keys::follower(author_id, &viewer.id), false)
    } else {
        (keys::following(&viewer.id, author_id), true)
    }
}

/// Whether `viewer` may see `status` (at most one read: the follow, for a followers-only status).
pub async fn may_see(table: &dyn Table, status: &Status, viewer: Option<&Account>) -> Result<bool, RepoError> {
    match (decide(status, viewer), viewer) {
        (Decision::Yes, _) => Ok(true),
        (Decision::IfFollower, Some(v)) => {
            if status.remote_uri.is_none() {
                Ok(follows::is_follower(table, &status.account_id, &v.id).await?)
            } else {
                Ok(follows::following(table, &v.id, &status.account_id).await?.is_some_and(|f| f.accepted))
            }
        }
        _ => Ok(false),
    }
}

/// [`may_see`] for many statuses at once: one batch read of the follows that decide them (at most
/// one per distinct author, and only for followers-only statuses the rest leaves open).
pub async fn filter_visible<'a>(
    table: &dyn Table,
    statuses: impl IntoIterator<Item = &'a Status>,
    viewer: Option<&Account>,
) -> Result<HashSet<String>, RepoError> {
    let mut yes = HashSet::new();
    let mut open: Vec<&Status> = Vec::new();
    for s in statuses {
        match decide(s, viewer) {
            Decision::Yes => {
                yes.insert(s.id.clone());
            }
            Decision::IfFollower => open.push(s),
            Decision::No => {}
        }
    }
    let Some(viewer) = viewer.filter(|_| !open.is_empty()) else {
        return Ok(yes);
    };
    let mut wanted: HashMap<String, (Key, bool)> = HashMap::new();
    for s in &open {
        wanted.entry(s.account_id.clone()).or_insert_with(|| follow_key(viewer, s.remote_uri.is_none(), &s.account_id));
    }
    let authors: Vec<&String> = wanted.keys().collect();
    let keys: Vec<Key> = authors.iter().map(|a| wanted[*a].0.clone()).collect();
    let mut follows_author = HashSet::new();
    for (chunk_authors, chunk_keys) in authors
        .chunks(crate::store::table::MAX_BATCH_GET_KEYS)
        .zip(keys.chunks(crate::store::table::MAX_BATCH_GET_KEYS))
    {
        for (author, found) in chunk_authors.iter().zip(table.batch_get(chunk_keys).await?) {
            let remote_side = wanted[*author].1;
            let accepted = match &found {
                // A local account's own follow of a remote author counts once accepted.
                Some(item) if remote_side => crate::store::str_attr_of(item, "state") == Some("accepted"),
                Some(_) => true,
                None => false,
            };
            if accepted {
                follows_author.insert((*author).clone());
            }
        }
    }
    for s in open {
        if follows_author.contains(&s.account_id) {
            yes.insert(s.id.clone());
        }
    }
    Ok(yes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MentionRef;

    fn account(id: &str) -> Account {
        Account {
            id: id.into(),
            username: id.into(),
            display_name: String::new(),
            note: String::new(),
            created_at: 0,
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
            password_hash: String::new(),
            private_key_pem: String::new(),
            public_key_pem: String::new(),
            remote: None,
            blocked_by: Vec::new(),
            muted_by: Vec::new(),
            posting: Default::default(),
            blocked_domains: Vec::new(),
            ttl: None,
            filters_count: 0,
            emojis: Vec::new(),
            verified_links: Default::default(),
            token_generation: 0,
        }
    }

    fn status(visibility: Visibility, mentions: &[&str]) -> Status {
        let mut s = Status::boost("1".into(), "author".into(), "0".into(), 0);
        s.reblog_of = None;
        s.visibility = visibility;
        s.mentions = mentions
            .iter()
            .map(|m| MentionRef {
                account_id: (*m).into(),
                username: (*m).into(),
                acct: (*m).into(),
                url: String::new(),
                uri: None,
            })
            .collect();
        s
    }

    #[test]
    fn the_rule_without_reads() {
        use Decision::*;
        let author = account("author");
        let mentioned = account("mentioned");
        let stranger = account("stranger");
        let mut blocked = account("blocked");
        blocked.blocked_by.push("author".into());
        let cases = [
            (Visibility::Public, [Yes, Yes, Yes, Yes, No]),
            (Visibility::Unlisted, [Yes, Yes, Yes, Yes, No]),
            (Visibility::Private, [Yes, Yes, IfFollower, No, No]),
            (Visibility::Direct, [Yes, Yes, No, No, No]),
        ];
        for (vis, [a, m, s, anon, b]) in cases {
            let st = status(vis, &["mentioned", "blocked"]);
            assert_eq!(decide(&st, Some(&author)), a, "{vis:?} author");
            assert_eq!(decide(&st, Some(&mentioned)), m, "{vis:?} mentioned");
            assert_eq!(decide(&st, Some(&stranger)), s, "{vis:?} stranger");
            assert_eq!(decide(&st, None), anon, "{vis:?} anonymous");
            assert_eq!(decide(&st, Some(&blocked)), b, "{vis:?} blocked (even when mentioned)");
        }
    }
}
