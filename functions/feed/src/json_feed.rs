//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), paged with `?max_id=` through `next_url`.

use serde::Serialize;

use crate::view::{Item, Page};

pub const CONTENT_TYPE: &str = "application/feed+json; charset=utf-8";

#[derive(Serialize)]
struct Feed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    items: Vec<FeedItem<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
    url: &'a str,
    avatar: &'a str,
}

#[derive(Serialize)]
struct FeedItem<'a> {
    id: &'a str,
    url: &'a str,
    title: String,
    content_html: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    /// JSON Feed's name for a human-readable description: the alt text.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    size_in_bytes: u64,
}

fn item(i: &Item) -> FeedItem<'_> {
    FeedItem {
        id: &i.url,
        url: &i.url,
        title: i.title(),
        content_html: i.feed_html(),
        summary: (!i.spoiler.is_empty()).then_some(i.spoiler.as_str()),
        date_published: i.published(),
        date_modified: i.updated_ms.map(|_| i.updated()),
        authors: vec![Author { name: &i.author.name, url: &i.author.profile_url, avatar: &i.author.avatar }],
        tags: i.tags.iter().map(|(t, _)| t.as_str()).collect(),
        language: i.language.as_deref(),
        image: i.attachments.first().map(|a| a.url.as_str()),
        attachments: i
            .attachments
            .iter()
            .map(|a| Attachment {
                url: &a.url,
                mime_type: &a.mime_type,
                title: a.alt.as_deref(),
                size_in_bytes: a.size,
            })
            .collect(),
    }
}

pub fn render(page: &Page) -> Result<Vec<u8>, crate::FeedError> {
    let c = &page.channel;
    let feed = Feed {
        version: "https://jsonfeed.org/version/1.1",
        title: &c.title,
        home_page_url: &c.home_url,
        feed_url: c.feed_url("json", page.max_id.as_deref()),
        description: &c.description,
        icon: c.icon.as_deref(),
        favicon: c.icon.as_deref(),
        authors: c.author.iter().map(|a| Author { name: &a.name, url: &a.profile_url, avatar: &a.avatar }).collect(),
        next_url: page.older.as_deref().map(|o| c.feed_url("json", Some(o))),
        items: page.items.iter().map(item).collect(),
    };
    serde_json::to_vec_pretty(&feed).map_err(|e| crate::FeedError::Render(e.to_string()))
}
