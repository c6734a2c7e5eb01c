//! Identifiers. Status, account and notification ids are Mastodon-style snowflakes: decimal
//! strings of `(milliseconds since the epoch << 16) | random bits`, so they sort by time (as
//! numbers and, having the same length for centuries, as strings) and never collide in practice.

use ring::rand::{SecureRandom, SystemRandom};

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The system source failing means the OS is broken; fall back to time-derived bits rather
    // than panic, since ids need uniqueness, not secrecy.
    if SystemRandom::new().fill(&mut buf).is_err() {
        let t =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (t >> ((i % 4) * 8)) as u8;
        }
    }
    buf
}

/// A new time-sortable id for the current instant. Strictly increasing within a process: an id
/// made later always sorts after (the low bits below could wrap within one millisecond, and the
/// clock can step back), which timelines and "newer than" cursors rely on.
pub fn snowflake() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let candidate = snowflake_value(ms);
    let next = |last: u64| candidate.max(last.saturating_add(1));
    // The closure always returns Some, so this is Ok with the previous value.
    let previous = LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| Some(next(last)));
    format!("{:018}", next(previous.unwrap_or_else(|last| last)))
}

/// An id for the instant `ms` (an import's or a remote post's time).
pub fn snowflake_at(ms: u64) -> String {
    format!("{:018}", snowflake_value(ms))
}

/// The low 16 bits: a random start per process plus a counter, so one process never repeats an
/// id (up to 65,536 a millisecond) and two processes rarely meet; writers still insert ids with
/// a not-exists condition and take a new one on a clash.
fn snowflake_value(ms: u64) -> u64 {
    use std::sync::atomic::{AtomicU16, Ordering};
    use std::sync::OnceLock;
    static START: OnceLock<u16> = OnceLock::new();
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let start = *START.get_or_init(|| u16::from_be_bytes(random_bytes::<2>()));
    let low = start.wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed));
    (ms << 16) | u64::from(low)
}

/// A random token of `bytes` bytes, hex encoded (request ids, secrets).
pub fn random_token(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    for _ in 0..bytes.div_ceil(16) {
        for b in random_bytes::<16>() {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out.truncate(bytes * 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_sort_by_time_as_strings() {
        let a = snowflake_at(1_700_000_000_000);
        let b = snowflake_at(1_700_000_000_001);
        assert!(a < b, "{a} !< {b}");
        assert_eq!(a.len(), b.len());
        assert!(a.parse::<u64>().is_ok());
    }

    #[test]
    fn snowflakes_made_later_sort_later() {
        // Past three wraps of the 16-bit counter, each likely within one millisecond: the
        // counter alone would make an id that sorts before the one made just before it.
        let mut last = snowflake();
        for _ in 0..200_000 {
            let next = snowflake();
            assert!(next > last, "{next} !> {last}");
            last = next;
        }
    }

    #[test]
    fn tokens_have_the_asked_length() {
        assert_eq!(random_token(8).len(), 16);
        assert_eq!(random_token(32).len(), 64);
        assert_ne!(random_token(16), random_token(16));
    }
}
