//! Reading links out of HTML with html5ever's tokenizer (the parser ammonia already brings; no
//! tree is built): the first link of a post (for its preview card), what a page says about itself
//! (OpenGraph, Twitter card, oEmbed discovery, robots), and its `rel="me"` links (verified
//! profile fields). Pages are hostile input: the caller caps their size, and here the number of
//! tags looked at and the length of every value kept are capped too.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use url::Url;

/// Tags looked at in one document; the rest is ignored.
const MAX_TAGS: usize = 20_000;
/// Characters kept of a title, a description or a name.
const MAX_TEXT: usize = 1_000;

/// A start or end tag with its attributes (names lowercased by the tokenizer).
#[derive(Debug)]
struct El {
    start: bool,
    name: String,
    attrs: Vec<(String, String)>,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether a space-separated attribute (`rel`, `class`) holds `word`.
    fn has_word(&self, attr: &str, word: &str) -> bool {
        self.attr(attr).is_some_and(|v| v.split_ascii_whitespace().any(|w| w.eq_ignore_ascii_case(word)))
    }
}

enum Ev {
    Tag(El),
    Title(String),
    /// The start of a run of text (only when asked for: posts, not pages).
    Text(String),
}

#[derive(Default)]
struct Sink {
    keep_text: bool,
    events: RefCell<Vec<Ev>>,
    in_title: Cell<bool>,
    title: RefCell<String>,
    tags: Cell<usize>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(Tag { kind, name, attrs, .. }) => {
                if self.tags.get() >= MAX_TAGS {
                    return TokenSinkResult::Continue;
                }
                self.tags.set(self.tags.get() + 1);
                let start = kind == TagKind::StartTag;
                let name = name.to_string();
                if name == "title" {
                    if !start && self.in_title.get() {
                        self.events.borrow_mut().push(Ev::Title(self.title.borrow().trim().to_string()));
                    }
                    self.in_title.set(start);
                }
                let attrs = attrs
                    .into_iter()
                    .map(|a| (a.name.local.to_string(), a.value.chars().take(4 * MAX_TEXT).collect()))
                    .collect();
                self.events.borrow_mut().push(Ev::Tag(El { start, name: name.clone(), attrs }));
                // Script and style bodies are text, not markup; a title's is text with entities.
                if start {
                    match name.as_str() {
                        "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                        "style" | "noscript" | "iframe" | "xmp" | "noembed" | "noframes" => {
                            return TokenSinkResult::RawData(RawKind::Rawtext)
                        }
                        "title" | "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
                        _ => {}
                    }
                }
            }
            Token::CharacterTokens(text) if self.in_title.get() => {
                let mut t = self.title.borrow_mut();
                if t.len() < 4 * MAX_TEXT {
                    t.push_str(&text);
                }
            }
            Token::CharacterTokens(text) if self.keep_text && !text.trim().is_empty() => {
                self.events.borrow_mut().push(Ev::Text(text.trim_start().chars().take(2).collect()));
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn tokenize(html: &str, keep_text: bool) -> Vec<Ev> {
    let tokenizer = Tokenizer::new(Sink { keep_text, ..Sink::default() }, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.events.take()
}

fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_TEXT).collect()
}

/// The first link of a post's HTML that a preview is made for, as Mastodon picks it: not a
/// mention, not a hashtag (by class `mention`, `hashtag`, `u-url` or `h-card`, by `rel="tag"`, or
/// by text starting with `@` or `#`), not in a quote's "RE:" paragraph, and http(s) only.
pub fn first_link(html: &str) -> Option<String> {
    let events = tokenize(html, true);
    let mut quote: Option<String> = None;
    for (i, ev) in events.iter().enumerate() {
        let Ev::Tag(el) = ev else { continue };
        if let Some(open) = &quote {
            if !el.start && &el.name == open {
                quote = None;
            }
            continue;
        }
        if el.start && el.has_word("class", "quote-inline") {
            quote = Some(el.name.clone());
            continue;
        }
        if !el.start || el.name != "a" {
            continue;
        }
        // Mastodon's `skip_link?`: microformat mentions (`u-url`, `h-card`) and `rel="tag"`.
        let marked = ["mention", "hashtag", "u-url", "h-card"].iter().any(|c| el.has_word("class", c));
        if marked || el.has_word("rel", "tag") {
            continue;
        }
        let Some(href) = el.attr("href").and_then(crate::activitypub::vocab::http_url) else { continue };
        // A link whose text starts with @ or # is a mention or a hashtag that is not marked up.
        let text = events[i + 1..].iter().find_map(|e| match e {
            Ev::Text(t) => Some(t.as_str()),
            Ev::Tag(end) if !end.start && end.name == "a" => Some(""),
            _ => None,
        });
        if text.is_some_and(|t| t.starts_with('@') || t.starts_with('#')) {
            continue;
        }
        return Some(href);
    }
    None
}

