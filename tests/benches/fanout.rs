//! Fan-out benchmark (issue #14): one post to 10,000 followers on 3,000 shared inboxes of
//! Zipf-distributed sizes, delivered to a loopback sink, on the embedded backend and on the AWS
//! adapters against moto. Prints POSTs per distinct inbox (must be exactly 1.0), deliveries per
//! second with an instant sink and with a 50 ms sink, the share of CPU spent signing next to
//! ring's raw RSA-2048 signing rate, store and queue operations per post, page and delivery, and
//! what a dead inbox costs over two days before and after the change to held messages.
//!
//!   cargo bench -p petrel-e2e --bench fanout                       # both backends (moto: AWS_ENDPOINT_URL)
//!   cargo bench -p petrel-e2e --bench fanout -- --followers 2000 --inboxes 600 --backend embedded
//!   cargo bench -p petrel-e2e --bench fanout -- --write infra/cost/measured_fanout.json
//!
//! Each inbox is on its own loopback address (127.1.x.y), so every one is a host of its own, as
//! on the fediverse: per-host politeness and connection set-up are exercised, not bypassed. The
//! sink answers 202 in the same process, so its CPU is part of the process's; five pollers stand
//! for the event source mapping's MaximumConcurrency of 5. Not part of the test run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use petrel::activitypub::convert::remote_account;
use petrel::consumer::{poll_once, PollSettings};
use petrel::events::{OutboxEvent, Publish};
use petrel::repo::{actors, follows};
use petrel::store::OpCounts;
use petrel_e2e::InProcess;
use serde_json::{json, Value};

/// The template's ScalingConfig.MaximumConcurrency for outbox-fanout.
const POLLERS: usize = 5;

struct Args {
    followers: usize,
    inboxes: usize,
    backends: Vec<String>,
    write: Option<String>,
}

fn args() -> Args {
    let mut a = Args { followers: 10_000, inboxes: 3_000, backends: Vec::new(), write: None };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--followers" => a.followers = value.parse().expect("--followers N"),
            "--inboxes" => a.inboxes = value.parse().expect("--inboxes N"),
            "--backend" => a.backends.push(value),
            "--write" => a.write = Some(value),
            _ => {
                i += 1; // cargo bench passes `--bench`
                continue;
            }
        }
        i += 2;
    }
    if a.backends.is_empty() {
        a.backends.push("embedded".into());
        if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
            a.backends.push("aws".into());
        }
    }
    a
}

/// Followers per inbox: every inbox has one, the rest Zipf-distributed (exponent 1) over them.
fn zipf_sizes(followers: usize, inboxes: usize) -> Vec<usize> {
    let weights: Vec<f64> = (1..=inboxes).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let rest = followers - inboxes;
    let mut sizes: Vec<usize> = weights.iter().map(|w| 1 + (rest as f64 * w / total).floor() as usize).collect();
    let mut missing = followers - sizes.iter().sum::<usize>();
    for s in sizes.iter_mut() {
        if missing == 0 {
            break;
        }
        *s += 1;
        missing -= 1;
    }
    sizes
}

fn host(i: usize) -> String {
    format!("127.1.{}.{}", i / 250, i % 250 + 1)
}

/// The sink: counts POSTs per inbox URL; answers 202 after `delay_ms`.
#[derive(Clone, Default)]
struct Sink {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    posts: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
}

async fn start_sink() -> (Sink, u16) {
    let sink = Sink::default();
    let s = sink.clone();
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let s = s.clone();
            async move {
                let delay = s.delay_ms.load(Ordering::Relaxed);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
                *s.hits.lock().unwrap().entry(host).or_default() += 1;
                s.posts.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    // Every 127.x address reaches a socket bound to all addresses.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (sink, port)
}

/// CPU time of this process so far (user + system), from /proc.
fn cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/self/stat")
}

/// CPU time of the calling thread so far: a rate measured in it is not skewed by other load.
fn thread_cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/thread-self/stat")
}

