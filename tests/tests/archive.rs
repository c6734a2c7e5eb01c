//! `petrel export` → wipe → `petrel import` on the embedded backend and on moto: an account with
//! a profile (avatar included), posts (an image, an unlisted one, a hashtag with a remote
//! mention, a reply, a boost) and remote followers comes back as clients see it — statuses by
//! id, media bytes, followers, profile — without a queue message; a second import changes
//! nothing, and a truncated, foreign or contradicting archive is refused before any write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use axum::body::Body;
use petrel::archive::{self, Archive, ArchiveError, Quiet};
use petrel::repo::{accounts, follows, oauth};
use petrel::Ctx;
use serde_json::{json, Value};
use tower::ServiceExt;

/// One side of the round trip: a store, the web and media functions over it, and a token.
struct Side {
    ctx: Ctx,
    app: axum::Router,
}

impl Side {
    async fn connect(vars: &[(String, String)]) -> Side {
        let config = petrel::Config::from_vars(|k| {
            let given = vars.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
            given.or_else(|| (k == "PETREL_ALLOW_PRIVATE_NETWORK").then(|| "true".into()))
        })
        .unwrap();
        let ctx = Ctx::connect(config).await.unwrap();
        let app = axum::Router::new().merge(media::router(ctx.clone())).merge(web::router(ctx.clone()));
        Side { ctx, app }
    }

    fn table(&self) -> &dyn petrel::store::Table {
        self.ctx.stores.table.as_ref()
    }

    async fn token_for(&self, username: &str) -> String {
        let account = accounts::by_username(self.table(), username).await.unwrap().unwrap();
        let scopes = vec!["read".to_string(), "write".to_string()];
        let (app, _) = oauth::create_app(
            self.table(),
            "archive-test",
            None,
            vec!["urn:ietf:wg:oauth:2.0:oob".into()],
            scopes.clone(),
        )
        .await
        .unwrap();
        let token = petrel::model::AccessToken {
            client_id: app.client_id,
            account_id: Some(account.id),
            scopes,
            created_at: 0,
            app_name: Some("archive-test".into()),
            app_website: None,
            ..Default::default()
        };
        oauth::issue_token(self.table(), token).await.unwrap()
    }

    async fn call(&self, token: &str, method: &str, uri: &str, body: Option<(&str, Vec<u8>)>) -> (u16, Value) {
        let mut req =
            axum::http::Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header("content-type", content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let response = self.app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, uri: &str) -> Value {
        let (status, body) = self.call(token, "GET", uri, None).await;
        assert_eq!(status, 200, "GET {uri}: {body}");
        body
    }

    async fn form(&self, token: &str, uri: &str, form: &str) -> Value {
        let body = Some(("application/x-www-form-urlencoded", form.as_bytes().to_vec()));
        let (status, body) = self.call(token, "POST", uri, body).await;
        assert_eq!(status, 200, "POST {uri}: {body}");
        body
    }

    async fn multipart(&self, token: &str, method: &str, uri: &str, parts: &[(&str, Part)]) -> Value {
        let boundary = "petrel-archive-test-boundary";
        let mut body = Vec::new();
        for (name, part) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match part {
                Part::Text(t) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                    );
                    body.extend_from_slice(t.as_bytes());
                }
                Part::Png(bytes) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n")
                            .as_bytes(),
                    );
                    body.extend_from_slice(bytes);
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let (status, json) = self.call(token, method, uri, Some((&content_type, body))).await;
        assert!(status == 200 || status == 202, "{method} {uri}: {status} {json}");
        json
    }

    async fn blob(&self, url: &str) -> Vec<u8> {
        let key = url.strip_prefix(&format!("{}/", self.ctx.config.media_base)).expect("a local media URL");
        self.ctx.stores.blobs.get(key).await.unwrap().unwrap_or_else(|| panic!("{key} missing")).bytes.to_vec()
    }
}

enum Part {
    Text(String),
    Png(Vec<u8>),
}

fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x as u8).wrapping_mul(seed), (y as u8) ^ seed, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A remote server with three people: WebFinger and actor documents, and inboxes that accept.
async fn peer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let h = host.clone();
    let actor = move |name: String| {
        let id = format!("http://{h}/users/{name}");
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id, "type": "Person", "preferredUsername": name, "name": format!("{name} remote"),
            "summary": "<p>far away</p>", "url": format!("http://{h}/@{name}"), "inbox": format!("{id}/inbox"),
            "followers": format!("{id}/followers"), "endpoints": { "sharedInbox": format!("http://{h}/inbox") },
            "publicKey": { "id": format!("{id}#main-key"), "owner": id,
                           "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n" },
        })
    };
    let h = host.clone();
    let app = axum::Router::new()
        .route(
            "/.well-known/webfinger",
            axum::routing::get(move |q: axum::extract::Query<BTreeMap<String, String>>| {
                let h = h.clone();
                async move {
                    let resource = q.get("resource").cloned().unwrap_or_default();
                    let name = resource.trim_start_matches("acct:").split('@').next().unwrap_or_default().to_string();
                    axum::Json(json!({ "subject": resource, "links": [
                        { "rel": "self", "type": "application/activity+json", "href": format!("http://{h}/users/{name}") }
                    ]}))
                }
            }),
        )
        .route(
            "/users/{name}",
            axum::routing::get(move |axum::extract::Path(name): axum::extract::Path<String>| {
                let doc = actor(name);
                async move { ([("content-type", "application/activity+json")], doc.to_string()) }
            }),
        )
        .fallback(|| async { axum::http::StatusCode::ACCEPTED });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    host
}

/// Builds the account to export; returns the ids of its posts and boosts.
async fn populate(src: &Side, peer: &str) -> Vec<String> {
    accounts::create(src.table(), "alice", "correct horse battery").await.unwrap();
    let token = src.token_for("alice").await;
    let avatar = png(120, 120, 7);
    src.multipart(
        &token,
        "PATCH",
        "/api/v1/accounts/update_credentials",
        &[
            ("display_name", Part::Text("Alice Archive".into())),
            ("note", Part::Text("Exports & imports.".into())),
            ("fields_attributes[0][name]", Part::Text("pronouns".into())),
            ("fields_attributes[0][value]", Part::Text("she/her".into())),
            ("avatar", Part::Png(avatar)),
        ],
    )
    .await;
    let media = src
        .multipart(
            &token,
            "POST",
            "/api/v2/media",
            &[("file", Part::Png(png(300, 200, 3))), ("description", Part::Text("a gradient".into()))],
        )
        .await;
    let media_id = media["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for form in [
        format!("status=with+a+picture&visibility=public&media_ids[]={media_id}"),
        "status=only+for+those+who+look&visibility=unlisted".into(),
        format!("status=hello+%23Petrel+and+%40bo%40{peer}&visibility=public"),
        "status=followers+only&visibility=private&spoiler_text=cw".into(),
    ] {
        ids.push(src.form(&token, "/api/v1/statuses", &form).await["id"].as_str().unwrap().to_string());
    }
    let reply =
        src.form(&token, "/api/v1/statuses", &format!("status=replying+to+myself&in_reply_to_id={}", ids[0])).await;
    ids.push(reply["id"].as_str().unwrap().to_string());
    let boost = src.form(&token, &format!("/api/v1/statuses/{}/reblog", ids[1]), "").await;
    ids.push(boost["id"].as_str().unwrap().to_string());
    src.form(&token, &format!("/api/v1/statuses/{}/favourite", ids[2]), "").await;
    src.form(&token, &format!("/api/v1/statuses/{}/bookmark", ids[3]), "").await;

    // Two remote followers (bo is also the one mentioned), and one account alice follows.
    let alice = accounts::by_username(src.table(), "alice").await.unwrap().unwrap();
    for name in ["bo", "cy"] {
        let remote =
            petrel::activitypub::resolve::actor(&src.ctx, &format!("http://{peer}/users/{name}"), false).await.unwrap();
        assert!(follows::add_follower(src.table(), &alice, &remote, &format!("http://{peer}/follows/{name}"))
            .await
            .unwrap());
    }
    let di = petrel::activitypub::resolve::actor(&src.ctx, &format!("http://{peer}/users/di"), false).await.unwrap();
    follows::request_following(src.table(), &alice.id, &di.id, "1").await.unwrap();
    follows::accept_following(src.table(), &alice.id, &di.id).await.unwrap();
    ids
}

