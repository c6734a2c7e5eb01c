//! Input an attacker chooses, sent to the same handlers the Lambdas run: it gets a clear 4xx and
//! never takes the process down; what other servers sent is shown only as safe links and HTML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel_e2e::InProcess;

/// `a[x][x]…[x]=1`, `depth` brackets deep.
fn nested_key(depth: usize) -> String {
    format!("a{}=1", "[x]".repeat(depth))
}

/// A form or query string nesting thousands of levels deep used to overflow the stack in the
/// parameter parser and abort the process; any caller could send it, signed in or not. The test
/// thread's stack (2 MB) is smaller than a Lambda's main thread's, so an abort shows here first.
#[tokio::test]
async fn deeply_nested_parameters_are_refused_not_followed() {
    let p = InProcess::new().await;
    let deep = nested_key(5000);
    for (method, uri, body) in [
        ("POST", "/api/v1/apps".to_string(), Some(deep.as_str())),
        ("POST", "/oauth/token".to_string(), Some(deep.as_str())),
        ("POST", "/api/v1/statuses".to_string(), Some(deep.as_str())),
        ("GET", format!("/api/v1/timelines/public?{deep}"), None),
        ("GET", format!("/api/v1/accounts/search?{deep}"), None),
    ] {
        let (status, body, _) = p.call_as(Some(&p.token), method, &uri, body).await;
        assert_eq!(status, 400, "{method} {uri:.40}: {body}");
        assert!(body["error"].as_str().unwrap().contains("nest"), "{body}");
    }
    // 32 levels are still read (Rack's limit); 33 are not.
    let (status, _, _) = p.call_as(None, "GET", &format!("/api/v1/timelines/public?{}", nested_key(31)), None).await;
    assert_eq!(status, 200);
    let (status, _, _) = p.call_as(None, "GET", &format!("/api/v1/timelines/public?{}", nested_key(32)), None).await;
    assert_eq!(status, 400);
    // Too many parameters: refused before they are assembled.
    let many = (0..70_000).map(|i| format!("k{i}=1")).collect::<Vec<_>>().join("&");
    let (status, body, _) = p.call_as(None, "POST", "/api/v1/apps", Some(&many)).await;
    assert_eq!(status, 400, "{body}");
    // Deep JSON is refused by the JSON parser's own limit, with the same kind of answer.
    let json = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let (status, body, _) = p.call_json(None, "POST", "/api/v1/apps", &json).await;
    assert_eq!(status, 400, "{body}");
}

/// A remote actor whose links are `javascript:` or protocol-relative reaches clients as safe
/// links only, even when stored that way before the inbound check existed.
#[tokio::test]
async fn stored_remote_links_reach_clients_as_http_only() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let doc = serde_json::json!({
        "id": "https://evil.example/users/x", "type": "Person", "preferredUsername": "x",
        "inbox": "https://evil.example/users/x/inbox",
        "publicKey": { "id": "https://evil.example/users/x#main-key", "publicKeyPem": "pem" },
        "url": "javascript:alert(1)", "icon": { "url": "javascript:alert(2)" }, "image": "//evil.example/h.png",
        "summary": "<a href=\"javascript:alert(3)\">bio</a>",
    });
    // What the inbound conversion keeps: only http(s), the protocol-relative made https.
    let account = petrel::activitypub::convert::remote_account(&doc, "9001".into(), 0).unwrap();
    let remote = account.remote.clone().unwrap();
    assert_eq!(remote.url, "https://evil.example/users/x");
    assert_eq!(remote.avatar_url, None);
    assert_eq!(remote.header_url.as_deref(), Some("https://evil.example/h.png"));
    assert!(!account.note.contains("javascript"), "{}", account.note);
    // A record stored as it was before the check (written directly) still renders safely.
    let mut old = account.clone();
    let r = old.remote.as_mut().unwrap();
    r.url = "javascript:alert(1)".into();
    r.avatar_url = Some("javascript:alert(2)".into());
    old.note = "<a href=\"javascript:alert(3)\">bio</a>".into();
    let old = petrel::repo::actors::save(table, old).await.unwrap();
    let (status, body, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/accounts/{}", old.id), None).await;
    assert_eq!(status, 200);
    let text = body.to_string();
    assert!(!text.to_lowercase().contains("javascript"), "{text}");
    // Actors with usernames no server would issue are refused whole.
    for bad in ["", "a b", "<script>", "x/../y", ".dot", "a\"b"] {
        let mut d = doc.clone();
        d["preferredUsername"] = bad.into();
        assert!(petrel::activitypub::convert::remote_account(&d, "9002".into(), 0).is_err(), "{bad:?}");
    }
}