fn cpu_seconds_of(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat(5), counted after the command name; USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// RSA-2048 PKCS#1 v1.5 SHA-256 signatures per CPU second with ring, on one core.
fn ring_sign_rate() -> f64 {
    use base64::Engine;
    use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
    let pair = petrel::crypto::generate_rsa_2048().unwrap();
    let body: String = pair.private_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    let key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let message = vec![7u8; 300];
    let mut signature = vec![0; key.public().modulus_len()];
    let mut sign = || key.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature).unwrap();
    for _ in 0..20 {
        sign();
    }
    let n = 2000;
    let started = thread_cpu_seconds();
    for _ in 0..n {
        sign();
    }
    n as f64 / (thread_cpu_seconds() - started)
}

async fn followers(p: &InProcess, sizes: &[usize], port: u16) {
    let table = p.ctx.stores.table.as_ref();
    let mut people = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        for j in 0..*n {
            people.push((i, j));
        }
    }
    // Interleaved, so that follower order says nothing about inboxes.
    people.sort_by_key(|(i, j)| (i * 7919 + j * 104_729) % 1_000_003);
    let owner = p.account.clone();
    let started = Instant::now();
    // moto serialises requests; concurrent follows would mostly conflict there.
    let concurrency = if matches!(p.ctx.config.backend, petrel::config::Backend::Aws { .. }) { 1 } else { 32 };
    futures::stream::iter(people)
        .for_each_concurrent(concurrency, |(i, j)| {
            let owner = owner.clone();
            async move {
                let base = format!("http://{}:{port}", host(i));
                let uri = format!("{base}/users/{j}");
                let doc = json!({ "id": uri, "type": "Person", "preferredUsername": format!("u{j}"),
                    "inbox": format!("{uri}/inbox"), "endpoints": { "sharedInbox": format!("{base}/inbox") },
                    "publicKey": { "id": format!("{uri}#main-key"), "owner": uri, "publicKeyPem": "-" } });
                // Follows at once all move the owner's follower count: DynamoDB (and moto) cancel
                // concurrent transactions on one item, and the inbox would answer 503 for the
                // sender to retry; here the set-up retries.
                for tries in 1.. {
                    let saved = actors::save(table, remote_account(&doc, petrel::ids::snowflake(), 0).unwrap()).await;
                    let followed = match saved {
                        Ok(account) => follows::add_follower(table, &owner, &account, "f").await.map(|_| ()),
                        Err(e) => Err(e),
                    };
                    match followed {
                        Ok(()) => break,
                        Err(e) if tries < 20 => {
                            if tries == 1 {
                                eprintln!("  set-up: {e}; retrying");
                            }
                            tokio::time::sleep(Duration::from_millis(10 * tries)).await;
                        }
                        Err(e) => panic!("set-up failed: {e}"),
                    }
                }
            }
        })
        .await;
    eprintln!("  set-up: {} followers in {:.0} s", sizes.iter().sum::<usize>(), started.elapsed().as_secs_f64());
}

struct Run {
    distinct: usize,
    posts: u64,
    secs: f64,
    cpu: f64,
    fanout_secs: f64,
    fanout_ops: OpCounts,
    fanout_pages: usize,
    deliver_ops: OpCounts,
    batch_ms: f64,
}

