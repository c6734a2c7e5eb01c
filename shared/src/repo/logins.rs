//! The sign-in throttle: failed password sign-ins are counted per username and per client
//! address in fixed 15-minute windows, in the table (so every Lambda instance sees the same
//! counts), and a sign-in is refused before its password is checked once either count has
//! reached its budget. Refusing also the right password is what makes guessing stop: otherwise
//! a throttled guesser would still learn when a guess is right.
//!
//! Costs: every attempt reads both counters (one BatchGetItem); only a failure writes (one
//! atomic ADD per counter). A throttled attempt costs the read alone and no argon2 work. The
//! price of not writing before verifying: attempts sent in parallel can overshoot a budget by
//! about as many as are in flight at once.
//!
//! Budgets: 10 failures per username and 30 per address each window. Ten lets an owner mistype
//! a few times on several devices; thirty lets a household or office behind one address do the
//! same while one address can no longer try more than 30 guesses in 15 minutes (under 3,000 a
//! day), spread over any number of usernames. The per-username count also holds against a
//! guesser with many addresses: at most 10 guesses per 15 minutes on one account, ~1,000 a day.
//! The price is that anyone can keep an account's sign-in locked by failing on purpose; tokens
//! already issued keep working, and the lock ends 15 minutes after the failures stop. A
//! success does not reset the counts (it would cost a write and hand a guesser a fresh budget
//! whenever the owner signs in).

use crate::repo::{keys, RepoError};
use crate::store::{num_attr_of, Table, Update, Value};

/// The length of a counting window, in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures allowed per username (lower-cased) in one window.
pub const ACCOUNT_BUDGET: i64 = 10;
/// Failures allowed per client address in one window.
pub const ADDRESS_BUDGET: i64 = 30;

const FAILURES: &str = "failures";

/// Whether a sign-in may go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused until the window ends, in `retry_after` seconds; `by` says which budget is spent.
    Throttled {
        retry_after: u64,
        by: &'static str,
    },
}

fn window_start(now_secs: i64) -> i64 {
    now_secs - now_secs.rem_euclid(WINDOW_SECS)
}

/// Reads both counters (one batch get). `username` is None when the name given cannot be an
/// account's (then only the address counts).
pub async fn check(
    table: &dyn Table,
    username: Option<&str>,
    address: &str,
    now_secs: i64,
) -> Result<Verdict, RepoError> {
    let window = window_start(now_secs);
    let mut keys = vec![keys::login_failures_address(address, window)];
    if let Some(name) = username {
        keys.push(keys::login_failures_account(name, window));
    }
    let items = table.batch_get(&keys).await?;
    let count = |i: usize| items.get(i).and_then(Option::as_ref).and_then(|item| num_attr_of(item, FAILURES));
    let by = if count(1).unwrap_or(0) >= ACCOUNT_BUDGET {
        "account"
    } else if count(0).unwrap_or(0) >= ADDRESS_BUDGET {
        "address"
    } else {
        return Ok(Verdict::Allowed);
    };
    let retry_after = (window + WINDOW_SECS - now_secs).max(1) as u64;
    Ok(Verdict::Throttled { retry_after, by })
}

/// Counts a failure against both (one atomic add each, concurrently). The counters expire with
/// their window.
pub async fn record_failure(
    table: &dyn Table,
    username: Option<&str>,
    address: &str,
    now_secs: i64,
) -> Result<(), RepoError> {
    let window = window_start(now_secs);
    let add =
        || Update::default().add(FAILURES, 1).set(crate::store::TTL, Value::N((window + WINDOW_SECS).to_string()));
    let address_key = keys::login_failures_address(address, window);
    let by_address = table.update(&address_key, add(), None);
    match username {
        Some(name) => {
            let name_key = keys::login_failures_account(name, window);
            futures::try_join!(by_address, table.update(&name_key, add(), None))?;
        }
        None => {
            by_address.await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn budgets_per_name_and_address_within_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let stores = crate::store::Stores::embedded(dir.path(), "http://localhost:8080/media").unwrap();
        let t = stores.table.as_ref();
        // A window ahead of the clock, so no counter expires during the test.
        let now = window_start(crate::store::table::now_secs()) + 4 * WINDOW_SECS + 100;
        for _ in 0..ACCOUNT_BUDGET {
            assert_eq!(check(t, Some("alice"), "192.0.2.1", now).await.unwrap(), Verdict::Allowed);
            record_failure(t, Some("alice"), "192.0.2.1", now).await.unwrap();
        }
        assert_eq!(
            check(t, Some("alice"), "192.0.2.9", now).await.unwrap(),
            Verdict::Throttled { retry_after: (WINDOW_SECS - 100) as u64, by: "account" }
        );
        assert_eq!(check(t, Some("bob"), "192.0.2.1", now).await.unwrap(), Verdict::Allowed);
        // The next window starts afresh.
        assert_eq!(check(t, Some("alice"), "192.0.2.1", now + WINDOW_SECS).await.unwrap(), Verdict::Allowed);
        for _ in ACCOUNT_BUDGET..ADDRESS_BUDGET {
            record_failure(t, None, "192.0.2.1", now).await.unwrap();
        }
        assert!(matches!(
            check(t, Some("bob"), "192.0.2.1", now).await.unwrap(),
            Verdict::Throttled { by: "address", .. }
        ));
        assert!(matches!(check(t, None, "192.0.2.1", now).await.unwrap(), Verdict::Throttled { .. }));
    }
}
