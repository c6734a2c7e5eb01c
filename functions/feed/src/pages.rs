//! Public HTML pages: the profile (`/@name`) and a post (`/@name/id`). Readable without
//! JavaScript, marked up with microformats (h-card, h-entry), OpenGraph and Twitter card tags,
//! `rel="me"` on profile links and `<link rel="alternate">` to the feeds and the ActivityPub JSON.
//! maud escapes every value; post and bio HTML go through ammonia.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use petrel::config::Config;
use petrel::model::Account;

use crate::view::{Author, Channel, Item, Page};

pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// Small, phone-first, dark-mode aware; inline so a page is one request.
const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fff;--muted:#5f6368;--line:#e3e3e8;--accent:#3d5afe}\
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ec;--bg:#16161a;--muted:#a0a0aa;--line:#2c2c33;--accent:#8c9eff}}\
*{box-sizing:border-box}body{margin:0;font:17px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}\
main{max-width:40rem;margin:0 auto;padding:1rem}a{color:var(--accent)}\
.h-card.profile{border-bottom:1px solid var(--line);padding-bottom:1rem;margin-bottom:1rem}\
.profile .avatar{width:96px;height:96px;border-radius:12px}.profile h1{margin:.5rem 0 0;font-size:1.5rem}\
.handle,.meta{color:var(--muted);font-size:.9rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}\
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}article{border-bottom:1px solid var(--line);padding:1rem 0}\
article header{display:flex;gap:.75rem;align-items:center}article header img{width:44px;height:44px;border-radius:8px}\
.e-content{overflow-wrap:anywhere}.media{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem}\
.media img{width:100%;height:auto;border-radius:8px}summary{cursor:pointer;font-weight:600}\
nav.pager{padding:1rem 0}footer{color:var(--muted);font-size:.8rem;padding:2rem 0}";

/// What the `<head>` of a page says about it.
struct Head<'a> {
    title: String,
    description: String,
    url: &'a str,
    og_type: &'a str,
    image: Option<(&'a str, String)>,
    large_image: bool,
    /// Feeds of the account (or none).
    feeds: Option<&'a Channel>,
    activity_json: &'a str,
    site: &'a str,
    published: Option<String>,
}

fn head(h: &Head) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (h.title) }
            meta name="description" content=(h.description);
            link rel="canonical" href=(h.url);
            meta property="og:site_name" content=(h.site);
            meta property="og:type" content=(h.og_type);
            meta property="og:title" content=(h.title);
            meta property="og:description" content=(h.description);
            meta property="og:url" content=(h.url);
            @if let Some(published) = &h.published {
                meta property="article:published_time" content=(published);
            }
            @if let Some((src, alt)) = &h.image {
                meta property="og:image" content=(src);
                meta property="og:image:alt" content=(alt);
                meta name="twitter:image" content=(src);
                meta name="twitter:image:alt" content=(alt);
            }
            meta name="twitter:card" content=(if h.large_image { "summary_large_image" } else { "summary" });
            meta name="twitter:title" content=(h.title);
            meta name="twitter:description" content=(h.description);
            @if let Some(c) = h.feeds {
                link rel="alternate" type="application/rss+xml" title=(c.title) href=(c.feed_url("rss", None));
                link rel="alternate" type="application/atom+xml" title=(c.title) href=(c.feed_url("atom", None));
                link rel="alternate" type="application/feed+json" title=(c.title) href=(c.feed_url("json", None));
            }
            link rel="alternate" type="application/activity+json" href=(h.activity_json);
            style { (PreEscaped(STYLE)) }
        }
    }
}

fn plain_excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max).collect();
    out.push('…');
    out
}

fn http_url(value: &str) -> Option<&str> {
    let v = value.trim();
    let parsed = url::Url::parse(v).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(v)
}

fn date_label(ms: i64) -> String {
    petrel::clock::iso8601_ms(ms).get(..16).unwrap_or_default().replace('T', " ")
}

/// One post as an h-entry; `permalink` marks the post page's own entry.
fn entry(i: &Item) -> Markup {
    let body = html! {
        div class="e-content" lang=[i.language.as_deref()] { (PreEscaped(petrel::activitypub::sanitize::clean(&i.content))) }
        @if !i.attachments.is_empty() {
            div class="media" {
                @for a in &i.attachments {
                    a href=(a.url) {
                        @if let Some(thumb) = &a.thumbnail_url {
                            img class="u-photo" src=(thumb) alt=(a.alt.as_deref().unwrap_or_default())
                                width=(a.width) height=(a.height) loading="lazy";
                        } @else {
                            (a.alt.as_deref().unwrap_or(&a.mime_type))
                        }
                    }
                }
            }
        }
    };
    html! {
        article class="h-entry" {
            header {
                a class="p-author h-card" href=(i.author.profile_url) {
                    img class="u-photo" src=(i.author.avatar) alt=(format!("Avatar of {}", i.author.name));
                }
                div {
                    a class="p-author-name" href=(i.author.profile_url) { strong { (i.author.name) } }
                    div class="meta" {
                        a class="u-url u-uid" href=(i.url) {
                            time class="dt-published" datetime=(i.published()) { (date_label(i.published_ms)) }
                        }
                        @if i.updated_ms.is_some() {
                            " · edited " time class="dt-updated" datetime=(i.updated()) { (date_label(i.updated_ms.unwrap_or_default())) }
                        }
                    }
                }
            }
            @if i.spoiler.is_empty() {
                (body)
            } @else {
                details { summary class="p-summary" { (i.spoiler) } (body) }
            }
            @if !i.tags.is_empty() {
                p class="meta" {
                    @for (t, url) in &i.tags { a class="p-category" rel="tag" href=(url) { "#" (t) } " " }
                }
            }
        }
    }
}

