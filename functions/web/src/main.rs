use petrel::{lambda, logging, Config, Ctx, Uses};

/// On AWS only: the embedded backend (SQLite) is not linked in.
struct Web;
impl Uses for Web {
    const EMBEDDED: bool = false;
}

#[tokio::main]
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
