//! One signed POST to one inbox. 2xx is done; 404, 410 and other permanent answers are recorded
//! and dropped; 429 waits for Retry-After (for every delivery to that host); 5xx, timeouts and
//! network errors are retried with Mastodon's backoff (attempt⁴ + 15 s, plus jitter) for about
//! two days, then given up quietly: counted as failed in the status's report, and the message
//! completes (the dead-letter queue is for messages that could not be processed at all).
//!
//! Waits: up to SQS's 15-minute delay, the message is sent again with that delay. Longer ones
//! keep the message and set its visibility timeout to the wait (`Settled::Later`), so a dead
//! inbox costs a receive per try instead of a new message every 15 minutes; the body is not
//! rewritten then, so the try number is the body's plus the receives since. Near the queue's
//! redrive count the message is sent anew (receive count 1 again) with the wait carried in
//! `due_at`. See `plan`, which the tests simulate over the whole two days.

use std::time::Duration;

use petrel::activitypub::resolve;
use petrel::consumer::Settled;
use petrel::events::{Delivery, OutboxEvent};
use petrel::repo::deliveries;
use petrel::repo::domains::{self, HostState};
use petrel::store::{OutMessage, MAX_RECEIVES};
use petrel::Ctx;

use crate::{hosts, FanoutError};

pub const GIVE_UP_AFTER_MS: i64 = 2 * 24 * 3600 * 1000;
const MAX_SQS_DELAY_MS: i64 = 900 * 1000;
/// SQS's longest visibility timeout.
const MAX_HOLD_MS: i64 = 12 * 3600 * 1000;
/// A delivery that found its host's slots busy tries again this much later (not counted as a try).
const BUSY_RETRY_MS: i64 = 30 * 1000;

/// Seconds to wait before try `attempt + 1`.
pub fn backoff_secs(attempt: u32) -> u64 {
    let a = u64::from(attempt.min(30));
    let jitter = (petrel::clock::now_ms() as u64 % 30) * (a + 1);
    a.pow(4) + 15 + jitter
}

/// How this receipt of a delivery message came: for holding it by its visibility timeout.
#[derive(Debug, Clone, Default)]
pub struct Receipt {
    /// Names the receipt for `change_visibility`; empty when the message cannot be held (a
    /// delivery called directly).
    pub handle: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

impl Receipt {
    /// Receives since the message was last written: tries made that its body does not count.
    fn extra_tries(&self) -> u32 {
        self.receive_count.saturating_sub(1)
    }
}

/// Tries made so far: the body's count plus the receives since it was written.
pub fn tries(d: &Delivery, receipt: &Receipt) -> u32 {
    d.attempt + receipt.extra_tries()
}

/// After a failed try at `now` that asked for `retry_in_secs`: the delivery to wait for (what a
/// new message would carry), or `None` when that would pass the two days and it is given up.
pub fn after_failure(mut d: Delivery, receipt: &Receipt, retry_in_secs: u64, now: i64) -> Option<Delivery> {
    d.attempt = tries(&d, receipt) + 1;
    d.due_at = now + (retry_in_secs as i64) * 1000;
    (d.due_at - d.first_try_at <= GIVE_UP_AFTER_MS).then_some(d)
}

/// What to do with a delivery that must wait `wait_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the delivery again as a new message, delayed this long (ms, at most 15 minutes).
    Resend(i64),
    /// Keep the message, invisible for this long (ms).
    Hold(i64),
}

/// The cheapest way to wait: a delay if it fits SQS's 15 minutes, else the visibility timeout
/// while the message is well short of the redrive count (`MAX_RECEIVES`: at that count SQS would
/// dead-letter it), else a new message that carries the rest of the wait in `due_at`.
pub fn plan(wait_ms: i64, receipt: &Receipt) -> Next {
    if wait_ms <= MAX_SQS_DELAY_MS {
        Next::Resend(wait_ms.max(0))
    } else if !receipt.handle.is_empty() && receipt.receive_count + 1 < MAX_RECEIVES {
        Next::Hold(wait_ms.min(MAX_HOLD_MS))
    } else {
        Next::Resend(MAX_SQS_DELAY_MS)
    }
}

/// Waits until `d.due_at` as `plan` says. `d` is what a new message would carry.
async fn wait(ctx: &Ctx, d: Delivery, receipt: &Receipt) -> Result<Settled, FanoutError> {
    let wait_ms = d.due_at - petrel::clock::now_ms();
    if let Next::Hold(ms) = plan(wait_ms, receipt) {
        let hold = Duration::from_millis(ms as u64);
        match ctx.stores.queues.outbox.change_visibility(&receipt.handle, hold).await {
            Ok(()) => return Ok(Settled::Later),
            // Gone past its visibility, or the queue refused: a new message does the same.
            Err(e) => tracing::info!(error = %e, "could not hold the delivery; sending it again"),
        }
    }
    let delay = Duration::from_millis(wait_ms.clamp(0, MAX_SQS_DELAY_MS) as u64);
    let body = serde_json::to_string(&OutboxEvent::Deliver(d))?;
    ctx.stores.queues.outbox.send(OutMessage::new(body).delayed(delay)).await?;
    Ok(Settled::Done)
}

