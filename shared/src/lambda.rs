//! Running handlers in Lambda. A function's `main` calls one of these with its router or its
//! queue consumer; `petrel serve` calls the same router and consumer directly.

use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
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
    let (router, _) = guarded(router)?;
    lambda_http::run(crate::http::app(router)).await
}

/// The router behind the origin-secret check, and the secrets (empty: none configured).
fn guarded(router: Router) -> Result<(Router, Vec<String>), Error> {
    match std::env::var("PETREL_ORIGIN_SECRET").ok().filter(|s| !s.is_empty()) {
        Some(value) => {
            let secrets = crate::http::origin_secrets(&value);
            if secrets.is_empty() {
                return Err("PETREL_ORIGIN_SECRET is set but holds no secret".into());
            }
            Ok((crate::http::require_origin_secret(router, secrets.clone()), secrets))
        }
        None => Ok((router, Vec::new())),
    }
}

/// As [`run_http`], for a function that also handles an API Gateway WebSocket API's events
/// (web: the streaming API). An event whose `requestContext` has an `eventType` (`CONNECT`,
/// `MESSAGE`, `DISCONNECT`) goes to `websocket` with the origin secrets it must check on
/// connect; any other is the function URL's HTTP request, served by the router as `run_http`
/// serves it. One runtime loop: the function stays one binary and one cold start.
pub async fn run_http_and_websocket<W, Fut>(router: Router, websocket: W) -> Result<(), Error>
where
    W: Fn(ApiGatewayWebsocketProxyRequest, std::sync::Arc<Vec<String>>) -> Fut,
    Fut: Future<Output = ApiGatewayProxyResponse>,
{
    use lambda_http::tower::ServiceExt;
    let (router, secrets) = guarded(router)?;
    let secrets = std::sync::Arc::new(secrets);
    let app = crate::http::app(router);
    let websocket = &websocket;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (app, secrets) = (app.clone(), secrets.clone());
        async move {
            if event.payload.pointer("/requestContext/eventType").is_some_and(serde_json::Value::is_string) {
                let request: ApiGatewayWebsocketProxyRequest = serde_json::from_value(event.payload)?;
                return Ok::<_, Error>(serde_json::to_value(websocket(request, secrets).await)?);
            }
            let request: lambda_http::request::LambdaRequest = serde_json::from_value(event.payload)?;
            let adapter = lambda_http::Adapter::from(app);
            let response = adapter.oneshot(LambdaEvent::new(request, event.context)).await?;
            Ok(serde_json::to_value(response)?)
        }
    }))
    .await
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
