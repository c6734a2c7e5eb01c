use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only, and without the Blobs port: the inbox stores no files, so neither SQLite
/// nor the S3 client is linked in.
struct Inbox;
impl Uses for Inbox {
    const EMBEDDED: bool = false;
    const BLOBS: bool = false;
}

// One thread: Lambda hands an instance one event at a time, so a multi-threaded runtime's
// workers would only be started (at every cold start) to wait. Blocking work (password hashing,
// image processing) still goes to tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect_using::<Inbox>(Config::from_env()?).await?;
    lambda::run_http(inbox::router(ctx)).await
}
