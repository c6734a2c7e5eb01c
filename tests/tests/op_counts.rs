//! The operation counter sees every request a piece of work makes: the unit of AWS cost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use petrel::store::{Key, OutMessage, Query, Stores, TxOp};

#[tokio::test]
async fn every_port_call_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::embedded(dir.path(), "http://localhost:8080/media").unwrap();
    let before = stores.ops.snapshot();

    let t = stores.table.as_ref();
    t.put(Key::new("p", "a").to_item(), None).await.unwrap();
    t.get(&Key::new("p", "a")).await.unwrap();
    t.get(&Key::new("p", "missing")).await.unwrap();
    t.query(Query::new("p")).await.unwrap();
    t.batch_get(&[Key::new("p", "a"), Key::new("p", "b")]).await.unwrap();
    t.transact(vec![TxOp::Delete { key: Key::new("p", "a"), cond: None }]).await.unwrap();
    // A refused request still counts: AWS bills the ones it rejects.
    let _ = t.put(Key::new("p", "a").to_item(), Some(petrel::store::Cond::ItemExists)).await;

    stores.blobs.put("k", axum::body::Bytes::from_static(b"x"), "text/plain").await.unwrap();
    stores.blobs.get("k").await.unwrap();
    stores.blobs.presign_put("k", "text/plain", Duration::from_secs(60)).await.unwrap();

    let q = stores.queues.outbox.as_ref();
    q.send(OutMessage::new("m")).await.unwrap();
    q.send_batch(vec![OutMessage::new("a"), OutMessage::new("b")]).await.unwrap();
    let got = q.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap();
    for m in &got {
        q.delete(&m.receipt).await.unwrap();
    }

    let c = stores.ops.snapshot().since(&before);
    assert_eq!((c.table_put, c.table_get, c.table_query, c.table_batch_get, c.table_transact), (2, 2, 1, 1, 1));
    assert_eq!((c.table_reads(), c.table_writes()), (4, 3));
    assert_eq!((c.blob_put, c.blob_get), (1, 1), "presigning makes no request");
    assert_eq!((c.queue_send, c.queue_send_batch, c.queue_receive, c.queue_delete), (1, 1, 1, got.len() as u64));
    assert_eq!(got.len(), 3);
    assert_eq!(c.total(), 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 3);
}
