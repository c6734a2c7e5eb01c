//! Finding remote actors: by id, by key id (for signatures), by `@user@domain` (WebFinger). Each
//! answer comes from the table's cache while it is fresh, otherwise from a signed fetch through
//! the safe client; what is fetched is checked before it is stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use thiserror::Error;
use url::Url;

use super::convert::{self, ApError};
use super::fetch::FetchError;
use super::signatures::{PrivateKey, SignatureError, Signer};
use super::vocab;
use crate::model::{Account, Status};
use crate::repo::{accounts, actors, statuses, RepoError};
use crate::Ctx;

#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("fetch failed: {0}")]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Document(#[from] ApError),
    #[error("{0}")]
    Mismatch(String),
    #[error("signing key: {0}")]
    Key(#[from] SignatureError),
    #[error("no local account to sign with")]
    NoSigner,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl ResolveError {
    /// Worth retrying later: the other server or the network had a problem, or our own storage
    /// did (a queued activity is then retried and, if it keeps failing, dead-lettered for a look
    /// rather than dropped).
    pub fn is_transient(&self) -> bool {
        match self {
            ResolveError::Fetch(e) => e.is_transient(),
            ResolveError::Repo(RepoError::Store(_)) => true,
            _ => false,
        }
    }
}

/// Signers by key id (and the instance signer by base URL), private keys parsed once per process.
fn signers() -> &'static Mutex<HashMap<String, Arc<Signer>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Signer>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cached(key: &str) -> Option<Arc<Signer>> {
    signers().lock().ok().and_then(|c| c.get(key).cloned())
}

fn remember(key: String, signer: &Arc<Signer>) {
    if let Ok(mut c) = signers().lock() {
        c.insert(key, signer.clone());
    }
}

/// The signer of a local account.
pub fn signer_for(ctx: &Ctx, account: &Account) -> Result<Arc<Signer>, ResolveError> {
    let key_id = convert::key_id(&ctx.config, &account.username);
    if let Some(s) = cached(&key_id) {
        return Ok(s);
    }
    let signer = Arc::new(Signer::new(key_id.clone(), PrivateKey::from_pkcs8_pem(&account.private_key_pem)?));
    remember(key_id, &signer);
    Ok(signer)
}

/// The signer of a local account by its id, cached per process: each of a post's deliveries
/// would otherwise read the account (its largest item, the key included) again. `None` when
/// the account is gone.
pub async fn signer_by_account_id(ctx: &Ctx, account_id: &str) -> Result<Option<Arc<Signer>>, ResolveError> {
    let key = format!("account:{account_id}");
    if let Some(s) = cached(&key) {
        return Ok(Some(s));
    }
    let Some(account) = accounts::by_id(ctx.stores.table.as_ref(), account_id).await? else {
        return Ok(None);
    };
    let signer = signer_for(ctx, &account)?;
    remember(key, &signer);
    Ok(Some(signer))
}

/// The instance's fetches are signed by the oldest local account (the owner), so servers that
/// require signed fetches answer. Looked up once per process: an owner stays the owner.
pub async fn instance_signer(ctx: &Ctx) -> Result<Arc<Signer>, ResolveError> {
    let key = format!("instance:{}", ctx.config.base_url());
    if let Some(s) = cached(&key) {
        return Ok(s);
    }
    let locals = accounts::list_local(ctx.stores.table.as_ref()).await?;
    let owner = locals.first().ok_or(ResolveError::NoSigner)?;
    let signer = signer_for(ctx, owner)?;
    remember(key, &signer);
    Ok(signer)
}

fn parse_url(s: &str) -> Result<Url, ResolveError> {
    Url::parse(s).map_err(|_| ResolveError::Fetch(FetchError::BadUrl))
}

async fn fetch(ctx: &Ctx, url: &str) -> Result<Value, ResolveError> {
    let signer = instance_signer(ctx).await?;
    Ok(ctx.http.get_activity(&parse_url(url)?, Some(&signer)).await?)
}

/// A remote actor by id: cached unless stale or `refresh`, else fetched, checked and stored.
pub async fn actor(ctx: &Ctx, uri: &str, refresh: bool) -> Result<Account, ResolveError> {
    let table = ctx.stores.table.as_ref();
    let cached = actors::by_uri(table, uri).await?;
    if let Some(a) = &cached {
        let fresh = a.remote.as_ref().is_some_and(|r| crate::clock::now_ms() - r.fetched_at < actors::REFRESH_MS);
        if fresh && !refresh {
            actors::touch(table, a, &ctx.config.retention).await?;
            return Ok(a.clone());
        }
    }
    if is_local_url(ctx, uri) {
        return Err(ResolveError::Mismatch(format!("{uri} is a local URL, not a remote actor")));
    }
    let doc = fetch(ctx, uri).await?;
    store_actor(ctx, uri, &doc, cached.map(|a| a.id)).await
}

/// Stores the actor document fetched from `uri` (its id must be `uri`).
async fn store_actor(ctx: &Ctx, uri: &str, doc: &Value, known_id: Option<String>) -> Result<Account, ResolveError> {
    if vocab::str_prop(doc, "id") != Some(uri) {
        return Err(ResolveError::Mismatch(format!("the document at {uri} has another id")));
    }
    let id = known_id.unwrap_or_else(crate::ids::snowflake);
    let mut account = convert::remote_account(doc, id, crate::clock::now_ms())?;
    // Expires unless kept (`actors::keep`); a refetch of a kept actor leaves it kept.
    account.ttl = actors::fresh_ttl(&ctx.config.retention);
    Ok(actors::save(ctx.stores.table.as_ref(), account).await?)
}

