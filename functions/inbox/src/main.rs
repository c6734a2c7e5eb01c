use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only, and without the Blobs port: the inbox stores no files, so neither SQLite
/// nor the S3 client is linked in.
struct Inbox;
impl Uses for Inbox {
    const EMBEDDED: bool = false;
    const BLOBS: bool = false;
}

#[tokio::main]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect_using::<Inbox>(Config::from_env()?).await?;
    lambda::run_http(inbox::router(ctx)).await
}
