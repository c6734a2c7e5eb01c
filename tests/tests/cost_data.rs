//! Measures what single API requests consume — store requests and DynamoDB capacity units, as
//! `petrel::store::counted` counts them — and fails when infra/cost/measured.json says otherwise,
//! so a change in what a request costs is seen in review. (The cost model itself prices the
//! whole workload from infra/cost/measured_workload.json, written by infra/cost/measure.py.)
//! After a deliberate change, rewrite the file with
//!   PETREL_WRITE_COST_DATA=1 cargo test -p petrel-e2e --test cost_data
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use petrel_e2e::{workspace, InProcess};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The store requests and capacity units (counted by `petrel::store::Counted`, which every `Ctx`
/// uses) of single requests to the web router.
struct Harness {
    p: InProcess,
}

impl Harness {
    async fn new() -> Harness {
        Harness { p: InProcess::new().await }
    }

    /// One request; returns its body and what it consumed, in the data file's shape.
    async fn measure(&self, method: &str, uri: &str, form: Option<&str>) -> (Value, Value) {
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.p.token));
        if form.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req.body(axum::body::Body::from(form.unwrap_or_default().to_string())).unwrap();
        let before = self.p.ctx.stores.ops.snapshot();
        let response = self.p.app.clone().oneshot(req).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(status < 400, "{method} {uri}: {status} {}", String::from_utf8_lossy(&bytes));
        let o = self.p.ctx.stores.ops.snapshot().since(&before);
        let data = json!({
            "request": format!("{method} {}", shown_path(uri)),
            "table_get": o.table_get,
            "table_query": o.table_query,
            "table_batch_get": o.table_batch_get,
            "table_put": o.table_put,
            "table_update": o.table_update,
            "table_delete": o.table_delete,
            "table_transact": o.table_transact,
            "rru": o.rru(),
            "wru": o.wru,
            "blob_put": o.blob_put,
            "blob_get": o.blob_get,
            "queue_send": o.queue_send,
            "queue_send_batch": o.queue_send_batch,
        });
        (serde_json::from_slice(&bytes).unwrap_or(Value::Null), data)
    }
}

/// The path without its query, ids shown as `:id`, so the record is the same on every run.
fn shown_path(uri: &str) -> String {
    let path = uri.split('?').next().unwrap_or(uri);
    let segments: Vec<&str> = path
        .split('/')
        .map(|s| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { ":id" } else { s })
        .collect();
    segments.join("/")
}

async fn measure_all() -> BTreeMap<String, Value> {
    let h = Harness::new().await;
    let mut out = BTreeMap::new();
    let (_, posted) = h.measure("POST", "/api/v1/statuses", Some("status=Hello%20%23world")).await;
    out.insert("post_status".to_string(), posted);
    for i in 0..24 {
        h.measure("POST", "/api/v1/statuses", Some(&format!("status=post%20{i}"))).await;
    }
    let (page, home) = h.measure("GET", "/api/v1/timelines/home?limit=20", None).await;
    assert_eq!(page.as_array().map(Vec::len), Some(20));
    out.insert("home_timeline_page_20".to_string(), home);
    let id = page[0]["id"].as_str().unwrap().to_string();
    let (_, read) = h.measure("GET", &format!("/api/v1/statuses/{id}"), None).await;
    out.insert("status_get".to_string(), read);
    let (_, fav) = h.measure("POST", &format!("/api/v1/statuses/{id}/favourite"), None).await;
    out.insert("favourite".to_string(), fav);
    let (_, me) = h.measure("GET", "/api/v1/accounts/verify_credentials", None).await;
    out.insert("verify_credentials".to_string(), me);
    let (_, notifications) = h.measure("GET", "/api/v1/notifications", None).await;
    out.insert("notifications".to_string(), notifications);
    // The instance carries the Web Push key, which a process reads once (and the first process
    // of a site creates, one conditional write): measured after that, as every later request is.
    petrel::push::vapid(&h.p.ctx).await.unwrap();
    let (_, instance) = h.measure("GET", "/api/v2/instance", None).await;
    out.insert("instance".to_string(), instance);
    out
}

#[tokio::test]
async fn cost_data_matches_a_fresh_measurement() {
    let fresh = measure_all().await;
    let path = workspace().join("infra/cost/measured.json");
    if std::env::var("PETREL_WRITE_COST_DATA").as_deref() == Ok("1") {
        let doc = json!({
            "measured_by": "tests/tests/cost_data.rs (embedded backend, in-process web router; run with PETREL_WRITE_COST_DATA=1 to rewrite)",
            "units": "store requests per HTTP request; rru/wru are DynamoDB on-demand request units as billed (see shared/src/store/counted.rs)",
            "requests": fresh,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        return;
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let recorded: BTreeMap<String, Value> = serde_json::from_value(doc["requests"].clone()).unwrap();
    assert_eq!(
        recorded,
        fresh,
        "{} disagrees with a fresh measurement; if the change is deliberate, rewrite it with \
         PETREL_WRITE_COST_DATA=1 cargo test -p petrel-e2e --test cost_data",
        path.display()
    );
}
