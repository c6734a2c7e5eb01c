//! Wrappers that count the requests each port makes. Requests are what AWS bills (and what a
//! request costs in latency), so tests and benches assert on these counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;

use super::blobs::{Blob, Blobs};
use super::error::StoreResult;
use super::queue::{OutMessage, Queue, Received};
use super::table::{Cond, Item, Key, Page, Query, Table, TxOp, Update};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// Live counters, shared by every wrapped port of one process.
        #[derive(Debug, Default)]
        pub struct OpCounter { $($name: AtomicU64,)* }

        /// A point-in-time copy of the counters.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
        pub struct OpCounts { $(pub $name: u64,)* }

        impl OpCounter {
            pub fn snapshot(&self) -> OpCounts {
                OpCounts { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
            pub fn reset(&self) {
                $(self.$name.store(0, Ordering::Relaxed);)*
            }
        }

        impl OpCounts {
            /// Counts since an earlier snapshot.
            pub fn since(&self, earlier: &OpCounts) -> OpCounts {
                OpCounts { $($name: self.$name.saturating_sub(earlier.$name),)* }
            }
            pub fn total(&self) -> u64 {
                0 $(+ self.$name)*
            }
        }
    };
}

counters!(
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
    queue_receive,
    queue_delete,
    queue_change_visibility,
);

impl OpCounts {
    pub fn table_reads(&self) -> u64 {
        self.table_get + self.table_query + self.table_batch_get
    }
    pub fn table_writes(&self) -> u64 {
        self.table_put + self.table_delete + self.table_update + self.table_transact
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// A port wrapped so that each call counts once, whether it succeeds or not (AWS bills both).
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
        bump(&self.counter.table_get);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        bump(&self.counter.table_put);
        self.inner.put(item, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        bump(&self.counter.table_delete);
        self.inner.delete(key, cond).await
    }
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        bump(&self.counter.table_update);
        self.inner.update(key, update, cond).await
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        bump(&self.counter.table_query);
        self.inner.query(query).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        bump(&self.counter.table_batch_get);
        self.inner.batch_get(keys).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        bump(&self.counter.table_transact);
        self.inner.transact(ops).await
    }
}

#[async_trait]
impl<T: Blobs + ?Sized> Blobs for Counted<T> {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        bump(&self.counter.blob_put);
        self.inner.put(key, bytes, content_type).await
    }
    async fn get(&self, key: &str) -> StoreResult<Option<Blob>> {
        bump(&self.counter.blob_get);
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> StoreResult<()> {
        bump(&self.counter.blob_delete);
        self.inner.delete(key).await
    }
    fn public_url(&self, key: &str) -> String {
        self.inner.public_url(key)
    }
    async fn put_temporary(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        bump(&self.counter.blob_put);
        self.inner.put_temporary(key, bytes, content_type).await
    }
    async fn keep(&self, key: &str) -> StoreResult<()> {
        bump(&self.counter.blob_tag);
        self.inner.keep(key).await
    }
    async fn is_temporary(&self, key: &str) -> StoreResult<Option<bool>> {
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
        bump(&self.counter.queue_send);
        self.inner.send(msg).await
    }
    async fn send_batch(&self, msgs: Vec<OutMessage>) -> StoreResult<Vec<StoreResult<String>>> {
        bump(&self.counter.queue_send_batch);
        self.inner.send_batch(msgs).await
    }
    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Received>> {
        bump(&self.counter.queue_receive);
        self.inner.receive(max, visibility, wait).await
    }
    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        bump(&self.counter.queue_delete);
        self.inner.delete(receipt).await
    }
    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        bump(&self.counter.queue_change_visibility);
        self.inner.change_visibility(receipt, visibility).await
    }
}
