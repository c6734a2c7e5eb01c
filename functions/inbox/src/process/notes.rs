//! Create, Update and Delete of Notes (and of actors, for Update/Delete).

use petrel::activitypub::resolve::{self, ResolveError};
use petrel::activitypub::vocab::{self, id_of};
use petrel::activitypub::{convert, fetch::FetchError};
use petrel::model::{Account, MentionRef, Visibility};
use petrel::repo::statuses::{self, Delivery};
use petrel::repo::{actors, follows, lists, notifications, polls, tags};
use petrel::Ctx;
use serde_json::Value;
use url::Url;

use super::{local_actor, local_status_id};
use crate::InboxError;

fn actor_uri(actor: &Account) -> &str {
    actor.remote.as_ref().map_or("", |r| r.uri.as_str())
}

/// The object as its origin serves it: an embedded object on the actor's host is taken as sent;
/// a bare id, or an object claiming another host, is fetched from where its id points.
pub(crate) async fn authoritative(ctx: &Ctx, actor: &Account, object: &Value) -> Result<Option<Value>, InboxError> {
    let Some(id) = id_of(object) else {
        return Ok(None);
    };
    if object.is_object() && vocab::same_host(id, actor_uri(actor)) {
        return Ok(Some(object.clone()));
    }
    let url = Url::parse(id).map_err(|_| ResolveError::Fetch(FetchError::BadUrl))?;
    let signer = resolve::instance_signer(ctx).await?;
    let doc = ctx.http.get_activity(&url, Some(&signer)).await.map_err(ResolveError::from)?;
    if vocab::str_prop(&doc, "id") != Some(id) {
        return Err(ResolveError::Mismatch(format!("{id} serves another id")).into());
    }
    Ok(Some(doc))
}

pub async fn create(ctx: &Ctx, actor: &Account, object: &Value) -> Result<(), InboxError> {
    let Some(note) = authoritative(ctx, actor, object).await? else {
        return Ok(());
    };
    if !petrel::activitypub::extras::is_status_type(vocab::type_of(&note)) {
        return Ok(());
    }
    if poll_vote(ctx, actor, &note).await? {
        return Ok(());
    }
    let table = ctx.stores.table.as_ref();
    if let Some(uri) = vocab::str_prop(&note, "id") {
        if statuses::by_uri(table, uri).await?.is_some() {
            return Ok(());
        }
    }
    let remote = convert::remote_status(&note, actor, petrel::ids::snowflake()).map_err(ResolveError::from)?;
    let mut status = remote.status;

    // Local accounts mentioned get it in their home timeline and a notification.
    let mut mentioned = Vec::new();
    for href in &remote.mentioned_uris {
        if let Some(local) = local_actor(ctx, href).await? {
            status.mentions.push(MentionRef {
                account_id: local.id.clone(),
                username: local.username.clone(),
                acct: local.username.clone(),
                url: petrel::mastodon::convert::account_url(&ctx.config, &local.username),
                uri: Some(href.clone()),
            });
            mentioned.push(local.id);
        }
    }
    // A reply to a status we have links to it.
    let mut parent = None;
    if let Some(parent_uri) = status.in_reply_to_uri.clone() {
        parent = match local_status_id(ctx, &parent_uri) {
            Some(id) => statuses::get(table, &id).await?,
            None => statuses::by_uri(table, &parent_uri).await?,
        };
        if let Some(parent) = &parent {
            status.in_reply_to_id = Some(parent.id.clone());
            status.in_reply_to_account_id = Some(parent.account_id.clone());
            status.conversation = Some(parent.thread_root().to_string());
        }
    }
    // Kept from the start when a local account takes part in its conversation, else it expires.
    status.ttl = statuses::remote_ttl(
        &ctx.config.retention,
        parent.as_ref(),
        !mentioned.is_empty(),
        petrel::store::table::now_secs(),
    );
    // The follow entries also name the followers' lists that hold the author: no further read.
    let mut followers = if status.visibility == Visibility::Direct {
        Vec::new()
    } else {
        lists::local_followers(table, &actor.id).await?
    };
    // Local accounts that block or mute the author get neither the post nor a notification.
    followers.retain(|f| !actor.hidden_from(&f.id));
    let mut home_of: Vec<String> = followers.iter().map(|f| f.id.clone()).collect();
    // Public posts with a hashtag a local account follows reach its home (one batch get, only
    // for public posts with hashtags).
    if status.visibility == Visibility::Public && !status.tags.is_empty() {
        for local in tags::followers_of(table, &status.tags).await? {
            if !home_of.contains(&local) {
                home_of.push(local);
            }
        }
    }
    // Members of an exclusive list stay out of its owner's home (unless they mention the owner).
    let exclusive = lists::exclusive_owners(&followers);
    home_of.retain(|l| !exclusive.contains(l));
    for m in &mentioned {
        if !home_of.contains(m) {
            home_of.push(m.clone());
        }
    }
    home_of.retain(|l| !actor.hidden_from(l));
    mentioned.retain(|l| !actor.hidden_from(l));
    let in_lists = lists::route(table, &status, &followers).await?;
    // Unsolicited posts (nobody here follows or is addressed) are not stored.
    if home_of.is_empty() && in_lists.is_empty() {
        return Ok(());
    }
    // Mentioned accounts that muted the thread get the post, not a notification (a read each).
    let mut notify = Vec::new();
    for local in &mentioned {
        if !petrel::repo::conversations::thread_muted(table, local, &status).await? {
            notify.push((
                local.clone(),
                notifications::new(&ctx.config.retention, "mention", &actor.id, Some(&status.id)),
            ));
        }
    }
    let delivery = Delivery { home_of, notify, home_cap: Some(ctx.config.retention.home_timeline_max) };
    if status.ttl.is_none() {
        // A kept post's author stays in the actor cache.
        petrel::repo::actors::keep(table, actor).await?;
    }
    if let Some(stored_id) =
        statuses::store_remote_into(table, &status, &delivery, &lists::timelines(&in_lists)).await?
    {
        // The notifications were stored under the status's id: push them under it.
        let stored = petrel::model::Status { id: stored_id, ..status };
        card(ctx, &stored).await;
        // A direct message joins the conversation of each local account it mentions. Logged,
        // not retried, on failure: a redelivery finds the status stored and stops before this.
        if let Err(e) = petrel::repo::conversations::record(table, &stored, &mentioned).await {
            tracing::warn!(status = %stored.id, error = %e, "conversation not updated");
        }
        for (local, n) in &delivery.notify {
            let n =
                petrel::model::Notification { id: stored.id.clone(), status_id: Some(stored.id.clone()), ..n.clone() };
            petrel::push::notify(ctx, local, &n, actor, Some(&stored)).await;
        }
        petrel::streaming::status(ctx, &stored, petrel::streaming::StatusEvent::Created).await;
    }
    Ok(())
}