fn finish(tally: &deliveries::Tally, d: &Delivery, outcome: deliveries::Outcome) -> Result<Settled, FanoutError> {
    if let Some(status_id) = &d.status_id {
        tally.add(status_id, outcome);
    }
    Ok(Settled::Done)
}

pub async fn deliver(
    ctx: &Ctx,
    tally: &deliveries::Tally,
    mut d: Delivery,
    receipt: &Receipt,
) -> Result<Settled, FanoutError> {
    let now = petrel::clock::now_ms();
    if d.due_at > now + 1000 {
        return wait(ctx, d, receipt).await;
    }
    let Some(signer) = resolve::signer_by_account_id(ctx, &d.account_id).await? else {
        return Ok(Settled::Done); // The sender is gone.
    };
    let Some(inbox) = url::Url::parse(&d.inbox).ok().filter(|u| u.host_str().is_some()) else {
        return finish(tally, &d, deliveries::Outcome::Failed);
    };
    let host = petrel::activitypub::vocab::host_of(&d.inbox).unwrap_or_default();
    let table = ctx.stores.table.as_ref();
    // The host asked this process to wait (a 429 to another delivery).
    if let Some(until) = hosts::wait_until(&host) {
        d.due_at = until;
        return wait(ctx, d, receipt).await;
    }
    let attempt = tries(&d, receipt);
    // A retry reads the host's mark: given up if it has since become unavailable, held if it
    // asked for a wait. (First tries were checked by the fan-out, in one batch per page.)
    if attempt > 0 {
        match domains::state(table, &host).await? {
            HostState::Unavailable => return finish(tally, &d, deliveries::Outcome::Failed),
            HostState::WaitUntil(until) => {
                hosts::set_wait(&host, until);
                d.due_at = until;
                return wait(ctx, d, receipt).await;
            }
            HostState::Clear => {}
        }
    }
    let Some(_slot) = hosts::slot(&host, ctx.config.host_concurrency).await else {
        tracing::info!(host = %host, "host busy; delivery put back");
        d.due_at = now + BUSY_RETRY_MS;
        return wait(ctx, d, &Receipt::default()).await;
    };
    let body = serde_json::to_vec(&d.activity)?;
    let retry_in = match ctx.http.post_activity(&inbox, &body, &signer).await {
        Ok(o) if (200..300).contains(&o.status) => {
            tracing::info!(inbox = %d.inbox, status = o.status, "delivered");
            domains::record_success(table, &host).await?;
            return finish(tally, &d, deliveries::Outcome::Delivered);
        }
        Ok(o) if o.status == 429 => match o.retry_after {
            Some(r) => {
                // The host's wish holds for every delivery to it, here and in other processes.
                let secs = r.as_secs().max(1);
                let until = petrel::clock::now_ms() + (secs as i64) * 1000;
                hosts::set_wait(&host, until);
                domains::set_wait(table, &host, until).await?;
                secs
            }
            None => backoff_secs(attempt),
        },
        Ok(o) if o.status >= 500 || o.status == 408 => backoff_secs(attempt),
        Ok(o) => {
            tracing::warn!(inbox = %d.inbox, status = o.status, "delivery refused; dropped");
            domains::record_failure(table, &host, &domains::day_of(now)).await?;
            return finish(tally, &d, deliveries::Outcome::Failed);
        }
        Err(e) if e.is_transient() => {
            tracing::info!(inbox = %d.inbox, error = %e, "delivery failed; will retry");
            backoff_secs(attempt)
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
    match after_failure(d.clone(), receipt, retry_in, now) {
        Some(again) => wait(ctx, again, receipt).await,
        None => {
            tracing::info!(inbox = %d.inbox, tries = attempt + 1, "delivery given up after two days");
            finish(tally, &d, deliveries::Outcome::Failed)
        }
    }
}

/// Follows a delivery to an inbox that never answers through the whole retry window, with the
/// functions `deliver` decides by (`plan`, `after_failure`, `tries`, `backoff_secs`) on a virtual
/// clock: (messages sent, receives, tries). For the test that bounds it and the fan-out benchmark.
pub fn simulate_dead_inbox() -> (u32, u32, u32) {
    let mut now = 0;
    let mut d = Delivery {
        account_id: String::new(),
        inbox: String::new(),
        activity: serde_json::Value::Null,
        status_id: None,
        attempt: 0,
        first_try_at: now,
        due_at: now,
    };
    let mut receipt = Receipt { handle: "simulated".into(), receive_count: 1 };
    // The fan-out sends it; it is received.
    let (mut sent, mut receives, mut made) = (1, 1, 0);
    loop {
        let next = if d.due_at > now + 1000 {
            // A hop of a long wait: nothing tried, the body unchanged.
            d.clone()
        } else {
            made += 1;
            match after_failure(d.clone(), &receipt, backoff_secs(tries(&d, &receipt)), now) {
                Some(next) => next,
                None => return (sent, receives, made),
            }
        };
        match plan(next.due_at - now, &receipt) {
            Next::Hold(ms) => {
                now += ms;
                receipt.receive_count += 1;
            }
            Next::Resend(ms) => {
                d = next;
                now += ms;
                sent += 1;
                receipt.receive_count = 1;
            }
        }
        receives += 1;
    }
}
