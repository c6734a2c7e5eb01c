//! The stand-in for a port a binary leaves out (see [`super::Uses`]): every call fails and says
//! which port is missing, so a function that starts using a port it did not declare fails loudly
//! at that call instead of linking a client it was meant to do without.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::blobs::{Blob, Blobs};
use super::connections::Connections;
use super::error::{StoreError, StoreResult};
use super::queue::{OutMessage, Queue, Received};

pub struct Absent(pub &'static str);

impl Absent {
    fn error(&self) -> StoreError {
        StoreError::Backend(format!(
            "this binary was built without the {} port (petrel::store::Uses in its main.rs)",
            self.0
        ))
    }
}

#[async_trait]
impl Blobs for Absent {
    async fn put(&self, _: &str, _: Bytes, _: &str) -> StoreResult<String> {
        Err(self.error())
    }
    async fn get(&self, _: &str) -> StoreResult<Option<Blob>> {
        Err(self.error())
    }
    async fn delete(&self, _: &str) -> StoreResult<()> {
        Err(self.error())
    }
    fn public_url(&self, key: &str) -> String {
        format!("about:blank#{key}")
    }
    async fn presign_put(&self, _: &str, _: &str, _: Duration) -> StoreResult<String> {
        Err(self.error())
    }
    async fn put_temporary(&self, _: &str, _: Bytes, _: &str) -> StoreResult<String> {
        Err(self.error())
    }
    async fn keep(&self, _: &str) -> StoreResult<()> {
        Err(self.error())
    }
    async fn is_temporary(&self, _: &str) -> StoreResult<Option<bool>> {
        Err(self.error())
    }
}

#[async_trait]
impl Queue for Absent {
    fn name(&self) -> &str {
        self.0
    }
    async fn send(&self, _: OutMessage) -> StoreResult<String> {
        Err(self.error())
    }
    async fn send_batch(&self, _: Vec<OutMessage>) -> StoreResult<Vec<StoreResult<String>>> {
        Err(self.error())
    }
    async fn receive(&self, _: u32, _: Duration, _: Duration) -> StoreResult<Vec<Received>> {
        Err(self.error())
    }
    async fn delete(&self, _: &str) -> StoreResult<()> {
        Err(self.error())
    }
    async fn change_visibility(&self, _: &str, _: Duration) -> StoreResult<()> {
        Err(self.error())
    }
}

#[async_trait]
impl Connections for Absent {
    async fn send(&self, _: &str, _: &str) -> StoreResult<()> {
        Err(self.error())
    }
}
