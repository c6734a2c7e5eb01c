use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only, and without the Queue port: feeds are rendered by outbox-fanout and only
/// read here, so neither SQLite nor the SQS client is linked in.
struct Feed;
impl Uses for Feed {
    const EMBEDDED: bool = false;
    /// It creates no streaming events: the API Gateway Management API client is left out.
    const CONNECTIONS: bool = false;
    const QUEUE: bool = false;
}

// One thread: Lambda hands an instance one event at a time, so a multi-threaded runtime's
// workers would only be started (at every cold start) to wait. Blocking work (password hashing,
// image processing) still goes to tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    feed::check_config()?;
    let ctx = Ctx::connect_using::<Feed>(Config::from_env()?).await?;
    lambda::run_http(feed::router(ctx)).await
}
