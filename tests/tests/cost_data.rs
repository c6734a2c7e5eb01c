//! Measures what the requests priced by the cost model (infra/cost/) consume — store requests and
//! DynamoDB capacity units — and fails when infra/cost/measured.json says otherwise, so the cost
//! model cannot drift from the code. After a deliberate change, rewrite the file with
//!   PETREL_WRITE_COST_DATA=1 cargo test -p petrel-e2e --test cost_data
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use petrel::store::table::item_size;
use petrel::store::{Cond, Item, Key, Page, Query, StoreResult, Table, TxOp, Update};
use petrel_e2e::{workspace, InProcess};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Capacity units as DynamoDB on-demand bills them, counted around the real adapter. Reads by key
/// are strongly consistent (1 RRU per 4 KB, a missing item still 1); queries are eventually
/// consistent (0.5 RRU per 4 KB of the page, at least 0.5); writes 1 WRU per KB; each item of a
/// transaction costs twice. Deletes and transactional updates/checks do not show the item's
/// size and are counted as items under 1 KB.
struct Capacity {
    inner: Arc<dyn Table>,
    half_rru: AtomicU64,
    wru: AtomicU64,
}

fn units(bytes: usize, unit: usize) -> u64 {
    bytes.div_ceil(unit).max(1) as u64
}

impl Capacity {
    fn read(&self, found: Option<&Item>) {
        self.half_rru.fetch_add(2 * units(found.map_or(0, item_size), 4096), Ordering::Relaxed);
    }
    fn write(&self, n: u64) {
        self.wru.fetch_add(n, Ordering::Relaxed);
    }
    fn snapshot(&self) -> (f64, u64) {
        (self.half_rru.load(Ordering::Relaxed) as f64 / 2.0, self.wru.load(Ordering::Relaxed))
    }
}

#[async_trait]
impl Table for Capacity {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let got = self.inner.get(key).await?;
        self.read(got.as_ref());
        Ok(got)
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        // A refused conditional put is billed too.
        self.write(units(item_size(&item), 1024));
        self.inner.put(item, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        self.write(1);
        self.inner.delete(key, cond).await
    }
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        let item = self.inner.update(key, update, cond).await?;
        self.write(units(item_size(&item), 1024));
        Ok(item)
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        let page = self.inner.query(query).await?;
        let bytes: usize = page.items.iter().map(item_size).sum();
        self.half_rru.fetch_add(units(bytes, 4096), Ordering::Relaxed);
        Ok(page)
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        let got = self.inner.batch_get(keys).await?;
        got.iter().for_each(|i| self.read(i.as_ref()));
        Ok(got)
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        let wru: u64 = ops
            .iter()
            .map(|op| match op {
                TxOp::Put { item, .. } => 2 * units(item_size(item), 1024),
                _ => 2,
            })
            .sum();
        self.write(wru);
        self.inner.transact(ops).await
    }
}

struct Harness {
    p: InProcess,
    cap: Arc<Capacity>,
    app: petrel::http::App,
}

impl Harness {
    async fn new() -> Harness {
        let p = InProcess::new().await;
        let cap = Arc::new(Capacity {
            inner: p.ctx.stores.table.clone(),
            half_rru: AtomicU64::new(0),
            wru: AtomicU64::new(0),
        });
        let mut ctx = p.ctx.clone();
        ctx.stores.table = cap.clone();
        let app = petrel::http::app(web::router(ctx));
        Harness { p, cap, app }
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
        let (rru0, wru0) = self.cap.snapshot();
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(status < 400, "{method} {uri}: {status} {}", String::from_utf8_lossy(&bytes));
        let o = self.p.ctx.stores.ops.snapshot().since(&before);
        let (rru1, wru1) = self.cap.snapshot();
        let data = json!({
            "request": format!("{method} {}", shown_path(uri)),
            "table_get": o.table_get,
            "table_query": o.table_query,
            "table_batch_get": o.table_batch_get,
            "table_put": o.table_put,
            "table_update": o.table_update,
            "table_delete": o.table_delete,
            "table_transact": o.table_transact,
            "rru": rru1 - rru0,
            "wru": wru1 - wru0,
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
            "units": "store requests per HTTP request; rru/wru are DynamoDB on-demand request units as billed (see the test's Capacity)",
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