/// The link a status's preview card is made for: its first link (see [`first_link`]), when the
/// status is public or unlisted (addressed to everyone), not a boost, and has no card yet.
pub fn card_link(s: &crate::model::Status) -> Option<String> {
    use crate::model::Visibility;
    if !matches!(s.visibility, Visibility::Public | Visibility::Unlisted) || s.reblog_of.is_some() || s.card.is_some() {
        return None;
    }
    first_link(&s.content)
}

/// The queue message that gives `s` its preview card, when it wants one.
pub fn card_event(s: &crate::model::Status) -> Option<crate::events::OutboxEvent> {
    card_link(s).map(|_| crate::events::OutboxEvent::Card(crate::events::CardWork { status_id: s.id.clone() }))
}

/// The https URL a profile field's value is (the value itself, or the one link it holds), for a
/// `rel="me"` check; `None` for anything else. `allow_http` (the local-network test setting only)
/// admits plain http as well.
pub fn field_link(value: &str, allow_http: bool) -> Option<String> {
    let plain = html_escape::decode_html_entities(&crate::activitypub::sanitize::text(value)).trim().to_string();
    let secure = |u: &str| u.starts_with("https://") || (allow_http && u.starts_with("http://"));
    let candidate = if secure(&plain) { Some(plain) } else { first_link(value) };
    candidate
        .filter(|u| secure(u) && !u.contains(char::is_whitespace))
        .and_then(|u| crate::activitypub::vocab::http_url(&u))
}

/// What a page says about itself.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Absolute http(s) URL of the preview image.
    pub image: Option<String>,
    pub site_name: Option<String>,
    pub author: Option<String>,
    pub og_type: Option<String>,
    pub language: Option<String>,
    /// Absolute URL of the page's oEmbed JSON (`<link rel="alternate" type="application/json+oembed">`).
    pub oembed: Option<String>,
    /// The page asks not to be indexed or previewed (`<meta name="robots" content="noindex">`,
    /// `nopreview`, or the same in a `googlebot`/`x-robots-tag` meta).
    pub no_preview: bool,
}

