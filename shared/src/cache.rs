//! In-process caches of what many requests read and few change, kept per [`crate::Ctx`] (so
//! per Lambda instance, which lives minutes to hours).

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A value loaded on first need and reloaded once it is older than the time to live.
///
/// A TTL rather than invalidation on change: a change made in one Lambda instance cannot reach
/// the others (the web function runs as several, and each lives for hours), so only a TTL bounds
/// how stale every instance can be. Two requests that miss together both load; the later one's
/// value is kept. No lock is held across the load.
pub struct Ttl<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Ttl<T> {
    pub fn new(ttl: Duration) -> Self {
        Ttl { ttl, slot: Mutex::new(None) }
    }

    /// The cached value if it is younger than the TTL, otherwise what `load` gives (kept if it
    /// succeeds; an error is returned and nothing is kept).
    pub async fn get_or_try_load<E, F, Fut>(&self, load: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let loaded_at = Instant::now();
        let value = load().await?;
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((loaded_at, value.clone()));
        }
        Ok(value)
    }

    fn fresh(&self) -> Option<T> {
        // A poisoned lock only means a panic elsewhere mid-store: treat it as a miss.
        let slot = self.slot.lock().ok()?;
        slot.as_ref().filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn loads_once_within_the_ttl_and_again_after_it() {
        // A TTL far longer than three loads take, even on a loaded machine.
        let cache = Ttl::new(Duration::from_millis(1000));
        let mut loads = 0;
        for _ in 0..3 {
            let v: Result<u32, ()> = cache
                .get_or_try_load(|| {
                    loads += 1;
                    async { Ok(7) }
                })
                .await;
            assert_eq!(v, Ok(7));
        }
        assert_eq!(loads, 1);
        tokio::time::sleep(Duration::from_millis(1050)).await;
        cache.get_or_try_load(|| async { Ok::<_, ()>(8) }).await.unwrap();
        assert_eq!(cache.get_or_try_load(|| async { Err(()) }).await, Ok(8), "reloaded after the TTL, then kept");
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let cache = Ttl::new(Duration::from_secs(60));
        assert_eq!(cache.get_or_try_load(|| async { Err::<u32, _>("down") }).await, Err("down"));
        assert_eq!(cache.get_or_try_load(|| async { Ok::<_, &str>(1) }).await, Ok(1));
    }
}
