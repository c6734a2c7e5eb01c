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
    lambda::run_http(web::router(ctx)).await
}
