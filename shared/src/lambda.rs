//! Running handlers in Lambda. A function's `main` calls one of these with its router or its
//! queue consumer; `petrel serve` calls the same router and consumer directly.

use std::future::Future;
use std::sync::Arc;

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
    // A function deployed alone answers paths it does not serve (CloudFront sends it everything
    // under its prefixes, e.g. `/api/v1/media*`) with Mastodon's JSON 404, as `petrel serve`
    // does through the web function's fallback.
    let router = router.fallback(crate::http::not_found);
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
    W: Fn(ApiGatewayWebsocketProxyRequest, Arc<Vec<String>>) -> Fut,
    Fut: Future<Output = ApiGatewayProxyResponse>,
{
    let (router, secrets) = guarded(router)?;
    let secrets = Arc::new(secrets);
    let app = crate::http::app(router);
    let websocket = &websocket;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        dispatch(app.clone(), secrets.clone(), websocket, event)
    }))
    .await
}

/// One invocation of [`run_http_and_websocket`]: a WebSocket API event to `websocket`, anything
/// else to the HTTP app through `lambda_http`'s own adapter. Both answers go back as JSON.
pub async fn dispatch<W, Fut>(
    app: crate::http::App,
    secrets: Arc<Vec<String>>,
    websocket: &W,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Error>
where
    W: Fn(ApiGatewayWebsocketProxyRequest, Arc<Vec<String>>) -> Fut,
    Fut: Future<Output = ApiGatewayProxyResponse>,
{
    use lambda_http::tower::ServiceExt;
    if event.payload.pointer("/requestContext/eventType").is_some_and(serde_json::Value::is_string) {
        let request: ApiGatewayWebsocketProxyRequest = serde_json::from_value(event.payload)?;
        return Ok(serde_json::to_value(websocket(request, secrets).await)?);
    }
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(event.payload)?;
    let response = lambda_http::Adapter::from(app).oneshot(LambdaEvent::new(request, event.context)).await?;
    Ok(serde_json::to_value(response)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app() -> crate::http::App {
        crate::http::app(Router::new().route("/health", axum::routing::get(|| async { "ok" })))
    }

    async fn websocket(request: ApiGatewayWebsocketProxyRequest, secrets: Arc<Vec<String>>) -> ApiGatewayProxyResponse {
        let mut r = ApiGatewayProxyResponse::default();
        r.status_code = 200;
        let route = request.request_context.route_key.unwrap_or_default();
        r.body = Some(format!("{route} {}", secrets.len()).into());
        r
    }

    #[tokio::test]
    async fn websocket_events_and_http_requests_reach_their_own_handler() {
        let ws = json!({
            "requestContext": { "routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c1",
                                "connectedAt": 0, "requestTimeEpoch": 0, "apiId": "a", "stage": "live" },
            "headers": {}, "multiValueHeaders": {}, "isBase64Encoded": false
        });
        let out = dispatch(app(), Arc::new(vec!["s".into()]), &websocket, LambdaEvent::new(ws, Default::default()))
            .await
            .unwrap();
        assert_eq!((out["statusCode"].as_i64(), out["body"].as_str()), (Some(200), Some("$connect 1")));

        // A function URL's request (HTTP API payload 2.0), as lambda_http::run serves it.
        let http = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/health", "rawQueryString": "",
            "headers": { "host": "example.lambda-url.us-east-1.on.aws" },
            "requestContext": { "accountId": "anonymous", "apiId": "x", "domainName": "example.lambda-url.us-east-1.on.aws",
                                "domainPrefix": "example", "http": { "method": "GET", "path": "/health",
                                "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t" },
                                "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "30/Nov/2026:12:00:00 +0000",
                                "timeEpoch": 0 },
            "isBase64Encoded": false
        });
        let out = dispatch(app(), Arc::new(Vec::new()), &websocket, LambdaEvent::new(http, Default::default()))
            .await
            .unwrap();
        assert_eq!((out["statusCode"].as_i64(), out["body"].as_str()), (Some(200), Some("ok")));
    }
}
