//! Lists, filters (v2 and v1) and hashtags (issue #16) through the web function's router, with
//! received posts going through the inbox's processing — on the embedded backend and on the AWS
//! adapters (moto).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel::model::Account;
use petrel_e2e::InProcess;
use serde_json::{json, Value};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn remote(p: &InProcess, name: &str) -> Account {
    let doc = json!({
        "id": format!("https://remote.example/users/{name}"), "type": "Person", "preferredUsername": name,
        "inbox": format!("https://remote.example/users/{name}/inbox"),
        "followers": format!("https://remote.example/users/{name}/followers"),
        "publicKey": { "id": format!("https://remote.example/users/{name}#main-key"), "publicKeyPem": "pem" },
    });
    let a = petrel::activitypub::convert::remote_account(&doc, petrel::ids::snowflake(), 0).unwrap();
    petrel::repo::actors::save(p.ctx.stores.table.as_ref(), a).await.unwrap()
}

/// `local` follows `target`, accepted.
async fn follow(p: &InProcess, local: &str, target: &Account) {
    let table = p.ctx.stores.table.as_ref();
    petrel::repo::follows::request_following(table, local, &target.id, &petrel::ids::snowflake()).await.unwrap();
    assert!(petrel::repo::follows::accept_following(table, local, &target.id).await.unwrap());
}

/// `author` sends a public Create(Note); `extra` is merged into the note. Returns the note's URI.
async fn receive(p: &InProcess, author: &Account, text: &str, extra: Value) -> String {
    let uri = author.remote.as_ref().unwrap().uri.clone();
    let id = format!("{uri}/statuses/{}", petrel::ids::snowflake());
    let mut note = json!({
        "id": id, "type": "Note", "attributedTo": uri, "content": format!("<p>{text}</p>"),
        "published": "2026-01-01T00:00:00Z", "to": [PUBLIC], "cc": [format!("{uri}/followers")],
    });
    for (k, v) in extra.as_object().unwrap() {
        note[k] = v.clone();
    }
    let activity = json!({ "id": format!("{id}/activity"), "type": "Create", "actor": uri, "object": note });
    inbox::process::activity(&p.ctx, &activity, author).await.unwrap();
    id
}

fn hashtag(name: &str) -> Value {
    json!({ "tag": [{ "type": "Hashtag", "name": format!("#{name}"), "href": format!("https://remote.example/tags/{name}") }] })
}