/// The actor owning a key id. From the cache when `refresh` is false and the cached owner still
/// names this key. Otherwise the owner is established from the key's own host, never from what
/// another actor claims: the document at the key id (a key naming its `owner`, or the actor
/// itself) is fetched, the owner must be on the key's host and its document must name the key;
/// then the key is recorded as that actor's, replacing whatever a third party put there.
pub async fn key_owner(ctx: &Ctx, key_id: &str, refresh: bool) -> Result<Account, ResolveError> {
    let table = ctx.stores.table.as_ref();
    if !refresh {
        if let Some(a) = actors::by_key_id(table, key_id).await? {
            if a.remote.as_ref().is_some_and(|r| r.key_id == key_id) {
                actors::touch(table, &a, &ctx.config.retention).await?;
                return Ok(a);
            }
        }
    }
    let without_fragment = key_id.split('#').next().unwrap_or(key_id);
    if vocab::host_of(without_fragment).is_none() || is_local_url(ctx, without_fragment) {
        return Err(ResolveError::Mismatch(format!("{key_id} is not a remote key id")));
    }
    let doc = fetch(ctx, without_fragment).await?;
    let owner = if vocab::type_of(&doc) == "CryptographicKey" || doc.get("owner").is_some() {
        // A key document of its own: its owner is fetched from its own id.
        let owner_uri =
            vocab::str_prop(&doc, "owner").ok_or_else(|| ResolveError::Mismatch("key without owner".into()))?;
        if !vocab::same_host(owner_uri, key_id) {
            return Err(ResolveError::Mismatch(format!("key {key_id} is on another host than its owner {owner_uri}")));
        }
        actor(ctx, owner_uri, true).await?
    } else {
        // The key id is the actor's id plus a fragment: what was fetched is the actor.
        store_actor(ctx, without_fragment, &doc, None).await?
    };
    match &owner.remote {
        Some(r) if r.key_id == key_id => {
            actors::set_key_owner(table, key_id, &owner.id, owner.ttl).await?;
            Ok(owner)
        }
        Some(r) => Err(ResolveError::Mismatch(format!("{} does not own key {key_id}", r.uri))),
        None => Err(ResolveError::Mismatch(format!("{key_id} names a local account"))),
    }
}

pub fn is_local_url(ctx: &Ctx, url: &str) -> bool {
    vocab::host_of(url).is_some_and(|h| h == ctx.config.domain)
}

/// `user@domain` (with or without a leading `@`) through WebFinger to the actor's id.
pub async fn webfinger(ctx: &Ctx, acct: &str) -> Result<String, ResolveError> {
    let acct = acct.trim().trim_start_matches('@');
    let (user, domain) =
        acct.rsplit_once('@').ok_or_else(|| ResolveError::Mismatch(format!("`{acct}` is not user@domain")))?;
    // Plain http only where private networks are allowed (local federation tests).
    let schemes: &[&str] = if ctx.http.policy().allow_private_network { &["https", "http"] } else { &["https"] };
    let mut last = FetchError::BadUrl;
    for scheme in schemes {
        let url = parse_url(&format!("{scheme}://{domain}/.well-known/webfinger?resource=acct:{user}@{domain}"))?;
        match ctx.http.get_json(&url).await {
            Ok(jrd) => {
                let link = vocab::list(jrd.get("links")).into_iter().find(|l| {
                    vocab::str_prop(l, "rel") == Some("self")
                        && vocab::str_prop(l, "type").is_some_and(vocab::is_activity_content_type)
                });
                return link
                    .and_then(|l| vocab::str_prop(l, "href"))
                    .map(str::to_string)
                    .ok_or_else(|| ResolveError::Mismatch(format!("WebFinger for {acct} names no actor")));
            }
            Err(e) => last = e,
        }
    }
    Err(ResolveError::Fetch(last))
}

/// A remote status by its id or URL: from the table, or fetched (signed) from its origin, checked
/// (its author is on its host) and stored without timeline entries. `None` when the document is
/// not a post.
pub async fn status(ctx: &Ctx, url: &str) -> Result<Option<Status>, ResolveError> {
    let table = ctx.stores.table.as_ref();
    if let Some(s) = statuses::by_uri(table, url).await? {
        return Ok(Some(s));
    }
    if is_local_url(ctx, url) {
        return Ok(None);
    }
    // The fetch checks the document's id is on the host it came from.
    let doc = fetch(ctx, url).await?;
    let Some(id) = vocab::str_prop(&doc, "id").map(str::to_string) else {
        return Ok(None);
    };
    if !crate::activitypub::extras::is_status_type(vocab::type_of(&doc)) {
        return Ok(None);
    }
    if id != url {
        if let Some(s) = statuses::by_uri(table, &id).await? {
            return Ok(Some(s));
        }
    }
    let author_uri = doc
        .get("attributedTo")
        .and_then(|a| vocab::ids(Some(a)).first().map(|s| s.to_string()))
        .ok_or_else(|| ResolveError::Mismatch(format!("{id} names no author")))?;
    if !vocab::same_host(&author_uri, &id) {
        return Err(ResolveError::Mismatch(format!("{id} is attributed to an actor on another host")));
    }
    let author = actor(ctx, &author_uri, false).await?;
    let mut remote = convert::remote_status(&doc, &author, crate::ids::snowflake())?;
    // Fetched for a boost or a search: it expires unless someone here interacts with it.
    remote.status.ttl = ctx.config.retention.remote_status_ttl(crate::store::table::now_secs());
    statuses::store_remote(table, &remote.status, &statuses::Delivery::default()).await?;
    Ok(statuses::by_uri(table, &id).await?)
}
