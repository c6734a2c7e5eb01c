use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only: the embedded backend (SQLite) is not linked in.
struct Media;
impl Uses for Media {
    const EMBEDDED: bool = false;
    /// It creates no streaming events: the API Gateway Management API client is left out.
    const CONNECTIONS: bool = false;
}

#[tokio::main]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect_using::<Media>(Config::from_env()?).await?;
    lambda::run_http(media::router(ctx)).await
}
