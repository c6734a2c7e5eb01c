//! Web Push in process: the subscription API as Mastodon answers it (shapes, refusals, scopes,
//! one subscription per token, revocation), the push of a notification to the subscriptions that
//! want it (alerts, policy), encrypted and VAPID-signed, to a push service on loopback; 410
//! deletes the subscription, 429 retries; and what a notification costs in store and queue
//! operations with and without a subscription. The independent decryption (Python's http_ece,
//! Mastodon.py) is in tests/clients/test_push.py.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use petrel::events::{OutboxEvent, Push};
use petrel::model::{AccessToken, Account, PushPolicy, PushSubscription};
use petrel::push::webpush::{b64url, decode_b64};
use petrel::Ctx;
use petrel_e2e::InProcess;
use ring::agreement::{EphemeralPrivateKey, ECDH_P256};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};

/// A request the push service received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A push service on loopback: answers by path (`/gone…` 410, `/busy…` 503, `/slow…` 429 with
/// `Retry-After: 1`, anything else 201) and keeps what it received.
struct PushService {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl PushService {
    async fn start() -> PushService {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = got.clone();
        let app =
            axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let path = uri.path().to_string();
                    seen.lock().unwrap().push(Received { path: path.clone(), headers, body: body.to_vec() });
                    if path.starts_with("/gone") {
                        StatusCode::GONE.into_response()
                    } else if path.starts_with("/busy") {
                        StatusCode::SERVICE_UNAVAILABLE.into_response()
                    } else if path.starts_with("/slow") {
                        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
                    } else {
                        StatusCode::CREATED.into_response()
                    }
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        PushService { base, got }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.got.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }
}

/// A subscriber's public key and auth secret, base64url.
fn subscriber_keys() -> (String, String) {
    let rng = SystemRandom::new();
    let key = EphemeralPrivateKey::generate(&ECDH_P256, &rng).unwrap();
    let mut auth = [0u8; 16];
    rng.fill(&mut auth).unwrap();
    (b64url(key.compute_public_key().unwrap().as_ref()), b64url(&auth))
}

fn form_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A token of `account` with `scopes`, for an app of its own.
async fn token(ctx: &Ctx, account: &Account, scopes: &[&str]) -> String {
    petrel::repo::oauth::issue_token(
        ctx.stores.table.as_ref(),
        AccessToken {
            client_id: "push-test".into(),
            account_id: Some(account.id.clone()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            created_at: 0,
            app_name: Some("push test".into()),
            app_website: None,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Subscribes `token` (JSON, as browsers' apps send it) to `endpoint` for `alerts`.
async fn subscribe(p: &InProcess, token: &str, endpoint: &str, alerts: &[&str], policy: &str, standard: bool) -> Value {
    let (p256dh, auth) = subscriber_keys();
    let alerts: serde_json::Map<String, Value> = alerts.iter().map(|a| (a.to_string(), json!(true))).collect();
    let body = json!({
        "subscription": { "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": auth }, "standard": standard },
        "data": { "alerts": alerts, "policy": policy },
    });
    let (status, sub, _) = p.call_json(Some(token), "POST", "/api/v1/push/subscription", &body.to_string()).await;
    assert_eq!(status, 200, "{sub}");
    sub
}

/// Runs the outbox consumer until the queue has nothing visible.
async fn run_consumer(ctx: &Ctx) {
    let settings = petrel::consumer::PollSettings { wait: Duration::ZERO, ..Default::default() };
    let consumer = |event| outbox_fanout::handle(ctx.clone(), event);
    while petrel::consumer::poll_once(ctx.stores.queues.outbox.as_ref(), settings, &consumer).await.unwrap() > 0 {}
}

/// Verifies a VAPID JWT's ES256 signature with `server_key`; returns its claims.
fn verified_claims(jwt: &str, server_key: &str) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let header: Value = serde_json::from_slice(&decode_b64(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let public = decode_b64(server_key).unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &decode_b64(parts[2]).unwrap())
        .expect("the VAPID JWT verifies with the server key");
    serde_json::from_slice(&decode_b64(parts[1]).unwrap()).unwrap()
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn the_subscription_api_answers_as_mastodon_does() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let push = token(&p.ctx, &p.account, &["read", "push"]).await;
    let (p256dh, auth) = subscriber_keys();
    let form = |endpoint: &str, p256dh: &str| {
        format!(
            "subscription[endpoint]={}&subscription[keys][p256dh]={}&subscription[keys][auth]={}\
             &data[alerts][mention]=1&data[alerts][reblog]=true&data[alerts][follow]=0&data[policy]=followed",
            form_escape(endpoint),
            form_escape(p256dh),
            form_escape(&auth)
        )
    };

    // The push scope is required (the default token has read and write only), and a subscription.
    let (status, body, _) =
        p.call("POST", "/api/v1/push/subscription", Some(&form("https://push.example.net/x", &p256dh))).await;
    assert_eq!((status, body["error"].is_string()), (403, true), "{body}");
    let (status, body, _) = p.call_as(Some(&push), "GET", "/api/v1/push/subscription", None).await;
    assert_eq!((status, body), (404, json!({"error": "Record not found"})));
    let (status, _, _) = p.call_as(Some(&push), "POST", "/api/v1/push/subscription", Some("data[policy]=all")).await;
    assert_eq!(status, 400);

    // Endpoints: https only (this server may not reach private networks), no private or
    // metadata address; keys: a P-256 point and a 16-byte secret.
    for bad in
        ["http://push.example.net/x", "https://127.0.0.1/x", "https://169.254.169.254/x", "https://[fd00::1]/x", "nope"]
    {
        let (status, body, _) =
            p.call_as(Some(&push), "POST", "/api/v1/push/subscription", Some(&form(bad, &p256dh))).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().contains("Endpoint"), "{body}");
    }
    let (status, body, _) = p
        .call_as(Some(&push), "POST", "/api/v1/push/subscription", Some(&form("https://push.example.net/x", "AAAA")))
        .await;
    assert_eq!(status, 422, "{body}");

    // Mastodon.py's shape: form-encoded, standard base64 with padding, booleans as 1/0.
    use base64::Engine;
    let standard_b64 = base64::engine::general_purpose::STANDARD.encode(decode_b64(&p256dh).unwrap());
    let (_, instance, _) = p.call_as(None, "GET", "/api/v2/instance", None).await;
    let server_key = instance["configuration"]["vapid"]["public_key"].as_str().unwrap().to_string();
    assert_eq!(decode_b64(&server_key).unwrap().len(), 65);
    let (status, sub, ops) = {
        let before = p.ctx.stores.ops.snapshot();
        let (status, sub, _) = p
            .call_as(
                Some(&push),
                "POST",
                "/api/v1/push/subscription",
                Some(&form("https://push.example.net/x", &standard_b64)),
            )
            .await;
        (status, sub, p.ctx.stores.ops.snapshot().since(&before))
    };
    assert_eq!(status, 200, "{sub}");
    // Authentication (token, account) and one write; the VAPID key is held by the process.
    assert_eq!((ops.table_get, ops.table_put, ops.total()), (2, 1, 3), "{ops:?}");
    assert_eq!(sub["endpoint"], "https://push.example.net/x");
    assert_eq!(sub["server_key"], server_key.as_str());
    assert_eq!((sub["standard"].clone(), sub["policy"].clone()), (json!(false), json!("followed")));
    let alerts = sub["alerts"].as_object().unwrap();
    assert_eq!(alerts.len(), 12, "every type Mastodon knows: {sub}");
    let on: Vec<&String> = alerts.iter().filter(|(_, v)| **v == json!(true)).map(|(k, _)| k).collect();
    assert_eq!(on, ["mention", "reblog"]);
    let (status, got, _) = p.call_as(Some(&push), "GET", "/api/v1/push/subscription", None).await;
    assert_eq!((status, &got), (200, &sub));

    // The app entity carries the same key, on registration and on verify_credentials.
    let (status, app, _) = p
        .call_as(
            None,
            "POST",
            "/api/v1/apps",
            Some("client_name=x&redirect_uris=urn:ietf:wg:oauth:2.0:oob&scopes=read+push"),
        )
        .await;
    assert_eq!((status, app["vapid_key"].as_str()), (200, Some(server_key.as_str())), "{app}");

    // PUT replaces the alerts and the policy (one conditional update).
    let before = p.ctx.stores.ops.snapshot();
    let (status, updated, _) = p
        .call_json(
            Some(&push),
            "PUT",
            "/api/v1/push/subscription",
            r#"{"data":{"alerts":{"follow":true},"policy":"none"}}"#,
        )
        .await;
    let ops = p.ctx.stores.ops.snapshot().since(&before);
    assert_eq!(status, 200, "{updated}");
    assert_eq!((ops.table_update, ops.total()), (1, 3), "{ops:?}");
    assert_eq!(
        (updated["alerts"]["follow"].clone(), updated["alerts"]["mention"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!((updated["policy"].clone(), updated["id"].clone()), (json!("none"), sub["id"].clone()));

    // A new POST replaces the token's subscription (a new id); another token has its own.
    let again = subscribe(&p, &push, "https://push.example.net/y", &["favourite"], "all", true).await;
    assert_ne!(again["id"], sub["id"]);
    assert_eq!(again["standard"], true);
    let other = token(&p.ctx, &p.account, &["push"]).await;
    subscribe(&p, &other, "https://push.example.net/z", &["follow"], "all", true).await;
    let all = petrel::repo::push::of_account(table, &p.account.id).await.unwrap();
    assert_eq!(all.len(), 2);

    // DELETE answers {} and is idempotent.
    for _ in 0..2 {
        let (status, body, _) = p.call_as(Some(&push), "DELETE", "/api/v1/push/subscription", None).await;
        assert_eq!((status, body), (200, json!({})));
    }
    let (status, _, _) = p.call_as(Some(&push), "GET", "/api/v1/push/subscription", None).await;
    assert_eq!(status, 404);
    let (status, _, _) = p.call_as(Some(&push), "PUT", "/api/v1/push/subscription", Some("data[policy]=all")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn revoking_a_token_removes_its_subscription() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let (app, secret) = petrel::repo::oauth::create_app(
        table,
        "revoker",
        None,
        vec!["urn:ietf:wg:oauth:2.0:oob".into()],
        vec!["read".into(), "push".into()],
    )
    .await
    .unwrap();
    let value = petrel::repo::oauth::issue_token(
        table,
        AccessToken {
            client_id: app.client_id.clone(),
            account_id: Some(p.account.id.clone()),
            scopes: vec!["push".into()],
            created_at: 0,
            app_name: None,
            app_website: None,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    subscribe(&p, &value, "https://push.example.net/r", &["mention"], "all", true).await;
    assert!(petrel::repo::push::get(table, &p.account.id, &value).await.unwrap().is_some());
    let form = format!("client_id={}&client_secret={secret}&token={value}", app.client_id);
    let (status, body, _) = p.call_as(None, "POST", "/oauth/revoke", Some(&form)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        petrel::repo::push::get(table, &p.account.id, &value).await.unwrap().is_none(),
        "the subscription outlived its token"
    );
    assert!(petrel::repo::push::of_account(table, &p.account.id).await.unwrap().is_empty());
    let (status, _, _) = p.call_as(Some(&value), "GET", "/api/v1/push/subscription", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_boost_is_pushed_encrypted_and_signed_to_the_subscriptions_that_want_it() {
    let p = InProcess::with_vars(&[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await;
    let table = p.ctx.stores.table.as_ref();
    let service = PushService::start().await;
    let (_bob, bob_token) = p.user("bob").await;
    let owner = p.account.clone();
    // Six subscriptions of the owner's: two that want boosts (standard and Mastodon's legacy
    // encoding), one that wants mentions only, one whose policy (followed: the owner does not
    // follow bob) refuses bob, one the push service says is gone, and one unsubscribed.
    let mut tokens = Vec::new();
    for (path, alerts, policy, standard) in [
        ("/standard", vec!["reblog", "mention"], "all", true),
        ("/legacy", vec!["reblog"], "all", false),
        ("/mentions", vec!["mention"], "all", true),
        ("/followed", vec!["reblog"], "followed", true),
        ("/gone", vec!["reblog"], "all", true),
        ("/unsubscribed", vec!["reblog"], "all", true),
    ] {
        let t = token(&p.ctx, &owner, &["read", "push"]).await;
        subscribe(&p, &t, &service.url(path), &alerts, policy, standard).await;
        tokens.push((path, t));
    }
    let (_, unsubscribed) = &tokens[5];
    let (status, _, _) = p.call_as(Some(unsubscribed), "DELETE", "/api/v1/push/subscription", None).await;
    assert_eq!(status, 200);
    let (_, gone) = &tokens[4];
    assert!(petrel::repo::push::get(table, &owner.id, gone).await.unwrap().is_some());

    let (status, posted, _) = p.call("POST", "/api/v1/statuses", Some("status=Boost%20me%20%3Cplease%3E")).await;
    assert_eq!(status, 200, "{posted}");
    run_consumer(&p.ctx).await;
    let id = posted["id"].as_str().unwrap();
    let (status, body, _) = p.call_as(Some(&bob_token), "POST", &format!("/api/v1/statuses/{id}/reblog"), None).await;
    assert_eq!(status, 200, "{body}");
    run_consumer(&p.ctx).await;

    let server_key = p.call_as(None, "GET", "/api/v2/instance", None).await.1["configuration"]["vapid"]["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let now = petrel::clock::now_ms() / 1000;
    for path in ["/mentions", "/followed", "/unsubscribed"] {
        assert!(service.at(path).is_empty(), "{path} got a push it did not want");
    }
    let standard = service.at("/standard");
    assert_eq!(standard.len(), 1);
    let r = &standard[0];
    assert_eq!(header(r, "content-encoding"), "aes128gcm");
    assert_eq!(header(r, "ttl"), "172800");
    assert_eq!(header(r, "urgency"), "normal");
    let auth = header(r, "authorization");
    let (t, k) = auth.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).expect(auth);
    assert_eq!(k, server_key);
    let claims = verified_claims(t, &server_key);
    assert_eq!(claims["aud"], service.base.as_str());
    assert_eq!(claims["sub"], p.ctx.config.base_url().as_str());
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now && exp <= now + 24 * 3600, "{claims}");
    // RFC 8291's header: salt, record size 4096, a 65-byte key id (the sender's public key).
    assert_eq!(&r.body[16..21], &[0, 0, 0x10, 0, 65]);
    assert_eq!(r.body[21], 4);
    assert!(r.body.len() > 86 + 17);

    let legacy = service.at("/legacy");
    assert_eq!(legacy.len(), 1);
    let r = &legacy[0];
    assert_eq!(header(r, "content-encoding"), "aesgcm");
    assert_eq!(decode_b64(header(r, "encryption").strip_prefix("salt=").unwrap()).unwrap().len(), 16);
    let crypto_key = header(r, "crypto-key");
    let (dh, p256ecdsa) = crypto_key.strip_prefix("dh=").and_then(|c| c.split_once(";p256ecdsa=")).expect(crypto_key);
    assert_eq!((decode_b64(dh).unwrap().len(), p256ecdsa), (65, server_key.as_str()));
    let jwt = header(r, "authorization").strip_prefix("WebPush ").unwrap();
    assert_eq!(verified_claims(jwt, &server_key)["aud"], service.base.as_str());

    // 410: the subscription is deleted; nothing is retried.
    assert_eq!(service.at("/gone").len(), 1);
    assert!(petrel::repo::push::get(table, &owner.id, gone).await.unwrap().is_none());
    let left: Vec<String> =
        petrel::repo::push::of_account(table, &owner.id).await.unwrap().into_iter().map(|(_, s)| s.endpoint).collect();
    assert_eq!(left.len(), 4, "{left:?}");
}

/// The message a notification queued, taken off the queue.
async fn queued_push(ctx: &Ctx) -> Option<Push> {
    let received = ctx.stores.queues.outbox.receive(10, Duration::from_secs(30), Duration::from_secs(3)).await.unwrap();
    let mut found = None;
    for r in received {
        ctx.stores.queues.outbox.delete(&r.receipt).await.unwrap();
        if let OutboxEvent::Push(p) = serde_json::from_str(&r.body).unwrap() {
            found = Some(p);
        }
    }
    found
}

fn subscription(endpoint: &str, alerts: &[&str], policy: PushPolicy) -> PushSubscription {
    let (p256dh, auth) = subscriber_keys();
    PushSubscription {
        id: petrel::ids::snowflake(),
        endpoint: endpoint.into(),
        p256dh,
        auth,
        standard: true,
        alerts: alerts.iter().map(|a| a.to_string()).collect(),
        policy,
        access_token: petrel::ids::random_token(32),
        created_at: 0,
    }
}

#[tokio::test]
async fn what_a_notification_costs_with_and_without_a_subscription() {
    let p = InProcess::with_vars(&[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await;
    let ctx = &p.ctx;
    let table = ctx.stores.table.as_ref();
    let service = PushService::start().await;
    let (bob, _) = p.user("bob").await;
    let owner = p.account.clone();
    let n = petrel::repo::notifications::new(&ctx.config.retention, "follow", &bob.id, None);
    let (owner_ref, n_ref, bob_ref) = (&owner, &n, &bob);
    let measure = move || async move {
        let before = ctx.stores.ops.snapshot();
        let queued = petrel::push::queue(ctx, &owner_ref.id, n_ref, bob_ref, None).await.unwrap();
        (queued, ctx.stores.ops.snapshot().since(&before))
    };

    // Nobody subscribed: one query, no message.
    let (queued, ops) = measure().await;
    assert!(!queued);
    assert_eq!((ops.table_query, ops.queue_send, ops.total()), (1, 0, 1), "{ops:?}");

    // A subscription that does not want follows: the same.
    petrel::repo::push::put(table, &owner.id, "t1", &subscription(&service.url("/m"), &["mention"], PushPolicy::All))
        .await
        .unwrap();
    let (queued, ops) = measure().await;
    assert!(!queued);
    assert_eq!(ops.total(), 1, "{ops:?}");

    // One that wants them: the query and one message.
    petrel::repo::push::put(table, &owner.id, "t2", &subscription(&service.url("/ok"), &["follow"], PushPolicy::All))
        .await
        .unwrap();
    let (queued, ops) = measure().await;
    assert!(queued);
    assert_eq!((ops.table_query, ops.queue_send, ops.total()), (1, 1, 2), "{ops:?}");
    let push = queued_push(ctx).await.unwrap();
    assert_eq!(push.targets.len(), 1);
    assert_eq!((push.notification_type.as_str(), push.title.as_str()), ("follow", "bob is now following you"));

    // Sending reads nothing (the key is held by the process after its first use): the POST only.
    petrel::push::vapid(ctx).await.unwrap();
    let before = ctx.stores.ops.snapshot();
    outbox_fanout::push::send(ctx, push.clone()).await.unwrap();
    let ops = ctx.stores.ops.snapshot().since(&before);
    assert_eq!(ops.total(), 0, "{ops:?}");
    assert_eq!(service.at("/ok").len(), 1);

    // A policy that depends on the relationship reads it once (bob follows nobody here).
    petrel::repo::push::put(
        table,
        &owner.id,
        "t2",
        &subscription(&service.url("/ok"), &["follow"], PushPolicy::Follower),
    )
    .await
    .unwrap();
    petrel::repo::push::put(
        table,
        &owner.id,
        "t3",
        &subscription(&service.url("/ok3"), &["follow"], PushPolicy::Follower),
    )
    .await
    .unwrap();
    let (queued, ops) = measure().await;
    assert!(!queued);
    assert_eq!((ops.table_query, ops.table_get, ops.total()), (1, 1, 2), "{ops:?}");
    assert!(petrel::repo::follows::add_follower(table, &owner, &bob, "f").await.unwrap());
    let (queued, _) = measure().await;
    assert!(queued, "bob follows the owner now");
    assert_eq!(queued_push(ctx).await.unwrap().targets.len(), 2);

    // 404/410 cost one delete; a 429 is sent again after Retry-After, with only what failed.
    let mut failing = push.clone();
    failing.targets[0].endpoint = service.url("/gone");
    let before = ctx.stores.ops.snapshot();
    outbox_fanout::push::send(ctx, failing).await.unwrap();
    let ops = ctx.stores.ops.snapshot().since(&before);
    assert_eq!((ops.table_delete, ops.total()), (1, 1), "{ops:?}");
    let mut slow = push.clone();
    slow.targets[0].endpoint = service.url("/slow");
    slow.targets.push(push.targets[0].clone());
    outbox_fanout::push::send(ctx, slow).await.unwrap();
    let retry = queued_push(ctx).await.expect("the 429 is retried");
    assert_eq!(retry.attempt, 1);
    assert_eq!(retry.targets.len(), 1);
    assert_eq!(retry.targets[0].endpoint, service.url("/slow"));
    // 503 is retried too, with the delivery backoff (15 s and more: the message is delayed).
    let mut busy = push.clone();
    busy.targets[0].endpoint = service.url("/busy");
    let before = ctx.stores.ops.snapshot();
    outbox_fanout::push::send(ctx, busy.clone()).await.unwrap();
    assert_eq!(ctx.stores.ops.snapshot().since(&before).queue_send, 1);
    // After the last retry it is given up, not failed (no dead-letter alarm for a phone).
    busy.attempt = outbox_fanout::push::MAX_RETRIES;
    let before = ctx.stores.ops.snapshot();
    outbox_fanout::push::send(ctx, busy).await.unwrap();
    assert_eq!(ctx.stores.ops.snapshot().since(&before).queue_send, 0);
}

async fn ctx_with(vars: &[(String, String)]) -> Ctx {
    let config =
        petrel::Config::from_vars(|k| vars.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone())).unwrap();
    Ctx::connect(config).await.unwrap()
}

/// Two processes that need the VAPID key at once, on a site that has none yet, make one key
/// between them (a conditional put; the loser reads the winner's), and every later process reads
/// it: apps are given one key, and every push is signed with it. On both backends.
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_agree_on_one_vapid_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![vec![("PETREL_DATA".to_string(), dir.path().to_str().unwrap().to_string())]];
    if let Some(aws) = petrel_e2e::fresh_aws("push-vapid").await {
        backends.push(aws);
    }
    for vars in backends {
        let (a, b) = (ctx_with(&vars).await, ctx_with(&vars).await);
        let (ka, kb) = tokio::join!(petrel::push::vapid(&a), petrel::push::vapid(&b));
        let (ka, kb) = (ka.unwrap(), kb.unwrap());
        assert_eq!(ka.public_key(), kb.public_key(), "{vars:?}");
        let later = ctx_with(&vars).await;
        assert_eq!(petrel::push::vapid(&later).await.unwrap().public_key(), ka.public_key());
        // Held by the process: a second use reads nothing.
        let before = later.stores.ops.snapshot();
        petrel::push::vapid(&later).await.unwrap();
        assert_eq!(later.stores.ops.snapshot().since(&before).total(), 0);
    }
}

/// A password change and "revoke all" end every token, and so every push: the subscriptions go
/// with them, those of tokens no list names included.
#[tokio::test]
async fn a_password_change_or_revoke_all_removes_every_subscription() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let first = token(&p.ctx, &p.account, &["push"]).await;
    subscribe(&p, &first, "https://push.example.net/a", &["mention"], "all", true).await;
    assert_eq!(petrel::repo::push::of_account(table, &p.account.id).await.unwrap().len(), 1);
    petrel::repo::accounts::set_password(table, &p.account.username, "another horse battery").await.unwrap();
    assert!(petrel::repo::push::of_account(table, &p.account.id).await.unwrap().is_empty());

    // Another account (this one's tokens are of an older generation now).
    let (other, _) = p.user("other").await;
    let second = token(&p.ctx, &other, &["push"]).await;
    subscribe(&p, &second, "https://push.example.net/b", &["mention"], "all", true).await;
    assert_eq!(petrel::repo::push::of_account(table, &other.id).await.unwrap().len(), 1);
    petrel::repo::oauth::revoke_all_tokens(table, &other.id).await.unwrap();
    assert!(petrel::repo::push::of_account(table, &other.id).await.unwrap().is_empty());
}