async fn texts(p: &InProcess, tok: &str, path: &str) -> Vec<String> {
    let (status, body, _) = p.call_as(Some(tok), "GET", path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body.as_array().unwrap().iter().map(|s| s["content"].as_str().unwrap().to_string()).collect()
}

fn has(list: &[String], text: &str) -> bool {
    list.iter().any(|c| c.contains(text))
}

/// The id of the status in `path` whose content holds `text`.
async fn id_of(p: &InProcess, tok: &str, path: &str, text: &str) -> String {
    let (_, body, _) = p.call_as(Some(tok), "GET", path, None).await;
    let found = body.as_array().unwrap().iter().find(|s| s["content"].as_str().unwrap().contains(text));
    found.unwrap_or_else(|| panic!("{text} not in {path}: {body}"))["id"].as_str().unwrap().to_string()
}

async fn lists(p: InProcess) {
    let tok = p.token.clone();
    let tok = tok.as_str();
    let me = p.account.id.clone();
    let (a, b, c) = (remote(&p, "a").await, remote(&p, "b").await, remote(&p, "c").await);
    follow(&p, &me, &a).await;
    follow(&p, &me, &b).await;

    // CRUD, with Mastodon's validation answers.
    let (s, list, _) = p.call_as(Some(tok), "POST", "/api/v1/lists", Some("title=Friends")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(
        (list["title"].as_str(), list["replies_policy"].as_str(), list["exclusive"].as_bool()),
        (Some("Friends"), Some("list"), Some(false))
    );
    let lid = list["id"].as_str().unwrap().to_string();
    assert_eq!(p.call_as(Some(tok), "POST", "/api/v1/lists", Some("title=")).await.0, 422);
    assert_eq!(p.call_as(Some(tok), "POST", "/api/v1/lists", Some("title=x&replies_policy=all")).await.0, 422);
    let (s, body, _) = p.call_json(Some(tok), "PUT", &format!("/api/v1/lists/{lid}"), r#"{"title":"Pals"}"#).await;
    assert_eq!((s, body["title"].as_str()), (200, Some("Pals")));
    let (_, all, _) = p.call_as(Some(tok), "GET", "/api/v1/lists", None).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    // Someone else's list is not found.
    let (_, other_tok) = p.user("zed").await;
    assert_eq!(p.call_as(Some(&other_tok), "GET", &format!("/api/v1/lists/{lid}"), None).await.0, 404);

    // Members: only accounts the owner follows; twice is a 422.
    let members = format!("/api/v1/lists/{lid}/accounts");
    assert_eq!(p.call_as(Some(tok), "POST", &members, Some(&format!("account_ids[]={}", a.id))).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "POST", &members, Some(&format!("account_ids[]={}", c.id))).await.0, 404);
    assert_eq!(p.call_as(Some(tok), "POST", &members, Some(&format!("account_ids[]={}", a.id))).await.0, 422);
    let (_, body, _) = p.call_as(Some(tok), "GET", &members, None).await;
    let ids: Vec<&str> = body.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.id.as_str()]);
    let (_, body, _) = p.call_as(Some(tok), "GET", &format!("/api/v1/accounts/{}/lists", a.id), None).await;
    assert_eq!(body.as_array().unwrap().len(), 1);
    let (_, body, _) = p.call_as(Some(tok), "GET", &format!("/api/v1/accounts/{}/lists", b.id), None).await;
    assert_eq!(body.as_array().unwrap().len(), 0);

    // Posts of members reach the list as they reach home; others only home.
    let timeline = format!("/api/v1/timelines/list/{lid}");
    receive(&p, &a, "from a", json!({})).await;
    let b_post = receive(&p, &b, "from b", json!({})).await;
    let home = texts(&p, tok, "/api/v1/timelines/home").await;
    assert!(has(&home, "from a") && has(&home, "from b"), "{home:?}");
    let in_list = texts(&p, tok, &timeline).await;
    assert!(has(&in_list, "from a") && !has(&in_list, "from b"), "{in_list:?}");

    // Replies by policy: `list` shows replies to members only (b is not one); `followed` to
    // anyone followed; `none` to nobody but the owner.
    receive(&p, &a, "reply one", json!({ "inReplyTo": b_post })).await;
    assert!(!has(&texts(&p, tok, &timeline).await, "reply one"));
    p.call_as(Some(tok), "PUT", &format!("/api/v1/lists/{lid}"), Some("replies_policy=followed")).await;
    receive(&p, &a, "reply two", json!({ "inReplyTo": b_post })).await;
    assert!(has(&texts(&p, tok, &timeline).await, "reply two"));
    p.call_as(Some(tok), "PUT", &format!("/api/v1/lists/{lid}"), Some("replies_policy=none")).await;
    receive(&p, &a, "reply three", json!({ "inReplyTo": b_post })).await;
    let in_list = texts(&p, tok, &timeline).await;
    assert!(!has(&in_list, "reply three"), "{in_list:?}");
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "reply three"));

    // Exclusive: members' posts leave home.
    let (_, body, _) = p.call_as(Some(tok), "PUT", &format!("/api/v1/lists/{lid}"), Some("exclusive=true")).await;
    assert_eq!(body["exclusive"], json!(true));
    receive(&p, &a, "exclusive post", json!({})).await;
    assert!(has(&texts(&p, tok, &timeline).await, "exclusive post"));
    assert!(!has(&texts(&p, tok, "/api/v1/timelines/home").await, "exclusive post"));

    // Pagination of the list timeline as home's: a page of 1, then the next by its link.
    let (_, page, link) = p.call_as(Some(tok), "GET", &format!("{timeline}?limit=1"), None).await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let next = link.unwrap();
    let next = next.split('<').nth(1).unwrap().split('>').next().unwrap().split_once("/api").unwrap().1.to_string();
    let (_, page2, _) = p.call_as(Some(tok), "GET", &format!("/api{next}"), None).await;
    assert_ne!(page2[0]["id"], page[0]["id"]);

    // Removing a member (query-string form of DELETE): its posts reach home again.
    let del = format!("{members}?account_ids[]={}", a.id);
    assert_eq!(p.call_as(Some(tok), "DELETE", &del, None).await.0, 200);
    receive(&p, &a, "after removal", json!({})).await;
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "after removal"));
    assert!(!has(&texts(&p, tok, &timeline).await, "after removal"));

    // An unfollow takes the account out of the owner's lists.
    p.call_as(Some(tok), "POST", &members, Some(&format!("account_ids[]={}", b.id))).await;
    petrel::repo::follows::remove_following(p.ctx.stores.table.as_ref(), &me, &b.id).await.unwrap();
    let (_, body, _) = p.call_as(Some(tok), "GET", &members, None).await;
    assert_eq!(body, json!([]));

    assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v1/lists/{lid}"), None).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "GET", &format!("/api/v1/lists/{lid}"), None).await.0, 404);
    assert_eq!(p.call_as(Some(tok), "GET", &timeline, None).await.0, 404);
}

