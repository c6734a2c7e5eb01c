//! Helpers for the end-to-end tests: build and run the `petrel` binary, find free ports, talk
//! to moto. The tests themselves live in `tests/tests/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `petrel` binary, built once per test process (cargo does not build another package's
/// binaries for a test).
pub fn petrel_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "petrel-cli", "--bin", "petrel"])
            .current_dir(workspace())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building petrel failed");
        let target =
            std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace().join("target"));
        target.join("debug").join("petrel")
    })
    .clone()
}

/// The `petrel` binary built with the release profile (what a deployment runs), for benchmarks:
/// `PETREL_BIN` if set, otherwise built here.
pub fn petrel_release_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("PETREL_BIN") {
        return PathBuf::from(bin);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--release", "-p", "petrel-cli", "--bin", "petrel"])
        .current_dir(workspace())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building petrel failed");
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace().join("target"));
    target.join("release").join("petrel")
}

/// CPU time used so far by all threads of process `pid` (this process if `None`), from each
/// thread's scheduler statistics: nanosecond resolution, where /proc/PID/stat counts 10 ms ticks.
pub fn cpu_time(pid: Option<u32>) -> Duration {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}/task"),
        None => "/proc/self/task".to_string(),
    };
    let mut ns = 0u64;
    for task in std::fs::read_dir(&dir).expect("/proc is mounted").flatten() {
        // A thread that exits between listing and reading is skipped.
        if let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) {
            ns += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// The AWS environment for moto, or `None` when the AWS half is explicitly skipped
/// (PETREL_SKIP_AWS=1). Without either, the test fails and says how to start moto.
pub fn moto_env() -> Option<Vec<(String, String)>> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("PETREL_SKIP_AWS").as_deref() == Ok("1") {
            eprintln!("SKIPPED: AWS half (PETREL_SKIP_AWS=1)");
            return None;
        }
        panic!("AWS_ENDPOINT_URL is not set: run `bash infra/test.sh` (starts moto server), or set PETREL_SKIP_AWS=1");
    }
    Some(std::env::vars().filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("PETREL_")).collect())
}

