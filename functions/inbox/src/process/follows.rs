//! Follow, Accept/Reject of our follows, Undo Follow, Block.

use petrel::activitypub::vocab::{self, id_of};
use petrel::activitypub::{convert, resolve};
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
    let inbox = actor.remote.as_ref().map(|r| r.inbox.clone()).unwrap_or_default();
    if actor.blocked_by.contains(&local.id) {
        let reject = convert::answer_follow(&ctx.config, &local, "Reject", activity, &follower_uri);
        return deliver(ctx, &local, &inbox, reject).await;
    }
    // A follower (or one asking to be) is never dropped from the actor cache.
    petrel::repo::actors::keep(table, actor).await?;
    if local.locked && !follows::is_follower(table, &local.id, &actor.id).await? {
        if follows::add_request(table, &local.id, &actor.id, follow_id).await? {
            let n = notifications::new(&ctx.config.retention, "follow_request", &actor.id, None);
            notifications::create(table, &local.id, &n).await?;
            petrel::push::notify(ctx, &local.id, &n, actor, None).await;
        }
        return Ok(());
    }
    if follows::add_follower(table, &local, actor, follow_id).await? {
        let n = notifications::new(&ctx.config.retention, "follow", &actor.id, None);
        notifications::create(table, &local.id, &n).await?;
        petrel::push::notify(ctx, &local.id, &n, actor, None).await;
    }
    let accept = convert::answer_follow(&ctx.config, &local, "Accept", activity, &follower_uri);
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

/// The actor moved to another account: local accounts that followed it follow the target instead,
/// once the target confirms the move by naming the old account in `alsoKnownAs`.
pub async fn moved(ctx: &Ctx, actor: &Account, activity: &Value) -> Result<(), InboxError> {
    let old_uri = actor.remote.as_ref().map(|r| r.uri.as_str()).unwrap_or_default();
    if activity.get("object").and_then(id_of) != Some(old_uri) {
        return Ok(());
    }
    let Some(target_uri) = activity.get("target").and_then(id_of) else {
        return Ok(());
    };
    let target = resolve::actor(ctx, target_uri, true).await?;
    let confirmed = target.remote.as_ref().is_some_and(|r| r.also_known_as.iter().any(|a| a == old_uri));
    if !confirmed {
        tracing::info!(from = old_uri, to = target_uri, "Move not confirmed by alsoKnownAs; ignored");
        return Ok(());
    }
    let table = ctx.stores.table.as_ref();
    let followers = follows::local_followers_of(table, &actor.id).await?;
    if !followers.is_empty() {
        // Local accounts are about to follow it: never dropped from the actor cache.
        petrel::repo::actors::keep(table, &target).await?;
    }
    for local_id in followers {
        let Some(local) = petrel::repo::accounts::by_id(table, &local_id).await? else {
            continue;
        };
        follows::remove_following(table, &local.id, &actor.id).await?;
        let follow_id = petrel::ids::snowflake();
        if follows::request_following(table, &local.id, &target.id, &follow_id).await? {
            let Some(remote) = &target.remote else { continue };
            let follow = convert::follow(&ctx.config, &local, &remote.uri, &follow_id);
            deliver(ctx, &local, &remote.inbox, follow).await?;
        }
    }
    Ok(())
}
