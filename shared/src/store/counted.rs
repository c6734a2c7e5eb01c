//! Wrappers that count the requests each port makes and the DynamoDB capacity units those
//! requests consume. Requests and capacity units are what AWS bills (and what a request costs in
//! latency), so tests, benches and the cost model (infra/cost/) read these counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;

use super::blobs::{Blob, Blobs};
use super::error::StoreResult;
use super::queue::{OutMessage, Queue, Received};
use super::table::{item_size, Cond, Item, Key, Page, Query, Table, TxOp, Update};

macro_rules! counters {
    (requests: [$($req:ident),* $(,)?], units: [$($unit:ident),* $(,)?] $(,)?) => {
        /// Live counters, shared by every wrapped port of one process.
        #[derive(Debug, Default)]
        pub struct OpCounter {
            $($req: AtomicU64,)* $($unit: AtomicU64,)*
            /// Time during which at least one port call was outstanding (see
            /// [`OpCounter::store_time`]): calls in flight, since when, and the total so far.
            busy: std::sync::Mutex<Busy>,
        }

        /// A point-in-time copy of the counters.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
        pub struct OpCounts { $(pub $req: u64,)* $(pub $unit: u64,)* }

        impl OpCounter {
            pub fn snapshot(&self) -> OpCounts {
                OpCounts { $($req: self.$req.load(Ordering::Relaxed),)* $($unit: self.$unit.load(Ordering::Relaxed),)* }
            }
            pub fn reset(&self) {
                if let Ok(mut b) = self.busy.lock() {
                    b.total = Duration::ZERO;
                }
                $(self.$req.store(0, Ordering::Relaxed);)*
                $(self.$unit.store(0, Ordering::Relaxed);)*
            }
        }

        impl OpCounts {
            /// Counts since an earlier snapshot.
            pub fn since(&self, earlier: &OpCounts) -> OpCounts {
                OpCounts {
                    $($req: self.$req.saturating_sub(earlier.$req),)*
                    $($unit: self.$unit.saturating_sub(earlier.$unit),)*
                }
            }
            /// Requests of every kind (capacity units are not requests and are left out).
            pub fn total(&self) -> u64 {
                0 $(+ self.$req)*
            }
        }
    };
}

counters!(
    requests: [
        table_get,
        table_put,
        table_delete,
        table_update,
        table_query,
        table_batch_get,
        table_transact,
        blob_put,
        blob_get,
        blob_delete,
        blob_tag,
        queue_send,
        queue_send_batch,
        // Receives that returned messages, apart from empty polls: the cost model prices idle
        // polling from the number of event source mappings, not from what a local poller did.
        queue_receive,
        queue_receive_empty,
        queue_delete,
        queue_change_visibility,
    ],
    // DynamoDB on-demand capacity units (see `Capacity` below); reads in halves, so that
    // eventually consistent reads stay whole numbers. And the messages queued (a batch send
    // queues several): with `queue_delete` it tells whether queued work is still outstanding.
    units: [rru_half, wru, queue_messages_sent],
);

#[derive(Debug, Default)]
struct Busy {
    in_flight: u32,
    since: Option<Instant>,
    total: Duration,
}

impl OpCounter {
    /// Wall time during which at least one port call was outstanding, since start (or the last
    /// reset): the time a request spent waiting on store round trips, next to which the rest of
    /// its time is its own CPU. Calls that overlap (a page's queries sent together) count once.
    /// Receives are left out: a long poll waits for messages, not for a round trip. Kept apart
    /// from [`OpCounts`], which counts what is billed.
    pub fn store_time(&self) -> Duration {
        match self.busy.lock() {
            Ok(b) => b.total + b.since.filter(|_| b.in_flight > 0).map_or(Duration::ZERO, |s| s.elapsed()),
            Err(_) => Duration::ZERO,
        }
    }
}

/// Marks a port call outstanding from its start until it is dropped, so every return path of a
/// call (errors included) is timed.
struct Timed<'a> {
    counter: &'a OpCounter,
}

impl<'a> Timed<'a> {
    fn start(counter: &'a OpCounter) -> Self {
        // A poisoned lock (a panic elsewhere mid-update) only loses timing, never a call.
        if let Ok(mut b) = counter.busy.lock() {
            if b.in_flight == 0 {
                b.since = Some(Instant::now());
            }
            b.in_flight += 1;
        }
        Timed { counter }
    }
}

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        if let Ok(mut b) = self.counter.busy.lock() {
            b.in_flight = b.in_flight.saturating_sub(1);
            if b.in_flight == 0 {
                if let Some(since) = b.since.take() {
                    b.total += since.elapsed();
                }
            }
        }
    }
}