fn footer(cfg: &Config) -> Markup {
    html! { footer { "Served by Petrel on " (cfg.domain) } }
}

/// The profile page: the account's h-card and its newest posts (without replies).
pub fn profile(cfg: &Config, account: &Account, posts: &Page) -> Vec<u8> {
    let author = Author::of(cfg, account);
    let handle = format!("@{}@{}", account.username, cfg.handle_domain);
    let bio_text = crate::view::html_to_text(&account.note);
    let description =
        if bio_text.trim().is_empty() { format!("Posts by {handle}") } else { plain_excerpt(&bio_text, 200) };
    let head = head(&Head {
        title: format!("{} ({handle})", author.name),
        description,
        url: &author.profile_url,
        og_type: "profile",
        image: Some((&author.avatar, format!("Avatar of {}", author.name))),
        large_image: false,
        feeds: Some(&posts.channel),
        activity_json: &author.actor_id,
        site: &cfg.domain,
        published: None,
    });
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (head)
            body {
                main {
                    section class="h-card profile" {
                        img class="u-photo avatar" src=(author.avatar) alt=(format!("Avatar of {}", author.name));
                        h1 class="p-name" { (author.name) }
                        p class="handle" { a class="u-url u-uid" href=(author.profile_url) { span class="p-nickname" { (handle) } } }
                        div class="p-note" { (PreEscaped(petrel::activitypub::sanitize::clean(&account.note))) }
                        @if !account.fields.is_empty() {
                            dl {
                                @for (name, value) in &account.fields {
                                    dt { (name) }
                                    dd {
                                        @if let Some(url) = http_url(value) {
                                            a rel="me nofollow noopener noreferrer" href=(url) { (value) }
                                        } @else { (value) }
                                    }
                                }
                            }
                        }
                        p class="meta" {
                            a href=(posts.channel.feed_url("rss", None)) { "RSS" } " · "
                            a href=(posts.channel.feed_url("atom", None)) { "Atom" } " · "
                            a href=(posts.channel.feed_url("json", None)) { "JSON Feed" }
                        }
                    }
                    @if posts.items.is_empty() { p { "No public posts yet." } }
                    @for i in &posts.items { (entry(i)) }
                    @if let Some(older) = &posts.older {
                        nav class="pager" { a rel="next" href=(format!("{}?max_id={older}", author.profile_url)) { "Older posts" } }
                    }
                    (footer(cfg))
                }
            }
        }
    };
    page.into_string().into_bytes()
}

/// A post's page.
pub fn post(cfg: &Config, account: &Account, i: &Item) -> Vec<u8> {
    let channel = Channel::account(cfg, account, false);
    let text = if i.spoiler.is_empty() { i.text.clone() } else { i.spoiler.clone() };
    let first = i.attachments.first();
    let image = match first {
        Some(a) => (a.url.as_str(), a.alt.clone().unwrap_or_default()),
        None => (i.author.avatar.as_str(), format!("Avatar of {}", i.author.name)),
    };
    let head = head(&Head {
        title: format!("{}: \u{201c}{}\u{201d}", i.author.name, plain_excerpt(&i.title(), 60)),
        description: plain_excerpt(&text, 200),
        url: &i.url,
        og_type: "article",
        image: Some(image),
        large_image: first.is_some(),
        feeds: Some(&channel),
        activity_json: &i.uri,
        site: &cfg.domain,
        published: Some(i.published()),
    });
    let page = html! {
        (DOCTYPE)
        html lang=(i.language.as_deref().unwrap_or("en")) {
            (head)
            body {
                main {
                    (entry(i))
                    p class="meta" { a href=(i.author.profile_url) { "More from " (i.author.name) } }
                    (footer(cfg))
                }
            }
        }
    };
    page.into_string().into_bytes()
}

/// The 404 page of the public pages.
pub fn not_found(cfg: &Config) -> Vec<u8> {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "Not found" } style { (PreEscaped(STYLE)) } }
            body { main { h1 { "Not found" } p { "There is nothing public here." } (footer(cfg)) } }
        }
    };
    page.into_string().into_bytes()
}
