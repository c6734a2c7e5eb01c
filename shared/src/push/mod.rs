//! Web Push of notifications (Mastodon's `/api/v1/push/subscription`).
//!
//! Where a notification is stored (the web function, the inbox), [`notify`] reads the account's
//! subscriptions with one query and keeps those whose alerts and policy want it. Only then is a
//! message queued, on the one work queue, carrying the text and the subscriptions; outbox-fanout
//! encrypts it for each subscriber and POSTs it through the safe client. So a notification
//! nobody subscribed to costs one query and no queue message (a query is about a twentieth of
//! the price of the three SQS requests a message costs), and the send reads nothing.

pub mod webpush;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::activitypub::fetch::{check_ip, FetchPolicy};
use crate::config::Config;
use crate::events::{OutboxEvent, Push, PushTarget};
use crate::model::{Account, Notification, PushPolicy, Status};
use crate::repo::{follows, RepoError};
use crate::store::{OutMessage, StoreError};
use crate::Ctx;
use webpush::{Vapid, WebPushError};

/// Push services keep an undelivered message this long (`TTL`, seconds): Mastodon's 48 hours.
pub const TTL_SECS: u64 = 48 * 3600;
/// Longest `body`, in characters, as Mastodon truncates it.
const BODY_CHARS: usize = 140;
/// Longest endpoint URL accepted.
pub const MAX_ENDPOINT_LEN: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("queue: {0}")]
    Queue(#[from] StoreError),
    #[error("message: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Crypto(#[from] WebPushError),
}

/// The site's VAPID key: one table read per process (and one conditional write, the first time
/// any process needs it).
pub async fn vapid(ctx: &Ctx) -> Result<Arc<Vapid>, PushError> {
    let key = ctx
        .vapid
        .get_or_try_init(|| async {
            let pkcs8 = crate::repo::site::vapid_pkcs8(ctx.stores.table.as_ref()).await?;
            Ok::<_, PushError>(Arc::new(Vapid::from_pkcs8(&pkcs8)?))
        })
        .await?;
    Ok(key.clone())
}

/// Whether `endpoint` may be subscribed: an https URL without credentials (http too when the
/// server may reach private networks, for loopback tests), and when its host is an IP address,
/// one the safe client may connect to. Names are checked again, resolved, at every send.
pub fn check_endpoint(endpoint: &str, policy: &FetchPolicy) -> Result<url::Url, String> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(format!("endpoint is longer than {MAX_ENDPOINT_LEN} characters"));
    }
    let url = url::Url::parse(endpoint).map_err(|_| "endpoint is not a valid URL".to_string())?;
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && policy.allow_private_network);
    if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
        return Err("endpoint must be an https URL".into());
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) if !d.is_empty() => None,
        _ => return Err("endpoint has no host".into()),
    };
    if let Some(ip) = ip {
        check_ip(ip, policy).map_err(|_| "endpoint is not a public address".to_string())?;
    }
    Ok(url)
}

/// Queues the push of a notification just stored for the local account `local_id`, if any
/// subscription wants it. `from` is who caused it and `status` the status it is about, both
/// in hand at every place that notifies, so the message's text costs no read. Best effort: a
/// failure is logged, never fails what caused the notification (which is stored already).
/// Every place that notifies calls this, so it also streams the notification to the account's
/// open `user` and `user:notification` streams (`crate::streaming`).
pub async fn notify(ctx: &Ctx, local_id: &str, n: &Notification, from: &Account, status: Option<&Status>) {
    crate::streaming::notification(ctx, local_id, n).await;
    if let Err(e) = queue(ctx, local_id, n, from, status).await {
        tracing::warn!(error = %e, notification = %n.id, "push not queued");
    }
}

