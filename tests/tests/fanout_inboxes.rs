//! Delivery at scale (issue #14), on the embedded backend and on the AWS adapters against moto:
//! fan-out reaches every distinct inbox exactly once across pages, whatever the followers'
//! order, with SQS redeliveries; the inbox set follows follows, unfollows and moved inboxes and
//! is built for accounts that had followers before it existed; long waits hold the message
//! instead of re-sending it; a delivery past two days is given up quietly; a 429 makes every
//! delivery to its host wait; feed renders are messages of their own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use outbox_fanout::deliver::{self, Receipt};
use petrel::activitypub::convert::remote_account;
use petrel::consumer::Settled;
use petrel::events::{Delivery, FeedEvent, OutboxEvent, Publish};
use petrel::model::Account;
use petrel::repo::{actors, deliveries, follows, keys};
use petrel::store::{Received, MAX_RECEIVES};
use petrel::Ctx;
use petrel_e2e::InProcess;
use serde_json::json;

async fn on_moto() -> Option<InProcess> {
    let vars = petrel_e2e::fresh_aws("petrel-fan").await?;
    let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    vars.push(("PETREL_ALLOW_PRIVATE_NETWORK", "true"));
    Some(InProcess::with_vars(&vars).await)
}

async fn embedded() -> InProcess {
    InProcess::with_vars(&[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await
}

async fn remote(ctx: &Ctx, uri: &str, inbox: &str, shared: Option<&str>) -> Account {
    let mut doc = json!({ "id": uri, "type": "Person", "preferredUsername": "x", "inbox": inbox,
        "publicKey": { "id": format!("{uri}#main-key"), "owner": uri, "publicKeyPem": "-" } });
    if let Some(s) = shared {
        doc["endpoints"] = json!({ "sharedInbox": s });
    }
    actors::save(ctx.stores.table.as_ref(), remote_account(&doc, petrel::ids::snowflake(), 0).unwrap()).await.unwrap()
}

async fn follower(ctx: &Ctx, local: &Account, uri: &str, inbox: &str, shared: Option<&str>) -> Account {
    let a = remote(ctx, uri, inbox, shared).await;
    assert!(follows::add_follower(ctx.stores.table.as_ref(), local, &a, "f").await.unwrap());
    a
}

async fn receive(ctx: &Ctx) -> Vec<Received> {
    ctx.stores.queues.outbox.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap()
}

/// Every inbox in the set, read page by page through the repo.
async fn inbox_set(ctx: &Ctx, local: &Account) -> BTreeSet<String> {
    let (mut all, mut cursor) = (BTreeSet::new(), None);
    loop {
        let (page, next) =
            follows::delivery_inboxes_page(ctx.stores.table.as_ref(), &local.id, cursor, 3).await.unwrap();
        all.extend(page);
        cursor = next;
        if cursor.is_none() {
            return all;
        }
    }
}

/// 240 followers on 40 hosts of Zipf-like sizes (host k has about 240/k·H followers), most
/// hosts with a shared inbox, some without (each follower its own inbox there), created in an
/// order that interleaves the hosts. Fan-out in pages of 7, with every fan-out message handled
/// twice (SQS delivers at least once), must queue each distinct inbox exactly once.
async fn exactly_once(p: InProcess) {
    let (ctx, owner) = (&p.ctx, &p.account);
    let weights: Vec<f64> = (1..=40).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut expected = BTreeSet::new();
    let mut members: Vec<(usize, usize)> = Vec::new();
    for (h, w) in weights.iter().enumerate() {
        let n = ((240.0 * w / total).round() as usize).max(1);
        members.extend((0..n).map(|i| (h, i)));
    }
    // Interleave the hosts, so follower order says nothing about inbox order.
    members.sort_by_key(|(h, i)| (*i * 7919 + *h * 104_729) % 1_000_003);
    for (h, i) in &members {
        let base = format!("https://h{h}.example");
        let uri = format!("{base}/users/{i}");
        let inbox = format!("{uri}/inbox");
        let shared = (h % 5 != 4).then(|| format!("{base}/inbox"));
        expected.insert(shared.clone().unwrap_or_else(|| inbox.clone()));
        follower(ctx, owner, &uri, &inbox, shared.as_deref()).await;
    }
    // A mention of an account whose server is already in the set, and of one that is not.
    let addressed = vec!["https://h0.example/inbox".to_string(), "https://elsewhere.example/users/z/inbox".into()];
    expected.extend(addressed.iter().cloned());

    let status_id = "100000000000000777";
    let publish = Publish {
        account_id: owner.id.clone(),
        activity: json!({ "id": format!("{}/activity/1", ctx.config.base_url()), "type": "Create" }),
        to_followers: true,
        inboxes: addressed,
        status_id: Some(status_id.into()),
        cursor: None,
        over: None,
        render: None,
    };
    let mut pending = vec![publish];
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    let mut pages = 0;
    while !pending.is_empty() {
        for p in std::mem::take(&mut pending) {
            pages += 1;
            outbox_fanout::fanout::publish_paged(ctx, p.clone(), 7).await.unwrap();
            outbox_fanout::fanout::publish_paged(ctx, p, 7).await.unwrap();
        }
        loop {
            let batch = receive(ctx).await;
            if batch.is_empty() {
                break;
            }
            for m in batch {
                match serde_json::from_str::<OutboxEvent>(&m.body).unwrap() {
                    OutboxEvent::Deliver(d) => *got.entry(d.inbox).or_default() += 1,
                    OutboxEvent::Publish(p) => pending.push(p),
                    other => panic!("unexpected message {other:?}"),
                }
                ctx.stores.queues.outbox.delete(&m.receipt).await.unwrap();
            }
        }
    }
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "inboxes queued other than once: {twice:?}");
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(pages > 5, "the fan-out crossed page boundaries ({pages} pages)");
    let report = deliveries::report(ctx.stores.table.as_ref(), status_id).await.unwrap();
    assert_eq!(report.targeted as usize, expected.len(), "each inbox counted once in the report");
}

#[tokio::test]
async fn every_distinct_inbox_gets_an_activity_exactly_once_embedded() {
    exactly_once(embedded().await).await;
}

#[tokio::test]
async fn every_distinct_inbox_gets_an_activity_exactly_once_on_moto() {
    let Some(p) = on_moto().await else { return };
    exactly_once(p).await;
}

async fn set_upkeep(p: InProcess) {
    let (ctx, owner) = (&p.ctx, &p.account);
    let table = ctx.stores.table.as_ref();
    let s1 = "https://one.example/inbox";
    let a = follower(ctx, owner, "https://one.example/users/a", "https://one.example/users/a/inbox", Some(s1)).await;
    let b = follower(ctx, owner, "https://one.example/users/b", "https://one.example/users/b/inbox", Some(s1)).await;
    let c_inbox = "https://two.example/users/c/inbox";
    let c = follower(ctx, owner, "https://two.example/users/c", c_inbox, None).await;
    assert_eq!(inbox_set(ctx, owner).await, BTreeSet::from([s1.to_string(), c_inbox.to_string()]));

    // One of two followers behind a shared inbox leaves: the inbox stays; the second: it goes.
    assert!(follows::remove_follower(table, &owner.id, &a.id).await.unwrap());
    assert!(!follows::remove_follower(table, &owner.id, &a.id).await.unwrap(), "a second unfollow changes nothing");
    assert_eq!(inbox_set(ctx, owner).await.len(), 2);
    assert!(follows::remove_follower(table, &owner.id, &b.id).await.unwrap());
    assert_eq!(inbox_set(ctx, owner).await, BTreeSet::from([c_inbox.to_string()]));
    assert!(table.get(&keys::delivery_inbox(&owner.id, s1)).await.unwrap().is_none(), "an unused inbox is deleted");

    // C's server starts offering a shared inbox: a refetch moves C there.
    let s2 = "https://two.example/inbox";
    let c2 = remote(ctx, "https://two.example/users/c", c_inbox, Some(s2)).await;
    assert_eq!(c2.id, c.id);
    assert_eq!(inbox_set(ctx, owner).await, BTreeSet::from([s2.to_string()]));

    // An account whose followers predate the set: it is built from them on first use.
    let d = follower(ctx, owner, "https://three.example/users/d", "https://three.example/users/d/inbox", None).await;
    for inbox in [s2, "https://three.example/users/d/inbox"] {
        table.delete(&keys::delivery_inbox(&owner.id, inbox), None).await.unwrap();
    }
    table.delete(&keys::delivery_inboxes_built(&owner.id), None).await.unwrap();
    assert_eq!(
        inbox_set(ctx, owner).await,
        BTreeSet::from([s2.to_string(), "https://three.example/users/d/inbox".to_string()])
    );
    // And maintained from then on.
    assert!(follows::remove_follower(table, &owner.id, &d.id).await.unwrap());
    assert_eq!(inbox_set(ctx, owner).await, BTreeSet::from([s2.to_string()]));
}

#[tokio::test]
async fn the_inbox_set_follows_follows_unfollows_and_moves_embedded() {
    set_upkeep(embedded().await).await;
}

#[tokio::test]
async fn the_inbox_set_follows_follows_unfollows_and_moves_on_moto() {
    let Some(p) = on_moto().await else { return };
    set_upkeep(p).await;
}

/// An inbox on its own loopback address (so its host is nobody else's in this process), answering
/// `status` (with `Retry-After` if given) and counting POSTs.
async fn sink(ip: &str, status: u16, retry_after: Option<&'static str>) -> (String, Arc<Mutex<usize>>) {
    let hits: Arc<Mutex<usize>> = Arc::default();
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move || {
            let h = h.clone();
            async move {
                *h.lock().unwrap() += 1;
                let mut r = StatusCode::from_u16(status).unwrap().into_response();
                if let Some(ra) = retry_after {
                    r.headers_mut().insert(header::RETRY_AFTER, ra.parse().unwrap());
                }
                r
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap();
    let url = format!("http://{}/inbox", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

/// Queues `d` and receives it, as the event source mapping would.
async fn queued(ctx: &Ctx, d: Delivery) -> (Delivery, Receipt) {
    ctx.stores.queues.outbox.send(OutboxEvent::Deliver(d).message().unwrap()).await.unwrap();
    let m = receive(ctx).await.pop().expect("the delivery is visible");
    let OutboxEvent::Deliver(d) = serde_json::from_str(&m.body).unwrap() else { panic!("not a delivery") };
    (d, Receipt { handle: m.receipt, receive_count: m.receive_count })
}

async fn waits(p: InProcess, ip: &str) {
    let (ctx, owner) = (&p.ctx, &p.account);
    let (inbox, hits) = sink(ip, 503, None).await;
    let activity = json!({ "id": "https://x.example/a/1", "type": "Create" });
    let tally = deliveries::Tally::default();

    // The seventh try of a dead inbox waits longer than SQS's 15-minute delay: the message is
    // held by its visibility timeout, and no message is sent.
    let mut d = Delivery::first(&owner.id, &inbox, activity.clone(), None);
    d.attempt = 6;
    let (d, receipt) = queued(ctx, d).await;
    let before = ctx.stores.ops.snapshot();
    let settled = deliver::deliver(ctx, &tally, d, &receipt).await.unwrap();
    let ops = ctx.stores.ops.snapshot().since(&before);
    assert_eq!(settled, Settled::Later);
    assert_eq!((ops.queue_send, ops.queue_change_visibility), (0, 1), "{ops:?}");
    assert_eq!(*hits.lock().unwrap(), 1);
    assert!(receive(ctx).await.is_empty(), "held: invisible for the wait");
    // Time passes (the wait is made to end now): the same message comes back, one receive
    // later, and counts as the eighth try.
    ctx.stores.queues.outbox.change_visibility(&receipt.handle, Duration::ZERO).await.unwrap();
    let again = receive(ctx).await.pop().expect("back after the wait");
    assert_eq!(again.receive_count, 2);
    let OutboxEvent::Deliver(body) = serde_json::from_str(&again.body).unwrap() else { panic!() };
    assert_eq!(deliver::tries(&body, &Receipt { handle: again.receipt.clone(), receive_count: 2 }), 7);

    // Near the redrive count the message is sent anew instead, so SQS never dead-letters it.
    let near = Receipt { handle: again.receipt.clone(), receive_count: MAX_RECEIVES - 1 };
    let before = ctx.stores.ops.snapshot();
    assert_eq!(deliver::deliver(ctx, &tally, body.clone(), &near).await.unwrap(), Settled::Done);
    let ops = ctx.stores.ops.snapshot().since(&before);
    assert_eq!((ops.queue_send, ops.queue_change_visibility), (1, 0), "{ops:?}");
    ctx.stores.queues.outbox.delete(&again.receipt).await.unwrap();

    // Past two days the delivery is given up quietly: recorded as failed, nothing re-sent, no
    // error (so no redrive to the dead-letter queue).
    let status = "100000000000000888";
    let mut old = Delivery::first(&owner.id, &inbox, activity, Some(status.into()));
    old.attempt = 14;
    old.first_try_at -= deliver::GIVE_UP_AFTER_MS - 60_000;
    let before = ctx.stores.ops.snapshot();
    assert_eq!(deliver::deliver(ctx, &tally, old, &Receipt::default()).await.unwrap(), Settled::Done);
    let ops = ctx.stores.ops.snapshot().since(&before);
    assert_eq!((ops.queue_send, ops.queue_change_visibility), (0, 0), "{ops:?}");
    tally.flush(ctx.stores.table.as_ref()).await;
    assert_eq!(deliveries::report(ctx.stores.table.as_ref(), status).await.unwrap().failed, 1);
}

#[tokio::test]
async fn long_waits_hold_the_message_and_two_days_end_quietly_embedded() {
    waits(embedded().await, "127.0.0.21").await;
}

#[tokio::test]
async fn long_waits_hold_the_message_and_two_days_end_quietly_on_moto() {
    let Some(p) = on_moto().await else { return };
    waits(p, "127.0.0.22").await;
}

/// A dead inbox over the whole two days, following the same functions `deliver` uses: how many
/// messages it sends and how many times it is received. Before this change every wait past 15
/// minutes was a new message every 15 minutes (about 150 per dead inbox per post).
#[test]
fn a_dead_inbox_costs_at_most_twenty_sends_over_two_days() {
    let (sent, receives, tries) = outbox_fanout::deliver::simulate_dead_inbox();
    assert!(sent <= 20, "{sent} messages sent");
    assert!(tries >= 10, "still tries for two days ({tries} tries)");
    assert!(receives <= 40, "{receives} receives");
}

async fn host_waits(p: InProcess, ip: &str) {
    let (ctx, owner) = (&p.ctx, &p.account);
    let (inbox, hits) = sink(ip, 429, Some("120")).await;
    let other_inbox = inbox.replace("/inbox", "/users/2/inbox");
    let activity = json!({ "id": "https://x.example/a/2", "type": "Create" });
    let tally = deliveries::Tally::default();
    let first = Delivery::first(&owner.id, &inbox, activity.clone(), None);
    assert_eq!(deliver::deliver(ctx, &tally, first, &Receipt::default()).await.unwrap(), Settled::Done);
    assert_eq!(*hits.lock().unwrap(), 1);
    // Another delivery to the same host, in this process: not sent before the wait is over.
    let second = Delivery::first(&owner.id, &other_inbox, activity.clone(), None);
    deliver::deliver(ctx, &tally, second, &Receipt::default()).await.unwrap();
    assert_eq!(*hits.lock().unwrap(), 1, "the host asked for two minutes");
    assert!(receive(ctx).await.is_empty(), "both wait, delayed on the queue");
    // A fan-out after it (in any process: the wait is in the table) queues it for later too.
    let publish = Publish {
        account_id: owner.id.clone(),
        activity,
        to_followers: false,
        inboxes: vec![other_inbox],
        status_id: None,
        cursor: None,
        over: None,
        render: None,
    };
    outbox_fanout::fanout::publish(ctx, publish).await.unwrap();
    assert!(receive(ctx).await.is_empty(), "queued with a delay");
}

#[tokio::test]
async fn a_429_makes_every_delivery_to_its_host_wait_embedded() {
    host_waits(embedded().await, "127.0.0.23").await;
}

#[tokio::test]
async fn a_429_makes_every_delivery_to_its_host_wait_on_moto() {
    let Some(p) = on_moto().await else { return };
    host_waits(p, "127.0.0.24").await;
}

/// A fan-out message queued by the previous version, with the render inside: delivery goes out
/// and the render becomes a message of its own; a render that fails (here the bucket refuses
/// every write) fails only its own message.
#[tokio::test]
async fn a_failing_render_never_stops_delivery() {
    let p = embedded().await;
    let mut broken = p.ctx.clone();
    broken.stores.blobs = Arc::new(petrel::store::absent::Absent("blobs"));
    let ctx = &broken;
    let publish = OutboxEvent::Publish(Publish {
        account_id: p.account.id.clone(),
        activity: json!({ "id": "https://x.example/a/3", "type": "Create" }),
        to_followers: false,
        inboxes: vec!["https://far.example/inbox".into()],
        status_id: None,
        cursor: None,
        over: None,
        render: Some(FeedEvent::Render { account_id: p.account.id.clone(), tags: vec![], statuses: vec![] }),
    });
    ctx.stores.queues.outbox.send(publish.message().unwrap()).await.unwrap();
    let mut kinds = Vec::new();
    let mut failures = 0;
    for _ in 0..3 {
        let got = receive(ctx).await;
        if got.is_empty() {
            break;
        }
        for m in &got {
            let kind = match serde_json::from_str::<OutboxEvent>(&m.body).unwrap() {
                OutboxEvent::Publish(_) => "publish",
                OutboxEvent::Deliver(_) => "deliver",
                OutboxEvent::Render(_) => "render",
                OutboxEvent::Push(_) => "push",
                OutboxEvent::PollUpdate(_) | OutboxEvent::PollEnded(_) | OutboxEvent::PublishScheduled(_) => "timed",
                OutboxEvent::Card(_) | OutboxEvent::VerifyLinks(_) => "links",
                OutboxEvent::Files(_) => "files",
            };
            kinds.push(kind);
            if kind == "deliver" {
                continue; // Not sent: far.example does not exist.
            }
            let event = petrel::consumer::sqs_event("outbox", std::slice::from_ref(m));
            let response = outbox_fanout::handle(ctx.clone(), event).await;
            failures += response.batch_item_failures.len();
            assert_eq!(response.batch_item_failures.is_empty(), kind != "render", "{kind}");
            ctx.stores.queues.outbox.delete(&m.receipt).await.unwrap();
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["deliver", "publish", "render"]);
    assert_eq!(failures, 1, "only the render failed");
}