/// Runs `petrel ARGS` to completion with `stdin` on its standard input.
pub fn petrel(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(petrel_bin())
        .args(args)
        .envs(env.iter().copied())
        .env_remove("PETREL_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("petrel starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A context on a fresh embedded backend whose outbound client may reach loopback servers (the
/// fake remote servers of the federation tests), with one account, `alice`.
pub async fn local_with_alice() -> (petrel::Ctx, petrel::model::Account, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let config = petrel::Config::from_vars(|k| match k {
        "PETREL_DATA" => Some(data.clone()),
        "PETREL_ALLOW_PRIVATE_NETWORK" => Some("true".into()),
        _ => None,
    })
    .unwrap();
    let ctx = petrel::Ctx::connect(config).await.unwrap();
    let alice =
        petrel::repo::accounts::create(ctx.stores.table.as_ref(), "alice", "correct horse battery").await.unwrap();
    (ctx, alice, dir)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `petrel serve`, stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `petrel serve` on a free port with the extra arguments and waits for /health.
    pub fn start(extra: &[&str], env: &[(String, String)]) -> Server {
        Server::start_bin(&petrel_bin(), extra, env)
    }

    /// As `start`, running `bin` (say [`petrel_release_bin`]).
    pub fn start_bin(bin: &std::path::Path, extra: &[&str], env: &[(String, String)]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--addr", &addr, "--domain", &addr];
        args.extend_from_slice(extra);
        let child = Command::new(bin)
            .args(&args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("petrel serve starts");
        let server = Server { child, base: format!("http://{addr}") };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(self.base.trim_start_matches("http://")) {
                use std::io::{Read, Write};
                let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("petrel serve did not become healthy at {}", self.base);
    }

    /// The server's process id (for its CPU time, see [`cpu_time`]).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server the way a deploy or Ctrl-C would, and waits for it to exit.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// An in-process web function on the embedded backend with an owner and a full-scope token, for
/// counting store operations per request.
pub struct InProcess {
    pub ctx: petrel::Ctx,
    pub app: petrel::http::App,
    pub token: String,
    pub account: petrel::model::Account,
    _dir: tempfile::TempDir,
}

impl InProcess {
    pub async fn new() -> InProcess {
        InProcess::with_vars(&[]).await
    }

    /// As `new`, with these `PETREL_*` variables set.
    pub async fn with_vars(vars: &[(&str, &str)]) -> InProcess {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap().to_string();
        let config = petrel::Config::from_vars(|k| match k {
            "PETREL_DATA" => Some(data.clone()),
            other => vars.iter().find(|(name, _)| *name == other).map(|(_, v)| v.to_string()),
        })
        .unwrap();
        let ctx = petrel::Ctx::connect(config).await.unwrap();
        let table = ctx.stores.table.as_ref();
        let account = petrel::repo::accounts::create(table, "owner", "correct horse battery").await.unwrap();
        let (app, _) = petrel::repo::oauth::create_app(
            table,
            "bench",
            None,
            vec!["urn:ietf:wg:oauth:2.0:oob".into()],
            vec!["read".into(), "write".into()],
        )
        .await
        .unwrap();
        let token = petrel::repo::oauth::issue_token(
            table,
            petrel::model::AccessToken {
                client_id: app.client_id,
                account_id: Some(account.id.clone()),
                scopes: vec!["read".into(), "write".into()],
                created_at: 0,
                app_name: Some("bench".into()),
                app_website: None,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let app = petrel::http::app(web::router(ctx.clone()));
        InProcess { ctx, app, token, account, _dir: dir }
    }

    /// Another local account on the same server, with a full-scope token of its own.
    pub async fn user(&self, name: &str) -> (petrel::model::Account, String) {
        let table = self.ctx.stores.table.as_ref();
        let account = petrel::repo::accounts::create(table, name, "correct horse battery").await.unwrap();
        let token = petrel::repo::oauth::issue_token(
            table,
            petrel::model::AccessToken {
                client_id: "test".into(),
                account_id: Some(account.id.clone()),
                scopes: vec!["read".into(), "write".into(), "follow".into()],
                created_at: 0,
                app_name: Some("test".into()),
                app_website: None,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        (account, token)
    }

    /// Sends one request with `token` (or none); returns the status, the body and the `Link` header.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        uri: &str,
        form: Option<&str>,
    ) -> (u16, serde_json::Value, Option<String>) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if form.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req.body(axum::body::Body::from(form.unwrap_or_default().to_string())).unwrap();
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status().as_u16();
        let link = response.headers().get("link").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null), link)
    }

    /// Sends a JSON body with `token` (or none); returns the status, the body and the `Link` header.
    pub async fn call_json(
        &self,
        token: Option<&str>,
        method: &str,
        uri: &str,
        json: &str,
    ) -> (u16, serde_json::Value, Option<String>) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().method(method).uri(uri).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let response =
            self.app.clone().oneshot(req.body(axum::body::Body::from(json.to_string())).unwrap()).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null), None)
    }

    /// Sends one request; returns the status, the body and the store operations it made.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        form: Option<&str>,
    ) -> (u16, serde_json::Value, petrel::store::OpCounts) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.token));
        if form.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req.body(axum::body::Body::from(form.unwrap_or_default().to_string())).unwrap();
        let before = self.ctx.stores.ops.snapshot();
        let response = self.app.clone().oneshot(req).await.unwrap();
        let ops = self.ctx.stores.ops.snapshot().since(&before);
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null), ops)
    }
}

/// A fresh table, bucket and queue on moto, and the variables that name them (with
/// `PETREL_BACKEND=aws`), so a test's data meets no other test's. `None` when the AWS half is
/// skipped (see [`moto_env`]).
pub async fn fresh_aws(prefix: &str) -> Option<Vec<(String, String)>> {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    moto_env()?;
    let suffix = petrel::ids::random_token(4).to_lowercase();
    let (table, bucket) = (format!("{prefix}-{suffix}"), format!("{prefix}-{suffix}"));
    let sdk = petrel::store::aws::load_sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let attr =
        |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build();
    let key = |n: &str, t| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
    ddb.create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk").unwrap())
        .attribute_definitions(attr("sk").unwrap())
        .key_schema(key("pk", KeyType::Hash).unwrap())
        .key_schema(key("sk", KeyType::Range).unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut vars: Vec<(String, String)> =
        vec![("PETREL_BACKEND".into(), "aws".into()), ("PETREL_TABLE".into(), table), ("PETREL_BUCKET".into(), bucket)];
    // A queue of its own too, so what the test posts queues nothing for other tests' consumers.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let name = format!("{prefix}-{suffix}-outbox");
    sqs.create_queue().queue_name(&name).send().await.unwrap();
    vars.push(("PETREL_OUTBOX_QUEUE".into(), name));
    Some(vars)
}
