use crate::store::connections::{Connections, MAX_MESSAGE_BYTES};
use crate::store::StoreError;

/// `open` names a connection that is open; `gone`, when given, one that has ended (the embedded
/// adapter's; moto's Management API accepts posts to any id and never answers 410, so on AWS
/// that half is held by the error mapping's unit test, `a_gone_connection_is_not_found`).
pub async fn run_all(c: &dyn Connections, open: &str, gone: Option<&str>) {
    send_limits(c, open).await;
    if let Some(gone) = gone {
        let sent = c.send(gone, "after the end").await;
        assert!(matches!(sent, Err(StoreError::NotFound(_))), "a send to an ended connection: {sent:?}");
        let never = c.send("never-opened", "x").await;
        assert!(matches!(never, Err(StoreError::NotFound(_))), "a send to an unknown connection: {never:?}");
    }
}

pub async fn send_limits(c: &dyn Connections, open: &str) {
    c.send(open, r#"{"event":"update","payload":"héllo ✓"}"#).await.unwrap();
    c.send(open, &"x".repeat(MAX_MESSAGE_BYTES)).await.unwrap();
    let too_big = c.send(open, &"x".repeat(MAX_MESSAGE_BYTES + 1)).await;
    assert!(matches!(too_big, Err(StoreError::LimitExceeded(_))), "a message over 128 KB was accepted: {too_big:?}");
    let no_id = c.send("", "x").await;
    assert!(matches!(no_id, Err(StoreError::InvalidInput(_))), "an empty connection id was accepted: {no_id:?}");
}
