//! The streaming API's event side, in process: what an event costs in store operations (with
//! nobody connected, and with one viewer), the messages a connected viewer gets, and the
//! WebSocket API's `$connect` / `$default` / `$disconnect` events as Lambda receives them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use petrel::repo::streaming as conns;
use petrel_e2e::InProcess;
use serde_json::{json, Value};

async fn connect(p: &InProcess, query: &[(&str, &str)]) -> (String, tokio::sync::mpsc::Receiver<String>) {
    let local = p.ctx.stores.local_connections.clone().unwrap();
    let (id, rx) = local.open();
    let q: HashMap<String, String> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    petrel::streaming::connect(&p.ctx, &id, &q, Some(&p.token)).await.unwrap();
    (id, rx)
}

fn parse(msg: &str) -> Value {
    serde_json::from_str(msg).unwrap()
}

#[tokio::test]
async fn an_event_with_nobody_connected_costs_one_query() {
    let p = InProcess::new().await;
    let (status, body, ops) = p.call("POST", "/api/v1/statuses", Some("status=nobody%20listens")).await;
    assert_eq!(status, 200, "{body}");
    // The post's own budget (tests/tests/api_costs.rs) plus the one query that finds nobody.
    assert_eq!((ops.table_query, ops.connection_send), (1, 0), "{ops:?}");
    let before = p.ctx.stores.ops.snapshot();
    petrel::streaming::notification(
        &p.ctx,
        &p.account.id,
        &petrel::repo::notifications::new(&p.ctx.config.retention, "mention", &p.account.id, None),
    )
    .await;
    let ops = p.ctx.stores.ops.snapshot().since(&before);
    assert_eq!((ops.table_query, ops.total()), (1, 1), "{ops:?}");
}

#[tokio::test]
async fn a_connected_viewer_gets_its_post_edit_and_delete_and_what_that_costs() {
    let p = InProcess::new().await;
    let (_id, mut rx) = connect(&p, &[("stream", "user")]).await;
    let (status, body, ops) = p.call("POST", "/api/v1/statuses", Some("status=hello%20stream")).await;
    assert_eq!(status, 200, "{body}");
    let msg = parse(&rx.try_recv().unwrap());
    assert_eq!((msg["stream"].clone(), msg["event"].as_str()), (json!(["user"]), Some("update")));
    let payload = parse(msg["payload"].as_str().unwrap());
    assert_eq!(payload["id"], body["id"]);
    // Streaming it: the connections (one query), the connected accounts (one batch get), the
    // home timeline entry (one get), the status rendered for the viewer exactly as a timeline
    // renders it (counted here by rendering it again), one message. The post's own: two gets
    // (authentication), one transaction, one queue batch send.
    let before = p.ctx.stores.ops.snapshot();
    let ids = [body["id"].as_str().unwrap().to_string()];
    petrel::mastodon::render::render_in(&p.ctx, Some(&p.account), &ids, true, "home", None).await.unwrap();
    let render = p.ctx.stores.ops.snapshot().since(&before);
    assert_eq!(ops.connection_send, 1, "{ops:?}");
    assert_eq!(ops.table_query, 1 + render.table_query, "{ops:?} {render:?}");
    assert_eq!(ops.table_batch_get, 1 + render.table_batch_get, "{ops:?} {render:?}");
    assert_eq!(ops.table_get, 2 + 1 + render.table_get, "{ops:?} {render:?}");
    assert_eq!((ops.table_transact, ops.queue_send_batch), (1, 1), "{ops:?}");
    assert_eq!(ops.total(), 2 + 1 + 1 + 1 + 1 + 1 + 1 + render.total(), "{ops:?} {render:?}");

    let id = body["id"].as_str().unwrap().to_string();
    let (status, _, _) = p.call("PUT", &format!("/api/v1/statuses/{id}"), Some("status=edited")).await;
    assert_eq!(status, 200);
    let msg = parse(&rx.try_recv().unwrap());
    assert_eq!(msg["event"], "status.update");
    assert!(parse(msg["payload"].as_str().unwrap())["content"].as_str().unwrap().contains("edited"));

    let (status, _, _) = p.call("DELETE", &format!("/api/v1/statuses/{id}"), None).await;
    assert_eq!(status, 200);
    let msg = parse(&rx.try_recv().unwrap());
    assert_eq!((msg["event"].as_str(), msg["payload"].as_str()), (Some("delete"), Some(id.as_str())));
    assert!(rx.try_recv().is_err(), "one message per event");
}

