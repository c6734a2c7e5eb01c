//! Warm requests against their store round trips (issue #20's goal: within 2×): the home
//! timeline and an inbound `Create`, in-process on the AWS adapters against moto, built with the
//! release profile (`cargo bench`). Per request it measures the wall time, the time spent inside
//! store calls (the counted ports' `store_time`) and this process's CPU time (moto runs apart),
//! and prints the medians with the store operations each request made.
//!   AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing \
//!   AWS_SECRET_ACCESS_KEY=testing cargo bench -p petrel-e2e --bench warm
//! To see Lambda's CPU share (256 MB ≈ 1/6 of a vCPU), run the built bench binary in a cgroup
//! with that quota (infra/deploy.md, "Cold starts and binary size"), moto outside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request};
use petrel::activitypub::signatures::{sign, PrivateKey, Signer};
use petrel::store::OpCounts;
use petrel_e2e::{cpu_time, fresh_aws, InProcess};
use serde_json::json;
use tower::ServiceExt;

const WARMUP: usize = 3;
const SAMPLES: usize = 41;

struct Sample {
    wall: Duration,
    store: Duration,
    cpu: Duration,
    ops: OpCounts,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn report(name: &str, samples: &[Sample]) {
    let ms = |f: &dyn Fn(&Sample) -> Duration| median(samples.iter().map(|s| f(s).as_secs_f64() * 1e3).collect());
    let (wall, store, cpu) = (ms(&|s| s.wall), ms(&|s| s.store), ms(&|s| s.cpu));
    let ratio = median(samples.iter().map(|s| s.wall.as_secs_f64() / s.store.as_secs_f64()).collect());
    let o = &samples[samples.len() / 2].ops;
    println!(
        "{name:<34} {wall:>8.2} {store:>8.2} {:>8.2} {ratio:>7.2}× {cpu:>8.2}   {} get, {} query, {} batch get, {} put/update, {} transact, {} queue send",
        wall - store,
        o.table_get,
        o.table_query,
        o.table_batch_get,
        o.table_put + o.table_update,
        o.table_transact,
        o.queue_send + o.queue_send_batch,
    );
}

/// Runs `request` WARMUP times, then SAMPLES times measured.
async fn measure<F, Fut>(p: &InProcess, mut request: F) -> Vec<Sample>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::new();
    for i in 0..WARMUP + SAMPLES {
        let (ops, store, cpu) = (p.ctx.stores.ops.snapshot(), p.ctx.stores.ops.store_time(), cpu_time(None));
        let started = Instant::now();
        request(i).await;
        let wall = started.elapsed();
        let sample = Sample {
            wall,
            store: p.ctx.stores.ops.store_time() - store,
            cpu: cpu_time(None) - cpu,
            ops: p.ctx.stores.ops.snapshot().since(&ops),
        };
        if i >= WARMUP {
            out.push(sample);
        }
    }
    out
}

/// A remote actor served from this process, as the inbox fetches it for its key (once: later
/// requests find it stored).
async fn remote_actor(keys: &petrel::crypto::KeyPair) -> (String, Signer) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let uri = format!("{base}/users/bob");
    let key_id = format!("{uri}#main-key");
    let doc = Arc::new(json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri, "type": "Person", "preferredUsername": "bob", "inbox": format!("{uri}/inbox"),
        "publicKey": { "id": key_id, "owner": uri, "publicKeyPem": keys.public_pem },
    }));
    let app = axum::Router::new().route(
        "/users/bob",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { ([(header::CONTENT_TYPE, "application/activity+json")], doc.to_string()) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (uri, Signer::new(&key_id, PrivateKey::from_pkcs8_pem(&keys.private_pem).unwrap()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let vars = fresh_aws("petrel-bench-warm").await.expect("this benchmark needs moto (AWS_ENDPOINT_URL)");
    let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    vars.push(("PETREL_ALLOW_PRIVATE_NETWORK", "true"));
    let p = InProcess::with_vars(&vars).await;
    for i in 0..25 {
        let (status, _, _) = p.call("POST", "/api/v1/statuses", Some(&format!("status=warm%20{i}"))).await;
        assert_eq!(status, 200);
    }

    let home = measure(&p, |_| async {
        let (status, body, _) = p.call("GET", "/api/v1/timelines/home?limit=20", None).await;
        assert_eq!(status, 200);
        assert_eq!(body.as_array().map(Vec::len), Some(20));
    })
    .await;

    // An inbound Create of a note that mentions the owner: stored, put in the owner's home
    // timeline and notified. Each is a new note, signed before its timing starts.
    let keys = petrel::crypto::generate_rsa_2048().unwrap();
    let (bob, signer) = remote_actor(&keys).await;
    let base = p.ctx.config.base_url();
    let owner = format!("{base}/users/{}", p.account.username);
    let inbox_url = url::Url::parse(&format!("{owner}/inbox")).unwrap();
    let router = inbox::router(p.ctx.clone());
    let signed: Vec<(HeaderMap, String)> = (0..WARMUP + SAMPLES)
        .map(|i| {
            let note = json!({ "id": format!("{bob}/notes/{i}"), "type": "Note", "attributedTo": bob,
                "content": format!("<p>@owner hello {i}</p>"), "to": [owner], "published": "2026-01-01T00:00:00Z",
                "tag": [{ "type": "Mention", "href": owner }] });
            let body = json!({ "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{bob}/notes/{i}/activity"), "type": "Create", "actor": bob, "to": [owner],
                "object": note })
            .to_string();
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, "application/activity+json".parse().unwrap());
            sign(
                &signer,
                &Method::POST,
                &inbox_url,
                &mut headers,
                Some(body.as_bytes()),
                time::OffsetDateTime::now_utc(),
            )
            .unwrap();
            (headers, body)
        })
        .collect();
    let create = measure(&p, |i| {
        let (headers, body) = signed[i].clone();
        let router = router.clone();
        let path = inbox_url.path().to_string();
        async move {
            let mut req = Request::builder().method(Method::POST).uri(path);
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            let res = router.oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
            assert_eq!(res.status().as_u16(), 202);
        }
    })
    .await;
    // The Creates were processed, not dropped: each note is stored.
    let last = format!("{bob}/notes/{}", WARMUP + SAMPLES - 1);
    let table = p.ctx.stores.table.as_ref();
    assert!(petrel::repo::statuses::by_uri(table, &last).await.unwrap().is_some(), "{last} was not stored");
    assert!(create.iter().all(|s| s.ops.table_writes() > 0), "a Create wrote nothing");

    let build = if cfg!(debug_assertions) { "a debug build" } else { "the release profile" };
    println!(
        "warm requests, in-process on the AWS adapters against moto ({build}), median of {SAMPLES} after {WARMUP}:"
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8} {:>8}   store operations per request",
        "request (ms)", "wall", "store", "rest", "wall/st", "CPU"
    );
    report("GET /api/v1/timelines/home (20)", &home);
    report("inbound Create (mention, signed)", &create);
    println!("store = time with a store call outstanding (round trips to moto, incl. the SDK's CPU for them); rest = wall - store;");
    println!("CPU = this process's CPU time during the request (moto runs apart). Goal: wall/store ≤ 2.");
}
