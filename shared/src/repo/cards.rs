//! Link preview cards: one item per URL (`CARD#<sha256>`), holding the card or the note that the
//! page gave none (not HTML, asked not to be previewed, no title, unreachable); each status that
//! links the URL gets a copy of the card in its own item, so showing a status reads nothing more.

use crate::model::{PreviewCard, Status};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, StoreError, Table, Update, Value};

/// A card is fetched again after this long (Mastodon refreshes cards after two weeks).
pub const KEEP_SECS: i64 = 14 * 24 * 3600;
/// A page without a card is not asked again for a day.
pub const NONE_SECS: i64 = 24 * 3600;

/// What is known of a URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    Card(Box<PreviewCard>),
    /// Fetched recently and found without a card.
    None,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    card: Option<PreviewCard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
}

/// The card of `url`, if it was fetched and has not expired.
pub async fn get(table: &dyn Table, url: &str) -> Result<Option<Known>, RepoError> {
    let Some(item) = table.get(&keys::card(url)).await? else {
        return Ok(None);
    };
    if crate::store::table::is_expired(&item, crate::store::table::now_secs()) {
        return Ok(None);
    }
    let stored: Stored = from_item(item)?;
    Ok(Some(stored.card.map_or(Known::None, |c| Known::Card(Box::new(c)))))
}

/// Records what the fetch of `url` found.
pub async fn put(table: &dyn Table, url: &str, card: Option<&PreviewCard>) -> Result<(), RepoError> {
    let keep = if card.is_some() { KEEP_SECS } else { NONE_SECS };
    let stored = Stored { card: card.cloned(), ttl: Some(crate::store::table::now_secs() + keep) };
    table.put(to_item(&keys::card(url), &stored)?, None).await?;
    Ok(())
}

/// Copies a card into a status's item (only while the status exists).
pub async fn attach(table: &dyn Table, status: &Status, card: &PreviewCard) -> Result<(), RepoError> {
    let value: Value =
        serde_dynamo::to_attribute_value(card).map_err(|e| RepoError::Invalid(format!("cannot store card: {e}")))?;
    let cond = Cond::ItemExists;
    match table.update(&keys::status(&status.id), Update::default().set("card", value), Some(cond)).await {
        Ok(_) => Ok(()),
        // Deleted meanwhile: nothing to attach to.
        Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
