//! The smallest HTTP function lambda_http can run: the baseline every Petrel function's cold start
//! is compared with (infra/bench/coldstart.py).

use lambda_http::{run, service_fn, Body, Error, Request, Response};

async fn hello(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::new(Body::from("hello")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(hello)).await
}
