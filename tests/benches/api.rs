//! API benchmark: store operations per endpoint (in-process, counted), and requests per second,
//! CPU per request and store operations per request on a real `petrel serve` built with the
//! release profile, each endpoint next to the trivial `/health` route, in one run.
//!   cargo bench -p petrel-e2e --bench api          # builds the release `petrel`
//!   PETREL_BIN=path/to/petrel cargo bench -p petrel-e2e --bench api
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use petrel_e2e::{cpu_time, petrel_release_bin, InProcess, Server};

const CONCURRENCY: usize = 8;
const ROUNDS: usize = 3;

async fn ops_table() {
    let p = InProcess::new().await;
    for i in 0..25 {
        p.call("POST", "/api/v1/statuses", Some(&format!("status=warm%20{i}"))).await;
    }
    let (_, first, _) = p.call("GET", "/api/v1/timelines/home?limit=1", None).await;
    let id = first[0]["id"].as_str().unwrap().to_string();
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("GET", "/health".into(), None),
        ("GET", "/api/v1/instance".into(), None),
        ("GET", "/api/v1/instance".into(), None),
        ("GET", "/api/v2/instance".into(), None),
        ("GET", "/api/v1/accounts/verify_credentials".into(), None),
        ("GET", "/api/v1/timelines/home?limit=20".into(), None),
        ("GET", format!("/api/v1/statuses/{id}"), None),
        ("POST", "/api/v1/statuses".into(), Some("status=bench%20post%20%23tag")),
        ("POST", format!("/api/v1/statuses/{id}/favourite"), None),
    ];
    println!("store operations per request (embedded backend, counted):");
    println!(
        "{:<44} {:>4} {:>5} {:>7} {:>7} {:>5} {:>5}",
        "endpoint", "get", "query", "batch", "transact", "put", "total"
    );
    for (method, uri, form) in cases {
        let (status, _, o) = p.call(method, &uri, form).await;
        assert!(status < 400, "{method} {uri}: {status}");
        let shown = if uri.contains(&id) { uri.replace(&id, ":id") } else { uri.clone() };
        println!(
            "{:<44} {:>4} {:>5} {:>7} {:>7} {:>5} {:>5}",
            format!("{method} {shown}"),
            o.table_get,
            o.table_query,
            o.table_batch_get,
            o.table_transact,
            o.table_put + o.table_update,
            o.total()
        );
    }
    println!("goals: home page of 20 = 1 query + 1 batch get; posting = 1 transaction (+1 queue send once fan-out exists); plus 2 gets to authenticate");
    println!("(the instance twice: the first call of a process reads the local accounts, later ones use its cache)\n");
}

async fn rps(client: &reqwest::Client, method: &str, url: &str, token: &str, body: Option<&str>, n: usize) -> f64 {
    let started = Instant::now();
    let per_task = n / CONCURRENCY;
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, token, body, method) =
            (client.clone(), url.to_string(), token.to_string(), body.map(str::to_string), method.to_string());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                let req = if method == "POST" { client.post(&url) } else { client.get(&url) };
                let mut req = req.bearer_auth(&token);
                if let Some(b) = &body {
                    req = req.header("content-type", "application/x-www-form-urlencoded").body(b.clone());
                }
                let r = req.send().await.unwrap();
                assert!(r.status().is_success(), "{url}: {}", r.status());
                r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per_task * CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The server's store operations so far (`/_petrel/ops`), without the consumer's empty polls.
async fn server_ops(client: &reqwest::Client, base: &str) -> serde_json::Map<String, serde_json::Value> {
    let v: serde_json::Value = client.get(format!("{base}/_petrel/ops")).send().await.unwrap().json().await.unwrap();
    let mut m = v.as_object().unwrap().clone();
    m.remove("queue_receive_empty");
    m
}

/// Waits until the server's counters stop moving (the queue consumer has done what the requests
/// queued), so each case's counts and CPU include the work it caused.
async fn settle(client: &reqwest::Client, base: &str) {
    let mut last = server_ops(client, base).await;
    let mut still = 0;
    while still < 3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = server_ops(client, base).await;
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
}

