//! Outbound delivery: fan-out deduplicates shared inboxes and skips unavailable domains, a
//! redelivered fan-out queues nobody twice, and each delivery answer (2xx, 410, 429) ends as
//! Mastodon-compatible servers expect — counted in the status's delivery report.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use petrel::activitypub::convert::remote_account;
use petrel::events::{Delivery, OutboxEvent, Publish};
use petrel::repo::{actors, deliveries, domains, follows};
use petrel::store::Received;
use petrel::Ctx;
use serde_json::{json, Value};

async fn local() -> (Ctx, petrel::model::Account, tempfile::TempDir) {
    petrel_e2e::local_with_alice().await
}

async fn remote_follower(ctx: &Ctx, alice: &petrel::model::Account, uri: &str, shared: Option<&str>) {
    let mut doc = json!({ "id": uri, "type": "Person", "preferredUsername": "x", "inbox": format!("{uri}/inbox"),
        "publicKey": { "id": format!("{uri}#main-key"), "owner": uri, "publicKeyPem": "-" } });
    if let Some(s) = shared {
        doc["endpoints"] = json!({ "sharedInbox": s });
    }
    let acct = actors::save(ctx.stores.table.as_ref(), remote_account(&doc, petrel::ids::snowflake(), 0).unwrap())
        .await
        .unwrap();
    assert!(follows::add_follower(ctx.stores.table.as_ref(), alice, &acct, "f").await.unwrap());
}

async fn drain(ctx: &Ctx) -> Vec<Received> {
    ctx.stores.queues.outbox.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap()
}

