//! Politeness per host, within one process: at most `Config::host_concurrency` POSTs to a host
//! at once, and no POST to a host before the time its last 429 named. Across processes the
//! event source mapping's MaximumConcurrency bounds the total, fan-out sends each activity to a
//! host's shared inbox once, and a 429's wait is also written to the table (`domains::set_wait`)
//! for deliveries queued after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a delivery waits for a free slot before it is put back on the queue instead.
pub const SLOT_WAIT: Duration = Duration::from_secs(20);
/// Hosts remembered before idle ones are forgotten.
const MAX_HOSTS: usize = 10_000;

#[derive(Default)]
struct Hosts {
    slots: HashMap<String, Arc<Semaphore>>,
    waits: HashMap<String, i64>,
}

fn hosts() -> &'static Mutex<Hosts> {
    static HOSTS: OnceLock<Mutex<Hosts>> = OnceLock::new();
    HOSTS.get_or_init(Default::default)
}

fn lock() -> std::sync::MutexGuard<'static, Hosts> {
    // A poisoned lock only means a panic elsewhere; the maps are still consistent.
    hosts().lock().unwrap_or_else(|e| e.into_inner())
}

/// A slot to POST to `host`, waiting up to `SLOT_WAIT`; `None` when none became free.
pub async fn slot(host: &str, limit: usize) -> Option<OwnedSemaphorePermit> {
    let semaphore = {
        let mut h = lock();
        if h.slots.len() >= MAX_HOSTS {
            // Forget hosts nobody is sending to (their semaphores are whole and unshared).
            h.slots.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < limit);
        }
        h.slots.entry(host.to_string()).or_insert_with(|| Arc::new(Semaphore::new(limit))).clone()
    };
    tokio::time::timeout(SLOT_WAIT, semaphore.acquire_owned()).await.ok()?.ok()
}

/// Until when (ms) `host` asked this process to wait, if it did and the time has not come.
pub fn wait_until(host: &str) -> Option<i64> {
    let now = petrel::clock::now_ms();
    let mut h = lock();
    match h.waits.get(host) {
        Some(until) if *until > now => Some(*until),
        Some(_) => {
            h.waits.remove(host);
            None
        }
        None => None,
    }
}

pub fn set_wait(host: &str, until_ms: i64) {
    let mut h = lock();
    if h.waits.len() >= MAX_HOSTS {
        let now = petrel::clock::now_ms();
        h.waits.retain(|_, until| *until > now);
    }
    let entry = h.waits.entry(host.to_string()).or_insert(until_ms);
    *entry = (*entry).max(until_ms);
}
