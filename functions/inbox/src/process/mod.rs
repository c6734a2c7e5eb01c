//! Processing of verified activities, one file per family. Every handler is idempotent: senders
//! retry, and a failed attempt may have written part of its effect.

mod follows;
mod notes;
mod reactions;

use petrel::activitypub::vocab::{self, id_of};
use petrel::events::{Delivery, OutboxEvent};
use petrel::model::Account;
use petrel::repo::accounts;
use petrel::store::OutMessage;
use petrel::Ctx;
use serde_json::Value;

use crate::InboxError;

/// Applies one activity whose signature verified; `actor` is the signer, checked to be the
/// activity's actor.
pub async fn activity(ctx: &Ctx, activity: &Value, actor: &Account) -> Result<(), InboxError> {
    // The domain speaks to us: whatever failures our deliveries to it had are forgotten.
    if let Some(host) = actor.remote.as_ref().map(|r| r.domain.as_str()) {
        petrel::repo::domains::record_success(ctx.stores.table.as_ref(), host).await?;
    }
    // Local accounts that block the actor's domain treat it as blocked (one query).
    let with_blocks = petrel::repo::domain_blocks::apply_to_actor(ctx.stores.table.as_ref(), actor).await?;
    let actor = with_blocks.as_ref().unwrap_or(actor);
    let object = activity.get("object").unwrap_or(&Value::Null);
    match vocab::type_of(activity) {
        "Follow" => follows::follow(ctx, actor, activity).await,
        "Accept" => follows::answered(ctx, actor, object, true).await,
        "Reject" => follows::answered(ctx, actor, object, false).await,
        "Block" => follows::blocked(ctx, actor, object).await,
        "Move" => follows::moved(ctx, actor, activity).await,
        "Create" => notes::create(ctx, actor, object).await,
        "Update" => notes::update(ctx, actor, object).await,
        "Delete" => notes::delete(ctx, actor, object).await,
        "Like" => reactions::react(ctx, actor, activity, "like").await,
        "Announce" => reactions::react(ctx, actor, activity, "announce").await,
        "Undo" => match vocab::type_of(object) {
            "Follow" => follows::unfollow(ctx, actor, object).await,
            "Like" => reactions::undo(ctx, actor, object, "like").await,
            "Announce" => reactions::undo(ctx, actor, object, "announce").await,
            _ => Ok(()),
        },
        // Unknown types are accepted and ignored, as the protocol expects.
        other => {
            tracing::debug!(kind = other, id = ?id_of(activity), "activity type ignored");
            Ok(())
        }
    }
}

/// The local account an actor URI of ours names.
pub(crate) async fn local_actor(ctx: &Ctx, uri: &str) -> Result<Option<Account>, InboxError> {
    let prefix = format!("{}/users/", ctx.config.base_url());
    let Some(name) = uri.strip_prefix(&prefix).filter(|n| petrel::model::valid_username(n)) else {
        return Ok(None);
    };
    Ok(accounts::by_username(ctx.stores.table.as_ref(), name).await?)
}

/// The status id of one of our status URIs (`{base}/users/NAME/statuses/ID`).
pub(crate) fn local_status_id(ctx: &Ctx, uri: &str) -> Option<String> {
    let rest = uri.strip_prefix(&format!("{}/users/", ctx.config.base_url()))?;
    let (_, id) = rest.split_once("/statuses/")?;
    petrel::repo::statuses::valid_id(id).then(|| id.to_string())
}

/// Queues one signed delivery (Accept and Reject answer a single inbox).
pub(crate) async fn deliver(ctx: &Ctx, from: &Account, inbox: &str, activity: Value) -> Result<(), InboxError> {
    let event = OutboxEvent::Deliver(Delivery::first(&from.id, inbox, activity, None));
    ctx.stores.queues.outbox.send(OutMessage::new(serde_json::to_string(&event)?)).await?;
    Ok(())
}
