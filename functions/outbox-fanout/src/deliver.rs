//! One signed POST to one inbox. 2xx is done; 404, 410 and other permanent answers are recorded
//! and dropped; 429 waits for Retry-After; 5xx, timeouts and network errors are retried with
//! Mastodon's backoff (attempt⁴ + 15 s, plus jitter) for about two days. SQS delays are at most
//! 15 minutes, so a longer wait is carried as `due_at` and the message is re-sent until then.

use std::time::Duration;

use petrel::activitypub::resolve;
use petrel::events::{Delivery, OutboxEvent};
use petrel::repo::{deliveries, domains};
use petrel::store::OutMessage;
use petrel::Ctx;

use crate::FanoutError;

const GIVE_UP_AFTER_MS: i64 = 2 * 24 * 3600 * 1000;
const MAX_SQS_DELAY: Duration = Duration::from_secs(900);

/// Seconds to wait before try `attempt + 1`.
pub fn backoff_secs(attempt: u32) -> u64 {
    let a = u64::from(attempt.min(30));
    let jitter = (petrel::clock::now_ms() as u64 % 30) * (a + 1);
    a.pow(4) + 15 + jitter
}

async fn requeue(ctx: &Ctx, d: Delivery) -> Result<(), FanoutError> {
    let wait_ms = (d.due_at - petrel::clock::now_ms()).max(0) as u64;
    let delay = Duration::from_millis(wait_ms).min(MAX_SQS_DELAY);
    let body = serde_json::to_string(&OutboxEvent::Deliver(d))?;
    ctx.stores.queues.outbox.send(OutMessage::new(body).delayed(delay)).await?;
    Ok(())
}

fn finish(tally: &deliveries::Tally, d: &Delivery, outcome: deliveries::Outcome) -> Result<(), FanoutError> {
    if let Some(status_id) = &d.status_id {
        tally.add(status_id, outcome);
    }
    Ok(())
}

pub async fn deliver(ctx: &Ctx, tally: &deliveries::Tally, mut d: Delivery) -> Result<(), FanoutError> {
    let now = petrel::clock::now_ms();
    if d.due_at > now + 1000 {
        return requeue(ctx, d).await;
    }
    let Some(signer) = resolve::signer_by_account_id(ctx, &d.account_id).await? else {
        return Ok(()); // The sender is gone.
    };
    let Some(inbox) = url::Url::parse(&d.inbox).ok().filter(|u| u.host_str().is_some()) else {
        return finish(tally, &d, deliveries::Outcome::Failed);
    };
    let host = petrel::activitypub::vocab::host_of(&d.inbox).unwrap_or_default();
    let table = ctx.stores.table.as_ref();
    // A retry to a domain that has since been marked unavailable is given up.
    if d.attempt > 0 && domains::is_unavailable(table, &host).await? {
        return finish(tally, &d, deliveries::Outcome::Failed);
    }
    let body = serde_json::to_vec(&d.activity)?;
    let retry_in = match ctx.http.post_activity(&inbox, &body, &signer).await {
        Ok(o) if (200..300).contains(&o.status) => {
            tracing::info!(inbox = %d.inbox, status = o.status, "delivered");
            domains::record_success(table, &host).await?;
            return finish(tally, &d, deliveries::Outcome::Delivered);
        }
        Ok(o) if o.status == 429 => o.retry_after.map_or_else(|| backoff_secs(d.attempt), |r| r.as_secs().max(1)),
        Ok(o) if o.status >= 500 || o.status == 408 => backoff_secs(d.attempt),
        Ok(o) => {
            tracing::warn!(inbox = %d.inbox, status = o.status, "delivery refused; dropped");
            domains::record_failure(table, &host, &domains::day_of(now)).await?;
            return finish(tally, &d, deliveries::Outcome::Failed);
        }
        Err(e) if e.is_transient() => {
            tracing::info!(inbox = %d.inbox, error = %e, "delivery failed; will retry");
            backoff_secs(d.attempt)
        }
        Err(e) => {
            tracing::warn!(inbox = %d.inbox, error = %e, "delivery impossible; dropped");
            domains::record_failure(table, &host, &domains::day_of(now)).await?;
            return finish(tally, &d, deliveries::Outcome::Failed);
        }
    };
    // A failed try counts for its day; seven distinct days make the domain unavailable.
    if domains::record_failure(table, &host, &domains::day_of(now)).await? {
        tracing::warn!(host = %host, "domain marked unavailable after failures on seven days");
        return finish(tally, &d, deliveries::Outcome::Failed);
    }
    d.attempt += 1;
    d.due_at = now + (retry_in as i64) * 1000;
    if d.due_at - d.first_try_at > GIVE_UP_AFTER_MS {
        finish(tally, &d, deliveries::Outcome::Failed)?;
        // Failing the message lets SQS's redrive move it to the dead-letter queue for inspection.
        return Err(FanoutError::Exhausted(d.inbox));
    }
    requeue(ctx, d).await
}
