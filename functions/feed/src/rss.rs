//! RSS 2.0 with Media RSS (`media:content`, alt text as `media:description`, a thumbnail) and an
//! `atom:link rel="self"`, written by the `rss` crate.

use std::collections::BTreeMap;

use rss::extension::atom::AtomExtension;
use rss::extension::{Extension, ExtensionMap};
use time::format_description::well_known::Rfc2822;

use crate::view::{Attachment, Item, Page};

pub const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
pub const CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";

fn rfc2822(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc2822).ok())
        .unwrap_or_default()
}

/// A Media RSS element with attributes and children.
pub fn media_element(
    name: &str,
    value: Option<String>,
    attrs: &[(&str, String)],
    children: Vec<Extension>,
) -> Extension {
    let mut grouped: BTreeMap<String, Vec<Extension>> = BTreeMap::new();
    for c in children {
        grouped.entry(c.name.clone()).or_default().push(c);
    }
    Extension {
        name: format!("media:{name}"),
        value,
        attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        children: grouped,
    }
}

/// `media:content` with its alt text and thumbnail: the same element in RSS and Atom.
pub fn media_content(a: &Attachment) -> Extension {
    let mut children: Vec<Extension> =
        a.thumbnail_url.iter().map(|t| media_element("thumbnail", None, &[("url", t.clone())], vec![])).collect();
    if let Some(alt) = &a.alt {
        children.push(media_element("description", Some(alt.clone()), &[("type", "plain".into())], vec![]));
    }
    let attrs = [
        ("url", a.url.clone()),
        ("type", a.mime_type.clone()),
        ("medium", a.mime_type.split('/').next().unwrap_or("image").to_string()),
        ("fileSize", a.size.to_string()),
        ("width", a.width.to_string()),
        ("height", a.height.to_string()),
    ];
    media_element("content", None, &attrs, children)
}

fn item(i: &Item) -> rss::Item {
    let mut ext: ExtensionMap = BTreeMap::new();
    if !i.attachments.is_empty() {
        let contents = i.attachments.iter().map(media_content).collect();
        ext.insert("media".into(), BTreeMap::from([("content".to_string(), contents)]));
    }
    rss::ItemBuilder::default()
        .guid(Some(rss::GuidBuilder::default().value(i.url.clone()).permalink(true).build()))
        .link(Some(i.url.clone()))
        .title(Some(i.title()))
        .pub_date(Some(rfc2822(i.published_ms)))
        .description(Some(i.feed_html()))
        .content(Some(i.feed_html()))
        .categories(
            i.tags
                .iter()
                .map(|(t, url)| rss::CategoryBuilder::default().name(t.clone()).domain(Some(url.clone())).build())
                .collect::<Vec<_>>(),
        )
        .extensions(ext)
        .build()
}

pub fn render(page: &Page) -> Vec<u8> {
    let c = &page.channel;
    let self_url = c.feed_url("rss", page.max_id.as_deref());
    let mut links = vec![atom_link("self", &self_url, "application/rss+xml")];
    links.push(atom_link("alternate", &c.home_url, "text/html"));
    if let Some(older) = &page.older {
        links.push(atom_link("next", &c.feed_url("rss", Some(older)), "application/rss+xml"));
    }
    let image = c.icon.as_ref().map(|url| {
        rss::ImageBuilder::default().url(url.clone()).title(c.title.clone()).link(c.home_url.clone()).build()
    });
    let channel = rss::ChannelBuilder::default()
        .title(c.title.clone())
        .link(c.home_url.clone())
        .description(c.description.clone())
        .generator(Some("Petrel".to_string()))
        .last_build_date(Some(rfc2822(page.updated_ms())))
        .image(image)
        .items(page.items.iter().map(item).collect::<Vec<_>>())
        .namespaces(BTreeMap::from([("media".to_string(), MEDIA_NS.to_string())]))
        .atom_ext(Some(AtomExtension { links }))
        .build();
    channel.to_string().into_bytes()
}

fn atom_link(rel: &str, href: &str, mime: &str) -> atom_syndication::Link {
    atom_syndication::Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: Some(mime.to_string()),
        ..Default::default()
    }
}
