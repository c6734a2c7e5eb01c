//! Property tests over the parsers that take outside input: form and query parameters, signature
//! and structured-field headers, HTML sanitising, links and received ActivityPub documents. No
//! input may panic (or abort); what comes out must be safe to store and show.
//!
//! CI runs the default number of cases (256 per property, a few thousand in all). For a longer run:
//! `PROPTEST_CASES=100000 cargo test -p petrel --test properties --release`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use petrel::activitypub::{convert, sanitize, signatures, vocab};
use proptest::prelude::*;
use serde_json::Value;

/// Keys as clients and attackers write them: names, brackets, nesting, empty segments.
fn form_key() -> impl Strategy<Value = String> {
    let segment = prop_oneof![Just(String::new()), "[a-z0-9_]{1,6}", "[\\[\\]a-z]{1,4}"];
    ("[a-z_]{0,6}", prop::collection::vec(segment, 0..40))
        .prop_map(|(base, segs)| format!("{base}{}", segs.iter().map(|s| format!("[{s}]")).collect::<String>()))
}

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("https://remote.example/users/x"),
            Just("javascript:alert(1)"),
            Just("//evil.example/x"),
            Just("https://www.w3.org/ns/activitystreams#Public"),
            Just("Note"),
            Just("Person"),
            Just("Mention"),
            Just("Hashtag"),
            Just("Emoji"),
            Just("Link"),
            Just(":blob_cat:"),
            Just("https://e.example/emoji.png"),
            Just("text/html"),
            Just("video/mp4"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("type".to_string()),
                    Just("url".to_string()),
                    Just("href".to_string()),
                    Just("tag".to_string()),
                    Just("attachment".to_string()),
                    Just("content".to_string()),
                    Just("name".to_string()),
                    Just("icon".to_string()),
                    Just("mediaType".to_string()),
                    Just("location".to_string()),
                    Just("quoteUrl".to_string()),
                    Just("_misskey_quote".to_string()),
                    Just("startTime".to_string()),
                    "[a-zA-Z]{1,10}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A link as it may be stored: an absolute http(s) URL.
fn is_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Every `href="…"` in sanitised HTML uses a scheme the sanitiser allows.
fn hrefs_are_safe(html: &str) -> bool {
    const ALLOWED: [&str; 11] =
        ["http:", "https:", "dat:", "dweb:", "ipfs:", "ipns:", "ssb:", "gopher:", "xmpp:", "magnet:", "gemini:"];
    html.split("href=\"").skip(1).all(|rest| {
        let value = rest.split('"').next().unwrap_or_default().to_ascii_lowercase();
        ALLOWED.iter().any(|s| value.starts_with(s))
    })
}

proptest! {
    #[test]
    fn form_parameters_never_panic(pairs in prop::collection::vec((form_key(), ".{0,8}"), 0..30)) {
        if let Ok(value) = petrel::api::params::form_to_json(pairs) {
            // Whatever is accepted is an object no deeper than the limit.
            fn depth(v: &Value) -> usize {
                match v {
                    Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
                    Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
                    _ => 0,
                }
            }
            prop_assert!(value.is_object());
            prop_assert!(depth(&value) <= petrel::api::params::MAX_DEPTH + 1);
        }
    }

    #[test]
    fn query_strings_never_panic(query in ".{0,300}") {
        let _ = petrel::api::params::parse_query(Some(&query));
    }

    #[test]
    fn signature_headers_never_panic(
        signature in ".{0,200}",
        input in ".{0,200}",
        digest in ".{0,80}",
        date in ".{0,40}",
        which in 0u8..4,
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        };
        match which {
            0 => set("signature", &signature),
            1 => { set("signature", &signature); set("signature-input", &input); }
            2 => set("authorization", &format!("Signature {signature}")),
            _ => { set("signature", &format!("keyId=\"{input}\",signature=\"{signature}\",headers=\"(request-target) host date digest\"")); }
        }
        set("digest", &digest);
        set("content-digest", &digest);
        set("date", &date);
        set("host", "example.com");
        let incoming = signatures::Incoming {
            method: &Method::POST,
            path_and_query: "/inbox",
            scheme: "https",
            authority: "example.com",
            headers: &headers,
            body: &body,
        };
        let _ = signatures::parse(&incoming, time::OffsetDateTime::now_utc());
    }

    #[test]
    fn sanitised_html_links_only_to_allowed_schemes(html in prop_oneof![
        ".{0,200}",
        prop::collection::vec(prop_oneof![
            Just("<a href=\"javascript:alert(1)\">".to_string()),
            Just("<a href=\"//evil.example/\">".to_string()),
            Just("<a href=\"  JaVaScRiPt:x\">".to_string()),
            Just("<a href=\"https://ok.example/\">".to_string()),
            Just("<script>".to_string()),
            Just("</a>".to_string()),
            Just("<img src=x onerror=alert(1)>".to_string()),
            Just("<p onclick=\"x\">".to_string()),
            "[a-z <>\"=/:]{0,12}",
        ], 0..12).prop_map(|parts| parts.concat()),
    ]) {
        let clean = sanitize::clean(&html);
        prop_assert!(hrefs_are_safe(&clean), "{clean}");
        let lower = clean.to_ascii_lowercase();
        prop_assert!(!lower.contains("<script") && !lower.contains("onerror") && !lower.contains("onclick"), "{clean}");
    }

    #[test]
    fn links_are_http_or_nothing(raw in prop_oneof![".{0,80}", "(https?:|javascript:|//|data:)[a-z./:@]{0,30}"]) {
        if let Some(url) = vocab::http_url(&raw) {
            prop_assert!(is_http(&url), "{raw} → {url}");
        }
    }

    #[test]
    fn received_actors_are_safe_or_refused(doc in json(), name in ".{0,20}") {
        let mut doc = doc;
        if let Value::Object(m) = &mut doc {
            m.insert("id".into(), "https://remote.example/users/x".into());
            m.insert("type".into(), "Person".into());
            m.insert("preferredUsername".into(), name.into());
            m.insert("inbox".into(), "https://remote.example/inbox".into());
            m.entry("publicKey").or_insert(serde_json::json!({
                "id": "https://remote.example/users/x#main-key", "publicKeyPem": "pem" }));
        }
        if let Ok(account) = convert::remote_account(&doc, "1".into(), 0) {
            let r = account.remote.unwrap();
            prop_assert!(convert::valid_remote_username(&account.username));
            prop_assert!(is_http(&r.url) && is_http(&r.inbox));
            for url in [&r.avatar_url, &r.header_url, &r.shared_inbox, &r.moved_to].into_iter().flatten() {
                prop_assert!(is_http(url), "{url}");
            }
            prop_assert!(hrefs_are_safe(&account.note));
        }
    }

    #[test]
    fn received_notes_are_safe_or_refused(doc in json(), kind in prop::sample::select(vec![
        "Note", "Question", "Article", "Page", "Image", "Video", "Audio", "Event",
    ])) {
        let author = convert::remote_account(&serde_json::json!({
            "id": "https://remote.example/users/x", "type": "Person", "preferredUsername": "x",
            "inbox": "https://remote.example/inbox",
            "publicKey": { "id": "https://remote.example/users/x#main-key", "publicKeyPem": "pem" },
        }), "1".into(), 0).unwrap();
        let mut doc = doc;
        if let Value::Object(m) = &mut doc {
            m.insert("id".into(), "https://remote.example/notes/1".into());
            m.insert("type".into(), kind.into());
            m.insert("attributedTo".into(), "https://remote.example/users/x".into());
        }
        if let Ok(note) = convert::remote_status(&doc, &author, "2".into()) {
            prop_assert!(hrefs_are_safe(&note.status.content));
            prop_assert!(note.status.remote_url.iter().all(|u| is_http(u)));
            prop_assert!(note.status.media.iter().all(|m| m.remote_url.iter().all(|u| is_http(u))));
            prop_assert!(note.mentioned_uris.iter().all(|u| is_http(u)));
            prop_assert!(note.status.media.len() <= convert::MAX_ATTACHMENTS);
            prop_assert!(note.status.tags.len() <= convert::MAX_TAGS);
            prop_assert!(note.status.emojis.len() <= petrel::activitypub::extras::MAX_EMOJIS);
            prop_assert!(note.status.emojis.iter().all(|e| e.url.starts_with("https://")
                && petrel::model::valid_shortcode(&e.shortcode)));
        }
    }

    #[test]
    fn link_readers_never_panic_and_return_http(html in prop_oneof![
        ".{0,200}",
        "(<(a|link|meta|title|p|script) ?(href|rel|class|content|property|name)?=?\"?(me|og:image|quote-inline|https://x.example/[a-z]{0,5}|javascript:x|/rel)?\"? ?>?[a-z@# ]{0,5}){0,12}",
    ]) {
        let base = url::Url::parse("https://base.example/page").unwrap();
        if let Some(link) = petrel::links::first_link(&html) {
            prop_assert!(is_http(&link));
        }
        let meta = petrel::links::page_meta(&html, &base);
        prop_assert!(meta.image.iter().chain(meta.oembed.iter()).all(|u| is_http(u)));
        let _ = petrel::links::rel_me_links(&html, &base);
        let _ = petrel::links::field_link(&html, false);
    }

    #[test]
    fn typed_text_renders_safely(text in ".{0,200}", url in prop_oneof![Just("javascript:alert(1)".to_string()), Just("https://ok.example/@m".to_string())]) {
        let mention = petrel::text::ResolvedMention { typed: "@m".into(), url, username: "m".into() };
        let out = petrel::text::render(&format!("@m {text}"), "https://here.example", &[mention]);
        prop_assert!(hrefs_are_safe(&out.html), "{}", out.html);
    }
}
