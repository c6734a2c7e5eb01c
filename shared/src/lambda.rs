//! Running handlers in Lambda. A function's `main` calls one of these with its router or its
//! queue consumer; `petrel serve` calls the same router and consumer directly.

use std::future::Future;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body as EventBody;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use axum::Router;
use lambda_runtime::{service_fn, LambdaEvent};
use tower::ServiceExt;

pub type Error = lambda_runtime::Error;

/// An HTTP function behind API Gateway's HTTP API (payload 2.0) or a function URL.
pub async fn run_http(router: Router) -> Result<(), Error> {
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

/// A function with both an HTTP route and a queue (the inbox: receive, then process). The event's
/// shape decides: SQS events carry `Records`; anything else is an HTTP API request.
pub async fn run_http_and_sqs<F, Fut>(router: Router, consumer: F) -> Result<(), Error>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        dispatch(router.clone(), &consumer, event.payload)
    }))
    .await
}

/// Routes one raw Lambda event to the queue consumer or the HTTP router by its shape.
pub async fn dispatch<F, Fut>(
    router: Router,
    consumer: &F,
    payload: serde_json::Value,
) -> Result<serde_json::Value, Error>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    if payload.get("Records").is_some_and(|r| r.is_array()) {
        let event: SqsEvent = serde_json::from_value(payload)?;
        return Ok(serde_json::to_value(consumer(event).await)?);
    }
    Ok(serde_json::to_value(http_event(router, payload).await?)?)
}

async fn http_event(router: Router, payload: serde_json::Value) -> Result<ApiGatewayV2httpResponse, Error> {
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(payload)?;
    let request: http::Request<lambda_http::Body> = request.into();
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::from(body.to_vec());
    let response = crate::http::app(router).oneshot(http::Request::from_parts(parts, body)).await?;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await?;
    let textual = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/") || ct.contains("json") || ct.contains("xml"));
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    if !bytes.is_empty() {
        match (textual, String::from_utf8(bytes.to_vec())) {
            (true, Ok(text)) => out.body = Some(EventBody::Text(text)),
            _ => {
                out.body = Some(EventBody::Binary(bytes.to_vec()));
                out.is_base64_encoded = true;
            }
        }
    }
    Ok(out)
}
