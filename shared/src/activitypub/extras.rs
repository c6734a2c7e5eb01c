//! What other software sends beyond Mastodon's Note, read the way Mastodon reads it: PeerTube
//! `Video`, Funkwhale `Audio`, Pixelfed-style `Image`, Mobilizon `Event` (and `Article`/`Page`)
//! become statuses whose text is the object's name, summary and link (Mastodon's
//! `ActivityPub::Activity::Create#converted_text`); custom emoji from `Emoji` tags; quotes of
//! servers Mastodon does not quote natively as a "RE:" link. Every property may come as a string,
//! an object or a list, or be missing: nothing here assumes a shape.

use serde_json::Value;

use super::sanitize;
use super::vocab::{self, str_prop};
use crate::model::{valid_shortcode, Emoji};

/// Types Mastodon turns into a status with their own text (`SUPPORTED_TYPES`).
pub const SUPPORTED_TYPES: [&str; 2] = ["Note", "Question"];
/// Types Mastodon converts: the status shows the name, the summary and a link to the original
/// (`CONVERTED_TYPES`).
pub const CONVERTED_TYPES: [&str; 6] = ["Image", "Audio", "Video", "Article", "Page", "Event"];
/// Custom emoji kept per post or actor.
pub const MAX_EMOJIS: usize = 50;
const MAX_TITLE_CHARS: usize = 500;
const MAX_PLACE_CHARS: usize = 300;

pub fn is_status_type(kind: &str) -> bool {
    SUPPORTED_TYPES.contains(&kind) || CONVERTED_TYPES.contains(&kind)
}

pub fn is_converted(kind: &str) -> bool {
    CONVERTED_TYPES.contains(&kind)
}

fn media_type_of(v: &Value) -> Option<&str> {
    str_prop(v, "mediaType").or_else(|| str_prop(v, "mimeType"))
}

/// `url` as Mastodon reads it (`url_to_href(url, 'text/html')`): a string; a Link's `href`; in a
/// list of Links, the first `text/html` one (Mastodon takes only that one; the first entry is
/// taken here when none says `text/html`, as for a list of strings). Only http(s) URLs are kept.
pub fn object_url(v: Option<&Value>) -> Option<String> {
    let href = |x: &Value| match x {
        Value::String(s) => vocab::http_url(s),
        Value::Object(_) => str_prop(x, "href").and_then(vocab::http_url),
        _ => None,
    };
    match v? {
        Value::Array(items) => items
            .iter()
            .take(vocab::MAX_LIST)
            .find(|i| media_type_of(i).is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html")))
            .and_then(href)
            .or_else(|| items.iter().take(vocab::MAX_LIST).find_map(href)),
        other => href(other),
    }
}

/// A language-mapped text property (`name`/`nameMap`, `summary`/`summaryMap`): the plain value,
/// else the map's first entry (Mastodon's `StatusParser`).
pub fn mapped_text<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    str_prop(v, name).filter(|s| !s.trim().is_empty()).or_else(|| {
        v.get(format!("{name}Map"))?.as_object()?.values().find_map(Value::as_str).filter(|s| !s.trim().is_empty())
    })
}

