use crate::store::connections::{Connections, MAX_MESSAGE_BYTES};
use crate::store::StoreError;

/// `open` names a connection that is open when the suite starts; the suite closes it. With
/// `gone_is_known`, the adapter must also tell a closed connection from an open one (the
/// embedded adapter does; moto's Management API accepts posts to any id and never answers 410,
/// so on AWS that half is held by the error mapping's unit test instead).
pub async fn run_all(c: &dyn Connections, open: &str, gone_is_known: bool) {
    send_limits(c, open).await;
    close_then_gone(c, open, gone_is_known).await;
}

pub async fn send_limits(c: &dyn Connections, open: &str) {
    c.send(open, r#"{"event":"update","payload":"héllo ✓"}"#).await.unwrap();
    c.send(open, &"x".repeat(MAX_MESSAGE_BYTES)).await.unwrap();
    let too_big = c.send(open, &"x".repeat(MAX_MESSAGE_BYTES + 1)).await;
    assert!(matches!(too_big, Err(StoreError::LimitExceeded(_))), "a message over 128 KB was accepted: {too_big:?}");
    let no_id = c.send("", "x").await;
    assert!(matches!(no_id, Err(StoreError::InvalidInput(_))), "an empty connection id was accepted: {no_id:?}");
}

pub async fn close_then_gone(c: &dyn Connections, open: &str, gone_is_known: bool) {
    c.close(open).await.unwrap();
    if gone_is_known {
        let sent = c.send(open, "after close").await;
        assert!(matches!(sent, Err(StoreError::NotFound(_))), "a send to a closed connection: {sent:?}");
        let closed = c.close(open).await;
        assert!(matches!(closed, Err(StoreError::NotFound(_))), "closing a closed connection: {closed:?}");
        let never = c.send("never-opened", "x").await;
        assert!(matches!(never, Err(StoreError::NotFound(_))), "a send to an unknown connection: {never:?}");
    }
}
