use petrel::{lambda, logging, Config, Ctx};

#[tokio::main]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect(Config::from_env()?).await?;
    // One function, two triggers: the HTTP API (receive) and the inbox queue (process).
    lambda::run_http_and_sqs(inbox::router(ctx.clone()), |event| inbox::handle(ctx.clone(), event)).await
}