#[tokio::test]
async fn a_gone_connection_is_dropped_and_the_request_still_succeeds() {
    let p = InProcess::new().await;
    let (id, rx) = connect(&p, &[("stream", "public:local")]).await;
    drop(rx);
    let (status, body, _) = p.call("POST", "/api/v1/statuses", Some("status=to%20nobody")).await;
    assert_eq!(status, 200, "{body}");
    assert!(conns::get(p.ctx.stores.table.as_ref(), &id).await.unwrap().is_none(), "the gone connection stayed");
}

#[tokio::test]
async fn another_accounts_direct_message_and_hashtags_reach_only_whom_they_should() {
    let p = InProcess::new().await;
    let (_other, other_token) = p.user("bob").await;
    let (_id, mut rx) = connect(&p, &[("stream", "hashtag"), ("tag", "Petrel")]).await;
    let (status, _, _) = p.call_as(Some(&other_token), "POST", "/api/v1/statuses", Some("status=%23petrel%20hi")).await;
    assert_eq!(status, 200);
    let msg = parse(&rx.try_recv().unwrap());
    assert_eq!(msg["stream"], json!(["hashtag", "petrel"]));
    let form = "status=%23petrel%20secret&visibility=direct";
    let (status, _, _) = p.call_as(Some(&other_token), "POST", "/api/v1/statuses", Some(form)).await;
    assert_eq!(status, 200);
    assert!(rx.try_recv().is_err(), "a direct message reached a hashtag stream");
}

/// An event as API Gateway's WebSocket API sends it to Lambda.
fn ws_event(route: &str, connection: &str, query: Value, headers: Value, body: Option<&str>) -> Value {
    let event_type = match route {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    json!({
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {},
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "extendedRequestId": "x",
            "requestTime": "30/Nov/2026:12:00:00 +0000",
            "messageDirection": "IN",
            "stage": "live",
            "connectedAt": 1_700_000_000_000_i64,
            "requestTimeEpoch": 1_700_000_000_000_i64,
            "identity": { "sourceIp": "192.0.2.1" },
            "requestId": "r",
            "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "connectionId": connection,
            "apiId": "abc"
        },
        "body": body,
        "isBase64Encoded": false
    })
}

async fn handle(p: &InProcess, event: Value, secrets: &[String]) -> i64 {
    let event = serde_json::from_value(event).unwrap();
    web::streaming::websocket_event(&p.ctx, event, secrets).await.status_code
}

#[tokio::test]
async fn websocket_api_events_connect_subscribe_and_disconnect() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let secrets = vec!["s3cret".to_string()];
    let headers = json!({ "x-petrel-origin": "s3cret", "sec-websocket-protocol": p.token });
    // Not through CloudFront: refused before anything is read.
    let bare =
        ws_event("$connect", "c1", json!({ "stream": "user" }), json!({ "sec-websocket-protocol": p.token }), None);
    assert_eq!(handle(&p, bare, &secrets).await, 403);
    let bad = ws_event(
        "$connect",
        "c1",
        json!({}),
        json!({ "x-petrel-origin": "s3cret", "sec-websocket-protocol": "nope" }),
        None,
    );
    assert_eq!(handle(&p, bad, &secrets).await, 401);
    assert!(conns::get(table, "c1").await.unwrap().is_none());

    let ok = ws_event("$connect", "c1", json!({ "stream": "user" }), headers.clone(), None);
    let response = web::streaming::websocket_event(&p.ctx, serde_json::from_value(ok).unwrap(), &secrets).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(response.headers.get("sec-websocket-protocol").unwrap().to_str().unwrap(), p.token);
    let c = conns::get(table, "c1").await.unwrap().unwrap();
    assert_eq!((c.account_id.as_str(), c.streams.clone()), (p.account.id.as_str(), vec![vec!["user".to_string()]]));
    assert!(c.ttl > petrel::clock::now_ms() / 1000 + 7000, "kept past API Gateway's two hours");

    let sub = r#"{"type":"subscribe","stream":"hashtag","tag":"rust"}"#;
    assert_eq!(handle(&p, ws_event("$default", "c1", json!({}), json!({}), Some(sub)), &secrets).await, 200);
    let c = conns::get(table, "c1").await.unwrap().unwrap();
    assert_eq!(c.streams, vec![vec!["user".to_string()], vec!["hashtag".to_string(), "rust".to_string()]]);

    assert_eq!(handle(&p, ws_event("$disconnect", "c1", json!({}), json!({}), None), &secrets).await, 200);
    assert!(conns::get(table, "c1").await.unwrap().is_none());
}
