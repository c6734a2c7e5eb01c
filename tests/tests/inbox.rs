//! The inbox against signed requests crafted here, with the remote actors served by a small local
//! server: each refusal answers 401 and stores nothing (no seen-activity mark, no queued message);
//! a good request is accepted and queued; a confirmed Move re-follows, an unconfirmed one does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::IntoResponse;
use petrel::activitypub::signatures::{sign, PrivateKey, Signer};
use petrel::crypto::{generate_rsa_2048, KeyPair};
use petrel::repo::{accounts, follows};
use petrel::Ctx;
use serde_json::{json, Value};
use tower::ServiceExt;

type Docs = Arc<Mutex<HashMap<String, (Value, &'static str)>>>;

async fn serve_doc(
    State((docs, hits)): State<(Docs, Arc<AtomicUsize>)>,
    Path(name): Path<String>,
) -> axum::response::Response {
    hits.fetch_add(1, Ordering::SeqCst);
    match docs.lock().unwrap().get(&name).cloned() {
        Some((doc, content_type)) => ([(header::CONTENT_TYPE, content_type)], doc.to_string()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

struct Remote {
    base: String,
    docs: Docs,
    /// Requests this server has answered.
    hits: Arc<AtomicUsize>,
}

impl Remote {
    async fn start() -> Remote {
        let docs: Docs = Arc::default();
        let hits = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new()
            .route("/users/{name}", axum::routing::get(serve_doc))
            .with_state((docs.clone(), hits.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Remote { base, docs, hits }
    }

    fn uri(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// Publishes an actor whose `publicKey.id` is `key_id`, served with `content_type`.
    fn actor(&self, name: &str, keys: &KeyPair, key_id: &str, content_type: &'static str, extra: Value) -> Signer {
        let id = self.uri(name);
        let mut doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id, "type": "Person", "preferredUsername": name, "inbox": format!("{id}/inbox"),
            "publicKey": { "id": key_id, "owner": id, "publicKeyPem": keys.public_pem },
        });
        if let (Value::Object(d), Value::Object(e)) = (&mut doc, extra) {
            d.extend(e);
        }
        self.docs.lock().unwrap().insert(name.to_string(), (doc, content_type));
        Signer::new(key_id, PrivateKey::from_pkcs8_pem(&keys.private_pem).unwrap())
    }
}

struct Local {
    ctx: Ctx,
    _dir: tempfile::TempDir,
}

async fn local() -> Local {
    let (ctx, _alice, dir) = petrel_e2e::local_with_alice().await;
    Local { ctx, _dir: dir }
}

const AS_JSON: &str = "application/activity+json";

fn follow(actor: &str, id: &str) -> Value {
    json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Follow", "actor": actor,
            "object": "http://localhost:8080/users/alice" })
}

/// POSTs `body` (signed over `signed_body`, at time `at`) to alice's inbox.
async fn post(ctx: &Ctx, signer: &Signer, signed_body: &[u8], body: &[u8], at: time::OffsetDateTime) -> StatusCode {
    let url = url::Url::parse("http://localhost:8080/users/alice/inbox").unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, AS_JSON.parse().unwrap());
    sign(signer, &Method::POST, &url, &mut headers, Some(signed_body), at).unwrap();
    let mut req = Request::builder().method(Method::POST).uri("/users/alice/inbox");
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let res = inbox::router(ctx.clone()).oneshot(req.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    res.status()
}

/// What a Follow's processing left: alice's followers, her notifications, and the deliveries
/// queued (a processed Follow queues its Accept).
async fn stored(ctx: &Ctx) -> (usize, usize, usize) {
    let queued = ctx.stores.queues.outbox.receive(10, Duration::from_secs(1), Duration::ZERO).await.unwrap();
    for m in &queued {
        ctx.stores.queues.outbox.delete(&m.receipt).await.unwrap();
    }
    let table = ctx.stores.table.as_ref();
    let alice = accounts::by_username(table, "alice").await.unwrap().unwrap();
    let notified = petrel::repo::notifications::page(table, &alice.id, &Default::default()).await.unwrap().len();
    (follower_count(ctx).await, notified, queued.len())
}

async fn follower_count(ctx: &Ctx) -> usize {
    let table = ctx.stores.table.as_ref();
    let alice = accounts::by_username(table, "alice").await.unwrap().unwrap();
    petrel::repo::follows::followers_page(table, &alice.id, None, 100).await.unwrap().0.len()
}

#[tokio::test]
async fn refused_requests_store_nothing_and_a_good_one_is_processed_once() {
    let remote = Remote::start().await;
    let l = local().await;
    let now = time::OffsetDateTime::now_utc();
    let (mallory_keys, bob_keys) = (generate_rsa_2048().unwrap(), generate_rsa_2048().unwrap());
    let mallory =
        remote.actor("mallory", &mallory_keys, &format!("{}#main-key", remote.uri("mallory")), AS_JSON, json!({}));
    let bob = remote.actor("bob", &bob_keys, &format!("{}#main-key", remote.uri("bob")), AS_JSON, json!({}));
    let mallory_uri = remote.uri("mallory");

    // Body changed after signing: the digest does not match.
    let id = format!("{mallory_uri}#follows/1");
    let body = follow(&mallory_uri, &id).to_string();
    let tampered = body.replace("Follow", "Block");
    assert_eq!(post(&l.ctx, &mallory, body.as_bytes(), tampered.as_bytes(), now).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&l.ctx).await, (0, 0, 0), "bad digest stored something");

    // Signed two hours ago.
    let id = format!("{mallory_uri}#follows/2");
    let body = follow(&mallory_uri, &id).to_string();
    let old = now - time::Duration::hours(2);
    assert_eq!(post(&l.ctx, &mallory, body.as_bytes(), body.as_bytes(), old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&l.ctx).await, (0, 0, 0), "old Date stored something");

    // Signed with bob's key, claiming to be mallory.
    let id = format!("{mallory_uri}#follows/3");
    let body = follow(&mallory_uri, &id).to_string();
    assert_eq!(post(&l.ctx, &bob, body.as_bytes(), body.as_bytes(), now).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&l.ctx).await, (0, 0, 0), "signer != actor stored something");

    // A key id whose actor says its key is another one: the key is not that actor's.
    let eve_keys = generate_rsa_2048().unwrap();
    let eve_uri = remote.uri("eve");
    remote.actor("eve", &eve_keys, &format!("{eve_uri}#other-key"), AS_JSON, json!({}));
    let eve_claimed =
        Signer::new(format!("{eve_uri}#main-key"), PrivateKey::from_pkcs8_pem(&eve_keys.private_pem).unwrap());
    let id = format!("{eve_uri}#follows/4");
    let body = follow(&eve_uri, &id).to_string();
    assert_eq!(post(&l.ctx, &eve_claimed, body.as_bytes(), body.as_bytes(), now).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&l.ctx).await, (0, 0, 0), "foreign key id stored something");

    // An actor document served as application/json is not an ActivityPub document.
    let json_keys = generate_rsa_2048().unwrap();
    let plain_uri = remote.uri("plain");
    let plain = remote.actor("plain", &json_keys, &format!("{plain_uri}#main-key"), "application/json", json!({}));
    let id = format!("{plain_uri}#follows/5");
    let body = follow(&plain_uri, &id).to_string();
    assert_eq!(post(&l.ctx, &plain, body.as_bytes(), body.as_bytes(), now).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&l.ctx).await, (0, 0, 0), "application/json actor stored something");
    let table = l.ctx.stores.table.as_ref();
    assert!(petrel::repo::actors::by_uri(table, &plain_uri).await.unwrap().is_none());

    // The control: the same request done right is processed in the request: mallory follows,
    // alice is notified, the Accept is queued.
    let id = format!("{mallory_uri}#follows/6");
    let body = follow(&mallory_uri, &id).to_string();
    assert_eq!(post(&l.ctx, &mallory, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    assert_eq!(stored(&l.ctx).await, (1, 1, 1));
    // A repeat is answered again (the first Accept may have been lost) but counts once.
    assert_eq!(post(&l.ctx, &mallory, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    assert_eq!(stored(&l.ctx).await, (1, 1, 1), "a repeat followed or notified twice");
}

#[tokio::test]
async fn a_move_is_followed_only_when_the_target_confirms_it() {
    let remote = Remote::start().await;
    let l = local().await;
    let table = l.ctx.stores.table.as_ref();
    let alice = accounts::by_username(table, "alice").await.unwrap().unwrap();
    let (old_keys, new_keys, liar_keys) =
        (generate_rsa_2048().unwrap(), generate_rsa_2048().unwrap(), generate_rsa_2048().unwrap());
    let (old_uri, new_uri, liar_uri) = (remote.uri("old"), remote.uri("new"), remote.uri("liar"));
    remote.actor("old", &old_keys, &format!("{old_uri}#main-key"), AS_JSON, json!({}));
    remote.actor("new", &new_keys, &format!("{new_uri}#main-key"), AS_JSON, json!({ "alsoKnownAs": [old_uri] }));
    remote.actor("liar", &liar_keys, &format!("{liar_uri}#main-key"), AS_JSON, json!({}));
    let old = petrel::activitypub::resolve::actor(&l.ctx, &old_uri, false).await.unwrap();
    assert!(follows::request_following(table, &alice.id, &old.id, "f1").await.unwrap());
    assert!(follows::accept_following(table, &alice.id, &old.id).await.unwrap());

    // A target that does not name the old account: nothing changes.
    let to_liar = json!({ "id": format!("{old_uri}#moves/1"), "type": "Move", "actor": old_uri, "object": old_uri, "target": liar_uri });
    inbox::process::activity(&l.ctx, &to_liar, &old).await.unwrap();
    assert!(follows::following(table, &alice.id, &old.id).await.unwrap().is_some_and(|f| f.accepted));
    let liar = petrel::repo::actors::by_uri(table, &liar_uri).await.unwrap().unwrap();
    assert!(follows::following(table, &alice.id, &liar.id).await.unwrap().is_none());

    // A confirmed move: the old follow ends, a Follow of the new account is pending and queued.
    let to_new = json!({ "id": format!("{old_uri}#moves/2"), "type": "Move", "actor": old_uri, "object": old_uri, "target": new_uri });
    inbox::process::activity(&l.ctx, &to_new, &old).await.unwrap();
    assert!(follows::following(table, &alice.id, &old.id).await.unwrap().is_none());
    let new = petrel::repo::actors::by_uri(table, &new_uri).await.unwrap().unwrap();
    let pending = follows::following(table, &alice.id, &new.id).await.unwrap().unwrap();
    assert!(!pending.accepted);
    let queued = l.ctx.stores.queues.outbox.receive(10, Duration::from_secs(1), Duration::ZERO).await.unwrap();
    assert_eq!(queued.len(), 1);
    let msg: Value = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(msg["activity"]["type"], "Follow");
    assert_eq!(msg["activity"]["object"], new_uri.as_str());
    assert_eq!(msg["inbox"], format!("{new_uri}/inbox"));
}

/// An actor on host A naming a key on host B as its own must not cut B's real owner off: the key's
/// owner is established from B only, a request whose key is not on its actor's host is refused
/// before anything is fetched, and a key pointer a third party planted heals on the next request.
#[tokio::test]
async fn a_key_cannot_be_taken_over_from_another_host() {
    let (a, b) = (Remote::start().await, Remote::start().await);
    let l = local().await;
    let table = l.ctx.stores.table.as_ref();
    let now = time::OffsetDateTime::now_utc();
    let (mallory_keys, bob_keys) = (generate_rsa_2048().unwrap(), generate_rsa_2048().unwrap());
    let (mallory_uri, bob_uri) = (a.uri("mallory"), b.uri("bob"));
    let bob_key = format!("{bob_uri}#main-key");
    let bob = b.actor("bob", &bob_keys, &bob_key, AS_JSON, json!({}));
    // Mallory's document on A says its key is bob's key id on B.
    a.actor("mallory", &mallory_keys, &bob_key, AS_JSON, json!({}));

    // Signed with mallory's own key id on A: her document is fetched and refused whole.
    let as_mallory =
        Signer::new(format!("{mallory_uri}#main-key"), PrivateKey::from_pkcs8_pem(&mallory_keys.private_pem).unwrap());
    let body = follow(&mallory_uri, &format!("{mallory_uri}#follows/1")).to_string();
    assert_eq!(post(&l.ctx, &as_mallory, body.as_bytes(), body.as_bytes(), now).await, StatusCode::UNAUTHORIZED);
    assert!(petrel::repo::actors::by_key_id(table, &bob_key).await.unwrap().is_none(), "B's key was claimed");

    // Signed "with" bob's key id for an actor on A: refused before any fetch, at either host.
    let claims_bob = Signer::new(bob_key.clone(), PrivateKey::from_pkcs8_pem(&mallory_keys.private_pem).unwrap());
    let (hits_a, hits_b) = (a.hits.load(Ordering::SeqCst), b.hits.load(Ordering::SeqCst));
    let body = follow(&mallory_uri, &format!("{mallory_uri}#follows/2")).to_string();
    assert_eq!(post(&l.ctx, &claims_bob, body.as_bytes(), body.as_bytes(), now).await, StatusCode::UNAUTHORIZED);
    assert_eq!((a.hits.load(Ordering::SeqCst), b.hits.load(Ordering::SeqCst)), (hits_a, hits_b), "fetched");

    // Bob, correctly signed, is heard.
    let body = follow(&bob_uri, &format!("{bob_uri}#follows/1")).to_string();
    assert_eq!(post(&l.ctx, &bob, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    assert_eq!(follower_count(&l.ctx).await, 1);

    // A pointer planted before this was fixed (bob's key → another account) heals: the key is
    // refetched from its own id and bob's Undo is heard.
    let other = petrel::repo::accounts::create(table, "planted", "correct horse battery").await.unwrap();
    petrel::repo::actors::set_key_owner(table, &bob_key, &other.id, None).await.unwrap();
    let undo = json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{bob_uri}#undo/1"),
        "type": "Undo", "actor": bob_uri, "object": follow(&bob_uri, &format!("{bob_uri}#follows/1")) });
    let body = undo.to_string();
    assert_eq!(post(&l.ctx, &bob, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    assert_eq!(follower_count(&l.ctx).await, 0);
    let owner = petrel::repo::actors::by_key_id(table, &bob_key).await.unwrap().unwrap();
    assert_eq!(owner.remote.unwrap().uri, bob_uri);
}

/// One inbound request makes a bounded number of outbound fetches, however many its activity
/// would need.
#[tokio::test]
async fn an_inbound_request_fetches_within_its_budget() {
    let remote = Remote::start().await;
    let l = local().await;
    let now = time::OffsetDateTime::now_utc();
    let keys = generate_rsa_2048().unwrap();
    let uri = remote.uri("chatty");
    let signer = remote.actor("chatty", &keys, &format!("{uri}#main-key"), AS_JSON, json!({}));
    // A Create whose object is a bare id on a host with nothing there: each fetch of it fails
    // (404), and nothing may make the inbox fetch without end. The budget is counted in hits.
    let create = json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{uri}#create/1"),
        "type": "Create", "actor": uri, "object": format!("{}/users/missing-note", remote.base) });
    let body = create.to_string();
    let before = remote.hits.load(Ordering::SeqCst);
    let status = post(&l.ctx, &signer, body.as_bytes(), body.as_bytes(), now).await;
    assert!(status == StatusCode::ACCEPTED || status.is_server_error(), "{status}");
    let made = remote.hits.load(Ordering::SeqCst) - before;
    assert!(made as u32 <= inbox::receive::MAX_FETCHES, "{made} fetches");
    // The budget itself: the call past it is refused without a request.
    let url = url::Url::parse(&uri).unwrap();
    let before = remote.hits.load(Ordering::SeqCst);
    let result = petrel::activitypub::fetch::with_budget(2, Duration::from_secs(5), async {
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(l.ctx.http.get_activity(&url, None).await.map(|_| ()));
        }
        outcomes
    })
    .await;
    assert!(result[0].is_ok() && result[1].is_ok(), "{result:?}");
    assert!(matches!(result[2], Err(petrel::activitypub::fetch::FetchError::BudgetSpent)), "{result:?}");
    assert_eq!(remote.hits.load(Ordering::SeqCst) - before, 2);
}

/// Likes and boosts count only from those who may see the status: a followers-only post's
/// Like from a stranger, a direct post's Like from someone it does not mention, and any boost of
/// either are ignored (no count, no notification).
#[tokio::test]
async fn reactions_from_outside_the_audience_are_ignored() {
    let remote = Remote::start().await;
    let l = local().await;
    let table = l.ctx.stores.table.as_ref();
    let now = time::OffsetDateTime::now_utc();
    let alice = accounts::by_username(table, "alice").await.unwrap().unwrap();
    let (fan_keys, stranger_keys) = (generate_rsa_2048().unwrap(), generate_rsa_2048().unwrap());
    let (fan_uri, stranger_uri) = (remote.uri("fan"), remote.uri("stranger"));
    let fan = remote.actor("fan", &fan_keys, &format!("{fan_uri}#main-key"), AS_JSON, json!({}));
    let stranger = remote.actor("stranger", &stranger_keys, &format!("{stranger_uri}#main-key"), AS_JSON, json!({}));
    // The fan follows alice.
    let body = follow(&fan_uri, &format!("{fan_uri}#follows/1")).to_string();
    assert_eq!(post(&l.ctx, &fan, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    let mut posts = Vec::new();
    for vis in [petrel::model::Visibility::Private, petrel::model::Visibility::Direct] {
        let mut s = petrel::model::Status::boost(petrel::ids::snowflake(), alice.id.clone(), String::new(), 1);
        (s.reblog_of, s.visibility, s.text, s.content) = (None, vis, "hi".into(), "<p>hi</p>".into());
        petrel::repo::statuses::create(table, s.clone(), None).await.unwrap();
        posts.push(s.id);
    }
    let react = |kind: &str, actor: &str, id: &str, n: u32| {
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{actor}#{kind}/{n}"),
            "type": kind, "actor": actor, "object": format!("http://localhost:8080/users/alice/statuses/{id}") })
        .to_string()
    };
    let (private, direct) = (&posts[0], &posts[1]);
    let mut n = 0;
    for (signer, actor, id, kind) in [
        (&stranger, &stranger_uri, private, "Like"),
        (&stranger, &stranger_uri, direct, "Like"),
        (&fan, &fan_uri, direct, "Like"),
        (&fan, &fan_uri, private, "Announce"),
    ] {
        n += 1;
        let body = react(kind, actor, id, n);
        assert_eq!(post(&l.ctx, signer, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    }
    let count = |id: &String| {
        let id = id.clone();
        async move { petrel::repo::statuses::get(table, &id).await.unwrap().unwrap() }
    };
    let (p, d) = (count(private).await, count(direct).await);
    assert_eq!((p.favourites_count, p.reblogs_count, d.favourites_count), (0, 0, 0));
    let notes = petrel::repo::notifications::page(table, &alice.id, &Default::default()).await.unwrap();
    assert!(notes.iter().all(|n| n.kind == "follow"), "{notes:?}");
    // The control: the follower's Like of the followers-only post counts and notifies.
    let body = react("Like", &fan_uri, private, 99);
    assert_eq!(post(&l.ctx, &fan, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    assert_eq!(count(private).await.favourites_count, 1);
}

/// Every push queued so far, taken off the queue (other messages are dropped).
async fn pushes(ctx: &Ctx) -> Vec<petrel::events::Push> {
    let queued = ctx.stores.queues.outbox.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap();
    let mut out = Vec::new();
    for m in queued {
        ctx.stores.queues.outbox.delete(&m.receipt).await.unwrap();
        if let petrel::events::OutboxEvent::Push(p) = serde_json::from_str(&m.body).unwrap() {
            out.push(p);
        }
    }
    out
}

/// The inbox's notifications (follow, mention, favourite) queue a push for a subscriber who
/// wants them, once each: a repeated activity notifies and pushes nothing again.
#[tokio::test]
async fn follows_mentions_and_likes_are_pushed_to_a_subscriber() {
    let remote = Remote::start().await;
    let l = local().await;
    let table = l.ctx.stores.table.as_ref();
    let now = time::OffsetDateTime::now_utc();
    let alice = accounts::by_username(table, "alice").await.unwrap().unwrap();
    let sub = petrel::model::PushSubscription {
        id: petrel::ids::snowflake(),
        endpoint: "https://push.example.net/alice".into(),
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4".into(),
        auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
        standard: true,
        alerts: vec!["follow".into(), "mention".into(), "favourite".into()],
        policy: petrel::model::PushPolicy::All,
        access_token: "the-token".into(),
        created_at: 0,
    };
    petrel::repo::push::put(table, &alice.id, "the-token", &sub).await.unwrap();
    let keys = generate_rsa_2048().unwrap();
    let fan_uri = remote.uri("fan");
    let fan = remote.actor("fan", &keys, &format!("{fan_uri}#main-key"), AS_JSON, json!({ "name": "Fan" }));

    let body = follow(&fan_uri, &format!("{fan_uri}#follows/1")).to_string();
    assert_eq!(post(&l.ctx, &fan, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    let got = pushes(&l.ctx).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].notification_type.as_str(), got[0].title.as_str()), ("follow", "Fan is now following you"));
    assert_eq!(got[0].targets[0].access_token, "the-token");
    assert_eq!(post(&l.ctx, &fan, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    assert!(pushes(&l.ctx).await.is_empty(), "a repeated Follow pushed again");

    let alice_uri = "http://localhost:8080/users/alice";
    let note = json!({ "id": format!("{fan_uri}/notes/1"), "type": "Note", "attributedTo": fan_uri,
        "content": "<p><span class=\"h-card\"><a href=\"http://localhost:8080/@alice\" class=\"u-url mention\">@alice</a></span> hello &amp; welcome</p>",
        "to": [alice_uri], "tag": [{ "type": "Mention", "href": alice_uri }], "published": "2026-01-01T00:00:00Z" });
    let create = json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{fan_uri}/notes/1/activity"),
        "type": "Create", "actor": fan_uri, "to": [alice_uri], "object": note });
    let body = create.to_string();
    assert_eq!(post(&l.ctx, &fan, body.as_bytes(), body.as_bytes(), now).await, StatusCode::ACCEPTED);
    let got = pushes(&l.ctx).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].notification_type, "mention");
    assert_eq!(got[0].body, "@alice hello & welcome");
    let stored = petrel::repo::statuses::by_uri(table, &format!("{fan_uri}/notes/1")).await.unwrap().unwrap();
    let notified = petrel::repo::notifications::page(table, &alice.id, &Default::default()).await.unwrap();
    assert!(notified.iter().any(|n| n.kind == "mention" && n.id == got[0].notification_id), "{notified:?}");
    assert_eq!(got[0].notification_id, stored.id);

    let mut s = petrel::model::Status::boost(petrel::ids::snowflake(), alice.id.clone(), String::new(), 1);
    (s.reblog_of, s.visibility, s.text, s.content) =
        (None, petrel::model::Visibility::Public, "like me".into(), "<p>like me</p>".into());
    petrel::repo::statuses::create(table, s.clone(), None).await.unwrap();
    let like = json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{fan_uri}#likes/1"),
        "type": "Like", "actor": fan_uri, "object": format!("{alice_uri}/statuses/{}", s.id) })
    .to_string();
    for _ in 0..2 {
        assert_eq!(post(&l.ctx, &fan, like.as_bytes(), like.as_bytes(), now).await, StatusCode::ACCEPTED);
    }
    let got = pushes(&l.ctx).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].notification_type.as_str(), got[0].body.as_str()), ("favourite", "like me"));
}
