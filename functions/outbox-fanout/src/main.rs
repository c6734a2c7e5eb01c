use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only: the embedded backend (SQLite) is not linked in.
struct OutboxFanout;
impl Uses for OutboxFanout {
    const EMBEDDED: bool = false;
}

// One thread: Lambda hands an instance one event at a time, so a multi-threaded runtime's
// workers would only be started (at every cold start) to wait. Blocking work (password hashing,
// image processing) still goes to tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    // It renders feeds: a bad PETREL_FEED_ITEMS fails the start, not the first render.
    feed::check_config()?;
    let ctx = Ctx::connect_using::<OutboxFanout>(Config::from_env()?).await?;
    lambda::run_sqs(|event| outbox_fanout::handle(ctx.clone(), event)).await
}