async fn filters(p: InProcess) {
    let tok = p.token.clone();
    let tok = tok.as_str();
    let me = p.account.id.clone();
    let a = remote(&p, "fa").await;
    follow(&p, &me, &a).await;
    receive(&p, &a, "I love Rust!", json!({})).await;
    receive(&p, &a, "Rusty nails", json!({})).await;

    let (s, f, _) = p
        .call_json(
            Some(tok),
            "POST",
            "/api/v2/filters",
            r#"{"title":"langs","context":["home","public"],"filter_action":"warn",
                "keywords_attributes":[{"keyword":"rust","whole_word":true}]}"#,
        )
        .await;
    assert_eq!(s, 200, "{f}");
    let fid = f["id"].as_str().unwrap().to_string();
    assert_eq!(f["keywords"][0]["keyword"], "rust");
    assert_eq!(f["expires_at"], Value::Null);

    // `filtered` on every status for the viewer: the whole word matched, "Rusty" not.
    let (_, home, _) = p.call_as(Some(tok), "GET", "/api/v1/timelines/home", None).await;
    let by_text =
        |t: &str| home.as_array().unwrap().iter().find(|s| s["content"].as_str().unwrap().contains(t)).unwrap().clone();
    let love = by_text("love");
    assert_eq!(love["filtered"][0]["keyword_matches"], json!(["Rust"]));
    assert_eq!(love["filtered"][0]["filter"]["id"], json!(fid));
    assert_eq!(by_text("Rusty")["filtered"], json!([]));
    let love_id = love["id"].as_str().unwrap().to_string();
    let (_, one, _) = p.call_as(Some(tok), "GET", &format!("/api/v1/statuses/{love_id}"), None).await;
    assert_eq!(one["filtered"][0]["keyword_matches"], json!(["Rust"]));
    // Anonymous readers get no filter results.
    let (_, anon, _) = p.call_as(None, "GET", &format!("/api/v1/statuses/{love_id}"), None).await;
    assert_eq!(anon["filtered"], json!([]));

    // `hide` drops it server-side in the filter's contexts only.
    let (s, f2, _) =
        p.call_as(Some(tok), "PUT", &format!("/api/v2/filters/{fid}"), Some("filter_action=hide&context[]=home")).await;
    assert_eq!((s, f2["filter_action"].as_str()), (200, Some("hide")));
    let home = texts(&p, tok, "/api/v1/timelines/home").await;
    assert!(!has(&home, "love") && has(&home, "Rusty"), "{home:?}");
    let (_, one, _) = p.call_as(Some(tok), "GET", &format!("/api/v1/statuses/{love_id}"), None).await;
    assert_eq!(one["filtered"][0]["filter"]["filter_action"], "hide");
    let public = texts(&p, tok, "/api/v1/timelines/public").await;
    assert!(has(&public, "love"), "{public:?}");
    // Pagination stays honest: a page of one skips the hidden status and links by what it shows.
    let (_, page, link) = p.call_as(Some(tok), "GET", "/api/v1/timelines/home?limit=1", None).await;
    assert!(page[0]["content"].as_str().unwrap().contains("Rusty"));
    assert!(!link.unwrap().contains(&love_id));

    // Keywords.
    let kw = format!("/api/v2/filters/{fid}/keywords");
    let (s, k, _) = p.call_as(Some(tok), "POST", &kw, Some("keyword=nails&whole_word=false")).await;
    assert_eq!((s, k["whole_word"].as_bool()), (200, Some(false)));
    let kid = k["id"].as_str().unwrap().to_string();
    let (_, ks, _) = p.call_as(Some(tok), "GET", &kw, None).await;
    assert_eq!(ks.as_array().unwrap().len(), 2);
    assert!(!has(&texts(&p, tok, "/api/v1/timelines/home").await, "Rusty"));
    let (s, k, _) =
        p.call_as(Some(tok), "PUT", &format!("/api/v2/filters/keywords/{kid}"), Some("keyword=screws")).await;
    assert_eq!((s, k["keyword"].as_str()), (200, Some("screws")));
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "Rusty"));
    assert_eq!(p.call_as(Some(tok), "GET", &format!("/api/v2/filters/keywords/{kid}"), None).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v2/filters/keywords/{kid}"), None).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "GET", &format!("/api/v2/filters/keywords/{kid}"), None).await.0, 404);

    // Filtered statuses.
    let rusty = id_of(&p, tok, "/api/v1/timelines/home", "Rusty").await;
    let st = format!("/api/v2/filters/{fid}/statuses");
    let (s, fs, _) = p.call_as(Some(tok), "POST", &st, Some(&format!("status_id={rusty}"))).await;
    assert_eq!(s, 200, "{fs}");
    assert_eq!(p.call_as(Some(tok), "POST", &st, Some(&format!("status_id={rusty}"))).await.0, 422);
    let fsid = fs["id"].as_str().unwrap().to_string();
    let (_, one, _) = p.call_as(Some(tok), "GET", &format!("/api/v1/statuses/{rusty}"), None).await;
    assert_eq!(one["filtered"][0]["status_matches"], json!([rusty]));
    assert!(!has(&texts(&p, tok, "/api/v1/timelines/home").await, "Rusty"));
    assert_eq!(p.call_as(Some(tok), "GET", &format!("/api/v2/filters/statuses/{fsid}"), None).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v2/filters/statuses/{fsid}"), None).await.0, 200);
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "Rusty"));

    // Forms: Rails' `[]` arrays of keyword objects; bad contexts and blank titles are 422.
    let (s, f3, _) = p
        .call_as(
            Some(tok),
            "POST",
            "/api/v2/filters",
            Some("title=t&context[]=notifications&keywords_attributes[][keyword]=x&keywords_attributes[][whole_word]=false&keywords_attributes[][keyword]=y&keywords_attributes[][whole_word]=true"),
        )
        .await;
    assert_eq!(s, 200, "{f3}");
    let kws: Vec<(&str, bool)> = f3["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["keyword"].as_str().unwrap(), k["whole_word"].as_bool().unwrap()))
        .collect();
    assert_eq!(kws, [("x", false), ("y", true)]);
    assert_eq!(p.call_as(Some(tok), "POST", "/api/v2/filters", Some("title=t&context[]=everywhere")).await.0, 422);
    assert_eq!(p.call_as(Some(tok), "POST", "/api/v2/filters", Some("context[]=home")).await.0, 422);
    assert_eq!(
        p.call_as(Some(tok), "POST", "/api/v2/filters", Some("title=t&context[]=home&filter_action=zap")).await.0,
        422
    );
    let (_, f4, _) =
        p.call_as(Some(tok), "POST", "/api/v2/filters", Some("title=soon&context[]=home&expires_in=3600")).await;
    assert!(f4["expires_at"].is_string(), "{f4}");

    // An expired filter applies nowhere.
    let table = p.ctx.stores.table.as_ref();
    let mut stored = petrel::repo::filters::get(table, &me, &fid).await.unwrap().unwrap();
    stored.expires_at = Some(petrel::clock::now_ms() - 1000);
    petrel::repo::filters::save(table, &me, &stored).await.unwrap();
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "love"));

    // v1 over the same records.
    let (s, v1, _) = p
        .call_as(
            Some(tok),
            "POST",
            "/api/v1/filters",
            Some("phrase=nails&context[]=home&irreversible=true&whole_word=true"),
        )
        .await;
    assert_eq!((s, v1["irreversible"].as_bool(), v1["phrase"].as_str()), (200, Some(true), Some("nails")), "{v1}");
    let v1id = v1["id"].as_str().unwrap().to_string();
    assert!(!has(&texts(&p, tok, "/api/v1/timelines/home").await, "Rusty"));
    let (_, v2all, _) = p.call_as(Some(tok), "GET", "/api/v2/filters", None).await;
    let made = v2all.as_array().unwrap().iter().find(|f| f["title"] == "nails").unwrap();
    assert_eq!(
        (made["filter_action"].as_str(), made["keywords"][0]["id"].as_str()),
        (Some("hide"), Some(v1id.as_str()))
    );
    let (_, v1all, _) = p.call_as(Some(tok), "GET", "/api/v1/filters", None).await;
    assert!(v1all.as_array().unwrap().iter().any(|f| f["id"] == json!(v1id)));
    let (s, v1u, _) = p.call_as(Some(tok), "PUT", &format!("/api/v1/filters/{v1id}"), Some("irreversible=false")).await;
    assert_eq!((s, v1u["irreversible"].as_bool()), (200, Some(false)));
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "Rusty"));
    assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v1/filters/{v1id}"), None).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "GET", &format!("/api/v1/filters/{v1id}"), None).await.0, 404);

    // Notifications context: a hidden mention is not listed.
    let owner_uri = format!("{}/users/owner", p.ctx.config.base_url());
    receive(&p, &a, "mention about kittens", json!({ "tag": [{ "type": "Mention", "href": owner_uri }] })).await;
    let notes = |body: &Value| body.as_array().unwrap().iter().filter(|n| n["type"] == "mention").count();
    let (_, n, _) = p.call_as(Some(tok), "GET", "/api/v1/notifications", None).await;
    assert_eq!(notes(&n), 1, "{n}");
    p.call_as(
        Some(tok),
        "POST",
        "/api/v2/filters",
        Some("title=k&context[]=notifications&filter_action=hide&keywords_attributes[0][keyword]=kittens"),
    )
    .await;
    let (_, n, _) = p.call_as(Some(tok), "GET", "/api/v1/notifications", None).await;
    assert_eq!(notes(&n), 0, "{n}");

    // Deleting a filter; the account's count follows, so rendering reads no filters again.
    for f in petrel::repo::filters::all(table, &me).await.unwrap() {
        assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v2/filters/{}", f.id), None).await.0, 200);
    }
    assert_eq!(petrel::repo::accounts::by_id(table, &me).await.unwrap().unwrap().filters_count, 0);
    // Without filters a home page costs what it did (api_costs.rs: 6 queries — the timeline and
    // the viewer's favourites, bookmarks, pins, boosts and thread mutes — and the batch gets of
    // statuses and their remote authors); with one, one query more.
    let (_, _, before) = p.call("GET", "/api/v1/timelines/home", None).await;
    assert_eq!(before.table_query, 6, "{before:?}");
    p.call_as(Some(tok), "POST", "/api/v2/filters", Some("title=x&context[]=home&keywords_attributes[0][keyword]=x"))
        .await;
    let (_, _, after) = p.call("GET", "/api/v1/timelines/home", None).await;
    assert_eq!(
        (after.table_query, after.table_batch_get, after.table_get),
        (7, before.table_batch_get, before.table_get)
    );
}