/// The tag feeds hold this server's public posts; a remote post under the same tag (which the
/// tag's index also lists) is not shown as this server's own.
#[tokio::test]
async fn tag_feeds_hold_local_posts_only() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let (status, local, _) = p.call_as(Some(&p.token), "POST", "/api/v1/statuses", Some("status=mine+%23birds")).await;
    assert_eq!(status, 200, "{local}");
    let doc = serde_json::json!({
        "id": "https://other.example/users/y", "type": "Person", "preferredUsername": "y",
        "inbox": "https://other.example/users/y/inbox",
        "publicKey": { "id": "https://other.example/users/y#main-key", "publicKeyPem": "pem" },
    });
    let author = petrel::activitypub::convert::remote_account(&doc, "9003".into(), 0).unwrap();
    let author = petrel::repo::actors::save(table, author).await.unwrap();
    let note = serde_json::json!({
        "id": "https://other.example/notes/1", "type": "Note", "attributedTo": "https://other.example/users/y",
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": "<p>theirs #birds</p>",
        "tag": [{ "type": "Hashtag", "name": "#birds" }],
    });
    let remote = petrel::activitypub::convert::remote_status(&note, &author, petrel::ids::snowflake()).unwrap();
    let delivery = petrel::repo::statuses::Delivery { home_of: vec![p.account.id.clone()], ..Default::default() };
    petrel::repo::statuses::store_remote(table, &remote.status, &delivery).await.unwrap();
    let page = feed::load::tag_feed(&p.ctx, "birds", None, 20, &[]).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, [local["id"].as_str().unwrap()], "the remote post is in the tag feed");
}

/// One received post costs a bounded amount: mentions, hashtags and attachments are capped, and
/// over-long content is refused (the caps are in `convert::MAX_*` and SECURITY.md).
#[test]
fn received_posts_are_capped() {
    use petrel::activitypub::convert::{self, MAX_ATTACHMENTS, MAX_CONTENT_BYTES, MAX_MENTIONS, MAX_TAGS};
    let doc = serde_json::json!({
        "id": "https://many.example/users/z", "type": "Person", "preferredUsername": "z",
        "inbox": "https://many.example/users/z/inbox",
        "publicKey": { "id": "https://many.example/users/z#main-key", "publicKeyPem": "pem" },
    });
    let author = convert::remote_account(&doc, "9004".into(), 0).unwrap();
    let mut tags: Vec<serde_json::Value> = (0..5000)
        .map(|i| serde_json::json!({ "type": "Mention", "href": format!("https://many.example/users/u{i}") }))
        .collect();
    tags.extend((0..5000).map(|i| serde_json::json!({ "type": "Hashtag", "name": format!("#t{i}") })));
    tags.rotate_left(4900); // hashtags early enough to be read
    let attachments: Vec<serde_json::Value> = (0..500)
        .map(|i| serde_json::json!({ "type": "Document", "mediaType": "image/png", "url": format!("https://many.example/{i}.png") }))
        .collect();
    let mut note = serde_json::json!({
        "id": "https://many.example/notes/1", "type": "Note", "attributedTo": "https://many.example/users/z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": "<p>hi</p>",
        "tag": tags, "attachment": attachments,
    });
    let read = convert::remote_status(&note, &author, "1".into()).unwrap();
    assert!(read.mentioned_uris.len() <= MAX_MENTIONS, "{}", read.mentioned_uris.len());
    assert!(!read.status.tags.is_empty() && read.status.tags.len() <= MAX_TAGS, "{}", read.status.tags.len());
    assert_eq!(read.status.media.len(), MAX_ATTACHMENTS);
    note["content"] = "x".repeat(MAX_CONTENT_BYTES + 1).into();
    assert!(convert::remote_status(&note, &author, "2".into()).is_err());
}

/// A method a path does not take gets Mastodon's answer with a JSON body, not an empty 405.
#[tokio::test]
async fn wrong_methods_get_a_json_error() {
    let p = InProcess::new().await;
    for (method, uri) in
        [("POST", "/api/v1/custom_emojis"), ("DELETE", "/api/v1/statuses"), ("PATCH", "/api/v1/instance")]
    {
        let (status, body, _) = p.call_as(Some(&p.token), method, uri, None).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("Record not found")), "{method} {uri}");
    }
}