impl OpCounts {
    pub fn table_reads(&self) -> u64 {
        self.table_get + self.table_query + self.table_batch_get
    }
    pub fn table_writes(&self) -> u64 {
        self.table_put + self.table_delete + self.table_update + self.table_transact
    }
    /// Read request units as billed.
    pub fn rru(&self) -> f64 {
        self.rru_half as f64 / 2.0
    }
}

/// Capacity units as DynamoDB on-demand bills them. Reads by key are strongly consistent (1 RRU
/// per 4 KB, a missing item still 1); queries are eventually consistent (0.5 RRU per 4 KB of the
/// page, at least 0.5); writes 1 WRU per KB; each item of a transaction costs twice. Deletes,
/// refused updates and transactional updates/checks do not show the item's size and are counted
/// as items under 1 KB. A refused conditional write is billed too; a read that failed is not.
struct Capacity;

impl Capacity {
    fn units(bytes: usize, unit: usize) -> u64 {
        bytes.div_ceil(unit).max(1) as u64
    }
    /// Half-RRUs of a strongly consistent read by key.
    fn read_by_key(found: Option<&Item>) -> u64 {
        2 * Self::units(found.map_or(0, item_size), 4096)
    }
    /// Half-RRUs of an eventually consistent read by key: half a unit per 4 KB, at least half.
    fn read_by_key_eventually(found: Option<&Item>) -> u64 {
        Self::units(found.map_or(0, item_size), 4096)
    }
    /// Half-RRUs of an eventually consistent query page.
    fn query_page(page: &Page) -> u64 {
        Self::units(page.items.iter().map(item_size).sum(), 4096)
    }
    fn write(item: &Item) -> u64 {
        Self::units(item_size(item), 1024)
    }
    fn transact(ops: &[TxOp]) -> u64 {
        ops.iter()
            .map(|op| match op {
                TxOp::Put { item, .. } => 2 * Self::write(item),
                _ => 2,
            })
            .sum()
    }
}

fn bump(c: &AtomicU64) {
    add(c, 1);
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// A port wrapped so that each call counts once, whether it succeeds or not (AWS bills both), with
/// the capacity units its table requests consume.
pub struct Counted<T: ?Sized> {
    inner: Arc<T>,
    counter: Arc<OpCounter>,
}

impl<T: ?Sized> Counted<T> {
    pub fn new(inner: Arc<T>, counter: Arc<OpCounter>) -> Self {
        Counted { inner, counter }
    }
}

#[async_trait]
impl<T: Table + ?Sized> Table for Counted<T> {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_get);
        let got = self.inner.get(key).await?;
        add(&self.counter.rru_half, Capacity::read_by_key(got.as_ref()));
        Ok(got)
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_put);
        add(&self.counter.wru, Capacity::write(&item));
        self.inner.put(item, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_delete);
        add(&self.counter.wru, 1);
        self.inner.delete(key, cond).await
    }
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_update);
        let result = self.inner.update(key, update, cond).await;
        add(&self.counter.wru, result.as_ref().map_or(1, Capacity::write));
        result
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_query);
        let page = self.inner.query(query).await?;
        add(&self.counter.rru_half, Capacity::query_page(&page));
        Ok(page)
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_batch_get);
        let got = self.inner.batch_get(keys).await?;
        add(&self.counter.rru_half, got.iter().map(|i| Capacity::read_by_key(i.as_ref())).sum());
        Ok(got)
    }
    async fn get_eventually(&self, key: &Key) -> StoreResult<Option<Item>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_get);
        let got = self.inner.get_eventually(key).await?;
        add(&self.counter.rru_half, Capacity::read_by_key_eventually(got.as_ref()));
        Ok(got)
    }
    async fn batch_get_eventually(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_batch_get);
        let got = self.inner.batch_get_eventually(keys).await?;
        add(&self.counter.rru_half, got.iter().map(|i| Capacity::read_by_key_eventually(i.as_ref())).sum());
        Ok(got)
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.table_transact);
        add(&self.counter.wru, Capacity::transact(&ops));
        self.inner.transact(ops).await
    }
}

#[async_trait]
impl<T: Blobs + ?Sized> Blobs for Counted<T> {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.blob_put);
        self.inner.put(key, bytes, content_type).await
    }
    async fn get(&self, key: &str) -> StoreResult<Option<Blob>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.blob_get);
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.blob_delete);
        self.inner.delete(key).await
    }
    fn public_url(&self, key: &str) -> String {
        self.inner.public_url(key)
    }
    async fn put_temporary(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.blob_put);
        self.inner.put_temporary(key, bytes, content_type).await
    }
    async fn keep(&self, key: &str) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.blob_tag);
        self.inner.keep(key).await
    }
    async fn is_temporary(&self, key: &str) -> StoreResult<Option<bool>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.blob_tag);
        self.inner.is_temporary(key).await
    }
    // Presigning is computed locally: no request, nothing to count.
    async fn presign_put(&self, key: &str, content_type: &str, expires: Duration) -> StoreResult<String> {
        self.inner.presign_put(key, content_type, expires).await
    }
}

