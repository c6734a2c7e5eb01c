//! Queue consumers through the same event shapes Lambda uses: partial batch failures, redelivery,
//! dead-lettering of messages no consumer understands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
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
    let outbox = ctx.stores.queues.outbox.clone();
    outbox.send(OutMessage::new(r#"{"type":"NoSuchThing"}"#)).await.unwrap();
    outbox.send(OutMessage::new("not json")).await.unwrap();

    let settings = PollSettings { batch_size: 10, visibility: Duration::from_secs(1), wait: Duration::from_secs(2) };
    let consumer = |e: SqsEvent| outbox_fanout::handle(ctx.clone(), e);
    for round in 1..=MAX_RECEIVES {
        let n = poll_once(outbox.as_ref(), settings, &consumer).await.unwrap();
        assert_eq!(n, 2, "round {round}: both messages should be redelivered");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(
        poll_once(outbox.as_ref(), settings, &consumer).await.unwrap(),
        0,
        "messages outlived their max receives"
    );

    let dlq = EmbeddedQueue::new(Db::open(dir.path()).unwrap(), dead_letter_name(outbox.name()), None);
    let dead = dlq.receive(10, Duration::from_secs(30), Duration::from_secs(1)).await.unwrap();
    let mut bodies: Vec<&str> = dead.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, vec!["not json", r#"{"type":"NoSuchThing"}"#]);
}