/// What `/_petrel/ops` reports besides requests: capacity units and messages, not round trips.
const NOT_REQUESTS: [&str; 3] = ["rru_half", "wru", "queue_messages_sent"];

async fn throughput() {
    let bin = petrel_release_bin();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = std::process::Command::new(&bin)
        .args(["--data", data, "account", "create", "bench"])
        .env_remove("PETREL_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"correct horse battery\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    // Request logs would cost the server time and flood the report.
    let server =
        Server::start_bin(&bin, &["--data", data, "--ops-endpoint"], &[("RUST_LOG".to_string(), "warn".to_string())]);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let app: serde_json::Value = client
        .post(format!("{}/api/v1/apps", server.base))
        .form(&[("client_name", "bench"), ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"), ("scopes", "read write")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok: serde_json::Value = client
        .post(format!("{}/oauth/token", server.base))
        .form(&[
            ("grant_type", "password"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("username", "bench"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    rps(&client, "POST", &format!("{}/api/v1/statuses", server.base), &token, Some("status=warm"), 40).await;
    let cases = [
        ("GET /health (trivial)", "GET", "/health", None, 4000),
        ("GET /api/v1/instance", "GET", "/api/v1/instance", None, 4000),
        ("GET /api/v1/timelines/home", "GET", "/api/v1/timelines/home?limit=20", None, 1600),
        ("GET /api/v1/accounts/verify_credentials", "GET", "/api/v1/accounts/verify_credentials", None, 4000),
        ("POST /api/v1/statuses", "POST", "/api/v1/statuses", Some("status=bench"), 800),
    ];
    println!(
        "petrel serve ({}; release unless PETREL_BIN names another), embedded backend, {CONCURRENCY} concurrent, median of {ROUNDS} rounds;",
        bin.display()
    );
    println!("CPU = the server process's CPU time per request (all threads, incl. the queue consumer's work the request caused);");
    println!("store ops = the server's store requests per request (/_petrel/ops, without empty queue polls):");
    println!(
        "{:<44} {:>9} {:>8} {:>10} {:>9}  store ops per request",
        "endpoint", "req/s", "× trivial", "CPU µs/req", "ops/req"
    );
    // Rounds are interleaved across cases so drift on this noisy machine hits every case alike.
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut ops: Vec<serde_json::Map<String, serde_json::Value>> = vec![Default::default(); cases.len()];
    for round in 0..ROUNDS {
        for (i, (_, method, path, body, n)) in cases.iter().enumerate() {
            settle(&client, &server.base).await;
            let (ops_before, cpu_before) = (server_ops(&client, &server.base).await, cpu_time(Some(server.pid())));
            runs[i].push(rps(&client, method, &format!("{}{path}", server.base), &token, *body, *n).await);
            settle(&client, &server.base).await;
            // The settling polls of /_petrel/ops cost the server a little CPU too: a few requests
            // against thousands.
            cpu[i].push((cpu_time(Some(server.pid())) - cpu_before).as_secs_f64() * 1e6 / *n as f64);
            if round == 0 {
                let after = server_ops(&client, &server.base).await;
                for (k, v) in &after {
                    let d = v.as_f64().unwrap() - ops_before.get(k).and_then(|b| b.as_f64()).unwrap_or(0.0);
                    ops[i].insert(k.clone(), serde_json::json!(d / *n as f64));
                }
            }
        }
    }
    let medians: Vec<f64> = runs.into_iter().map(median).collect();
    for (i, (name, ..)) in cases.iter().enumerate() {
        let per = |k: &str| ops[i].get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let requests: Vec<&String> = ops[i].keys().filter(|k| !NOT_REQUESTS.contains(&k.as_str())).collect();
        let total: f64 = requests.iter().map(|k| per(k)).sum();
        let detail: Vec<String> =
            requests.iter().filter(|k| per(k) >= 0.005).map(|k| format!("{k} {:.2}", per(k))).collect();
        println!(
            "{name:<44} {:>9.0} {:>8.2}× {:>10.0} {:>9.2}  {}",
            medians[i],
            medians[i] / medians[0],
            median(cpu[i].clone()),
            total,
            detail.join(", ")
        );
    }
    server.stop();
}

#[tokio::main]
async fn main() {
    ops_table().await;
    throughput().await;
}