#[async_trait]
impl<T: Queue + ?Sized> Queue for Counted<T> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, msg: OutMessage) -> StoreResult<String> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.queue_send);
        let sent = self.inner.send(msg).await;
        if sent.is_ok() {
            bump(&self.counter.queue_messages_sent);
        }
        sent
    }
    async fn send_batch(&self, msgs: Vec<OutMessage>) -> StoreResult<Vec<StoreResult<String>>> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.queue_send_batch);
        let sent = self.inner.send_batch(msgs).await;
        if let Ok(results) = &sent {
            add(&self.counter.queue_messages_sent, results.iter().filter(|r| r.is_ok()).count() as u64);
        }
        sent
    }
    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Received>> {
        let got = self.inner.receive(max, visibility, wait).await;
        match &got {
            Ok(messages) if !messages.is_empty() => bump(&self.counter.queue_receive),
            // A failed receive is billed like an empty one.
            _ => bump(&self.counter.queue_receive_empty),
        }
        got
    }
    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.queue_delete);
        self.inner.delete(receipt).await
    }
    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        let _timed = Timed::start(&self.counter);
        bump(&self.counter.queue_change_visibility);
        self.inner.change_visibility(receipt, visibility).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::{Stores, Value};

    fn item(pk: &str, bytes: usize) -> Item {
        let mut item = Key::new(pk, "s").to_item();
        item.insert("blob".into(), Value::S("x".repeat(bytes)));
        item
    }

    #[tokio::test]
    async fn capacity_units_follow_dynamodb_billing() {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::embedded(dir.path(), "http://localhost:8080/media").unwrap();
        let t = stores.table.as_ref();
        let mut before = stores.ops.snapshot();
        let mut step = || {
            let now = stores.ops.snapshot();
            let delta = now.since(&before);
            before = now;
            (delta.rru_half, delta.wru)
        };

        t.put(item("big", 5000), None).await.unwrap();
        assert_eq!(step(), (0, 5), "1 WRU per started KB");
        t.get(&Key::new("big", "s")).await.unwrap();
        assert_eq!(step(), (4, 0), "a strongly consistent 5 KB read is 2 RRU");
        t.get(&Key::new("missing", "s")).await.unwrap();
        assert_eq!(step(), (2, 0), "a missing item still costs 1 RRU");
        t.query(Query::new("big")).await.unwrap();
        assert_eq!(step(), (2, 0), "an eventually consistent 5 KB page is 1 RRU");
        t.batch_get(&[Key::new("big", "s"), Key::new("missing", "s")]).await.unwrap();
        assert_eq!(step(), (6, 0), "each key of a batch as a read by key");
        let tx = vec![
            TxOp::Put { item: item("tx", 1500), cond: None },
            TxOp::Delete { key: Key::new("big", "s"), cond: None },
        ];
        t.transact(tx).await.unwrap();
        assert_eq!(step(), (0, 2 * 2 + 2), "transactions bill each item twice");
        let refused = t.update(&Key::new("nothing", "s"), Update::default().add("n", 1), Some(Cond::ItemExists)).await;
        assert!(refused.is_err());
        assert_eq!(step(), (0, 1), "a refused conditional write is billed");
        assert_eq!(stores.ops.snapshot().rru(), 7.0);
        assert!(stores.ops.store_time() > Duration::ZERO, "the calls' time is summed");
        stores.ops.reset();
        assert_eq!(stores.ops.store_time(), Duration::ZERO);
    }

    #[tokio::test]
    async fn empty_receives_and_queued_messages_are_counted_apart() {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::embedded(dir.path(), "http://localhost:8080/media").unwrap();
        let q = stores.queues.outbox.as_ref();
        q.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap();
        q.send(OutMessage::new("m")).await.unwrap();
        q.send_batch(vec![OutMessage::new("a"), OutMessage::new("b")]).await.unwrap();
        assert_eq!(q.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap().len(), 3);
        let c = stores.ops.snapshot();
        assert_eq!((c.queue_receive, c.queue_receive_empty, c.total()), (1, 1, 4));
        assert_eq!(c.queue_messages_sent, 3, "messages, not requests");
    }
}
