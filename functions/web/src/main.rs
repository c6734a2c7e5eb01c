use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only: the embedded backend (SQLite) is not linked in. No S3 client either: the media
/// files of posted and deleted statuses are kept or removed by outbox-fanout (`OutboxEvent::Files`).
struct Web;
impl Uses for Web {
    const EMBEDDED: bool = false;
    const BLOBS: bool = false;
}

// One thread: Lambda hands an instance one event at a time, so a multi-threaded runtime's
// workers would only be started (at every cold start) to wait. Blocking work (password hashing,
// image processing) still goes to tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect_using::<Web>(Config::from_env()?).await?;
    // The function URL's HTTP requests and the streaming WebSocket API's events (web::streaming).
    let router = web::router(ctx.clone());
    lambda::run_http_and_websocket(router, |event, secrets| {
        let ctx = ctx.clone();
        async move { web::streaming::websocket_event(&ctx, event, &secrets).await }
    })
    .await
}
