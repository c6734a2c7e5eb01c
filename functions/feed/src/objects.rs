//! Where rendered feeds and pages live in the bucket (beside media, under `site/`). Keys are
//! derived from the URL alone, so serving a poll needs no table read.

/// The formats a feed is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => crate::rss::CONTENT_TYPE,
            Format::Atom => crate::atom::CONTENT_TYPE,
            Format::Json => crate::json_feed::CONTENT_TYPE,
        }
    }
}

/// Usernames compare case-insensitively; objects use the lowercase form.
fn user_dir(username: &str) -> String {
    format!("site/users/{}", username.to_ascii_lowercase())
}

/// `site/users/{name}/feed.{rss,atom,json}` and `…/with_replies.{…}`.
pub fn account_feed(username: &str, with_replies: bool, f: Format) -> String {
    let stem = if with_replies { "with_replies" } else { "feed" };
    format!("{}/{stem}.{}", user_dir(username), f.ext())
}

/// `site/users/{name}/profile.html`.
pub fn profile(username: &str) -> String {
    format!("{}/profile.html", user_dir(username))
}

/// `site/users/{name}/statuses/{id}.html`.
pub fn post(username: &str, status_id: &str) -> String {
    format!("{}/statuses/{status_id}.html", user_dir(username))
}

/// `site/tags/{tag}/feed.{rss,atom}`; a hashtag with letters beyond ASCII is hex-encoded
/// (`x-…`), since object keys are kept to `[A-Za-z0-9._/-]`.
pub fn tag_feed(tag: &str, f: Format) -> String {
    let plain = tag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let segment = if plain {
        tag.to_string()
    } else {
        format!("x-{}", tag.bytes().map(|b| format!("{b:02x}")).collect::<String>())
    };
    format!("site/tags/{segment}/feed.{}", f.ext())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_object_keys_for_any_hashtag_and_username_case() {
        for key in [
            account_feed("Alice", false, Format::Rss),
            account_feed("alice", true, Format::Json),
            profile("alice"),
            post("alice", "123"),
            tag_feed("rust", Format::Atom),
            tag_feed("日本語", Format::Rss),
            tag_feed("caf\u{e9}", Format::Rss),
        ] {
            assert!(petrel::store::blobs::validate_key(&key).is_ok(), "{key}");
        }
        assert_eq!(account_feed("Alice", false, Format::Rss), "site/users/alice/feed.rss");
        assert_ne!(tag_feed("café", Format::Rss), tag_feed("cafe", Format::Rss));
    }
}