/// OpenGraph first, then Twitter card, then plain HTML (`<title>`, `<meta name="description">`),
/// as Mastodon's `LinkDetailsExtractor` reads a page. Relative URLs are resolved against `base`.
pub fn page_meta(html: &str, base: &Url) -> PageMeta {
    let events = tokenize(html, false);
    let mut og = std::collections::HashMap::<String, String>::new();
    let mut meta = PageMeta::default();
    let mut title_tag = None;
    let absolute = |raw: &str| base.join(raw.trim()).ok().and_then(|u| crate::activitypub::vocab::http_url(u.as_str()));
    for ev in &events {
        let el = match ev {
            Ev::Title(t) => {
                if title_tag.is_none() && !t.is_empty() {
                    title_tag = Some(tidy(t));
                }
                continue;
            }
            Ev::Tag(el) if el.start => el,
            _ => continue,
        };
        match el.name.as_str() {
            "html" => {
                meta.language = el.attr("lang").map(|l| l.trim().to_string()).filter(|l| {
                    !l.is_empty() && l.len() <= 16 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            }
            "meta" => {
                let Some(content) = el.attr("content") else { continue };
                let key =
                    el.attr("property").or_else(|| el.attr("name")).unwrap_or_default().trim().to_ascii_lowercase();
                if matches!(key.as_str(), "robots" | "googlebot" | "x-robots-tag") {
                    let c = content.to_ascii_lowercase();
                    if c.contains("noindex") || c.contains("nopreview") || c.contains("none") {
                        meta.no_preview = true;
                    }
                }
                if !key.is_empty() {
                    og.entry(key).or_insert_with(|| content.to_string());
                }
            }
            "link" if el.has_word("rel", "alternate") => {
                let t = el.attr("type").unwrap_or_default().to_ascii_lowercase();
                if t.starts_with("application/json+oembed") && meta.oembed.is_none() {
                    meta.oembed = el.attr("href").and_then(absolute);
                }
            }
            _ => {}
        }
    }
    let pick = |keys: &[&str]| keys.iter().find_map(|k| og.get(*k)).map(|v| tidy(v)).filter(|v| !v.is_empty());
    meta.title = pick(&["og:title", "twitter:title"]).or(title_tag);
    meta.description = pick(&["og:description", "twitter:description", "description"]);
    meta.image = ["og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"]
        .iter()
        .find_map(|k| og.get(*k).and_then(|v| absolute(v)));
    meta.site_name = pick(&["og:site_name", "application-name"]);
    meta.author = pick(&["author", "article:author"]).filter(|a| crate::activitypub::vocab::http_url(a).is_none());
    meta.og_type = pick(&["og:type"]);
    meta
}

/// The `href`s of a page's `rel="me"` links (`<a>` and `<link>`), resolved against `base`.
pub fn rel_me_links(html: &str, base: &Url) -> Vec<String> {
    tokenize(html, false)
        .into_iter()
        .filter_map(|ev| match ev {
            Ev::Tag(el) if el.start && (el.name == "a" || el.name == "link") && el.has_word("rel", "me") => {
                el.attr("href").and_then(|h| base.join(h.trim()).ok()).map(|u| u.to_string())
            }
            _ => None,
        })
        .take(100)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_link_skips_mentions_hashtags_and_quotes() {
        let html = r##"<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a></span>
            <a href="https://m.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a>
            <a href="https://plain.example/@carol">@carol</a> <a href="javascript:alert(1)">js</a>
            <a href="https://news.example/story?id=1&amp;b=2">a story</a></p>
            <p class="quote-inline">RE: <a href="https://q.example/1">q</a></p>"##;
        assert_eq!(first_link(html).as_deref(), Some("https://news.example/story?id=1&b=2"));
        assert_eq!(first_link(r#"<p class="quote-inline">RE: <a href="https://q.example/1">q</a></p>"#), None);
        assert_eq!(first_link("no links"), None);
    }

    #[test]
    fn page_meta_prefers_opengraph_and_resolves_urls() {
        let base = Url::parse("https://site.example/a/page").unwrap();
        let html = r#"<!doctype html><html lang="en-GB"><head><title> Plain &amp; title </title>
            <meta name="description" content="plain description">
            <meta property="og:title" content="OG title">
            <meta name="twitter:image" content="https://cdn.example/tw.png">
            <meta property="og:image" content="/img/og.png">
            <meta property="og:site_name" content="Site">
            <link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
            <script>var s = '<meta property="og:title" content="fake">';</script>
            </head><body></body></html>"#;
        let m = page_meta(html, &base);
        assert_eq!(m.title.as_deref(), Some("OG title"));
        assert_eq!(m.description.as_deref(), Some("plain description"));
        assert_eq!(m.image.as_deref(), Some("https://site.example/img/og.png"));
        assert_eq!(m.site_name.as_deref(), Some("Site"));
        assert_eq!(m.language.as_deref(), Some("en-GB"));
        assert_eq!(m.oembed.as_deref(), Some("https://site.example/oembed?url=x"));
        assert!(!m.no_preview);
        let plain = page_meta("<title>Only &lt;title&gt;</title>", &base);
        assert_eq!(plain.title.as_deref(), Some("Only <title>"));
        assert!(page_meta(r#"<meta name="robots" content="noindex, nofollow">"#, &base).no_preview);
    }

    #[test]
    fn rel_me_links_are_found() {
        let base = Url::parse("https://site.example/").unwrap();
        let html = r#"<a rel="me noopener" href="https://petrel.example/@alice">me</a><link rel="me" href="/@x"><a href="https://other.example/">no</a>"#;
        assert_eq!(rel_me_links(html, &base), vec!["https://petrel.example/@alice", "https://site.example/@x"]);
    }

    #[test]
    fn garbage_does_not_panic() {
        let base = Url::parse("https://site.example/").unwrap();
        for junk in ["<", "<a href", "<<<>>>", "<meta content=>", "\u{0}<a\u{0} href=\u{0}>", "<title>", "</title>"] {
            let _ = first_link(junk);
            let _ = page_meta(junk, &base);
            let _ = rel_me_links(junk, &base);
        }
    }
}
