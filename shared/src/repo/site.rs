//! The domain a deployment serves, kept in the table for stacks deployed without a custom domain:
//! their functions cannot be told the CloudFront host name in their environment (the distribution
//! refers to the functions, so the functions cannot refer to it), so `petrel account create
//! --domain HOST` records it here and the functions read it once at start
//! (`PETREL_DOMAIN_FROM_TABLE`). Recording it also stops a later command from silently serving
//! the same data under another domain, which would change every ActivityPub id.

use crate::repo::{keys, RepoError};
use crate::store::{str_attr_of, Cond, StoreError, Table, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub domain: String,
    pub handle_domain: String,
}

pub async fn get(table: &dyn Table) -> Result<Option<Site>, RepoError> {
    let Some(item) = table.get(&keys::site()).await? else {
        return Ok(None);
    };
    match (str_attr_of(&item, "domain"), str_attr_of(&item, "handle_domain")) {
        (Some(d), Some(h)) => Ok(Some(Site { domain: d.to_string(), handle_domain: h.to_string() })),
        _ => Err(RepoError::Store(StoreError::Corrupt("site settings without a domain".into()))),
    }
}

/// Records `wanted` as the site's domains unless others are recorded already; answers what is
/// recorded. A conflict is the caller's to report: it means the data belongs to another domain.
pub async fn claim(table: &dyn Table, wanted: &Site) -> Result<Site, RepoError> {
    let mut item = keys::site().to_item();
    item.insert("domain".into(), Value::S(wanted.domain.clone()));
    item.insert("handle_domain".into(), Value::S(wanted.handle_domain.clone()));
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(wanted.clone()),
        Err(StoreError::ConditionFailed { .. }) => get(table)
            .await?
            .ok_or_else(|| RepoError::Store(StoreError::Transient("site settings vanished while being read".into()))),
        Err(e) => Err(e.into()),
    }
}

/// The site's VAPID private key (PKCS#8, P-256) for Web Push, created on first need. Two
/// processes that both find none race with a conditional put; the loser reads the winner's key,
/// so every process signs with the one key that apps were given.
pub async fn vapid_pkcs8(table: &dyn Table) -> Result<Vec<u8>, RepoError> {
    if let Some(key) = read_vapid(table).await? {
        return Ok(key);
    }
    let pkcs8 = crate::push::webpush::Vapid::generate_pkcs8()
        .map_err(|e| RepoError::Store(StoreError::Transient(e.to_string())))?;
    let mut item = keys::vapid().to_item();
    item.insert("pkcs8".into(), Value::S(crate::push::webpush::b64url(&pkcs8)));
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(pkcs8),
        Err(StoreError::ConditionFailed { .. }) => read_vapid(table)
            .await?
            .ok_or_else(|| RepoError::Store(StoreError::Transient("the VAPID key vanished while being read".into()))),
        Err(e) => Err(e.into()),
    }
}

async fn read_vapid(table: &dyn Table) -> Result<Option<Vec<u8>>, RepoError> {
    let Some(item) = table.get(&keys::vapid()).await? else {
        return Ok(None);
    };
    str_attr_of(&item, "pkcs8")
        .and_then(crate::push::webpush::decode_b64)
        .map(Some)
        .ok_or_else(|| RepoError::Store(StoreError::Corrupt("the VAPID key item has no key".into())))
}
