//! What happens after a post changes besides the write itself. For now: ask the feed function to
//! re-render the author's feeds and pages (one queue send). Federation will route this through
//! outbox-fanout, which then sends the render message; callers keep calling this one function.

use petrel::events::FeedEvent;
use petrel::Ctx;

/// Queues a render of the account's feeds and profile, of these hashtags' feeds and of these
/// statuses' pages. A failed send is logged, not returned: the post is already written, and an
/// error would make the client post it again; the next change renders the feeds anyway.
pub async fn feeds_changed(ctx: &Ctx, account_id: &str, tags: &[String], statuses: &[String]) {
    let event =
        FeedEvent::Render { account_id: account_id.to_string(), tags: tags.to_vec(), statuses: statuses.to_vec() };
    if let Err(e) = event.send(ctx.stores.queues.feed.as_ref()).await {
        tracing::warn!(account_id, error = %e, "feed render request was not queued");
    }
}