fn deliveries_in(msgs: &[Received]) -> Vec<Delivery> {
    msgs.iter()
        .filter_map(|m| match serde_json::from_str::<OutboxEvent>(&m.body).unwrap() {
            OutboxEvent::Deliver(d) => Some(d),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn fanout_dedupes_shared_inboxes_skips_unavailable_domains_and_never_queues_twice() {
    let (ctx, alice, _dir) = local().await;
    let table = ctx.stores.table.as_ref();
    remote_follower(&ctx, &alice, "https://a.example/users/1", Some("https://a.example/inbox")).await;
    remote_follower(&ctx, &alice, "https://a.example/users/2", Some("https://a.example/inbox")).await;
    remote_follower(&ctx, &alice, "https://b.example/users/3", None).await;
    remote_follower(&ctx, &alice, "https://down.example/users/4", None).await;
    for day in 1..=7 {
        domains::record_failure(table, "down.example", &format!("2026-11-0{day}")).await.unwrap();
    }
    let publish = Publish {
        account_id: alice.id.clone(),
        activity: json!({ "id": "http://localhost:8080/users/alice/statuses/1/activity", "type": "Create" }),
        to_followers: true,
        inboxes: vec!["https://c.example/users/9/inbox".into()],
        status_id: Some("100000000000000001".into()),
        cursor: None,
        over: None,
        render: None,
    };
    outbox_fanout::fanout::publish(&ctx, publish.clone()).await.unwrap();
    let mut inboxes: Vec<String> = deliveries_in(&drain(&ctx).await).into_iter().map(|d| d.inbox).collect();
    inboxes.sort();
    assert_eq!(
        inboxes,
        ["https://a.example/inbox", "https://b.example/users/3/inbox", "https://c.example/users/9/inbox"]
    );
    // SQS delivered the fan-out message again: nobody is queued twice.
    outbox_fanout::fanout::publish(&ctx, publish).await.unwrap();
    assert!(deliveries_in(&drain(&ctx).await).is_empty());
    let report = deliveries::report(table, "100000000000000001").await.unwrap();
    assert_eq!((report.targeted, report.pending), (3, 3));
}

#[tokio::test]
async fn seven_failure_days_mark_a_domain_and_a_success_clears_it() {
    let (ctx, _alice, _dir) = local().await;
    let table = ctx.stores.table.as_ref();
    for day in 1..=6 {
        assert!(!domains::record_failure(table, "flaky.example", &format!("2026-11-0{day}")).await.unwrap());
    }
    // The same day twice is still one day.
    assert!(!domains::record_failure(table, "flaky.example", "2026-11-06").await.unwrap());
    assert!(domains::record_failure(table, "flaky.example", "2026-11-07").await.unwrap());
    assert!(domains::is_unavailable(table, "flaky.example").await.unwrap());
    domains::record_success(table, "flaky.example").await.unwrap();
    assert!(!domains::is_unavailable(table, "flaky.example").await.unwrap());
    assert!(!domains::record_failure(table, "flaky.example", "2026-11-08").await.unwrap());
}

/// An inbox that answers with the statuses given, in order, and records what it received.
async fn inbox_server(answers: Vec<(u16, Option<&'static str>)>) -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (g, answers) = (g.clone(), answers.clone());
            async move {
                assert!(headers.contains_key("signature"), "deliveries are signed");
                g.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                let (status, retry_after) = answers.lock().unwrap().next().unwrap_or((202, None));
                let mut r = StatusCode::from_u16(status).unwrap().into_response();
                if let Some(ra) = retry_after {
                    r.headers_mut().insert(header::RETRY_AFTER, ra.parse().unwrap());
                }
                r
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/inbox", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test]
async fn answers_decide_done_dropped_or_retried_and_the_report_counts_them() {
    let (ctx, alice, _dir) = local().await;
    let table = ctx.stores.table.as_ref();
    let status = "100000000000000002";
    // The fan-out counts the inboxes it queued with its page mark, as it does here.
    deliveries::mark_page_queued(table, "activity-2", &deliveries::page_mark(None), None, Some((status, 3)))
        .await
        .unwrap();
    let activity = json!({ "id": "http://localhost:8080/users/alice/statuses/2/activity", "type": "Create" });
    // Outcomes are tallied over a consumer's batch and written once at its end.
    let tally = deliveries::Tally::default();

    let (ok, got_ok) = inbox_server(vec![(202, None)]).await;
    outbox_fanout::deliver::deliver(
        &ctx,
        &tally,
        Delivery::first(&alice.id, &ok, activity.clone(), Some(status.into())),
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(got_ok.lock().unwrap().len(), 1);

    let (gone, _) = inbox_server(vec![(410, None)]).await;
    outbox_fanout::deliver::deliver(
        &ctx,
        &tally,
        Delivery::first(&alice.id, &gone, activity.clone(), Some(status.into())),
        &Default::default(),
    )
    .await
    .unwrap();
    assert!(drain(&ctx).await.is_empty(), "a 410 is not retried");

    let (busy, got_busy) = inbox_server(vec![(429, Some("1"))]).await;
    outbox_fanout::deliver::deliver(
        &ctx,
        &tally,
        Delivery::first(&alice.id, &busy, activity.clone(), Some(status.into())),
        &Default::default(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let retry = deliveries_in(&drain(&ctx).await);
    assert_eq!(retry.len(), 1, "a 429 is retried after Retry-After");
    assert_eq!(retry[0].attempt, 1);
    outbox_fanout::deliver::deliver(&ctx, &tally, retry[0].clone(), &Default::default()).await.unwrap();
    assert_eq!(got_busy.lock().unwrap().len(), 2);

    let before = deliveries::report(table, status).await.unwrap();
    assert_eq!((before.delivered, before.failed), (0, 0), "written before the batch ended");
    let writes = ctx.stores.ops.snapshot();
    tally.flush(table).await;
    assert_eq!(ctx.stores.ops.snapshot().since(&writes).table_update, 1, "one write for the batch's outcomes");
    let report = deliveries::report(table, status).await.unwrap();
    assert_eq!((report.targeted, report.delivered, report.failed, report.pending), (3, 2, 1, 0));
}
