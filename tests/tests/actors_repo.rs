//! Cached remote actors at the repository level: a refetch never undoes what local accounts did
//! to the actor meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use petrel::repo::{accounts, actors, keys, relations};
use petrel::store::embedded::{Db, EmbeddedTable};
use petrel::store::{Cond, Item, Key, Page, Query, StoreResult, Table, TxOp, Update};

/// The embedded table, with a block by `blocker` landing just before the first write to the
/// account `target` once armed: the interleaving of a refetch with `POST …/block`.
struct BlockLandsFirst {
    inner: EmbeddedTable,
    armed: AtomicBool,
    blocker: String,
    target: String,
}

impl BlockLandsFirst {
    async fn maybe_block(&self, key: &Key) {
        if *key == keys::account(&self.target) && self.armed.swap(false, Ordering::SeqCst) {
            let target = accounts::by_id(&self.inner, &self.target).await.unwrap().unwrap();
            assert!(relations::set(&self.inner, relations::Kind::Block, &self.blocker, &target, true).await.unwrap());
        }
    }
}

#[async_trait]
impl Table for BlockLandsFirst {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        self.maybe_block(&Key::of(&item)?).await;
        self.inner.put(item, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        self.inner.delete(key, cond).await
    }
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        self.maybe_block(key).await;
        self.inner.update(key, update, cond).await
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        self.inner.batch_get(keys).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        for op in &ops {
            self.maybe_block(&op.key()?).await;
        }
        self.inner.transact(ops).await
    }
}

fn actor_doc(name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "https://remote.example/users/bob", "type": "Person", "preferredUsername": "bob", "name": name,
        "inbox": "https://remote.example/users/bob/inbox",
        "publicKey": { "id": "https://remote.example/users/bob#main-key", "publicKeyPem": "pem" },
    })
}

#[tokio::test]
async fn a_refetch_racing_with_a_block_keeps_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let inner = EmbeddedTable::new(Db::open(dir.path()).unwrap());
    let alice = accounts::create(&inner, "alice", "correct horse battery").await.unwrap();
    let first = petrel::activitypub::convert::remote_account(&actor_doc("Bob"), "7001".into(), 0).unwrap();
    let bob = actors::save(&inner, first).await.unwrap();
    let table =
        BlockLandsFirst { inner, armed: AtomicBool::new(true), blocker: alice.id.clone(), target: bob.id.clone() };
    // The refetched profile is saved; alice's block lands between save's read and its write.
    let fresh = petrel::activitypub::convert::remote_account(&actor_doc("Bob, renamed"), "7002".into(), 1).unwrap();
    actors::save(&table, fresh).await.unwrap();
    assert!(!table.armed.load(Ordering::SeqCst), "the block did not land during the save");
    let stored = accounts::by_id(&table.inner, &bob.id).await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Bob, renamed");
    assert_eq!(stored.blocked_by, vec![alice.id], "the refetch undid the block");
}
