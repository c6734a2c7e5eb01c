use serde::{Deserialize, Serialize};

/// A custom emoji another server uses in a post or a profile (`Emoji` tag): its shortcode (without
/// colons) and the image's https URL. Kept with what uses it, so rendering reads nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emoji {
    pub shortcode: String,
    pub url: String,
}

/// A link preview (Mastodon's PreviewCard) of one URL, read from the page's OpenGraph, Twitter card
/// or oEmbed data. Stored once per URL (`repo::cards`) and copied into each status that links it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PreviewCard {
    pub url: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// `link` or `photo` (video and rich embeds are shown as links: no embed HTML is kept).
    pub kind: String,
    #[serde(default)]
    pub author_name: String,
    #[serde(default)]
    pub author_url: String,
    #[serde(default)]
    pub provider_name: String,
    #[serde(default)]
    pub provider_url: String,
    /// Blob key of the image copied into the bucket (thumbnail size), when the page named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_key: Option<String>,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub blurhash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Milliseconds since the epoch of the fetch.
    #[serde(default)]
    pub fetched_at: i64,
}

/// Mastodon's shortcode rule: at least two of letters, digits and `_` (at most 100 here).
pub fn valid_shortcode(code: &str) -> bool {
    (2..=100).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