fn capped(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The text Mastodon gives a converted object: its name as a heading, its summary, for an event
/// when and where it takes place, and a link to the original.
pub fn converted_content(object: &Value, link: &str) -> String {
    let mut parts = Vec::new();
    if let Some(title) = mapped_text(object, "name") {
        parts.push(format!("<h2>{}</h2>", capped(&sanitize::text(title), MAX_TITLE_CHARS)));
    }
    if let Some(summary) = mapped_text(object, "summary") {
        parts.push(format!("<p>{}</p>", capped(&sanitize::text(summary), MAX_TITLE_CHARS * 4)));
    }
    if vocab::type_of(object) == "Event" {
        parts.extend(event_details(object));
    }
    let href = html_escape::encode_double_quoted_attribute(link);
    parts.push(format!("<p><a href=\"{href}\">{}</a></p>", html_escape::encode_text(link)));
    parts.join("\n\n")
}

/// An event's time and place as paragraphs (times in UTC, as ISO dates: no locale is known).
fn event_details(event: &Value) -> Vec<String> {
    let when = |name: &str| {
        let t = time::OffsetDateTime::parse(str_prop(event, name)?, &time::format_description::well_known::Rfc3339)
            .ok()?
            .to_offset(time::UtcOffset::UTC);
        t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok()
    };
    let mut out = Vec::new();
    match (when("startTime"), when("endTime")) {
        (Some(start), Some(end)) => out.push(format!("<p>{start} – {end}</p>")),
        (Some(start), None) => out.push(format!("<p>{start}</p>")),
        _ => {}
    }
    let place = vocab::list(event.get("location")).into_iter().next().and_then(|l| match l {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => {
            let mut bits: Vec<&str> = Vec::new();
            if let Some(name) = str_prop(l, "name") {
                bits.push(name);
            }
            match l.get("address") {
                Some(Value::String(a)) => bits.push(a),
                Some(a @ Value::Object(_)) => {
                    for k in ["streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry"] {
                        if let Some(v) = str_prop(a, k) {
                            bits.push(v);
                        }
                    }
                }
                _ => {}
            }
            let bits: Vec<&str> = bits.into_iter().map(str::trim).filter(|b| !b.is_empty()).collect();
            (!bits.is_empty()).then(|| bits.join(", "))
        }
        _ => None,
    });
    if let Some(place) = place {
        out.push(format!("<p>{}</p>", capped(&sanitize::text(&place), MAX_PLACE_CHARS)));
    }
    out
}

/// A media file the object itself is (a PeerTube `Video`, a Funkwhale `Audio`, an `Image`) when
/// it has no `attachment`: the first `url` entry whose media type is of the object's kind
/// (`video/…` for a Video). Returns the URL, its media type, width and height.
pub fn self_media(object: &Value) -> Option<(String, String, u32, u32)> {
    let prefix = match vocab::type_of(object) {
        "Video" => "video/",
        "Audio" => "audio/",
        "Image" => "image/",
        _ => return None,
    };
    let dim = |v: &Value, name: &str| v.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    for u in vocab::list(object.get("url")).into_iter().take(vocab::MAX_LIST) {
        match u {
            Value::Object(_) => {
                let Some(t) = media_type_of(u).filter(|t| t.to_ascii_lowercase().starts_with(prefix)) else {
                    continue;
                };
                let Some(href) = str_prop(u, "href").and_then(vocab::http_url) else { continue };
                let t = t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase();
                let height = dim(u, "height").unwrap_or(0);
                return Some((href, t, dim(u, "width").unwrap_or(0), height));
            }
            // A bare URL on an Image: the image itself, of the object's own media type.
            Value::String(s) if prefix == "image/" => {
                let t = media_type_of(object).filter(|t| t.starts_with(prefix)).unwrap_or("image/jpeg");
                return Some((vocab::http_url(s)?, t.to_string(), 0, 0));
            }
            _ => {}
        }
    }
    None
}

/// The image URL of an `Emoji` tag's `icon` (an Image object, a list of them, or a URL).
fn icon_url(icon: Option<&Value>) -> Option<String> {
    vocab::list(icon).into_iter().take(4).find_map(|i| match i {
        Value::String(s) => vocab::http_url(s),
        Value::Object(_) => vocab::list(i.get("url")).into_iter().take(4).find_map(|u| match u {
            Value::String(s) => vocab::http_url(s),
            other => str_prop(other, "href").and_then(vocab::http_url),
        }),
        _ => None,
    })
}

/// The custom emoji of `Emoji` tags that `texts` use (`:shortcode:`), as Mastodon lists them:
/// a valid shortcode ([A-Za-z0-9_], two or more) and an https image; the first tag of a
/// shortcode wins; at most [`MAX_EMOJIS`].
pub fn emojis(tags: Option<&Value>, texts: &[&str]) -> Vec<Emoji> {
    let mut out: Vec<Emoji> = Vec::new();
    for t in vocab::list(tags).into_iter().take(super::convert::MAX_TAG_OBJECTS) {
        if vocab::type_of(t) != "Emoji" || out.len() >= MAX_EMOJIS {
            continue;
        }
        let Some(code) = str_prop(t, "name").map(|n| n.trim().trim_matches(':')) else { continue };
        if !valid_shortcode(code) || out.iter().any(|e| e.shortcode == code) {
            continue;
        }
        let needle = format!(":{code}:");
        if !texts.iter().any(|text| text.contains(&needle)) {
            continue;
        }
        let Some(url) = icon_url(t.get("icon")).filter(|u| u.starts_with("https://")) else { continue };
        out.push(Emoji { shortcode: code.to_string(), url });
    }
    out
}

fn is_activity_link(media_type: &str) -> bool {
    let m = media_type.to_ascii_lowercase();
    m.starts_with("application/activity+json")
        || (m.starts_with("application/ld+json") && m.contains("https://www.w3.org/ns/activitystreams"))
}

/// The object a post quotes, where other software says so: FEP-044f `quote`, Misskey's
/// `_misskey_quote` and `quoteUrl`, Fedibird's `quoteUri`, or an FEP-e232 object link (a `Link`
/// tag with an ActivityStreams media type).
pub fn quote_url(object: &Value) -> Option<String> {
    for name in ["quote", "quoteUrl", "quoteUri", "_misskey_quote"] {
        if let Some(url) = object.get(name).and_then(vocab::id_of).and_then(vocab::http_url) {
            return Some(url);
        }
    }
    vocab::list(object.get("tag")).into_iter().take(super::convert::MAX_TAG_OBJECTS).find_map(|t| {
        (vocab::type_of(t) == "Link" && media_type_of(t).is_some_and(is_activity_link))
            .then(|| str_prop(t, "href").and_then(vocab::http_url))
            .flatten()
    })
}

/// `content` with a readable link to the quoted post, as Mastodon writes one for servers that do
/// not show quotes (`<p class="quote-inline">RE: <a href>…</a></p>`), unless it links there already.
pub fn with_quote_link(content: &str, url: &str) -> String {
    let href = html_escape::encode_double_quoted_attribute(url);
    if content.contains(&format!("href=\"{href}\"")) || content.contains(&format!("href=\"{url}\"")) {
        return content.to_string();
    }
    format!("{content}<p class=\"quote-inline\">RE: <a href=\"{href}\">{}</a></p>", html_escape::encode_text(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn url_in_every_shape() {
        assert_eq!(object_url(Some(&json!("https://a.example/x"))).as_deref(), Some("https://a.example/x"));
        assert_eq!(
            object_url(Some(&json!({"type": "Link", "href": "https://a.example/y"}))).as_deref(),
            Some("https://a.example/y")
        );
        let list = json!([
            {"type": "Link", "mediaType": "video/mp4", "href": "https://a.example/v.mp4"},
            {"type": "Link", "mediaType": "text/html", "href": "https://a.example/watch"},
        ]);
        assert_eq!(object_url(Some(&list)).as_deref(), Some("https://a.example/watch"));
        assert_eq!(object_url(Some(&json!([1, null, "javascript:x"]))), None);
        assert_eq!(object_url(Some(&json!(42))), None);
        assert_eq!(object_url(None), None);
    }

    #[test]
    fn emoji_tags_are_validated() {
        let tags = json!([
            {"type": "Emoji", "name": ":ok_1:", "icon": {"type": "Image", "url": "https://e.example/ok.png"}},
            {"type": "Emoji", "name": ":plain:", "icon": {"url": "http://e.example/plain.png"}},
            {"type": "Emoji", "name": ":b@d:", "icon": {"url": "https://e.example/bad.png"}},
            {"type": "Emoji", "name": ":x:", "icon": {"url": "https://e.example/x.png"}},
            {"type": "Emoji", "name": ":unused:", "icon": {"url": "https://e.example/u.png"}},
            {"type": "Emoji", "name": ":ok_1:", "icon": {"url": "https://e.example/second.png"}},
            {"type": "Emoji", "name": ["odd"], "icon": 7},
        ]);
        let got = emojis(Some(&tags), &["hi :ok_1: :plain: :b@d: :x:"]);
        assert_eq!(got, vec![Emoji { shortcode: "ok_1".into(), url: "https://e.example/ok.png".into() }]);
        // One tag alone (not in a list) is read too.
        let one = json!({"type": "Emoji", "name": ":solo:", "icon": "https://e.example/s.png"});
        assert_eq!(emojis(Some(&one), &[":solo:"]).len(), 1);
    }

    #[test]
    fn quote_links_are_added_once() {
        let note = json!({"_misskey_quote": "https://m.example/notes/1"});
        let url = quote_url(&note).unwrap();
        let c = with_quote_link("<p>hi</p>", &url);
        assert!(
            c.ends_with(
                "<p class=\"quote-inline\">RE: <a href=\"https://m.example/notes/1\">https://m.example/notes/1</a></p>"
            ),
            "{c}"
        );
        assert_eq!(with_quote_link(&c, &url), c);
        let e232 = json!({"tag": [{"type": "Link", "mediaType": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"", "href": "https://x.example/o/2"}]});
        assert_eq!(quote_url(&e232).as_deref(), Some("https://x.example/o/2"));
        assert_eq!(quote_url(&json!({"quoteUrl": "javascript:alert(1)"})), None);
    }

    #[test]
    fn events_show_time_and_place() {
        let e = json!({"type": "Event", "name": "Party <b>now</b>", "startTime": "2019-12-18T13:00:00Z",
            "endTime": "2019-12-18T14:00:00Z", "location": {"type": "Place", "name": "Castle",
            "address": {"addressLocality": "Nantes", "addressCountry": "France", "postalCode": null}}});
        let c = converted_content(&e, "https://mobilizon.example/events/1");
        assert!(c.starts_with("<h2>Party now</h2>"), "{c}");
        assert!(c.contains("<p>2019-12-18 13:00 UTC – 2019-12-18 14:00 UTC</p>"), "{c}");
        assert!(c.contains("<p>Castle, Nantes, France</p>"), "{c}");
        assert!(
            c.ends_with("<p><a href=\"https://mobilizon.example/events/1\">https://mobilizon.example/events/1</a></p>"),
            "{c}"
        );
    }
}
