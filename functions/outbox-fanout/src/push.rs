//! Web Push sends: a queued notification, encrypted for each subscription that wanted it (RFC 8291
//! `aes128gcm`, or Mastodon's draft `aesgcm` for subscriptions made without `standard`), signed
//! with the site's VAPID key (RFC 8292), POSTed through the safe client. 2xx is done; 404 and
//! 410 mean the subscription is gone, and it is deleted; 429 waits for Retry-After, and 5xx,
//! 408, timeouts and network errors are retried with the delivery backoff (`deliver.rs`), at most
//! five times, as Mastodon retries its push jobs. Other answers are logged and dropped.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use petrel::events::{OutboxEvent, Push, PushTarget};
use petrel::push::webpush::{self, SubscriberKeys, Vapid, JWT_LIFETIME_SECS};
use petrel::repo;
use petrel::store::OutMessage;
use petrel::Ctx;

use crate::deliver::backoff_secs;
use crate::FanoutError;

/// Retries after the first try.
pub const MAX_RETRIES: u32 = 5;
const MAX_SQS_DELAY: Duration = Duration::from_secs(900);

/// What one POST to one push service came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    Gone,
    RetryIn(u64),
    Dropped,
}

async fn requeue(ctx: &Ctx, p: Push) -> Result<(), FanoutError> {
    let wait_ms = (p.due_at - petrel::clock::now_ms()).max(0) as u64;
    let delay = Duration::from_millis(wait_ms).min(MAX_SQS_DELAY);
    let body = serde_json::to_string(&OutboxEvent::Push(p))?;
    ctx.stores.queues.outbox.send(OutMessage::new(body).delayed(delay)).await?;
    Ok(())
}

pub async fn send(ctx: &Ctx, mut p: Push) -> Result<(), FanoutError> {
    let now = petrel::clock::now_ms();
    if p.due_at > now + 1000 {
        return requeue(ctx, p).await;
    }
    let vapid = petrel::push::vapid(ctx).await?;
    let targets = std::mem::take(&mut p.targets);
    // An account's subscriptions are its devices: a few, sent to at once.
    let outcomes = futures::future::join_all(targets.iter().map(|t| send_one(ctx, &vapid, &p, t))).await;
    let mut again = Vec::new();
    let mut retry_in = 0;
    for (target, outcome) in targets.into_iter().zip(outcomes) {
        match outcome {
            Outcome::Sent | Outcome::Dropped => {}
            Outcome::Gone => {
                let table = ctx.stores.table.as_ref();
                if repo::push::delete_gone(table, &p.account_id, &target.token_hash, &target.subscription_id).await? {
                    tracing::info!(endpoint = %target.endpoint, "push subscription gone; deleted");
                }
            }
            Outcome::RetryIn(secs) => {
                retry_in = retry_in.max(secs);
                again.push(target);
            }
        }
    }
    if again.is_empty() {
        return Ok(());
    }
    if p.attempt >= MAX_RETRIES {
        tracing::warn!(notification = %p.notification_id, subscriptions = again.len(), "push given up after retries");
        return Ok(());
    }
    p.attempt += 1;
    p.due_at = now + (retry_in as i64) * 1000;
    p.targets = again;
    requeue(ctx, p).await
}

async fn send_one(ctx: &Ctx, vapid: &Vapid, p: &Push, t: &PushTarget) -> Outcome {
    let endpoint = match petrel::push::check_endpoint(&t.endpoint, ctx.http.policy()) {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(endpoint = %t.endpoint, error = %e, "push endpoint refused; dropped");
            return Outcome::Dropped;
        }
    };
    let (headers, body) = match request(ctx, vapid, p, t, &endpoint) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(endpoint = %t.endpoint, error = %e, "push could not be encrypted; dropped");
            return Outcome::Dropped;
        }
    };
    match ctx.http.post_push(&endpoint, headers, body).await {
        Ok(o) if (200..300).contains(&o.status) => {
            tracing::info!(endpoint = %t.endpoint, status = o.status, "pushed");
            Outcome::Sent
        }
        Ok(o) if o.status == 404 || o.status == 410 => Outcome::Gone,
        Ok(o) if o.status == 429 => {
            Outcome::RetryIn(o.retry_after.map_or_else(|| backoff_secs(p.attempt), |r| r.as_secs().max(1)))
        }
        Ok(o) if o.status >= 500 || o.status == 408 => Outcome::RetryIn(backoff_secs(p.attempt)),
        Ok(o) => {
            tracing::warn!(endpoint = %t.endpoint, status = o.status, "push refused; dropped");
            Outcome::Dropped
        }
        Err(e) if e.is_transient() => {
            tracing::info!(endpoint = %t.endpoint, error = %e, "push failed; will retry");
            Outcome::RetryIn(backoff_secs(p.attempt))
        }
        Err(e) => {
            tracing::warn!(endpoint = %t.endpoint, error = %e, "push impossible; dropped");
            Outcome::Dropped
        }
    }
}

fn header(headers: &mut HeaderMap, name: &'static str, value: &str) -> Result<(), FanoutError> {
    let value = HeaderValue::from_str(value).map_err(|_| FanoutError::Push(format!("bad {name} header")))?;
    headers.insert(HeaderName::from_static(name), value);
    Ok(())
}

/// The headers and the encrypted body of one push.
fn request(
    ctx: &Ctx,
    vapid: &Vapid,
    p: &Push,
    t: &PushTarget,
    endpoint: &url::Url,
) -> Result<(HeaderMap, Vec<u8>), FanoutError> {
    let keys = SubscriberKeys::parse(&t.p256dh, &t.auth).map_err(|e| FanoutError::Push(e.to_string()))?;
    let plaintext = petrel::push::payload(p, t);
    // RFC 8292: the audience is the push service's origin, the subject a contact for its operator.
    let exp = petrel::clock::now_ms() / 1000 + JWT_LIFETIME_SECS;
    let jwt = vapid
        .jwt(&endpoint.origin().ascii_serialization(), &ctx.config.base_url(), exp)
        .map_err(|e| FanoutError::Push(e.to_string()))?;
    let mut headers = HeaderMap::new();
    header(&mut headers, "content-type", "application/octet-stream")?;
    header(&mut headers, "ttl", &petrel::push::TTL_SECS.to_string())?;
    header(&mut headers, "urgency", "normal")?;
    let body = if t.standard {
        header(&mut headers, "content-encoding", "aes128gcm")?;
        header(&mut headers, "authorization", &vapid.authorization(&jwt))?;
        webpush::encrypt_aes128gcm(&keys, &plaintext).map_err(|e| FanoutError::Push(e.to_string()))?
    } else {
        // Mastodon's legacy form: salt and sender key in headers, the JWT under `WebPush`.
        let m = webpush::encrypt_aesgcm(&keys, &plaintext).map_err(|e| FanoutError::Push(e.to_string()))?;
        header(&mut headers, "content-encoding", "aesgcm")?;
        header(&mut headers, "encryption", &format!("salt={}", webpush::b64url(&m.salt)))?;
        let crypto_key = format!("dh={};p256ecdsa={}", webpush::b64url(&m.sender_public), vapid.public_key());
        header(&mut headers, "crypto-key", &crypto_key)?;
        header(&mut headers, "authorization", &format!("WebPush {jwt}"))?;
        m.body
    };
    Ok((headers, body))
}