/// One post: the fan-out (every Publish message, first page included), then the deliveries by
/// five pollers, timed from the first delivery message to the last POST.
async fn one_post(p: &InProcess, sink: &Sink, n: usize, delay_ms: u64) -> Run {
    let ctx = &p.ctx;
    let queue = ctx.stores.queues.outbox.clone();
    sink.hits.lock().unwrap().clear();
    sink.posts.store(0, Ordering::Relaxed);
    sink.delay_ms.store(delay_ms, Ordering::Relaxed);
    let activity = json!({ "id": format!("{}/bench/{}", ctx.config.base_url(), petrel::ids::snowflake()),
        "type": "Create", "actor": format!("{}/users/owner", ctx.config.base_url()),
        "object": { "type": "Note", "content": "<p>benchmark</p>" } });
    let publish = OutboxEvent::Publish(Publish {
        account_id: p.account.id.clone(),
        activity,
        to_followers: true,
        inboxes: vec![],
        status_id: Some(petrel::ids::snowflake()),
        cursor: None,
        over: None,
        render: None,
    });

    // Fan-out: the Publish messages alone (deliveries set aside and queued again after), so
    // its operations are told apart from the deliveries'.
    let before = ctx.stores.ops.snapshot();
    let started = Instant::now();
    let mut pending = vec![publish];
    let mut deliveries: Vec<Value> = Vec::new();
    let mut pages = 0;
    while let Some(event) = pending.pop() {
        let OutboxEvent::Publish(p) = event else { unreachable!() };
        outbox_fanout::fanout::publish(ctx, p).await.unwrap();
        pages += 1;
        loop {
            let got = queue.receive(10, Duration::from_secs(300), Duration::ZERO).await.unwrap();
            if got.is_empty() {
                break;
            }
            for m in got {
                match serde_json::from_str::<OutboxEvent>(&m.body).unwrap() {
                    OutboxEvent::Publish(next) => pending.push(OutboxEvent::Publish(next)),
                    OutboxEvent::Deliver(_) => deliveries.push(serde_json::from_str(&m.body).unwrap()),
                    _ => {}
                }
                queue.delete(&m.receipt).await.unwrap();
            }
        }
    }
    let fanout_secs = started.elapsed().as_secs_f64();
    let fanout_ops = ctx.stores.ops.snapshot().since(&before);
    let distinct = deliveries.len();
    for chunk in deliveries.chunks(10) {
        let msgs = chunk.iter().map(|v| petrel::store::OutMessage::new(v.to_string())).collect();
        queue.send_batch(msgs).await.unwrap();
    }

    // Deliveries, by five pollers as Lambda's event source mapping would run them.
    let before = ctx.stores.ops.snapshot();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let batch_time = Arc::new(Mutex::new((0.0f64, 0usize)));
    let mut pollers = Vec::new();
    for _ in 0..POLLERS {
        let (ctx, queue, sink, batch_time) = (ctx.clone(), queue.clone(), sink.clone(), batch_time.clone());
        pollers.push(tokio::spawn(async move {
            let settings = PollSettings { batch_size: 10, visibility: Duration::from_secs(300), wait: Duration::ZERO };
            let consumer = |e| {
                let (ctx, batch_time) = (ctx.clone(), batch_time.clone());
                async move {
                    let t = Instant::now();
                    let r = outbox_fanout::handle(ctx, e).await;
                    let mut b = batch_time.lock().unwrap();
                    b.0 += t.elapsed().as_secs_f64();
                    b.1 += 1;
                    r
                }
            };
            while (sink.posts.load(Ordering::Relaxed) as usize) < distinct {
                if poll_once(queue.as_ref(), settings, &consumer).await.unwrap() == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    for p in pollers {
        p.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let deliver_ops = ctx.stores.ops.snapshot().since(&before);
    let hits = sink.hits.lock().unwrap();
    assert_eq!(hits.len(), n, "every distinct inbox was reached");
    assert!(hits.values().all(|c| *c == 1), "no inbox got the post twice");
    let (total_batch, batches) = *batch_time.lock().unwrap();
    Run {
        distinct,
        posts: sink.posts.load(Ordering::Relaxed),
        secs,
        cpu,
        fanout_secs,
        fanout_ops,
        fanout_pages: pages,
        deliver_ops,
        batch_ms: 1000.0 * total_batch / batches.max(1) as f64,
    }
}

/// The previous scheme for a dead inbox, for comparison: every wait past 15 minutes re-sent
/// every 15 minutes; at the give-up the message failed and SQS received it four more times
/// (each a try) before dead-lettering it.
fn simulate_before() -> (u32, u32, u32) {
    let (mut sent, mut receives, mut tries) = (1u32, 1u32, 0u32);
    let mut now = 0i64;
    let mut attempt = 0;
    loop {
        tries += 1;
        let wait = outbox_fanout::deliver::backoff_secs(attempt) as i64 * 1000;
        attempt += 1;
        if now + wait > outbox_fanout::deliver::GIVE_UP_AFTER_MS {
            return (sent, receives + 4, tries + 4);
        }
        let hops = (wait + 899_999) / 900_000;
        sent += hops as u32;
        receives += hops as u32;
        now += wait;
    }
}

fn per(ops: u64, n: usize) -> f64 {
    ops as f64 / n.max(1) as f64
}

#[tokio::main]
async fn main() {
    let a = args();
    let sizes = zipf_sizes(a.followers, a.inboxes);
    println!(
        "fan-out benchmark: {} followers on {} shared inboxes (Zipf; largest {}, median {}), {POLLERS} pollers × {} messages at once",
        a.followers,
        a.inboxes,
        sizes[0],
        sizes[sizes.len() / 2],
        petrel::consumer::CONCURRENCY
    );
    let rate = ring_sign_rate();
    println!(
        "ring RSA-2048 signing on this machine: {rate:.0} signatures per CPU second on one core ({:.2} ms each)",
        1000.0 / rate
    );
    let mut measured = None;
    for backend in &a.backends {
        let p = match backend.as_str() {
            "aws" => {
                let Some(vars) = petrel_e2e::fresh_aws("petrel-fanbench").await else { continue };
                let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                vars.push(("PETREL_ALLOW_PRIVATE_NETWORK", "true"));
                InProcess::with_vars(&vars).await
            }
            _ => InProcess::with_vars(&[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await,
        };
        println!("\n[{backend}]");
        let (sink, port) = start_sink().await;
        followers(&p, &sizes, port).await;
        for delay in [0u64, 50] {
            let r = one_post(&p, &sink, a.inboxes, delay).await;
            let signing = r.posts as f64 / rate;
            println!(
                "  sink {delay:>2} ms: {} POSTs to {} distinct inboxes = {:.3} per inbox; {:.0} deliveries/s ({:.1} s); fan-out {} pages in {:.1} s; CPU {:.1} s, signing {:.1}% of it ({:.1} s at ring's rate); {:.0} ms per batch of 10",
                r.posts,
                r.distinct,
                r.posts as f64 / r.distinct as f64,
                r.distinct as f64 / r.secs,
                r.secs,
                r.fanout_pages,
                r.fanout_secs,
                r.cpu,
                100.0 * signing / r.cpu.max(1e-9),
                signing,
                r.batch_ms,
            );
            if delay == 0 {
                let (f, d) = (r.fanout_ops, r.deliver_ops);
                println!(
                    "    fan-out, per page of up to {}: {:.1} table reads, {:.1} writes, {:.1} RRU, {:.1} WRU, {:.1} SQS requests",
                    outbox_fanout::fanout::PAGE,
                    per(f.table_reads(), r.fanout_pages),
                    per(f.table_writes(), r.fanout_pages),
                    f.rru() / r.fanout_pages as f64,
                    per(f.wru, r.fanout_pages),
                    per(f.queue_send + f.queue_send_batch, r.fanout_pages)
                );
                println!(
                    "    per delivery: {:.3} table reads, {:.3} writes, {:.3} RRU, {:.3} WRU; SQS {:.2} receives, {:.2} deletes (+{:.2} batch sends by the fan-out)",
                    per(d.table_reads(), r.distinct),
                    per(d.table_writes(), r.distinct),
                    d.rru() / r.distinct as f64,
                    per(d.wru, r.distinct),
                    per(d.queue_receive, r.distinct),
                    per(d.queue_delete, r.distinct),
                    per(f.queue_send_batch, r.distinct)
                );
                // The first backend's counts go to the cost model (the store operations are the
                // same code on both; the embedded run is the one at full scale).
                if measured.is_none() {
                    measured = Some((backend.clone(), r));
                }
            }
        }
    }
    let (before, after) = (simulate_before(), outbox_fanout::deliver::simulate_dead_inbox());
    println!("\na dead inbox over two days (simulated with deliver's own functions; messages sent, receives, tries):");
    println!(
        "  before (re-sent every 15 min):  {:>4} sent, {:>4} receives, {:>3} tries, then the dead-letter queue",
        before.0, before.1, before.2
    );
    println!(
        "  after  (held by visibility):    {:>4} sent, {:>4} receives, {:>3} tries, given up quietly",
        after.0, after.1, after.2
    );

    if let (Some(path), Some((backend, r))) = (a.write, measured) {
        write_measured(&path, &backend, &r, after);
    }
}

/// Rewrites the per-page, per-inbox and per-dead-inbox parts of infra/cost/measured_fanout.json
/// with this run's counts, keeping its format and its per-post part.
fn write_measured(path: &str, backend: &str, r: &Run, dead: (u32, u32, u32)) {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (f, d, n, pages) = (r.fanout_ops, r.deliver_ops, r.distinct as f64, r.fanout_pages as f64);
    doc["source"] = json!(format!(
        "measured by `cargo bench -p petrel-e2e --bench fanout` ({backend} backend, {} distinct inboxes, instant sink)",
        r.distinct
    ));
    doc["paged_over"] = json!("distinct_inboxes");
    doc["page_size"] = json!(outbox_fanout::fanout::PAGE);
    doc["delivery_copies_per_distinct_inbox"] = json!(r.posts as f64 / n);
    doc["delivery_copies_note"] = json!("asserted by the benchmark and by tests/tests/fanout_inboxes.rs");
    doc["per_page"] = json!({
        "sqs_send": per(f.queue_send, r.fanout_pages), "sqs_receive": 1, "sqs_delete": 1, "sqs_change_visibility": 0,
        "lambda_invocations": 1, "lambda_ms_outbox-fanout": (1000.0 * r.fanout_secs / pages).round(),
        "rru": f.rru() / pages, "wru": f.wru as f64 / pages, "s3_put": 0, "posts": 0,
        "note": "each fan-out page (first included): the inbox-set query, the host marks (one batch get per 100 hosts), the page mark and report count, the next page's message; its SendMessageBatch calls are in per_distinct_inbox; duration as measured here"
    });
    doc["per_distinct_inbox"] = json!({
        "sqs_send": f.queue_send_batch as f64 / n, "sqs_receive": d.queue_receive as f64 / n,
        "sqs_delete": d.queue_delete as f64 / n, "sqs_change_visibility": d.queue_change_visibility as f64 / n,
        "lambda_invocations": d.queue_receive as f64 / n, "lambda_ms_outbox-fanout": r.batch_ms / 10.0,
        "rru": d.rru() / n, "wru": d.wru as f64 / n, "s3_put": 0, "posts": 1,
        "note": "one Deliver message, sent in a batch of 10 by the fan-out, received in batches (one invocation each) and deleted one by one as the local poller does (Lambda's poller may batch deletes); the loopback sink answers at once, so the duration is the CPU and store part of a batch, divided by 10"
    });
    doc["per_dead_inbox"] = json!({
        "sqs_send": dead.0, "sqs_receive": dead.1, "sqs_delete": dead.0, "sqs_change_visibility": dead.1 - dead.0,
        "lambda_invocations": dead.1, "lambda_ms_outbox-fanout": dead.2 as f64 * 10_000.0,
        "rru": dead.2 as f64 * 1.5, "wru": dead.2 as f64, "s3_put": 0, "posts": dead.2,
        "note": "simulated with deliver's own functions (outbox_fanout::deliver::simulate_dead_inbox): waits up to 15 minutes are delayed messages, longer ones hold the message by its visibility timeout; each try checks the host's mark (1 RRU) and records a failure day (1 WRU, 0.5 RRU); a try to a server that does not answer waits out the 10 s timeout"
    });
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    println!("wrote {path}");
}
