//! API benchmark: store operations per endpoint (in-process, counted), and requests per second
//! on a real `petrel serve` for each endpoint next to the trivial `/health` route, in one run.
//!   cargo bench -p petrel-e2e --bench api
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use petrel_e2e::{petrel, InProcess, Server};

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
    println!("goals: home page of 20 = 1 query + 1 batch get; posting = 1 transaction (+1 queue send once fan-out exists); plus 2 gets to authenticate\n");
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

async fn throughput() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = petrel(&["--data", data, "account", "create", "bench"], &[], "correct horse battery\n");
    assert!(out.status.success());
    // Request logs would cost the server time and flood the report.
    let server = Server::start(&["--data", data], &[("RUST_LOG".to_string(), "warn".to_string())]);
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
        ("GET /health (trivial)", "GET", "/health", None, 2000),
        ("GET /api/v1/timelines/home", "GET", "/api/v1/timelines/home?limit=20", None, 800),
        ("GET /api/v1/accounts/verify_credentials", "GET", "/api/v1/accounts/verify_credentials", None, 2000),
        ("POST /api/v1/statuses", "POST", "/api/v1/statuses", Some("status=bench"), 400),
    ];
    println!("requests per second on petrel serve (embedded backend, petrel built in debug, {CONCURRENCY} concurrent, median of {ROUNDS}):");
    // Rounds are interleaved across cases so drift on this noisy machine hits every case alike.
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        for (i, (_, method, path, body, n)) in cases.iter().enumerate() {
            runs[i].push(rps(&client, method, &format!("{}{path}", server.base), &token, *body, *n).await);
        }
    }
    let medians: Vec<f64> = runs.into_iter().map(median).collect();
    for ((name, ..), m) in cases.iter().zip(&medians) {
        println!("{name:<44} {m:>9.0} req/s   {:>5.2} × trivial", m / medians[0]);
    }
    server.stop();
}

#[tokio::main]
async fn main() {
    ops_table().await;
    throughput().await;
}