async fn hashtags(p: InProcess) {
    let tok = p.token.clone();
    let tok = tok.as_str();
    let stranger = remote(&p, "stranger").await;
    let (_, bob_tok) = p.user("bob").await;

    let (s, t, _) = p.call_as(Some(tok), "GET", "/api/v1/tags/Rust", None).await;
    assert_eq!((s, t["name"].as_str(), t["following"].as_bool()), (200, Some("rust"), Some(false)), "{t}");
    assert_eq!(t["history"].as_array().unwrap().len(), 7);
    let (s, t, _) = p.call_as(Some(tok), "POST", "/api/v1/tags/rust/follow", None).await;
    assert_eq!((s, t["following"].as_bool()), (200, Some(true)));
    let (_, followed, _) = p.call_as(Some(tok), "GET", "/api/v1/followed_tags", None).await;
    assert_eq!(followed[0]["name"], "rust");

    // A received public post with the tag, from an account nobody here follows, enters home;
    // without the tag it is not even stored.
    receive(&p, &stranger, "tagged #rust", hashtag("rust")).await;
    receive(&p, &stranger, "untagged", json!({})).await;
    let home = texts(&p, tok, "/api/v1/timelines/home").await;
    assert!(has(&home, "tagged") && !has(&home, "untagged"), "{home:?}");
    // A local post with the tag, by another local account, too.
    let (s, _, _) = p.call_as(Some(&bob_tok), "POST", "/api/v1/statuses", Some("status=bob on %23Rust")).await;
    assert_eq!(s, 200);
    assert!(has(&texts(&p, tok, "/api/v1/timelines/home").await, "bob on"));
    // But not an unlisted one.
    p.call_as(Some(&bob_tok), "POST", "/api/v1/statuses", Some("status=quiet %23rust&visibility=unlisted")).await;
    assert!(!has(&texts(&p, tok, "/api/v1/timelines/home").await, "quiet"));

    // History: today's uses and accounts, from the index.
    let (_, t, _) = p.call_as(None, "GET", "/api/v1/tags/rust", None).await;
    assert_eq!((t["history"][0]["uses"].as_str(), t["history"][0]["accounts"].as_str()), (Some("2"), Some("2")), "{t}");
    assert!(t.get("following").is_none());

    let (_, t, _) = p.call_as(Some(tok), "POST", "/api/v1/tags/rust/unfollow", None).await;
    assert_eq!(t["following"], json!(false));
    assert_eq!(p.call_as(Some(tok), "GET", "/api/v1/followed_tags", None).await.1, json!([]));
    receive(&p, &stranger, "later #rust", hashtag("rust")).await;
    assert!(!has(&texts(&p, tok, "/api/v1/timelines/home").await, "later"));

    // Featured tags count the owner's public and unlisted posts with the tag.
    p.call_as(Some(tok), "POST", "/api/v1/statuses", Some("status=mine %23cats")).await;
    let (s, ft, _) = p.call_as(Some(tok), "POST", "/api/v1/featured_tags", Some("name=cats")).await;
    assert_eq!((s, ft["statuses_count"].as_str()), (200, Some("1")), "{ft}");
    assert!(ft["last_status_at"].is_string());
    let ftid = ft["id"].as_str().unwrap().to_string();
    let (_, posted, _) =
        p.call_as(Some(tok), "POST", "/api/v1/statuses", Some("status=more %23cats&visibility=unlisted")).await;
    let (_, fts, _) = p.call_as(Some(tok), "GET", "/api/v1/featured_tags", None).await;
    assert_eq!(fts[0]["statuses_count"], "2");
    p.call_as(Some(tok), "DELETE", &format!("/api/v1/statuses/{}", posted["id"].as_str().unwrap()), None).await;
    let (_, fts, _) = p.call_as(None, "GET", &format!("/api/v1/accounts/{}/featured_tags", p.account.id), None).await;
    assert_eq!(fts[0]["statuses_count"], "1");
    assert_eq!(p.call_as(Some(tok), "POST", "/api/v1/featured_tags", Some("name=no%20way")).await.0, 422);
    p.call_as(Some(tok), "POST", "/api/v1/statuses", Some("status=%23dogs")).await;
    let (_, sugg, _) = p.call_as(Some(tok), "GET", "/api/v1/featured_tags/suggestions", None).await;
    let names: Vec<&str> = sugg.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dogs"]);
    assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v1/featured_tags/{ftid}"), None).await.0, 200);
    assert_eq!(p.call_as(Some(tok), "DELETE", &format!("/api/v1/featured_tags/{ftid}"), None).await.0, 404);
}

#[tokio::test]
async fn lists_embedded() {
    lists(InProcess::new().await).await;
}

#[tokio::test]
async fn filters_embedded() {
    filters(InProcess::new().await).await;
}

#[tokio::test]
async fn hashtags_embedded() {
    hashtags(InProcess::new().await).await;
}

async fn on_moto(prefix: &str) -> Option<InProcess> {
    let vars = petrel_e2e::fresh_aws(prefix).await?;
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Some(InProcess::with_vars(&vars).await)
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_on_moto() {
    if let Some(p) = on_moto("petrel-lists").await {
        lists(p).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_on_moto() {
    if let Some(p) = on_moto("petrel-filters").await {
        filters(p).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hashtags_on_moto() {
    if let Some(p) = on_moto("petrel-tags").await {
        hashtags(p).await;
    }
}
