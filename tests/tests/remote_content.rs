//! Remote content as Mastodon shows it (issue #19): payloads captured from PeerTube, Funkwhale,
//! Mobilizon, Pixelfed, Misskey, Fedibird, Pleroma/Akkoma, GoToSocial, Mastodon and Lemmy
//! (`tests/fixtures/remote`, sources in its README) go through the inbox's processing, and the
//! client API's answer is checked: content, url, media, emoji, quotes, bot and group. Then link
//! preview cards and verified profile links against a local HTTP server, with the work queued by
//! the API and the inbox and done by outbox-fanout's handlers — on the embedded backend and on
//! the AWS adapters (moto).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use petrel::model::Account;
use petrel_e2e::InProcess;
use serde_json::{json, Value};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn fixture(name: &str) -> Value {
    let path = petrel_e2e::workspace().join("tests/fixtures/remote").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text.replace("{{DOMAIN}}", "mastodon.example")).unwrap()
}

/// A minimal Person for `uri` (for objects whose author document is not among the fixtures).
fn person(uri: &str, extra: Value) -> Value {
    let name = uri.rsplit('/').next().unwrap();
    let mut doc = json!({
        "id": uri, "type": "Person", "preferredUsername": name, "inbox": format!("{uri}/inbox"),
        "followers": format!("{uri}/followers"),
        "publicKey": { "id": format!("{uri}#main-key"), "owner": uri, "publicKeyPem": "pem" },
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc
}

async fn save_actor(p: &InProcess, doc: &Value) -> Account {
    let a = petrel::activitypub::convert::remote_account(doc, petrel::ids::snowflake(), 0).unwrap();
    petrel::repo::actors::save(p.ctx.stores.table.as_ref(), a).await.unwrap()
}

/// The owner follows `actor` (accepted), so its posts reach the home timeline.
async fn follow(p: &InProcess, actor: &Account) {
    let table = p.ctx.stores.table.as_ref();
    petrel::repo::follows::request_following(table, &p.account.id, &actor.id, &petrel::ids::snowflake()).await.unwrap();
    assert!(petrel::repo::follows::accept_following(table, &p.account.id, &actor.id).await.unwrap());
}

/// Receives `payload` (a Create, or an object wrapped in one) from `actor`, and returns the
/// status entity the home timeline shows for it.
async fn receive(p: &InProcess, actor: &Account, payload: Value) -> Value {
    let uri = actor.remote.as_ref().unwrap().uri.clone();
    let mut activity = if payload["type"] == "Create" {
        payload
    } else {
        json!({ "id": format!("{}#create", payload["id"].as_str().unwrap()), "type": "Create", "actor": uri, "object": payload })
    };
    // Documentation snippets carry no addressing or author: addressed as a server would.
    let object = activity["object"].as_object_mut().unwrap();
    object.entry("attributedTo").or_insert_with(|| json!(uri));
    object.entry("to").or_insert_with(|| json!([PUBLIC]));
    let id = object["id"].as_str().unwrap().to_string();
    inbox::process::activity(&p.ctx, &activity, actor).await.unwrap();
    let (status, body, _) = p.call_as(Some(&p.token), "GET", "/api/v1/timelines/home?limit=40", None).await;
    assert_eq!(status, 200, "{body}");
    let found = body.as_array().unwrap().iter().find(|s| s["uri"] == id.as_str()).cloned();
    found.unwrap_or_else(|| panic!("{id} not in the home timeline: {body}"))
}

fn tags(s: &Value) -> Vec<&str> {
    s["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect()
}

async fn from_fixture_actor(p: &InProcess, actor_file: &str) -> Account {
    let a = save_actor(p, &fixture(actor_file)).await;
    follow(p, &a).await;
    a
}

async fn from_person(p: &InProcess, uri: &str) -> Account {
    let a = save_actor(p, &person(uri, json!({}))).await;
    follow(p, &a).await;
    a
}

async fn remote_content(p: InProcess) {
    // PeerTube: a Video is its name and a link to its page, with the video file as media.
    let framasoft = from_fixture_actor(&p, "peertube-account.actor.json").await;
    let s = receive(&p, &framasoft, fixture("peertube-video.create.json")).await;
    let watch = "https://framatube.org/videos/watch/6050732a-8a7a-43d4-a6cd-809525a1d206";
    assert_eq!(s["url"], watch);
    let content = s["content"].as_str().unwrap();
    assert!(content.starts_with("<h2>Déframasoftisons Internet [Framasoft]</h2>"), "{content}");
    assert!(content.contains(&format!("<a href=\"{watch}\"")), "{content}");
    assert_eq!(s["spoiler_text"], "");
    let media = &s["media_attachments"][0];
    assert_eq!(
        (media["type"].as_str(), media["remote_url"].as_str()),
        (Some("video"), Some("https://framatube.org/static/webseed/6050732a-8a7a-43d4-a6cd-809525a1d206-1080.mp4"))
    );
    assert_eq!(media["description"], "Déframasoftisons Internet [Framasoft]");
    assert!(tags(&s).contains(&"framasoft"), "{:?}", tags(&s));

    // Funkwhale: an Audio, its summary under the name, the track page as url, the file as media
    // (Funkwhale names the type `mimeType`).
    let channel = from_fixture_actor(&p, "funkwhale-channel.actor.json").await;
    let s = receive(&p, &channel, fixture("funkwhale-audio.create.json")).await;
    assert_eq!(s["url"], "https://channels.tests.funkwhale.audio/library/tracks/74");
    let content = s["content"].as_str().unwrap();
    assert!(content.starts_with("<h2>Compositions - Test Audio for Pleroma</h2>"), "{content}");
    assert!(content.contains("<p>#funkwhale #test #tests</p>"), "{content}");
    assert_eq!(s["media_attachments"][0]["type"], "audio");
    assert!(s["media_attachments"][0]["url"].as_str().unwrap().contains("/api/v1/listen/"));

    // Mobilizon: an Event with its time and place.
    let tcit = from_fixture_actor(&p, "mobilizon-user.actor.json").await;
    let s = receive(&p, &tcit, fixture("mobilizon-event.object.json")).await;
    assert_eq!(s["url"], "https://mobilizon.org/events/252d5816-00a3-4a89-a66f-15bf65c33e39");
    let content = s["content"].as_str().unwrap();
    assert!(content.starts_with("<h2>Mobilizon Launching Party</h2>"), "{content}");
    assert!(content.contains("<p>2019-12-18 13:00 UTC – 2019-12-18 14:00 UTC</p>"), "{content}");
    assert!(
        content.contains("<p>Cour du Château des Ducs de Bretagne, Nantes, Pays de la Loire, France</p>"),
        "{content}"
    );
    assert_eq!(tags(&s), ["mobilizon", "federation", "activitypub", "party"]);
    assert!(s["media_attachments"].as_array().unwrap().is_empty());

    // Pixelfed: a Note with an image, its description, size and blurhash.
    let px = from_person(&p, "https://pixelfed.social/users/mczachurski").await;
    let s = receive(&p, &px, fixture("pixelfed-note.create.json")).await;
    assert_eq!(s["url"], "https://pixelfed.social/p/mczachurski/624592411232880406");
    let m = &s["media_attachments"][0];
    assert_eq!(m["type"], "image");
    assert_eq!(
        m["description"],
        "Stickers on the glass from the stairs, casting long and colourful shadows from the sun."
    );
    assert_eq!(m["blurhash"], "U9AmM5?GIp9b~UNGoeRk4=E2oeax4;ofxtWB");
    assert_eq!(
        (m["meta"]["original"]["width"].as_u64(), m["meta"]["original"]["height"].as_u64()),
        (Some(1620), Some(1080))
    );
    assert!(s["content"].as_str().unwrap().starts_with("Shadows "));

    // Misskey: the quote becomes a readable "RE:" link (Misskey's own RE: link in the content
    // points elsewhere in this capture, so the quoted note's link is added).
    let mk = from_person(&p, "https://misskey.local/users/93492q0ip0").await;
    let s = receive(&p, &mk, fixture("misskey-quote.object.json")).await;
    let quoted = "https://mastodon.local/objects/43479e20-c0f8-4f49-bf7f-13fab8234924";
    let content = s["content"].as_str().unwrap();
    assert!(content.contains(&format!("<p class=\"quote-inline\">RE: <a href=\"{quoted}\"")), "{content}");
    assert_eq!(content.matches(quoted).count(), 2, "one link (href and text): {content}");

    // Fedibird: `quoteUri`.
    let fb = from_person(&p, "https://fedibird.local/users/akkoma_ap_integration_tester").await;
    let s = receive(&p, &fb, fixture("fedibird-quote.object.json")).await;
    assert!(s["content"].as_str().unwrap().contains(&format!("RE: <a href=\"{quoted}\"")), "{}", s["content"]);
    assert_eq!(s["visibility"], "unlisted");

    // Pleroma/Akkoma: custom emoji in the content and in the summary.
    let rin = from_person(&p, "https://patch.local/users/rin").await;
    let s = receive(&p, &rin, fixture("akkoma-emoji.object.json")).await;
    assert_eq!(s["spoiler_text"], ":joker_smile: ", "the summary as sent");
    let mut emojis: Vec<Value> = s["emojis"].as_array().unwrap().clone();
    emojis.sort_by_key(|e| e["shortcode"].as_str().unwrap().to_string());
    assert_eq!(
        emojis,
        vec![
            json!({"shortcode": "joker_disapprove", "url": "https://patch.local/emoji/custom/joker_disapprove.png",
                "static_url": "https://patch.local/emoji/custom/joker_disapprove.png", "visible_in_picker": false}),
            json!({"shortcode": "joker_smile", "url": "https://patch.local/emoji/custom/joker_smile.png",
                "static_url": "https://patch.local/emoji/custom/joker_smile.png", "visible_in_picker": false}),
        ]
    );

    // GoToSocial's documented Note: its emoji is not used in the text, so (as on Mastodon) the
    // status lists none; the language comes from contentMap.
    let gts = from_person(&p, "http://example.org/users/i_p_freely").await;
    let s = receive(&p, &gts, fixture("gotosocial-note.object.json")).await;
    assert_eq!(s["emojis"], json!([]));
    assert_eq!(s["language"], "en");
    assert_eq!(tags(&s), ["welcome"]);
    assert_eq!(s["url"], "http://example.org/@i_p_freely/statuses/01FF25D5Q0DH7CHD57CTRS6WK0");

    // Mastodon's documented custom emoji.
    let alice = from_person(&p, "https://example.com/users/alice").await;
    let s = receive(&p, &alice, fixture("mastodon-emoji.object.json")).await;
    assert_eq!(s["emojis"][0]["shortcode"], "Kappa");
    assert_eq!(s["emojis"][0]["url"], "https://example.com/files/kappa.png");
    assert_eq!(s["url"], "https://example.com/@alice/hello-world", "no url: the id");

    // Actors: a Lemmy community is a group, Mastodon's instance actor (Application) a bot, and an
    // actor's emoji are listed for its name and fields.
    let account = |a: &Account| format!("/api/v1/accounts/{}", a.id);
    let group = save_actor(&p, &fixture("lemmy-group.actor.json")).await;
    let (_, g, _) = p.call_as(Some(&p.token), "GET", &account(&group), None).await;
    assert_eq!((g["group"].as_bool(), g["bot"].as_bool()), (Some(true), Some(false)), "{g}");
    let app = save_actor(&p, &fixture("mastodon-application.actor.json")).await;
    let (_, a, _) = p.call_as(Some(&p.token), "GET", &account(&app), None).await;
    assert_eq!((a["group"].as_bool(), a["bot"].as_bool()), (Some(false), Some(true)), "{a}");
    let emoji = json!({"type": "Emoji", "name": ":blobcat:", "icon": {"type": "Image", "url": "https://e.example/blobcat.png"}});
    let bad = json!({"type": "Emoji", "name": ":evil:", "icon": {"url": "javascript:alert(1)"}});
    let doc = person(
        "https://e.example/users/em",
        json!({"name": "Em :blobcat: :evil:", "tag": [emoji, bad],
        "attachment": [{"type": "PropertyValue", "name": "Cat", "value": ":blobcat:"}]}),
    );
    let em = save_actor(&p, &doc).await;
    let (_, e, _) = p.call_as(Some(&p.token), "GET", &account(&em), None).await;
    assert_eq!(
        e["emojis"],
        json!([{"shortcode": "blobcat", "url": "https://e.example/blobcat.png",
        "static_url": "https://e.example/blobcat.png", "visible_in_picker": false}]),
        "{e}"
    );

    // Odd shapes are stored without failing: numbers and strings where objects are expected.
    let odd = json!({"id": "https://e.example/notes/odd", "type": "Video", "name": ["not", "a", "string"],
        "url": 42, "attachment": "https://e.example/file", "tag": {"type": "Emoji", "name": ":x:", "icon": 5},
        "icon": [], "location": 7, "startTime": "yesterday", "content": null, "to": PUBLIC});
    let em_followed = em.clone();
    follow(&p, &em_followed).await;
    let s = receive(&p, &em_followed, odd).await;
    assert_eq!(s["url"], "https://e.example/notes/odd");
    assert!(s["content"].as_str().unwrap().contains("<a href=\"https://e.example/notes/odd\""), "{}", s["content"]);
}

#[tokio::test]
async fn remote_content_embedded() {
    remote_content(InProcess::new().await).await;
}

async fn on_moto(prefix: &str, vars: &[(&str, &str)]) -> Option<InProcess> {
    let aws = petrel_e2e::fresh_aws(prefix).await?;
    let mut all: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(vars);
    Some(InProcess::with_vars(&all).await)
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_content_on_moto() {
    if let Some(p) = on_moto("petrel-remote", &[]).await {
        remote_content(p).await;
    }
}

// ------------------------------------------------------------------ cards and verified links

/// A small web site on loopback: pages with and without previews, an image, and profile pages
/// that link back or not. Counts the requests each path gets.
struct Site {
    base: String,
    hits: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::new_rgb8(w, h);
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

impl Site {
    async fn start(profile_url: String) -> Site {
        let hits: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
        let counter = hits.clone();
        let image = png(1200, 800);
        let app = axum::Router::new().fallback(move |req: axum::http::Request<axum::body::Body>| {
            let counter = counter.clone();
            let image = image.clone();
            let profile_url = profile_url.clone();
            async move {
                let path = req.uri().path().to_string();
                *counter.lock().unwrap().entry(path.clone()).or_default() += 1;
                let html = |body: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
                match path.as_str() {
                    "/article" => html(r#"<!doctype html><html lang="en"><head><title>Fallback</title>
                        <meta property="og:title" content="A &amp; B: the article">
                        <meta property="og:description" content="What it is about.">
                        <meta property="og:image" content="/cover.png">
                        <meta property="og:site_name" content="The Site">
                        <meta name="author" content="Ann Author"></head><body>text</body></html>"#.into()),
                    "/cover.png" => ([(header::CONTENT_TYPE, "image/png")], image).into_response(),
                    "/video" => html(r#"<html><head><title>Page title</title><meta property="og:site_name" content="Page site">
                        <link rel="alternate" type="application/json+oembed" href="/oembed.json?u=1"></head></html>"#.into()),
                    "/oembed.json" => ([(header::CONTENT_TYPE, "application/json+oembed")],
                        r#"{"type": "video", "version": "1.0", "title": "oEmbed title", "author_name": "Vi Deo",
                            "author_url": "https://tube.example/@vi", "provider_name": "Tube", "provider_url": "https://tube.example/",
                            "thumbnail_url": "/cover.png", "html": "<iframe src=\"https://tube.example/embed\"></iframe>"}"#).into_response(),
                    "/private" => html(r#"<html><head><meta name="robots" content="noindex"><meta property="og:title" content="Hidden"></head></html>"#.into()),
                    "/header-noindex" => ([(header::CONTENT_TYPE, "text/html"), (header::HeaderName::from_static("x-robots-tag"), "noindex")],
                        "<title>Header says no</title>").into_response(),
                    "/json" => ([(header::CONTENT_TYPE, "application/json")], r#"{"title": "not html"}"#).into_response(),
                    "/huge" => html(format!("<title>Huge</title>{}", "x".repeat(2 * 1024 * 1024))),
                    "/redirect-loop" => (StatusCode::FOUND, [(header::LOCATION, "/redirect-loop")]).into_response(),
                    "/me" => html(format!(r#"<html><body><a rel="me" href="{profile_url}">my fediverse profile</a></body></html>"#)),
                    "/not-me" => html(r#"<html><body><a href="https://elsewhere.example/">elsewhere</a></body></html>"#.into()),
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Site { base, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// Takes every queued message and runs the Card and VerifyLinks ones through outbox-fanout's
/// handlers (the others are dropped: no fan-out is under test here). Returns how many ran.
async fn run_link_work(p: &InProcess) -> usize {
    use petrel::events::OutboxEvent;
    let queue = p.ctx.stores.queues.outbox.clone();
    let mut ran = 0;
    loop {
        let got = queue.receive(10, std::time::Duration::from_secs(30), std::time::Duration::ZERO).await.unwrap();
        if got.is_empty() {
            return ran;
        }
        for m in got {
            match serde_json::from_str::<OutboxEvent>(&m.body).unwrap() {
                OutboxEvent::Card(w) => {
                    outbox_fanout::cards::card(&p.ctx, w).await.unwrap();
                    ran += 1;
                }
                OutboxEvent::VerifyLinks(w) => {
                    outbox_fanout::cards::verify_links(&p.ctx, w).await.unwrap();
                    ran += 1;
                }
                _ => {}
            }
            queue.delete(&m.receipt).await.unwrap();
        }
    }
}

async fn post(p: &InProcess, text: &str, visibility: &str) -> String {
    let form = format!(
        "status={}&visibility={visibility}",
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
    );
    let (status, body, _) = p.call_as(Some(&p.token), "POST", "/api/v1/statuses", Some(&form)).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn get_status(p: &InProcess, id: &str) -> Value {
    let (status, body, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/statuses/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn cards_and_links(p: InProcess) {
    let profile = petrel::mastodon::convert::account_url(&p.ctx.config, &p.account.username);
    let site = Site::start(profile).await;
    run_link_work(&p).await;

    // A local public post: the card is queued by the API and made off the request path.
    let id = post(&p, &format!("read this {} please", site.url("/article")), "public").await;
    assert_eq!(site.hits("/article"), 0, "nothing is fetched on the request path");
    assert!(get_status(&p, &id).await["card"].is_null());
    assert_eq!(run_link_work(&p).await, 1);
    assert_eq!(site.hits("/article"), 1);
    let card = get_status(&p, &id).await["card"].clone();
    assert_eq!(card["title"], "A & B: the article");
    assert_eq!(card["description"], "What it is about.");
    assert_eq!((card["provider_name"].as_str(), card["author_name"].as_str()), (Some("The Site"), Some("Ann Author")));
    assert_eq!((card["type"].as_str(), card["url"].as_str()), (Some("link"), Some(site.url("/article").as_str())));
    assert_eq!(card["language"], "en");
    // The image is a thumbnail copied into the bucket, not the page's.
    assert_eq!((card["width"].as_u64(), card["height"].as_u64()), (Some(640), Some(427)));
    let image = card["image"].as_str().unwrap();
    let media_base = p.ctx.config.media_base.clone();
    let key = image.strip_prefix(&format!("{media_base}/")).unwrap_or_else(|| panic!("{image} not in {media_base}"));
    assert!(key.starts_with("media/cards/"), "{key}");
    assert!(p.ctx.stores.blobs.get(key).await.unwrap().is_some(), "the image is in the bucket");
    assert!(card["blurhash"].as_str().is_some_and(|b| b.len() >= 6));
    let (status, same, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/statuses/{id}/card"), None).await;
    assert_eq!((status, &same), (200, &card));

    // Another status linking the same URL shares the card: no second fetch.
    let again = post(&p, &format!("also {}", site.url("/article")), "unlisted").await;
    run_link_work(&p).await;
    assert_eq!(site.hits("/article"), 1);
    assert_eq!(site.hits("/cover.png"), 1);
    assert_eq!(get_status(&p, &again).await["card"]["title"], "A & B: the article");

    // oEmbed, found through the page's discovery link, comes first; its embed HTML is not kept.
    let video = post(&p, &format!("watch {}", site.url("/video")), "public").await;
    run_link_work(&p).await;
    let card = get_status(&p, &video).await["card"].clone();
    assert_eq!((card["title"].as_str(), card["author_name"].as_str()), (Some("oEmbed title"), Some("Vi Deo")));
    assert_eq!(
        (card["provider_name"].as_str(), card["provider_url"].as_str()),
        (Some("Tube"), Some("https://tube.example/"))
    );
    assert_eq!((card["type"].as_str(), card["html"].as_str()), (Some("link"), Some("")));
    assert_eq!(site.hits("/oembed.json"), 1);
    assert!(card["image"].is_null(), "a relative thumbnail_url is not an oEmbed URL: {card}");

    // A received public post gets its card the same way, queued by the inbox.
    let remote = save_actor(&p, &person("https://r.example/users/rob", json!({}))).await;
    follow(&p, &remote).await;
    let link = site.url("/article");
    let note = json!({"id": "https://r.example/notes/1", "type": "Note", "content": format!("<p><a href=\"{link}\">{link}</a></p>"), "to": [PUBLIC]});
    let s = receive(&p, &remote, note).await;
    assert_eq!(run_link_work(&p).await, 1);
    assert_eq!(get_status(&p, s["id"].as_str().unwrap()).await["card"]["title"], "A & B: the article");
    assert_eq!(site.hits("/article"), 1);

    // No card: private posts, mentions only, pages that ask not to be previewed, non-HTML, too
    // large, redirect loops. Each queued page is fetched at most once.
    let private = post(&p, &format!("just us {}", site.url("/article")), "private").await;
    for path in ["/private", "/header-noindex", "/json", "/huge", "/redirect-loop"] {
        let id = post(&p, &format!("see {}", site.url(path)), "public").await;
        run_link_work(&p).await;
        assert!(get_status(&p, &id).await["card"].is_null(), "{path}");
        let (_, c, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/statuses/{id}/card"), None).await;
        assert_eq!(c, json!({}), "{path}");
        assert!(site.hits(path) <= 4, "{path}: {}", site.hits(path));
    }
    assert!(get_status(&p, &private).await["card"].is_null());
    // A link to this server's own pages gets no card, and is not even looked up.
    let own = format!("{}/@{}", p.ctx.config.base_url(), p.account.username);
    let own_post = post(&p, &format!("my profile {own}"), "public").await;
    run_link_work(&p).await;
    assert!(get_status(&p, &own_post).await["card"].is_null());
    assert_eq!(petrel::repo::cards::get(p.ctx.stores.table.as_ref(), &own).await.unwrap(), None);
    let hashtag_only = post(&p, "#nolink here", "public").await;
    assert_eq!(run_link_work(&p).await, 0, "no link, no work");
    assert!(get_status(&p, &hashtag_only).await["card"].is_null());

    // Verified links: a changed field with an https value is checked off the request path.
    let media = petrel::http::app(media::router(p.ctx.clone()));
    let set_fields = |fields: &[(&str, String)]| {
        let mut form = String::new();
        for (i, (name, value)) in fields.iter().enumerate() {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            form.push_str(&format!(
                "fields_attributes[{i}][name]={}&fields_attributes[{i}][value]={}&",
                enc(name),
                enc(value)
            ));
        }
        let req = axum::http::Request::builder()
            .method("PATCH")
            .uri("/api/v1/accounts/update_credentials")
            .header("authorization", format!("Bearer {}", p.token))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(form))
            .unwrap();
        let app = media.clone();
        async move {
            use tower::ServiceExt;
            let r = app.oneshot(req).await.unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    // Only https values are checked; this server's plain http is let through by the same
    // setting that lets it reach loopback at all (PETREL_ALLOW_PRIVATE_NETWORK, tests only).
    set_fields(&[("Site", site.url("/me")), ("Other", site.url("/not-me")), ("Text", "just text".into())]).await;
    assert_eq!(site.hits("/me"), 0, "nothing is fetched on the request path");
    assert!(verify_fields(&p).await.iter().all(|f| f["verified_at"].is_null()));
    assert_eq!(run_link_work(&p).await, 1);
    let fields = verify_fields(&p).await;
    assert!(fields[0]["verified_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{fields:?}");
    assert!(fields[1]["verified_at"].is_null() && fields[2]["verified_at"].is_null(), "{fields:?}");
    assert_eq!((site.hits("/me"), site.hits("/not-me")), (1, 1));
    // The public profile's fields say the same.
    let (_, public, _) = p.call_as(None, "GET", &format!("/api/v1/accounts/{}", p.account.id), None).await;
    assert_eq!(public["fields"][0]["verified_at"], fields[0]["verified_at"]);
    // A changed value is unverified until it is checked again (re-checked on change).
    set_fields(&[("Site", site.url("/me?v=2")), ("Other", site.url("/not-me"))]).await;
    assert!(verify_fields(&p).await[0]["verified_at"].is_null());
    assert_eq!(run_link_work(&p).await, 1);
    assert!(verify_fields(&p).await[0]["verified_at"].is_string());
    assert_eq!(site.hits("/me"), 2);
    // Unchanged fields queue no check; fields without links clear the marks.
    set_fields(&[("Site", site.url("/me?v=2")), ("Other", site.url("/not-me"))]).await;
    assert_eq!(run_link_work(&p).await, 0);
    set_fields(&[("Plain", "no link".into())]).await;
    assert_eq!(run_link_work(&p).await, 1);
    let account = petrel::repo::accounts::by_id(p.ctx.stores.table.as_ref(), &p.account.id).await.unwrap().unwrap();
    assert!(account.verified_links.is_empty(), "{:?}", account.verified_links);
}

async fn verify_fields(p: &InProcess) -> Vec<Value> {
    let (_, me, _) = p.call_as(Some(&p.token), "GET", "/api/v1/accounts/verify_credentials", None).await;
    me["fields"].as_array().unwrap().clone()
}

#[tokio::test]
async fn cards_and_links_embedded() {
    cards_and_links(InProcess::with_vars(&[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_and_links_on_moto() {
    if let Some(p) = on_moto("petrel-cards", &[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await {
        cards_and_links(p).await;
    }
}

/// `rel="me"` checks of single pages, including ones that are not HTML or are missing.
#[tokio::test]
async fn rel_me_pages() {
    let p = InProcess::with_vars(&[("PETREL_ALLOW_PRIVATE_NETWORK", "true")]).await;
    let profile = petrel::mastodon::convert::account_url(&p.ctx.config, &p.account.username);
    let site = Site::start(profile.clone()).await;
    for (path, expect) in [("/me", true), ("/not-me", false), ("/json", false), ("/missing", false), ("/huge", false)] {
        let got = outbox_fanout::cards::links_back(&p.ctx, &site.url(path), &[&profile]).await;
        assert_eq!(got, expect, "{path}");
    }
    // Without the test setting, loopback is refused by the SSRF guard: nothing is fetched.
    let guarded = InProcess::new().await;
    assert!(!outbox_fanout::cards::links_back(&guarded.ctx, &site.url("/me"), &[&profile]).await);
    assert_eq!(site.hits("/me"), 1);
}
