//! What every format renders: a channel and its items, built once from stored records, so the
//! RSS, Atom, JSON Feed and HTML writers only lay out what is here.

use petrel::clock::iso8601_ms;
use petrel::config::Config;
use petrel::mastodon::convert;
use petrel::model::{Account, Status};

/// One attachment: the stored original and its thumbnail, with the author's alt text.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub url: String,
    /// Absent for audio or video uploaded without a thumbnail.
    pub thumbnail_url: Option<String>,
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    pub alt: Option<String>,
}

/// The author of an item or a channel.
#[derive(Debug, Clone)]
pub struct Author {
    pub username: String,
    /// The display name, or the username when there is none.
    pub name: String,
    pub profile_url: String,
    pub actor_id: String,
    pub avatar: String,
}

impl Author {
    pub fn of(cfg: &Config, a: &Account) -> Author {
        let name = if a.display_name.trim().is_empty() { a.username.clone() } else { a.display_name.clone() };
        Author {
            username: a.username.clone(),
            name,
            profile_url: convert::account_url(cfg, &a.username),
            actor_id: convert::actor_uri(cfg, &a.username),
            avatar: avatar_url(cfg, a),
        }
    }
}

pub fn avatar_url(cfg: &Config, a: &Account) -> String {
    match &a.avatar_key {
        Some(k) => format!("{}/{k}", cfg.media_base),
        None => format!("{}{}", cfg.base_url(), convert::MISSING_AVATAR),
    }
}

/// One post as every format shows it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    /// The permalink (`/@name/id`): the guid of feeds.
    pub url: String,
    /// The ActivityPub id of the status.
    pub uri: String,
    pub author: Author,
    pub published_ms: i64,
    pub updated_ms: Option<i64>,
    /// The content warning, empty when there is none.
    pub spoiler: String,
    /// The post's HTML as Petrel rendered it from the author's text (local content only).
    pub content: String,
    /// What the author typed, for titles and descriptions.
    pub text: String,
    pub tags: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
    pub in_reply_to: Option<String>,
    pub language: Option<String>,
}

impl Item {
    pub fn of(cfg: &Config, author: &Author, s: &Status) -> Item {
        let attachments = s
            .media
            .iter()
            .map(|m| Attachment {
                url: format!("{}/{}", cfg.media_base, m.original_key),
                thumbnail_url: (!m.small_key.is_empty()).then(|| format!("{}/{}", cfg.media_base, m.small_key)),
                mime_type: m.content_type.clone(),
                width: m.original.width,
                height: m.original.height,
                size: m.original.size,
                alt: m.description.clone().filter(|d| !d.trim().is_empty()),
            })
            .collect();
        Item {
            id: s.id.clone(),
            url: convert::status_url(cfg, &author.username, &s.id),
            uri: convert::status_uri(cfg, &author.username, &s.id),
            author: author.clone(),
            published_ms: s.created_at,
            updated_ms: s.edited_at,
            spoiler: s.spoiler_text.clone(),
            content: s.content.clone(),
            text: s.text.clone(),
            tags: s.tags.iter().map(|t| (t.clone(), tag_url(cfg, t))).collect(),
            attachments,
            in_reply_to: s.in_reply_to_id.clone(),
            language: s.language.clone(),
        }
    }

    /// A one-line title: the content warning, else the start of the text.
    pub fn title(&self) -> String {
        let source = if self.spoiler.is_empty() { self.text.as_str() } else { self.spoiler.as_str() };
        let line = source.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim();
        let mut title: String = line.chars().take(80).collect();
        if line.chars().count() > 80 {
            title.push('…');
        }
        if title.is_empty() {
            title = format!("Post by {}", self.author.name);
        }
        title
    }

    /// The HTML a feed reader shows: the content warning first (readers have no click-to-reveal),
    /// then the post, then every image with its alt text for readers that ignore Media RSS.
    pub fn feed_html(&self) -> String {
        maud::html! {
            @if !self.spoiler.is_empty() {
                p { strong { "Content warning: " (self.spoiler) } }
            }
            (maud::PreEscaped(petrel::activitypub::sanitize::clean(&self.content)))
            @for a in &self.attachments {
                p { a href=(a.url) {
                    @if let Some(thumb) = &a.thumbnail_url {
                        img src=(thumb) alt=(a.alt.as_deref().unwrap_or_default()) width=(a.width) height=(a.height);
                    } @else {
                        (a.alt.as_deref().unwrap_or(&a.mime_type))
                    }
                } }
            }
        }
        .into_string()
    }

