//! Uploaded media: stored unattached with a 24-hour TTL, attached by the status that uses it.

use crate::model::Media;
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, StoreError, Table, TxOp, Update, Value, TTL};

/// How long an upload waits for a status before it expires.
pub const UNATTACHED_SECS: i64 = 24 * 3600;

pub async fn create(table: &dyn Table, mut media: Media) -> Result<Media, RepoError> {
    media.ttl = Some(crate::store::table::now_secs() + UNATTACHED_SECS);
    table.put(to_item(&keys::media(&media.id), &media)?, Some(Cond::ItemNotExists)).await?;
    Ok(media)
}

pub async fn get(table: &dyn Table, id: &str) -> Result<Option<Media>, RepoError> {
    if !super::statuses::valid_id(id) {
        return Ok(None);
    }
    table.get(&keys::media(id)).await?.map(from_item).transpose()
}

/// Sets the description and focus of the owner's media.
pub async fn describe(
    table: &dyn Table,
    media: &Media,
    description: Option<String>,
    focus: Option<(f64, f64)>,
) -> Result<Media, RepoError> {
    let mut update = Update::default();
    if let Some(d) = description {
        update = update.set("description", Value::S(d));
    }
    if let Some(f) = focus {
        update =
            update.set("focus", serde_dynamo::to_attribute_value(f).map_err(|e| RepoError::Invalid(e.to_string()))?);
    }
    if update.set.is_empty() {
        return Ok(media.clone());
    }
    let cond = Cond::AttrEq("account_id".into(), Value::S(media.account_id.clone()));
    match table.update(&keys::media(&media.id), update, Some(cond)).await {
        Ok(item) => from_item(item),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("media".into())),
        Err(e) => Err(e.into()),
    }
}

/// The operation that attaches an upload to a status inside the status's transaction: it must
/// belong to the author and not be attached yet, and it stops expiring.
pub fn attach_op(media: &Media, status_id: &str) -> TxOp {
    TxOp::Update {
        key: keys::media(&media.id),
        update: Update::default().set("status_id", Value::S(status_id.to_string())).remove(TTL),
        cond: Some(Cond::And(vec![
            Cond::AttrEq("account_id".into(), Value::S(media.account_id.clone())),
            Cond::AttrNotExists("status_id".into()),
        ])),
    }
}

/// Uploads by id, in order (`None` for unknown ids): one batch get.
pub async fn get_many(table: &dyn Table, ids: &[String]) -> Result<Vec<Option<Media>>, RepoError> {
    if ids.iter().any(|id| !super::statuses::valid_id(id)) {
        return Ok(ids.iter().map(|_| None).collect());
    }
    let keys: Vec<crate::store::Key> = ids.iter().map(|id| keys::media(id)).collect();
    table.batch_get(&keys).await?.into_iter().map(|i| i.map(from_item).transpose()).collect()
}

/// A focal point as clients send it, `x,y` with each from -1.0 to 1.0.
pub fn parse_focus(s: &str) -> Option<(f64, f64)> {
    let (x, y) = s.split_once(',')?;
    let (x, y): (f64, f64) = (x.trim().parse().ok()?, y.trim().parse().ok()?);
    ((-1.0..=1.0).contains(&x) && (-1.0..=1.0).contains(&y)).then_some((x, y))
}

/// What deleting an upload found.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    Gone,
    /// A status uses it: Mastodon refuses to delete it (422).
    Attached,
}

/// Deletes the owner's upload if no status uses it (Mastodon's rule), in one conditional delete;
/// the caller removes its files.
pub async fn delete_unattached(table: &dyn Table, media: &Media) -> Result<Deleted, RepoError> {
    if media.status_id.is_some() {
        return Ok(Deleted::Attached);
    }
    let cond = Cond::And(vec![
        Cond::AttrEq("account_id".into(), Value::S(media.account_id.clone())),
        Cond::AttrNotExists("status_id".into()),
    ]);
    match table.delete(&keys::media(&media.id), Some(cond)).await {
        Ok(()) => Ok(Deleted::Gone),
        // Attached (or gone) since it was read.
        Err(StoreError::ConditionFailed { .. }) => Ok(Deleted::Attached),
        Err(e) => Err(e.into()),
    }
}

/// The update of an attached upload's description and focus inside an edit's transaction.
pub fn describe_op(media: &Media) -> Result<TxOp, RepoError> {
    let mut update = Update::default();
    update = match &media.description {
        Some(d) => update.set("description", Value::S(d.clone())),
        None => update.remove("description"),
    };
    update = match media.focus {
        Some(f) => {
            update.set("focus", serde_dynamo::to_attribute_value(f).map_err(|e| RepoError::Invalid(e.to_string()))?)
        }
        None => update.remove("focus"),
    };
    Ok(TxOp::Update { key: keys::media(&media.id), update, cond: Some(Cond::ItemExists) })
}