/// A status as a client sees it, minus what legitimately differs between two stores: account
/// ids (the account and the remote ones get new ids) and the posting app (archives hold none).
fn comparable(mut s: Value) -> Value {
    if let Value::Object(o) = &mut s {
        let acct = o.get("account").map(|a| a["acct"].clone());
        o.insert("account".into(), acct.unwrap_or(Value::Null));
        o.remove("application");
        let has_parent_account = o.get("in_reply_to_account_id").is_some_and(|v| !v.is_null());
        o.insert("in_reply_to_account_id".into(), json!(has_parent_account));
        if let Some(Value::Array(mentions)) = o.get_mut("mentions") {
            for m in mentions {
                m.as_object_mut().unwrap().remove("id");
            }
        }
        if let Some(inner) = o.remove("reblog") {
            o.insert("reblog".into(), if inner.is_null() { inner } else { comparable(inner) });
        }
    }
    s
}

fn accts(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list.as_array().unwrap().iter().map(|a| a["acct"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

/// What a client sees of alice on one side: statuses by id, profile, followers, following.
async fn client_view(side: &Side, ids: &[String]) -> (Vec<Value>, Value, Vec<String>, Vec<String>) {
    let token = side.token_for("alice").await;
    let mut statuses = Vec::new();
    for id in ids {
        statuses.push(comparable(side.get(&token, &format!("/api/v1/statuses/{id}")).await));
    }
    let me = side.get(&token, "/api/v1/accounts/verify_credentials").await;
    let profile = json!({
        "display_name": me["display_name"], "note": me["note"], "fields": me["fields"], "avatar": me["avatar"],
        "header": me["header"], "statuses_count": me["statuses_count"], "followers_count": me["followers_count"],
        "following_count": me["following_count"], "locked": me["locked"], "bot": me["bot"], "acct": me["acct"],
    });
    let id = me["id"].as_str().unwrap();
    let followers = accts(&side.get(&token, &format!("/api/v1/accounts/{id}/followers")).await);
    let following = accts(&side.get(&token, &format!("/api/v1/accounts/{id}/following")).await);
    let timeline: Vec<String> = side
        .get(&token, &format!("/api/v1/accounts/{id}/statuses?limit=40"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let mut expected: Vec<String> = ids.to_vec();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(timeline, expected, "the profile's timeline lists every post, newest first");
    (statuses, profile, followers, following)
}

/// The whole round trip between two stores described by their variables.
async fn round_trip(src_vars: Vec<(String, String)>, dst_vars: Vec<(String, String)>, embedded: bool) {
    let peer = peer().await;
    let src = Side::connect(&src_vars).await;
    let ids = populate(&src, &peer).await;

    let archive =
        archive::export(&src.ctx.config, src.table(), src.ctx.stores.blobs.as_ref(), "alice", &Quiet).await.unwrap();
    let bytes = archive.write_tar_gz(Vec::new()).unwrap();
    let outbox = archive.document(archive::OUTBOX).unwrap();
    assert_eq!(outbox["totalItems"], json!(ids.len()), "every post and the boost: {outbox}");
    assert_eq!(archive.files.len(), 3, "avatar, original and small image: {:?}", archive.files.keys());
    let followers = archive.document(archive::FOLLOWERS).unwrap();
    assert_eq!(followers["totalItems"], 2);
    assert!(followers["orderedItems"][0]["endpoints"]["sharedInbox"].as_str().unwrap().ends_with("/inbox"));
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&archive.documents).unwrap()).contains("PRIVATE KEY"));

    // Wiped: a fresh store. Import from the bytes, counting every store operation.
    let dst = Side::connect(&dst_vars).await;
    let before = dst.ctx.stores.ops.snapshot();
    let read = Archive::read_tar_gz(bytes.as_slice()).unwrap();
    let plan = archive::plan(&read, "alice").unwrap();
    let blobs = dst.ctx.stores.blobs.as_ref();
    let report = archive::import(&dst.ctx.config, dst.table(), blobs, &plan, &Quiet).await.unwrap();
    let ops = dst.ctx.stores.ops.snapshot().since(&before);
    assert_eq!((ops.queue_send, ops.queue_send_batch), (0, 0), "the import is quiet: {ops:?}");
    assert!(report.account_created && report.profile_updated, "{report:?}");
    assert_eq!((report.posts_restored, report.boosts_restored, report.followers_added), (5, 1, 2), "{report:?}");
    assert_eq!((report.following_added, report.mentions_unresolved, report.files_stored), (1, 0, 3), "{report:?}");
    assert_eq!((report.likes_restored, report.bookmarks_restored), (1, 1), "{report:?}");
    if embedded {
        let waiting =
            dst.ctx.stores.queues.outbox.receive(10, std::time::Duration::from_secs(1), std::time::Duration::ZERO);
        assert!(waiting.await.unwrap().is_empty(), "nothing was queued for delivery");
    }
    let restored = accounts::by_username(dst.table(), "alice").await.unwrap().unwrap();
    assert!(restored.password_hash.is_empty(), "no password until `petrel account password`");
    assert!(!petrel::crypto::verify_password("correct horse battery", &restored.password_hash));

    // What clients see is the same on both sides.
    let (src_statuses, src_profile, src_followers, src_following) = client_view(&src, &ids).await;
    let (dst_statuses, dst_profile, dst_followers, dst_following) = client_view(&dst, &ids).await;
    for (a, b) in src_statuses.iter().zip(&dst_statuses) {
        assert_eq!(a, b, "status {} differs after the round trip", a["id"]);
    }
    assert_eq!(src_profile, dst_profile);
    assert_eq!(src_followers, dst_followers);
    assert_eq!(src_followers.len(), 2);
    assert_eq!(src_following, dst_following);
    // Spot checks that the comparison compared something real.
    let picture = &dst_statuses[0]["media_attachments"][0];
    assert!(picture["blurhash"].as_str().is_some_and(|b| b.len() > 5), "{picture}");
    assert_eq!(picture["description"], "a gradient");
    assert_eq!(dst_statuses[1]["visibility"], "unlisted");
    assert_eq!(dst_statuses[2]["tags"][0]["name"], "petrel");
    assert_eq!(dst_statuses[2]["mentions"][0]["acct"], format!("bo@{peer}"));
    assert!(dst_statuses[2]["content"].as_str().unwrap().contains("class=\"u-url mention\""));
    assert_eq!(dst_statuses[4]["in_reply_to_id"], json!(ids[0]));
    assert_eq!(dst_statuses[5]["reblog"]["id"], json!(ids[1]));
    assert_eq!((&dst_statuses[2]["favourited"], &dst_statuses[2]["favourites_count"]), (&json!(true), &json!(1)));
    assert_eq!(dst_statuses[3]["bookmarked"], true);
    assert_eq!(dst_profile["display_name"], "Alice Archive");
    // The files are the same bytes, under the same URLs.
    for url in [&picture["url"], &picture["preview_url"], &dst_profile["avatar"]] {
        let url = url.as_str().unwrap();
        assert_eq!(src.blob(url).await, dst.blob(url).await, "{url}");
    }
    // Restored media does not expire: not marked temporary.
    let key = picture["url"].as_str().unwrap().strip_prefix(&format!("{}/", dst.ctx.config.media_base)).unwrap();
    assert_eq!(blobs.is_temporary(key).await.unwrap(), Some(false));

    // Importing again changes nothing and writes nothing.
    let before = dst.ctx.stores.ops.snapshot();
    let again = archive::import(&dst.ctx.config, dst.table(), blobs, &plan, &Quiet).await.unwrap();
    let ops = dst.ctx.stores.ops.snapshot().since(&before);
    assert_eq!((again.posts_restored, again.posts_already_there, again.boosts_restored), (0, 5, 0), "{again:?}");
    assert_eq!((ops.table_writes(), ops.blob_put, ops.queue_send), (0, 0, 0), "{ops:?}");
    assert_eq!(client_view(&dst, &ids).await.0, dst_statuses);

    // A post the archive does not have: the import refuses, before writing anything.
    let token = dst.token_for("alice").await;
    dst.form(&token, "/api/v1/statuses", "status=written+after+the+restore").await;
    let before = dst.ctx.stores.ops.snapshot();
    let err = archive::import(&dst.ctx.config, dst.table(), blobs, &plan, &Quiet).await.unwrap_err();
    assert!(matches!(err, ArchiveError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("not in this archive"), "{err}");
    assert_eq!(dst.ctx.stores.ops.snapshot().since(&before).table_writes(), 0);

    // Someone else's archive, and a truncated one, are refused while reading.
    let err = archive::plan(&read, "mallory").unwrap_err();
    assert!(matches!(&err, ArchiveError::WrongAccount { archive, .. } if archive == "alice"), "{err}");
    for cut in [bytes.len() / 2, bytes.len() - 4] {
        let err = Archive::read_tar_gz(&bytes[..cut]).unwrap_err();
        assert!(matches!(err, ArchiveError::Truncated(_)), "cut at {cut}: {err:?}");
    }
}

fn embedded_vars(dir: &tempfile::TempDir) -> Vec<(String, String)> {
    vec![("PETREL_DATA".into(), dir.path().to_str().unwrap().into())]
}

#[tokio::test(flavor = "multi_thread")]
async fn export_wipe_import_round_trips_on_the_embedded_backend() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    round_trip(embedded_vars(&a), embedded_vars(&b), true).await;

    // The binary, as an operator runs it: export from the first store, import into a third.
    let out = a.path().join("alice.tar.gz");
    let data_a = a.path().to_str().unwrap();
    let export = petrel_e2e::petrel(&["--data", data_a, "export", "alice", "--out", out.to_str().unwrap()], &[], "");
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    assert!(String::from_utf8_lossy(&export.stdout).contains("6 posts and boosts, 3 media files, 2 followers"));
    let c = tempfile::tempdir().unwrap();
    let data_c = c.path().to_str().unwrap();
    let import = petrel_e2e::petrel(&["--data", data_c, "import", "alice", out.to_str().unwrap()], &[], "");
    let stdout = String::from_utf8_lossy(&import.stdout);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    assert!(
        stdout.contains("5 posts (0 already there), 1 boosts") && stdout.contains("petrel account password alice"),
        "{stdout}"
    );

    // A truncated file is a clear error from the binary too, and leaves the store untouched.
    let bytes = std::fs::read(&out).unwrap();
    let cut = a.path().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let d = tempfile::tempdir().unwrap();
    let data_d = d.path().to_str().unwrap();
    let failed = petrel_e2e::petrel(&["--data", data_d, "import", "alice", cut.to_str().unwrap()], &[], "");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success() && stderr.contains("truncated") && !stderr.contains("panicked"), "{stderr}");
    let table = petrel::store::embedded::EmbeddedTable::new(petrel::store::embedded::Db::open(d.path()).unwrap());
    assert!(accounts::by_username(&table, "alice").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn export_wipe_import_round_trips_on_moto() {
    // A fresh table and bucket for each side (the "wipe").
    let Some(src) = petrel_e2e::fresh_aws("petrel-archive").await else { return };
    let Some(dst) = petrel_e2e::fresh_aws("petrel-archive").await else { return };
    round_trip(src, dst, false).await;
}
