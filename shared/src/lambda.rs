//! Running handlers in Lambda. A function's `main` calls one of these with its router or its
//! queue consumer; `petrel serve` calls the same router and consumer directly.

use std::future::Future;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use axum::Router;
use lambda_runtime::{service_fn, LambdaEvent};

pub type Error = lambda_runtime::Error;

/// An HTTP function behind CloudFront and a function URL. With `PETREL_ORIGIN_SECRET` set, only
/// requests carrying one of its secrets (comma-separated: the current one, and the previous one
/// during a rotation) in `x-petrel-origin`, which the distribution adds, are served: a function
/// URL that accepts unsigned POSTs is public, and this keeps callers on the CDN's path. Set but
/// holding no secret (say, only commas) is a configuration error: the function does not start.
pub async fn run_http(router: Router) -> Result<(), Error> {
    // A function deployed alone answers paths it does not serve (CloudFront sends it everything
    // under its prefixes, e.g. `/api/v1/media*`) with Mastodon's JSON 404, as `petrel serve`
    // does through the web function's fallback.
    let router = router.fallback(crate::http::not_found);
    let router = match std::env::var("PETREL_ORIGIN_SECRET").ok().filter(|s| !s.is_empty()) {
        Some(value) => {
            let secrets = crate::http::origin_secrets(&value);
            if secrets.is_empty() {
                return Err("PETREL_ORIGIN_SECRET is set but holds no secret".into());
            }
            crate::http::require_origin_secret(router, secrets)
        }
        None => router,
    };
    lambda_http::run(crate::http::app(router)).await
}

/// A queue consumer behind an SQS event source mapping with `ReportBatchItemFailures`.
pub async fn run_sqs<F, Fut>(consumer: F) -> Result<(), Error>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let work = consumer(event.payload);
        async move { Ok::<_, Error>(work.await) }
    }))
    .await
}