/// As [`notify`], with the error. True when a message was queued. Store operations: one query
/// of the account's subscriptions; with a subscription that wants the type and has the policy
/// `follower` or `followed`, one read of that relationship; and one queue send when any
/// subscription is left.
pub async fn queue(
    ctx: &Ctx,
    local_id: &str,
    n: &Notification,
    from: &Account,
    status: Option<&Status>,
) -> Result<bool, PushError> {
    let table = ctx.stores.table.as_ref();
    let wanted: Vec<_> =
        crate::repo::push::of_account(table, local_id).await?.into_iter().filter(|(_, s)| s.wants(&n.kind)).collect();
    if wanted.is_empty() {
        return Ok(false);
    }
    // Mastodon's policies: `follower` when the notifier follows the user, `followed` when the
    // user follows the notifier (or is the notifier). Each relationship is read once, if asked.
    let (mut follower, mut followed) = (None, None);
    let mut targets = Vec::new();
    for (token_hash, s) in wanted {
        let allowed = match s.policy {
            PushPolicy::All => true,
            PushPolicy::None => false,
            PushPolicy::Follower => match follower {
                Some(v) => v,
                None => *follower.insert(follows::is_follower(table, local_id, &from.id).await?),
            },
            PushPolicy::Followed => match followed {
                Some(v) => v,
                None => *followed.insert(
                    from.id == local_id
                        || follows::following(table, local_id, &from.id).await?.is_some_and(|f| f.accepted),
                ),
            },
        };
        if allowed {
            targets.push(PushTarget {
                token_hash,
                subscription_id: s.id,
                endpoint: s.endpoint,
                p256dh: s.p256dh,
                auth: s.auth,
                standard: s.standard,
                access_token: s.access_token,
            });
        }
    }
    if targets.is_empty() {
        return Ok(false);
    }
    let message = OutboxEvent::Push(message(&ctx.config, local_id, n, from, status, targets));
    ctx.stores.queues.outbox.send(OutMessage::new(serde_json::to_string(&message)?)).await?;
    Ok(true)
}

/// The queued message: the text Mastodon's push carries (`Web::NotificationSerializer`).
pub fn message(
    cfg: &Config,
    local_id: &str,
    n: &Notification,
    from: &Account,
    status: Option<&Status>,
    targets: Vec<PushTarget>,
) -> Push {
    let name = if from.display_name.trim().is_empty() { from.username.clone() } else { from.display_name.clone() };
    let title = match n.kind.as_str() {
        "mention" => format!("You were mentioned by {name}"),
        "status" => format!("{name} just posted"),
        "reblog" => format!("{name} boosted your post"),
        "follow" => format!("{name} is now following you"),
        "follow_request" => format!("Pending follower: {name}"),
        "favourite" => format!("{name} favorited your post"),
        "poll" => format!("A poll by {name} has ended"),
        "update" => format!("{name} edited a post"),
        "quote" => format!("{name} quoted your post"),
        "admin.sign_up" => format!("{name} signed up"),
        "admin.report" => format!("New report by {name}"),
        _ => format!("New notification from {name}"),
    };
    // The status's content warning, else its text; without a status, the notifier's bio.
    let html = match status {
        Some(s) if !s.spoiler_text.trim().is_empty() => html_escape::encode_text(&s.spoiler_text).into_owned(),
        Some(s) => s.content.clone(),
        None => from.note.clone(),
    };
    let text = crate::mastodon::convert::html_to_text(&html);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = if text.chars().count() > BODY_CHARS {
        text.chars().take(BODY_CHARS - 1).chain(['…']).collect()
    } else {
        text
    };
    Push {
        account_id: local_id.to_string(),
        notification_id: n.id.clone(),
        notification_type: n.kind.clone(),
        title,
        body,
        icon: crate::mastodon::convert::account(cfg, from, false).avatar_static,
        targets,
        attempt: 0,
        due_at: 0,
    }
}

/// The JSON an app decrypts, for one subscriber: Mastodon's fields, the notification id a number
/// as Mastodon sends it (apps decode it as an integer).
pub fn payload(p: &Push, t: &PushTarget) -> Vec<u8> {
    let id = p.notification_id.parse::<u64>().map_or_else(|_| Value::String(p.notification_id.clone()), Value::from);
    json!({
        "access_token": t.access_token,
        "preferred_locale": "en",
        "notification_id": id,
        "notification_type": p.notification_type,
        "icon": p.icon,
        "title": p.title,
        "body": p.body,
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_and_public() {
        let strict = FetchPolicy::default();
        let loopback = FetchPolicy { allow_private_network: true, ..FetchPolicy::default() };
        assert!(check_endpoint("https://push.example.net/wpush/v2/abc", &strict).is_ok());
        assert!(check_endpoint("http://push.example.net/x", &strict).is_err());
        assert!(check_endpoint("http://127.0.0.1:9/x", &loopback).is_ok());
        assert!(check_endpoint("https://127.0.0.1/x", &strict).is_err());
        assert!(check_endpoint("https://[::1]/x", &strict).is_err());
        assert!(check_endpoint("https://169.254.169.254/latest", &loopback).is_err(), "metadata stays refused");
        assert!(check_endpoint("https://10.0.0.1/x", &strict).is_err());
        assert!(check_endpoint("https://user:pw@push.example.net/x", &strict).is_err());
        assert!(check_endpoint("ftp://push.example.net/x", &loopback).is_err());
        assert!(check_endpoint("not a url", &strict).is_err());
    }
}
