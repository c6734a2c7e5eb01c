use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only: the embedded backend (SQLite) is not linked in.
struct Media;
impl Uses for Media {
    const EMBEDDED: bool = false;
    /// It creates no streaming events: the API Gateway Management API client is left out.
    const CONNECTIONS: bool = false;
}

// One thread: Lambda hands an instance one event at a time, so a multi-threaded runtime's
// workers would only be started (at every cold start) to wait. Blocking work (password hashing,
// image processing) still goes to tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect_using::<Media>(Config::from_env()?).await?;
    lambda::run_http(media::router(ctx)).await
}
