use petrel::{lambda, logging, Config, Ctx};

#[tokio::main]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    // It renders feeds: a bad PETREL_FEED_ITEMS fails the start, not the first render.
    feed::check_config()?;
    let ctx = Ctx::connect(Config::from_env()?).await?;
    lambda::run_sqs(|event| outbox_fanout::handle(ctx.clone(), event)).await
}
