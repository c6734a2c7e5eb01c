//! Like and Announce of local statuses, and their Undo: counts and notifications.

use petrel::activitypub::vocab::{self, id_of};
use petrel::model::Account;
use petrel::repo::{notifications, statuses};
use petrel::Ctx;
use serde_json::Value;

use super::local_status_id;
use crate::InboxError;

pub async fn react(ctx: &Ctx, actor: &Account, activity: &Value, kind: &str) -> Result<(), InboxError> {
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Ok(());
    };
    // Only reactions to our own statuses change anything here (boosts of remote posts into home
    // timelines are not carried yet).
    let Some(status_id) = local_status_id(ctx, object) else {
        return Ok(());
    };
    let table = ctx.stores.table.as_ref();
    let Some(status) = statuses::get(table, &status_id).await? else {
        return Ok(());
    };
    if actor.blocked_by.contains(&status.account_id) {
        return Ok(());
    }
    let note_kind = if kind == "like" { "favourite" } else { "reblog" };
    // A muted account's reaction still counts, but does not notify.
    let n = (!actor.muted_by.contains(&status.account_id))
        .then(|| notifications::new(note_kind, &actor.id, Some(&status.id)));
    let activity_id = vocab::str_prop(activity, "id").unwrap_or_default();
    match statuses::add_reaction(table, &status, kind, &actor.id, activity_id, n).await {
        Ok(_) | Err(petrel::repo::RepoError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn undo(ctx: &Ctx, actor: &Account, inner: &Value, kind: &str) -> Result<(), InboxError> {
    let Some(status_id) = inner.get("object").and_then(id_of).and_then(|o| local_status_id(ctx, o)) else {
        return Ok(());
    };
    statuses::remove_reaction(ctx.stores.table.as_ref(), &status_id, kind, &actor.id).await?;
    Ok(())
}
