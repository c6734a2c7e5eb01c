use petrel::{lambda, logging, Config, Ctx};

#[tokio::main]
async fn main() -> Result<(), lambda::Error> {
    logging::init();
    let ctx = Ctx::connect(Config::from_env()?).await?;
    lambda::run_http(inbox::router(ctx)).await
}
