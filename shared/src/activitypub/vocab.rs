//! ActivityPub wire facts: contexts, media types, and reading the loosely typed JSON other servers
//! send (a property may be a string, an object or an array of either).

use serde_json::Value;

pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// The special collection that makes an object public.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const LD_JSON_AS: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// Mastodon's extensions, so Mastodon reads `discoverable`, `featured`, profile fields, blurhash,
/// focal points and a poll's `votersCount`.
pub fn context() -> Value {
    serde_json::json!([
        AS_CONTEXT,
        SECURITY_CONTEXT,
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "blurhash": "toot:blurhash",
            "focalPoint": { "@container": "@list", "@id": "toot:focalPoint" },
            "votersCount": "toot:votersCount",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value"
        }
    ])
}

/// Whether an `Accept` header asks for ActivityPub JSON rather than HTML.
pub fn wants_activity_json(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let part = part.trim().to_ascii_lowercase();
        part.starts_with(ACTIVITY_JSON)
            || (part.starts_with("application/ld+json") && part.contains("https://www.w3.org/ns/activitystreams"))
    })
}

/// Whether a `Content-Type` is one ActivityPub documents may have.
pub fn is_activity_content_type(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    ct.starts_with(ACTIVITY_JSON)
        || (ct.starts_with("application/ld+json") && ct.contains("https://www.w3.org/ns/activitystreams"))
}

/// The id of a property that is either a bare id or an object with an `id`.
pub fn id_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Entries of a list property read where one of them is looked for (`url`, `icon`).
pub const MAX_LIST: usize = 200;

/// A property as a list: absent → empty, one value → one element.
pub fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
    }
}

/// The ids a property holds (`to`, `cc`, …).
pub fn ids(v: Option<&Value>) -> Vec<&str> {
    list(v).into_iter().filter_map(id_of).collect()
}

/// `type` as a string (the first one when it is a list).
pub fn type_of(v: &Value) -> &str {
    match v.get("type") {
        Some(Value::String(s)) => s,
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or(""),
        _ => "",
    }
}

pub fn str_prop<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// The host (with port when not the default) of a URL, lowercased; `None` for a non-http(s) URL.
pub fn host_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// A link another server sent, as it may be stored and shown: an absolute http(s) URL with a
/// host (a protocol-relative `//host/path` is taken as https), normalised by the URL parser;
/// anything else (`javascript:`, `data:`, relative paths, over-long values) is `None`.
pub fn http_url(raw: &str) -> Option<String> {
    const MAX_URL: usize = 2048;
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return None;
    }
    let absolute = match raw.strip_prefix("//") {
        Some(rest) => format!("https://{rest}"),
        None => raw.to_string(),
    };
    let u = url::Url::parse(&absolute).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(u.to_string())
}

/// Whether two URLs are on the same host (origin check for embedded objects).
pub fn same_host(a: &str, b: &str) -> bool {
    matches!((host_of(a), host_of(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_http_links_are_kept() {
        assert_eq!(http_url("https://a.example/x").as_deref(), Some("https://a.example/x"));
        assert_eq!(http_url("//a.example/x").as_deref(), Some("https://a.example/x"));
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "/relative",
            "ftp://a/x",
            "https://",
            "vbscript:x",
        ] {
            assert_eq!(http_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn negotiation_reads_both_activity_types() {
        assert!(wants_activity_json("application/activity+json"));
        assert!(wants_activity_json(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", text/html;q=0.1"
        ));
        assert!(!wants_activity_json("text/html,application/xhtml+xml"));
        assert!(!wants_activity_json("application/ld+json"));
        assert!(!is_activity_content_type("application/json"));
        assert!(is_activity_content_type("application/activity+json; charset=utf-8"));
    }

    #[test]
    fn loose_properties_are_read_in_every_shape() {
        let v = json!({"a": "x", "b": {"id": "y"}, "c": ["x", {"id": "y"}, 3], "type": ["Note", "Other"]});
        assert_eq!(id_of(&v["a"]), Some("x"));
        assert_eq!(id_of(&v["b"]), Some("y"));
        assert_eq!(ids(v.get("c")), vec!["x", "y"]);
        assert!(ids(v.get("missing")).is_empty());
        assert_eq!(type_of(&v), "Note");
        assert!(same_host("https://a.example/users/x", "https://A.example/notes/1"));
        assert!(!same_host("https://a.example/x", "https://b.example/x"));
        assert!(!same_host("https://a.example:8443/x", "https://a.example/x"));
    }
}
