//! Atom 1.0 with RFC 5005 paging (`next` and `prev-archive` to older pages, `current` and
//! `fh:archive` on those pages) and Media RSS elements, written by `atom_syndication`.

use std::collections::BTreeMap;

use atom_syndication::extension::Extension as AtomExt;
use atom_syndication::{Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig};

use crate::rss::{media_content, MEDIA_NS};
use crate::view::{Item, Page};

pub const CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";
const FH_NS: &str = "http://purl.org/syndication/history/1.0";

fn date(ms: i64) -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339(&petrel::clock::iso8601_ms(ms)).unwrap_or_default()
}

fn link(rel: &str, href: &str, mime: &str) -> Link {
    Link { href: href.to_string(), rel: rel.to_string(), mime_type: Some(mime.to_string()), ..Default::default() }
}

/// rss and atom_syndication share one extension shape; the Media RSS builder is rss's.
fn convert(e: rss::extension::Extension) -> AtomExt {
    AtomExt {
        name: e.name,
        value: e.value,
        attrs: e.attrs,
        children: e.children.into_iter().map(|(k, v)| (k, v.into_iter().map(convert).collect())).collect(),
    }
}

fn entry(i: &Item) -> Entry {
    let mut links = vec![link("alternate", &i.url, "text/html")];
    for a in &i.attachments {
        let mut l = link("enclosure", &a.url, &a.mime_type);
        l.length = Some(a.size.to_string());
        l.title = a.alt.clone();
        links.push(l);
    }
    let mut extensions = BTreeMap::new();
    if !i.attachments.is_empty() {
        let contents = i.attachments.iter().map(|a| convert(media_content(a))).collect();
        extensions.insert("media".to_string(), BTreeMap::from([("content".to_string(), contents)]));
    }
    Entry {
        title: Text::plain(i.title()),
        id: i.url.clone(),
        updated: date(i.updated_ms.unwrap_or(i.published_ms)),
        published: Some(date(i.published_ms)),
        authors: vec![Person {
            name: i.author.name.clone(),
            uri: Some(i.author.profile_url.clone()),
            ..Default::default()
        }],
        categories: i
            .tags
            .iter()
            .map(|(t, url)| Category { term: t.clone(), scheme: Some(url.clone()), label: Some(t.clone()) })
            .collect(),
        links,
        summary: (!i.spoiler.is_empty()).then(|| Text::plain(i.spoiler.clone())),
        content: Some(Content {
            value: Some(i.feed_html()),
            content_type: Some("html".into()),
            lang: i.language.clone(),
            ..Default::default()
        }),
        extensions,
        ..Default::default()
    }
}

pub fn render(page: &Page) -> Result<Vec<u8>, crate::FeedError> {
    let c = &page.channel;
    let mime = "application/atom+xml";
    let self_url = c.feed_url("atom", page.max_id.as_deref());
    let mut links = vec![link("self", &self_url, mime), link("alternate", &c.home_url, "text/html")];
    if let Some(author) = &c.author {
        links.push(link("alternate", &author.actor_id, "application/activity+json"));
    }
    if let Some(older) = &page.older {
        let url = c.feed_url("atom", Some(older));
        links.push(link("next", &url, mime));
        links.push(link("prev-archive", &url, mime));
    }
    let mut extensions = BTreeMap::new();
    if page.max_id.is_some() {
        links.push(link("current", &c.feed_url("atom", None), mime));
        let archive = AtomExt { name: "fh:archive".into(), ..Default::default() };
        extensions.insert("fh".to_string(), BTreeMap::from([("archive".to_string(), vec![archive])]));
    }
    let feed = Feed {
        title: Text::plain(c.title.clone()),
        id: self_url,
        updated: date(page.updated_ms()),
        authors: c
            .author
            .iter()
            .map(|a| Person { name: a.name.clone(), uri: Some(a.profile_url.clone()), ..Default::default() })
            .collect(),
        generator: Some(Generator { value: "Petrel".into(), uri: None, version: None }),
        icon: c.icon.clone(),
        logo: c.icon.clone(),
        links,
        subtitle: Some(Text::plain(c.description.clone())),
        entries: page.items.iter().map(entry).collect(),
        extensions,
        namespaces: BTreeMap::from([
            ("media".to_string(), MEDIA_NS.to_string()),
            ("fh".to_string(), FH_NS.to_string()),
        ]),
        ..Default::default()
    };
    let config = WriteConfig { write_document_declaration: true, indent_size: None };
    feed.write_with_config(Vec::new(), config).map_err(|e| crate::FeedError::Render(e.to_string()))
}
