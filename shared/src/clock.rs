//! Time as the protocols write it.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-27T01:05:34.123Z`, as Mastodon's entities carry dates.
pub fn iso8601_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let t = t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).unwrap_or(t);
    let s = t.format(&Rfc3339).unwrap_or_default();
    // Rfc3339 drops trailing zero fractions; clients expect exactly three digits.
    match s.find('.') {
        Some(_) => s,
        None => s.replacen('Z', ".000Z", 1),
    }
}

/// An RFC 3339 time (`2026-11-27T01:05:34Z`, any offset) as milliseconds since the epoch.
pub fn parse_rfc3339_ms(raw: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(raw, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The date part only (`2026-11-27`), for `Account.last_status_at`.
pub fn date_only(ms: i64) -> String {
    iso8601_ms(ms).chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_mastodon() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(1_796_083_200_123), "2026-12-01T00:00:00.123Z");
        assert_eq!(date_only(1_796_083_200_123), "2026-12-01");
    }
}
