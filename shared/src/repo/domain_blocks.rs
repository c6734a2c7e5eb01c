//! Domain blocks by local accounts (`/api/v1/domain_blocks`). A block lives in two places,
//! written in one transaction: the account's `blocked_domains` (read with the account, so
//! timelines and fan-out learn it with a read they make anyway) and an entry in the domain's
//! `DOMAINBLOCKERS#` partition (so the inbox finds, in one query, which local accounts block the
//! domain an activity comes from, and treats them as blocking its actor).
//!
//! A block covers the domain and its subdomains, as Mastodon's does.

use crate::model::Account;
use crate::repo::{keys, RepoError};
use crate::store::{str_attr_of, Query, StoreError, Table, TxOp, SK};

/// At most this many blocked domains per account (the list is kept on the account item).
pub const MAX_DOMAIN_BLOCKS: usize = 1000;

/// `domain` as a block names it: a host name, lower-cased, without scheme, port or path.
pub fn normalize(domain: &str) -> Option<String> {
    let d = domain.trim().to_ascii_lowercase();
    let d = d.trim_start_matches("https://").trim_start_matches("http://");
    let d = d.split(['/', '?', '#']).next().unwrap_or_default();
    let d = d.split(':').next().unwrap_or_default().trim_end_matches('.').to_string();
    let parsed = url::Url::parse(&format!("https://{d}/")).ok()?;
    let host = parsed.host_str()?;
    (host == d && d.contains('.') && d.len() <= 253).then_some(d)
}

/// Whether `host` is `domain` or one of its subdomains.
fn within(host: &str, domain: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// Whether the local account blocks this host (or a domain above it).
pub fn blocks_host(account: &Account, host: &str) -> bool {
    account.blocked_domains.iter().any(|d| within(host, d))
}

/// Whether `viewer` blocks the domain of `author` (a remote account; local ones never).
pub fn hides(viewer: &Account, author: &Account) -> bool {
    author.remote.as_ref().is_some_and(|r| blocks_host(viewer, &r.domain))
}

/// Blocks or unblocks a domain for a local account; returns the account's domains as they are
/// now. The list is replaced under a condition on its previous value, so two changes at once
/// cannot lose one.
pub async fn set(table: &dyn Table, account: &Account, domain: &str, on: bool) -> Result<Vec<String>, RepoError> {
    let current = &account.blocked_domains;
    let has = current.iter().any(|d| d == domain);
    if has == on {
        return Ok(current.clone());
    }
    if on && current.len() >= MAX_DOMAIN_BLOCKS {
        return Err(RepoError::Invalid(format!("at most {MAX_DOMAIN_BLOCKS} blocked domains")));
    }
    let mut next: Vec<String> = current.iter().filter(|d| *d != domain).cloned().collect();
    if on {
        next.push(domain.to_string());
        next.sort();
    }
    let (guard, update) = crate::repo::replace_list("blocked_domains", current, &next);
    let entry = keys::domain_blocker(domain, &account.id);
    let ops = vec![
        TxOp::Update { key: keys::account(&account.id), update, cond: Some(guard) },
        if on { TxOp::Put { item: entry.to_item(), cond: None } } else { TxOp::Delete { key: entry, cond: None } },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::Conflict("the account changed at the same time; try again".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The local accounts that block `host` or a domain above it (not the bare top-level domain):
/// one query per such domain, all at once (one for most hosts, `social.example`; two for
/// `eu.social.example`), of partitions that are usually empty.
pub async fn blockers(table: &dyn Table, host: &str) -> Result<Vec<String>, RepoError> {
    let Some(host) = normalize(host) else { return Ok(Vec::new()) };
    let labels: Vec<&str> = host.split('.').collect();
    let domains: Vec<String> = (0..labels.len().saturating_sub(1)).map(|i| labels[i..].join(".")).collect();
    let pages = futures::future::try_join_all(
        domains.iter().map(|d| table.query(Query::new(keys::domain_blockers(d)).limit(1000))),
    )
    .await?;
    let mut out: Vec<String> =
        pages.iter().flat_map(|p| p.items.iter()).filter_map(|i| str_attr_of(i, SK)).map(str::to_string).collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The actor as the inbox treats it: local accounts that block its domain count as blocking it
/// (`blocked_by`), so every check that honours a block (follows, mentions, home timelines,
/// notifications, reactions) honours the domain block too.
pub async fn apply_to_actor(table: &dyn Table, actor: &Account) -> Result<Option<Account>, RepoError> {
    let Some(host) = actor.remote.as_ref().map(|r| r.domain.as_str()) else { return Ok(None) };
    let by = blockers(table, host).await?;
    if by.iter().all(|l| actor.blocked_by.contains(l)) {
        return Ok(None);
    }
    let mut actor = actor.clone();
    for l in by {
        if !actor.blocked_by.contains(&l) {
            actor.blocked_by.push(l);
        }
    }
    Ok(Some(actor))
}

/// Leaves out the inboxes on domains the sending account blocks (fan-out): one read of the
/// account, only when there is something to deliver.
pub async fn retain_deliverable(
    table: &dyn Table,
    account_id: &str,
    inboxes: &mut std::collections::BTreeSet<String>,
) -> Result<(), RepoError> {
    if inboxes.is_empty() {
        return Ok(());
    }
    let Some(account) = crate::repo::accounts::by_id(table, account_id).await? else { return Ok(()) };
    if account.blocked_domains.is_empty() {
        return Ok(());
    }
    inboxes.retain(|i| {
        let host = url::Url::parse(i).ok().and_then(|u| u.host_str().map(str::to_string));
        !host.is_some_and(|h| blocks_host(&account, &h))
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_and_cover_subdomains() {
        assert_eq!(normalize(" HTTPS://Bad.Example/path ").as_deref(), Some("bad.example"));
        assert_eq!(normalize("bad.example:8443").as_deref(), Some("bad.example"));
        assert_eq!(normalize("not a domain"), None);
        assert_eq!(normalize("localhost"), None);
        assert!(within("bad.example", "bad.example"));
        assert!(within("eu.Bad.example", "bad.example"));
        assert!(!within("notbad.example", "bad.example"));
    }
}
