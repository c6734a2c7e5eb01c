//! Follow, Accept/Reject of our follows, Undo Follow, Block.

use petrel::activitypub::convert;
use petrel::activitypub::vocab::{self, id_of};
use petrel::model::Account;
use petrel::repo::{follows, notifications};
use petrel::Ctx;
use serde_json::Value;

use super::{deliver, local_actor};
use crate::InboxError;

/// A Follow of a local account: accepted at once, or kept as a request when the account is locked.
/// A redelivered Follow is answered again (the first Accept may have been lost) but counted once.
pub async fn follow(ctx: &Ctx, actor: &Account, activity: &Value) -> Result<(), InboxError> {
    let Some(target) = activity.get("object").and_then(id_of) else {
        return Ok(());
    };
    let Some(local) = local_actor(ctx, target).await? else {
        return Ok(());
    };
    let follower_uri = actor.remote.as_ref().map(|r| r.uri.clone()).unwrap_or_default();
    let follow_id = vocab::str_prop(activity, "id").unwrap_or_default();
    let table = ctx.stores.table.as_ref();
    if local.locked && !follows::is_follower(table, &local.id, &actor.id).await? {
        follows::add_request(table, &local.id, &actor.id, follow_id).await?;
        notifications::create(table, &local.id, &notifications::new("follow_request", &actor.id, None)).await?;
        return Ok(());
    }
    if follows::add_follower(table, &local, actor, follow_id).await? {
        notifications::create(table, &local.id, &notifications::new("follow", &actor.id, None)).await?;
    }
    let accept = convert::answer_follow(&ctx.config, &local, "Accept", activity, &follower_uri);
    let inbox = actor.remote.as_ref().map(|r| r.inbox.clone()).unwrap_or_default();
    deliver(ctx, &local, &inbox, accept).await
}

pub async fn unfollow(ctx: &Ctx, actor: &Account, follow: &Value) -> Result<(), InboxError> {
    let Some(local) = follow.get("object").and_then(id_of).map(str::to_string) else {
        return Ok(());
    };
    if let Some(local) = local_actor(ctx, &local).await? {
        let table = ctx.stores.table.as_ref();
        follows::remove_follower(table, &local.id, &actor.id).await?;
        follows::take_request(table, &local.id, &actor.id).await?;
    }
    Ok(())
}

/// Accept or Reject of a Follow a local account sent to `actor`.
pub async fn answered(ctx: &Ctx, actor: &Account, follow: &Value, accepted: bool) -> Result<(), InboxError> {
    // The Follow is embedded (Mastodon) or named by id (`{our actor}#follows/…`).
    let follower_uri = match follow {
        Value::String(id) => id.split('#').next().unwrap_or_default().to_string(),
        other => other.get("actor").and_then(id_of).unwrap_or_default().to_string(),
    };
    let Some(local) = local_actor(ctx, &follower_uri).await? else {
        return Ok(());
    };
    let table = ctx.stores.table.as_ref();
    if accepted {
        follows::accept_following(table, &local.id, &actor.id).await?;
    } else {
        follows::remove_following(table, &local.id, &actor.id).await?;
    }
    Ok(())
}

/// A remote account blocked a local one: the follows both ways end.
pub async fn blocked(ctx: &Ctx, actor: &Account, object: &Value) -> Result<(), InboxError> {
    let Some(local) = object.as_str().or_else(|| id_of(object)).map(str::to_string) else {
        return Ok(());
    };
    if let Some(local) = local_actor(ctx, &local).await? {
        let table = ctx.stores.table.as_ref();
        follows::remove_follower(table, &local.id, &actor.id).await?;
        follows::remove_following(table, &local.id, &actor.id).await?;
    }
    Ok(())
}