    pub fn published(&self) -> String {
        iso8601_ms(self.published_ms)
    }

    pub fn updated(&self) -> String {
        iso8601_ms(self.updated_ms.unwrap_or(self.published_ms))
    }
}

/// Whose posts a feed holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Account { username: String, with_replies: bool },
    Tag(String),
}

/// A feed's channel: who or what it is about, and where it lives.
#[derive(Debug, Clone)]
pub struct Channel {
    pub scope: Scope,
    pub title: String,
    /// Plain text.
    pub description: String,
    /// The profile page or the tag page.
    pub home_url: String,
    pub icon: Option<String>,
    pub author: Option<Author>,
    pub base_url: String,
}

impl Channel {
    pub fn account(cfg: &Config, a: &Account, with_replies: bool) -> Channel {
        let author = Author::of(cfg, a);
        let suffix = if with_replies { " (with replies)" } else { "" };
        Channel {
            scope: Scope::Account { username: a.username.clone(), with_replies },
            title: format!("{} (@{}@{}){suffix}", author.name, a.username, cfg.handle_domain),
            description: format!("Public posts from @{}@{}", a.username, cfg.handle_domain),
            home_url: author.profile_url.clone(),
            icon: Some(author.avatar.clone()),
            author: Some(author),
            base_url: cfg.base_url(),
        }
    }

    pub fn tag(cfg: &Config, tag: &str) -> Channel {
        Channel {
            scope: Scope::Tag(tag.to_string()),
            title: format!("#{tag}"),
            description: format!("Public posts tagged #{tag} on {}", cfg.domain),
            home_url: tag_url(cfg, tag),
            icon: None,
            author: None,
            base_url: cfg.base_url(),
        }
    }

    /// The URL path the feed's formats share: `/@name`, `/@name/with_replies`, `/tags/tag`.
    pub fn path(&self) -> String {
        match &self.scope {
            Scope::Account { username, with_replies: false } => format!("/@{username}"),
            Scope::Account { username, with_replies: true } => format!("/@{username}/with_replies"),
            Scope::Tag(tag) => format!("/tags/{}", url_segment(tag)),
        }
    }

    /// The feed's URL in a format (`rss`, `atom`, `json`), optionally one page of its history.
    pub fn feed_url(&self, ext: &str, max_id: Option<&str>) -> String {
        let url = format!("{}{}.{ext}", self.base_url, self.path());
        match max_id {
            Some(id) => format!("{url}?max_id={id}"),
            None => url,
        }
    }
}

/// A page of a feed: the newest items, or (with `max_id`) an older page of its history.
#[derive(Debug, Clone)]
pub struct Page {
    pub channel: Channel,
    pub items: Vec<Item>,
    /// Set on an archive page: the items are older than this id.
    pub max_id: Option<String>,
    /// The `max_id` of the next older page, when there may be one.
    pub older: Option<String>,
}

impl Page {
    /// When anything in the feed last changed (the newest publication or edit).
    pub fn updated_ms(&self) -> i64 {
        self.items.iter().map(|i| i.updated_ms.unwrap_or(i.published_ms)).max().unwrap_or(0)
    }
}

/// Posts that may appear in feeds and on pages: those anyone may see signed out (public and
/// unlisted, by the one visibility rule); boosts never do.
pub fn is_listed(s: &Status) -> bool {
    petrel::repo::visibility::decide(s, None) == petrel::repo::visibility::Decision::Yes && s.reblog_of.is_none()
}

pub fn tag_url(cfg: &Config, tag: &str) -> String {
    format!("{}/tags/{}", cfg.base_url(), url_segment(tag))
}

/// A hashtag as a URL path segment (hashtags may hold any letter).
pub fn url_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// The text of an HTML fragment (a bio), for descriptions.
pub fn html_to_text(html: &str) -> String {
    let spaced = html.replace("<br />", "\n").replace("</p><p>", "\n\n");
    let stripped = ammonia::Builder::empty().clean(&spaced).to_string();
    html_escape::decode_html_entities(&stripped).into_owned()
}
