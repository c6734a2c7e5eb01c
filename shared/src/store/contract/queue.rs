use std::time::Duration;

use crate::store::queue::*;
use crate::store::StoreError;

const NO_WAIT: Duration = Duration::ZERO;
const SHORT: Duration = Duration::from_secs(1);

async fn drain(q: &dyn Queue) {
    loop {
        let got = q.receive(10, Duration::from_secs(30), NO_WAIT).await.unwrap();
        if got.is_empty() {
            return;
        }
        for m in got {
            q.delete(&m.receipt).await.unwrap();
        }
    }
}

/// `q` must redrive to `dlq` after `max_receives` receives; both start empty.
pub async fn run_all(q: &dyn Queue, dlq: &dyn Queue, max_receives: u32) {
    send_receive_delete(q).await;
    delay(q).await;
    visibility_timeout(q).await;
    change_visibility(q).await;
    batches(q).await;
    limits(q).await;
    redrive(q, dlq, max_receives).await;
}

pub async fn send_receive_delete(q: &dyn Queue) {
    let body = r#"{"type":"Test","text":"héllo ✓"}"#;
    let id = q.send(OutMessage::new(body)).await.unwrap();
    let got = q.receive(10, Duration::from_secs(30), Duration::from_secs(5)).await.unwrap();
    assert_eq!(got.len(), 1, "one message sent, {} received", got.len());
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].body, body);
    assert_eq!(got[0].receive_count, 1);
    assert!(got[0].sent_at_ms > 0);
    // In flight: invisible to others.
    assert!(q.receive(10, SHORT, NO_WAIT).await.unwrap().is_empty());
    q.delete(&got[0].receipt).await.unwrap();
    assert!(matches!(q.delete("not-a-receipt").await, Err(StoreError::NotFound(_)) | Err(StoreError::InvalidInput(_))));
}

pub async fn delay(q: &dyn Queue) {
    q.send(OutMessage::new("later").delayed(Duration::from_secs(2))).await.unwrap();
    assert!(q.receive(10, SHORT, NO_WAIT).await.unwrap().is_empty(), "a delayed message arrived at once");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let got = q.receive(10, Duration::from_secs(30), Duration::from_secs(3)).await.unwrap();
    assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["later"]);
    q.delete(&got[0].receipt).await.unwrap();
}

pub async fn visibility_timeout(q: &dyn Queue) {
    q.send(OutMessage::new("retry me")).await.unwrap();
    // Two seconds: the check that it is hidden must come before it reappears, even when the
    // emulator stalls for a second under load.
    let first = q.receive(1, Duration::from_secs(2), Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(q.receive(1, SHORT, NO_WAIT).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let second = q.receive(1, Duration::from_secs(30), Duration::from_secs(2)).await.unwrap();
    assert_eq!(second.len(), 1, "the message did not come back after its visibility timeout");
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(second[0].receive_count, 2);
    q.delete(&second[0].receipt).await.unwrap();
    drain(q).await;
}

pub async fn change_visibility(q: &dyn Queue) {
    q.send(OutMessage::new("release me")).await.unwrap();
    let got = q.receive(1, Duration::from_secs(60), Duration::from_secs(5)).await.unwrap();
    assert_eq!(got.len(), 1);
    q.change_visibility(&got[0].receipt, Duration::ZERO).await.unwrap();
    let again = q.receive(1, Duration::from_secs(30), Duration::from_secs(2)).await.unwrap();
    assert_eq!(again.len(), 1, "change_visibility(0) did not release the message");
    q.delete(&again[0].receipt).await.unwrap();
}

pub async fn batches(q: &dyn Queue) {
    let msgs: Vec<OutMessage> = (0..10).map(|i| OutMessage::new(format!("m{i}"))).collect();
    let results = q.send_batch(msgs).await.unwrap();
    assert_eq!(results.len(), 10);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let mut bodies = Vec::new();
    for _ in 0..20 {
        for m in q.receive(10, Duration::from_secs(30), SHORT).await.unwrap() {
            bodies.push(m.body.clone());
            q.delete(&m.receipt).await.unwrap();
        }
        if bodies.len() == 10 {
            break;
        }
    }
    bodies.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(bodies, want);
    let eleven: Vec<OutMessage> = (0..11).map(|i| OutMessage::new(format!("m{i}"))).collect();
    assert!(matches!(q.send_batch(eleven).await, Err(StoreError::LimitExceeded(_))));
    assert!(matches!(q.send_batch(vec![]).await, Err(StoreError::LimitExceeded(_))));
}

pub async fn limits(q: &dyn Queue) {
    let big = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert!(matches!(q.send(OutMessage::new(big)).await, Err(StoreError::LimitExceeded(_))));
    assert!(q.send(OutMessage::new("x".repeat(MAX_MESSAGE_BYTES))).await.is_ok(), "a 256 KiB message is allowed");
    let late = OutMessage::new("x").delayed(MAX_DELAY + Duration::from_secs(1));
    assert!(matches!(q.send(late).await, Err(StoreError::LimitExceeded(_))));
    assert!(matches!(q.send(OutMessage::new("")).await, Err(StoreError::InvalidInput(_))));
    assert!(matches!(q.send(OutMessage::new("bad \u{0} char")).await, Err(StoreError::InvalidInput(_))));
    assert!(matches!(q.receive(11, SHORT, NO_WAIT).await, Err(StoreError::InvalidInput(_))));
    drain(q).await;
}

pub async fn redrive(q: &dyn Queue, dlq: &dyn Queue, max_receives: u32) {
    let id = q.send(OutMessage::new("poison")).await.unwrap();
    for n in 1..=max_receives {
        let got = q.receive(1, SHORT, Duration::from_secs(3)).await.unwrap();
        assert_eq!(got.len(), 1, "receive {n} of {max_receives} found nothing");
        assert_eq!(got[0].receive_count, n);
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    // Past max_receives the message is moved, not delivered again.
    assert!(
        q.receive(1, SHORT, Duration::from_secs(1)).await.unwrap().is_empty(),
        "the message outlived its max receives"
    );
    let dead = dlq.receive(1, Duration::from_secs(30), Duration::from_secs(3)).await.unwrap();
    assert_eq!(dead.len(), 1, "the message is not in the dead-letter queue");
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].id, id);
    dlq.delete(&dead[0].receipt).await.unwrap();
}
