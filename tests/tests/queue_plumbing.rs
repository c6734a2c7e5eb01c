//! Queue consumers through the same event shapes Lambda uses: partial batch failures, redelivery,
//! dead-lettering of messages no consumer understands, and the Lambda event dispatch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use petrel::consumer::{poll_once, process_batch, sqs_event, PollSettings};
use petrel::store::embedded::{Db, EmbeddedQueue};
use petrel::store::{dead_letter_name, OutMessage, Queue, Received, MAX_RECEIVES};
use petrel::{Config, Ctx};

fn received(id: &str, body: &str) -> Received {
    Received { id: id.into(), receipt: format!("r-{id}"), body: body.into(), receive_count: 1, sent_at_ms: 1 }
}

#[tokio::test]
async fn only_failed_messages_are_reported() {
    let event = sqs_event("q", &[received("a", "ok"), received("b", "bad"), received("c", "ok"), received("d", "bad")]);
    let response = process_batch(event, |m| async move {
        if m.body == "ok" {
            Ok(())
        } else {
            Err(format!("{} failed", m.id))
        }
    })
    .await;
    let mut failed: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    failed.sort();
    assert_eq!(failed, vec!["b", "d"]);
}

#[tokio::test]
async fn unknown_messages_are_retried_then_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_vars(|k| (k == "PETREL_DATA").then(|| dir.path().to_str().unwrap().to_string())).unwrap();
    let ctx = Ctx::connect(config).await.unwrap();
    let inbox = ctx.stores.queues.inbox.clone();
    inbox.send(OutMessage::new(r#"{"type":"NoSuchThing"}"#)).await.unwrap();
    inbox.send(OutMessage::new("not json")).await.unwrap();

    let settings = PollSettings { batch_size: 10, visibility: Duration::from_secs(1), wait: Duration::from_secs(2) };
    let consumer = |e: SqsEvent| inbox::handle(ctx.clone(), e);
    for round in 1..=MAX_RECEIVES {
        let n = poll_once(inbox.as_ref(), settings, &consumer).await.unwrap();
        assert_eq!(n, 2, "round {round}: both messages should be redelivered");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(
        poll_once(inbox.as_ref(), settings, &consumer).await.unwrap(),
        0,
        "messages outlived their max receives"
    );

    let dlq = EmbeddedQueue::new(Db::open(dir.path()).unwrap(), dead_letter_name(inbox.name()), None);
    let dead = dlq.receive(10, Duration::from_secs(30), Duration::from_secs(1)).await.unwrap();
    let mut bodies: Vec<&str> = dead.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, vec!["not json", r#"{"type":"NoSuchThing"}"#]);
}

#[tokio::test]
async fn a_lambda_event_reaches_the_router_or_the_consumer_by_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_vars(|k| (k == "PETREL_DATA").then(|| dir.path().to_str().unwrap().to_string())).unwrap();
    let ctx = Ctx::connect(config).await.unwrap();
    let router = web::router(ctx.clone());
    let consumer = |e: SqsEvent| async move {
        let mut r = SqsBatchResponse::default();
        for m in e.records {
            let mut f = aws_lambda_events::sqs::BatchItemFailure::default();
            f.item_identifier = m.message_id.unwrap_or_default();
            r.batch_item_failures.push(f);
        }
        r
    };

    let http_event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/health",
        "rawQueryString": "",
        "headers": { "host": "social.example.com", "accept": "application/json" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "social.example.com",
            "domainPrefix": "social", "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "27/Nov/2026:00:00:00 +0000", "timeEpoch": 1796083200000i64,
            "http": { "method": "GET", "path": "/health", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test" }
        },
        "isBase64Encoded": false
    });
    let out = petrel::lambda::dispatch(router.clone(), &consumer, http_event).await.unwrap();
    assert_eq!(out["statusCode"], 200, "{out}");
    let body: serde_json::Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "ok");

    let sqs = serde_json::to_value(sqs_event("petrel-inbox", &[received("m1", "{}")])).unwrap();
    let out = petrel::lambda::dispatch(router, &consumer, sqs).await.unwrap();
    assert_eq!(out["batchItemFailures"][0]["itemIdentifier"], "m1", "{out}");
}
