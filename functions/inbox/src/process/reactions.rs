//! Like and Announce of local statuses, and their Undo: counts and notifications.

use petrel::activitypub::resolve;
use petrel::activitypub::vocab::{self, id_of};
use petrel::model::{Account, Status, Visibility};
use petrel::repo::{notifications, statuses, visibility};
use petrel::Ctx;
use serde_json::Value;

use super::local_status_id;
use crate::InboxError;

pub async fn react(ctx: &Ctx, actor: &Account, activity: &Value, kind: &str) -> Result<(), InboxError> {
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Ok(());
    };
    let Some(status_id) = local_status_id(ctx, object) else {
        // A boost of another server's status reaches the home timelines of local followers.
        if kind == "announce" {
            return boost_of_remote(ctx, actor, activity).await;
        }
        return Ok(());
    };
    let table = ctx.stores.table.as_ref();
    let Some(status) = statuses::get(table, &status_id).await? else {
        return Ok(());
    };
    // Only a reactor who may see the status reacts to it (the one visibility rule: a blocked
    // account, or someone outside a followers-only or direct audience, is ignored), and only
    // public and unlisted statuses can be boosted at all.
    if !visibility::may_see(table, &status, Some(actor)).await?
        || (kind == "announce" && !matches!(status.visibility, Visibility::Public | Visibility::Unlisted))
    {
        return Ok(());
    }
    let note_kind = if kind == "like" { "favourite" } else { "reblog" };
    // A muted account's reaction still counts, but does not notify.
    // Nor does a reaction in a thread the author muted (one read).
    let thread_muted = petrel::repo::conversations::thread_muted(table, &status.account_id, &status).await?;
    let n = (!actor.muted_by.contains(&status.account_id) && !thread_muted)
        .then(|| notifications::new(&ctx.config.retention, note_kind, &actor.id, Some(&status.id)));
    let activity_id = vocab::str_prop(activity, "id").unwrap_or_default();
    match statuses::add_reaction(table, &status, kind, &actor.id, activity_id, n.clone()).await {
        Ok(true) => {
            if let Some(n) = &n {
                petrel::push::notify(ctx, &status.account_id, n, actor, Some(&status)).await;
            }
            Ok(())
        }
        Ok(false) | Err(petrel::repo::RepoError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn undo(ctx: &Ctx, actor: &Account, inner: &Value, kind: &str) -> Result<(), InboxError> {
    let Some(status_id) = inner.get("object").and_then(id_of).and_then(|o| local_status_id(ctx, o)) else {
        // The undo of a boost of a remote status: the boost we stored under the Announce's id goes.
        if let Some(boost) = match id_of(inner) {
            Some(id) if kind == "announce" => statuses::by_uri(ctx.stores.table.as_ref(), id).await?,
            _ => None,
        } {
            if boost.account_id == actor.id && boost.reblog_of.is_some() {
                match statuses::delete(ctx.stores.table.as_ref(), &boost).await {
                    Ok(()) => petrel::streaming::deleted(ctx, &boost).await,
                    Err(petrel::repo::RepoError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        return Ok(());
    };
    statuses::remove_reaction(ctx.stores.table.as_ref(), &status_id, kind, &actor.id).await?;
    Ok(())
}

/// Stores a followed account's boost of a remote status: the boosted status (fetched from its
/// origin when new) and the boost in the home timelines of the local accounts that follow the
/// booster.
async fn boost_of_remote(ctx: &Ctx, actor: &Account, activity: &Value) -> Result<(), InboxError> {
    let table = ctx.stores.table.as_ref();
    let Some(announce_id) = vocab::str_prop(activity, "id") else {
        return Ok(());
    };
    // The follow entries name the followers' lists holding the booster (no further read).
    let mut followers = petrel::repo::lists::local_followers(table, &actor.id).await?;
    followers.retain(|f| !actor.hidden_from(&f.id));
    let exclusive = petrel::repo::lists::exclusive_owners(&followers);
    let home_of: Vec<String> = followers.iter().map(|f| f.id.clone()).filter(|l| !exclusive.contains(l)).collect();
    let in_lists: Vec<String> = followers.iter().flat_map(|f| f.lists.iter().map(|m| m.list_id.clone())).collect();
    if (home_of.is_empty() && in_lists.is_empty()) || statuses::by_uri(table, announce_id).await?.is_some() {
        return Ok(());
    }
    let object = activity.get("object").unwrap_or(&Value::Null);
    let Some(object_id) = id_of(object) else {
        return Ok(());
    };
    // Never trusted inline: the boosted status comes from where its id points.
    let Some(original) = resolve::status(ctx, object_id).await? else {
        return Ok(());
    };
    if !matches!(original.visibility, Visibility::Public | Visibility::Unlisted) {
        return Ok(());
    }
    let published = vocab::str_prop(activity, "published")
        .and_then(|p| time::OffsetDateTime::parse(p, &time::format_description::well_known::Rfc3339).ok())
        .map_or_else(petrel::clock::now_ms, |t| (t.unix_timestamp_nanos() / 1_000_000) as i64);
    let mut boost = Status::boost(petrel::ids::snowflake(), actor.id.clone(), original.id.clone(), published);
    boost.remote_uri = Some(announce_id.to_string());
    // A boost lives as long as a post of its own would (the original's life is its own).
    boost.ttl = ctx.config.retention.remote_status_ttl(petrel::store::table::now_secs());
    let home_cap = Some(ctx.config.retention.home_timeline_max);
    let also = petrel::repo::lists::timelines(&in_lists);
    let stored = statuses::store_remote_into(
        table,
        &boost,
        &statuses::Delivery { home_of, notify: Vec::new(), home_cap },
        &also,
    )
    .await?;
    if let Some(id) = stored {
        petrel::streaming::status(ctx, &Status { id, ..boost }, petrel::streaming::StatusEvent::Created).await;
    }
    Ok(())
}