/// A vote on one of our polls, as Mastodon sends it: a Note whose `name` is an option, in reply
/// to the poll's status. Recorded (not shown as a status); true when the Note was one.
async fn poll_vote(ctx: &Ctx, actor: &Account, note: &Value) -> Result<bool, InboxError> {
    let (Some(name), Some(parent)) = (vocab::str_prop(note, "name"), note.get("inReplyTo").and_then(id_of)) else {
        return Ok(false);
    };
    let Some(id) = local_status_id(ctx, parent) else {
        return Ok(false);
    };
    let table = ctx.stores.table.as_ref();
    let Some(status) = statuses::get(table, &id).await? else {
        return Ok(false);
    };
    let Some(choice) = status.poll.as_ref().and_then(|p| p.options.iter().position(|o| o == name)) else {
        return Ok(false);
    };
    match polls::vote(table, &status, &actor.id, false, &[choice as u32], petrel::clock::now_ms()).await {
        Ok(_) => polls::queue_update(table, ctx.stores.queues.outbox.as_ref(), &status.id).await?,
        // Ended, repeated or otherwise refused: a redelivery or a late vote, dropped as Mastodon does.
        Err(petrel::repo::RepoError::Invalid(why)) => tracing::info!(status = %status.id, why, "remote vote refused"),
        Err(e) => return Err(e.into()),
    }
    Ok(true)
}

pub async fn update(ctx: &Ctx, actor: &Account, object: &Value) -> Result<(), InboxError> {
    let table = ctx.stores.table.as_ref();
    let kind = vocab::type_of(object);
    if ["Person", "Service", "Application", "Group", "Organization"].contains(&kind) {
        // A profile change: refetch the actor rather than trust the embedded copy.
        if id_of(object) == Some(actor_uri(actor)) {
            resolve::actor(ctx, actor_uri(actor), true).await?;
        }
        return Ok(());
    }
    let Some(note) = authoritative(ctx, actor, object).await? else {
        return Ok(());
    };
    let Some(uri) = vocab::str_prop(&note, "id") else {
        return Ok(());
    };
    let Some(current) = statuses::by_uri(table, uri).await? else {
        return Ok(());
    };
    if current.account_id != actor.id {
        return Ok(());
    }
    let fresh = convert::remote_status(&note, actor, current.id.clone()).map_err(ResolveError::from)?;
    let mut fresh = fresh.status;
    // New results of a poll, nothing else changed: not an edit.
    if let (Some(poll), Some(_)) = (&fresh.poll, &current.poll) {
        if fresh.content == current.content && fresh.spoiler_text == current.spoiler_text {
            polls::refresh_remote(table, &current, poll).await?;
            return Ok(());
        }
    }
    fresh.mentions = current.mentions.clone();
    let stored = statuses::replace_remote(table, &current, fresh).await?;
    card(ctx, &stored).await;
    petrel::streaming::status(ctx, &stored, petrel::streaming::StatusEvent::Edited).await;
    Ok(())
}

/// Queues the preview card of a stored post's first link (made by outbox-fanout, off the
/// sender's request). Logged, not retried, on failure, like the conversation: a redelivery finds
/// the status stored and stops before this, and a post without its card is still whole.
async fn card(ctx: &Ctx, s: &petrel::model::Status) {
    let Some(event) = petrel::links::card_event(s) else { return };
    let sent = match event.message() {
        Ok(m) => ctx.stores.queues.outbox.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = sent {
        tracing::warn!(status = %s.id, error = %e, "preview card not queued");
    }
}

pub async fn delete(ctx: &Ctx, actor: &Account, object: &Value) -> Result<(), InboxError> {
    let Some(id) = id_of(object) else {
        return Ok(());
    };
    let table = ctx.stores.table.as_ref();
    if id == actor_uri(actor) {
        // The account is gone: its follows with local accounts end, and its profile is forgotten.
        for local in petrel::repo::accounts::local_ids(table).await? {
            follows::remove_follower(table, &local, &actor.id).await?;
            follows::remove_following(table, &local, &actor.id).await?;
        }
        actors::forget(table, actor).await?;
        return Ok(());
    }
    if let Some(status) = statuses::by_uri(table, id).await? {
        if status.account_id == actor.id {
            match statuses::delete(table, &status).await {
                Ok(()) => petrel::streaming::deleted(ctx, &status).await,
                Err(petrel::repo::RepoError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
