//! Conversations, thread mutes, boost and mute flags, account notes, posting defaults, account
//! status filters, `GET /api/v1/statuses?id[]=`, the credential account's role, and Mastodon's
//! error answers (issue #16, items 5, 7 and 8), through the web function's router on both
//! backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel_e2e::InProcess;
use serde_json::Value;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

async fn conversations(p: InProcess) {
    let owner = Some(p.token.as_str());
    let (bob, bob_token) = p.user("bob").await;
    let bob_tok = Some(bob_token.as_str());
    let (carol, carol_token) = p.user("carol").await;

    // A direct message from the owner to bob starts a conversation for both.
    let (status, dm, _) =
        p.call_as(owner, "POST", "/api/v1/statuses", Some("status=%40bob%20hi&visibility=direct")).await;
    assert_eq!(status, 200, "{dm}");
    let (status, list, _) = p.call_as(bob_tok, "GET", "/api/v1/conversations", None).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    let conv = &list[0];
    assert_eq!(conv["id"], dm["id"], "keyed by the thread's root");
    assert_eq!(conv["unread"], true);
    assert_eq!(conv["last_status"]["id"], dm["id"]);
    let names: Vec<&str> =
        conv["accounts"].as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["owner"], "the other participants only");
    let (_, mine, _) = p.call_as(owner, "GET", "/api/v1/conversations", None).await;
    assert_eq!(mine[0]["unread"], false, "the author has read what they wrote: {mine}");
    assert_eq!(mine[0]["accounts"][0]["id"].as_str(), Some(bob.id.as_str()));
    // Carol is not in it.
    let (_, none, _) = p.call_as(Some(carol_token.as_str()), "GET", "/api/v1/conversations", None).await;
    assert_eq!(none, serde_json::json!([]));
    let _ = carol;

    // Bob's reply (direct) moves the same conversation on; a public post starts none.
    let form = format!("status=%40owner%20back&visibility=direct&in_reply_to_id={}", id(&dm));
    let (status, reply, _) = p.call_as(bob_tok, "POST", "/api/v1/statuses", Some(&form)).await;
    assert_eq!(status, 200, "{reply}");
    p.call_as(bob_tok, "POST", "/api/v1/statuses", Some("status=public")).await;
    let (_, mine, link) = p.call_as(owner, "GET", "/api/v1/conversations", None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["id"], dm["id"]);
    assert_eq!(mine[0]["last_status"]["id"], reply["id"]);
    assert_eq!(mine[0]["unread"], true);
    assert!(link.unwrap().contains(&format!("max_id={}", id(&reply))));

    // Read, then removed for the owner only.
    let conv_id = id(&dm);
    let (status, read, _) = p.call_as(owner, "POST", &format!("/api/v1/conversations/{conv_id}/read"), None).await;
    assert_eq!((status, &read["unread"]), (200, &Value::Bool(false)), "{read}");
    let (_, mine, _) = p.call_as(owner, "GET", "/api/v1/conversations", None).await;
    assert_eq!(mine[0]["unread"], false);
    let (status, body, _) = p.call_as(owner, "DELETE", &format!("/api/v1/conversations/{conv_id}"), None).await;
    assert_eq!((status, body), (200, serde_json::json!({})));
    let (_, mine, _) = p.call_as(owner, "GET", "/api/v1/conversations", None).await;
    assert_eq!(mine, serde_json::json!([]));
    let (_, theirs, _) = p.call_as(bob_tok, "GET", "/api/v1/conversations", None).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "bob keeps his: {theirs}");
    // Unknown conversations are 404 with Mastodon's body.
    let (status, body, _) = p.call_as(owner, "POST", &format!("/api/v1/conversations/{conv_id}/read"), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("Record not found")));
    // A later message in the thread brings it back.
    let form = format!("status=%40bob%20again&visibility=direct&in_reply_to_id={}", id(&reply));
    let (_, again, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some(&form)).await;
    let (_, mine, _) = p.call_as(owner, "GET", "/api/v1/conversations", None).await;
    assert_eq!(mine[0]["id"], dm["id"]);
    assert_eq!(mine[0]["last_status"]["id"], again["id"]);
    // No token: 401, not 422.
    let (status, body, _) = p.call_as(None, "GET", "/api/v1/conversations", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn conversations_embedded() {
    conversations(InProcess::new().await).await;
}

#[tokio::test]
async fn conversations_on_moto() {
    let Some(vars) = petrel_e2e::fresh_aws("petrel-conv").await else { return };
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    conversations(InProcess::with_vars(&vars).await).await;
}

async fn gaps(p: InProcess) {
    let owner = Some(p.token.as_str());
    let (bob, bob_token) = p.user("bob").await;
    let bob_tok = Some(bob_token.as_str());
    let table = p.ctx.stores.table.as_ref();

    // Thread mute: `muted` on every status of the thread, and no boost notification from it.
    let (_, root, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some("status=root")).await;
    let form = format!("status=reply&in_reply_to_id={}", id(&root));
    let (_, reply, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some(&form)).await;
    let (status, muted, _) = p.call_as(owner, "POST", &format!("/api/v1/statuses/{}/mute", id(&reply)), None).await;
    assert_eq!((status, &muted["muted"]), (200, &Value::Bool(true)), "{muted}");
    let (_, r, _) = p.call_as(owner, "GET", &format!("/api/v1/statuses/{}", id(&root)), None).await;
    assert_eq!(r["muted"], true, "the whole thread is muted");
    let (_, other, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some("status=other")).await;
    p.call_as(bob_tok, "POST", &format!("/api/v1/statuses/{}/reblog", id(&root)), None).await;
    p.call_as(bob_tok, "POST", &format!("/api/v1/statuses/{}/reblog", id(&other)), None).await;
    let (_, notes, _) = p.call_as(owner, "GET", "/api/v1/notifications", None).await;
    let about: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["status"]["id"].as_str().unwrap()).collect();
    assert_eq!(about, [id(&other).as_str()], "only the unmuted thread notifies: {notes}");
    let (_, r, _) = p.call_as(owner, "POST", &format!("/api/v1/statuses/{}/unmute", id(&root)), None).await;
    assert_eq!(r["muted"], false);

    // `reblogged` wherever the viewer boosted, not only on the boost itself.
    let (_, page, _) = p.call_as(bob_tok, "GET", &format!("/api/v1/accounts/{}/statuses", p.account.id), None).await;
    let flags: Vec<(String, bool)> =
        page.as_array().unwrap().iter().map(|s| (id(s), s["reblogged"].as_bool().unwrap())).collect();
    assert!(flags.contains(&(id(&root), true)) && flags.contains(&(id(&other), true)), "{flags:?}");
    assert!(flags.contains(&(id(&reply), false)), "{flags:?}");
    let (_, one, _) = p.call_as(bob_tok, "POST", &format!("/api/v1/statuses/{}/unreblog", id(&root)), None).await;
    assert_eq!(one["reblogged"], false);

    // GET /api/v1/statuses?id[]= : in the order asked, unknown ids left out.
    let uri = format!("/api/v1/statuses?id[]={}&id[]=999&id[]={}", id(&other), id(&root));
    let (status, many, _) = p.call_as(owner, "GET", &uri, None).await;
    assert_eq!(status, 200, "{many}");
    let got: Vec<String> = many.as_array().unwrap().iter().map(id).collect();
    assert_eq!(got, [id(&other), id(&root)]);

    // Account statuses: exclude_replies, exclude_reblogs, only_media, tagged.
    p.call_as(bob_tok, "POST", "/api/v1/statuses", Some("status=about%20%23Rust")).await;
    let base = format!("/api/v1/accounts/{}/statuses", bob.id);
    let (_, all, _) = p.call_as(owner, "GET", &base, None).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "a post and a boost: {all}");
    let (_, no_boosts, _) = p.call_as(owner, "GET", &format!("{base}?exclude_reblogs=true"), None).await;
    assert_eq!(no_boosts.as_array().unwrap().len(), 1);
    let (_, tagged, _) = p.call_as(owner, "GET", &format!("{base}?tagged=rust"), None).await;
    assert_eq!(tagged.as_array().unwrap().len(), 1, "{tagged}");
    let (_, tagged, _) = p.call_as(owner, "GET", &format!("{base}?tagged=go"), None).await;
    assert_eq!(tagged, serde_json::json!([]));
    let mine = format!("/api/v1/accounts/{}/statuses?exclude_replies=true", p.account.id);
    let (_, threads, _) = p.call_as(owner, "GET", &mine, None).await;
    assert!(threads.as_array().unwrap().iter().any(|s| id(s) == id(&reply)), "a self-reply stays: {threads}");
    let (_, media, _) = p.call_as(owner, "GET", &format!("{base}?only_media=true"), None).await;
    assert_eq!(media, serde_json::json!([]));

    // Account notes, shown in the relationship.
    let (status, rel, _) = p
        .call_as(owner, "POST", &format!("/api/v1/accounts/{}/note", bob.id), Some("comment=met%20at%20a%20talk"))
        .await;
    assert_eq!((status, rel["note"].as_str()), (200, Some("met at a talk")), "{rel}");
    let (_, rels, _) = p.call_as(owner, "GET", &format!("/api/v1/accounts/relationships?id[]={}", bob.id), None).await;
    assert_eq!(rels[0]["note"], "met at a talk");
    let (_, rel, _) =
        p.call_json(owner, "POST", &format!("/api/v1/accounts/{}/note", bob.id), r#"{"comment":""}"#).await;
    assert_eq!(rel["note"], "");
    let (status, _, _) = p.call_as(owner, "POST", "/api/v1/accounts/424242/note", Some("comment=x")).await;
    assert_eq!(status, 404);

    // Posting defaults saved in the profile apply when a post leaves them out.
    let defaults = petrel::model::PostingDefaults {
        privacy: Some("unlisted".into()),
        sensitive: true,
        language: Some("de".into()),
    };
    let update = petrel::repo::accounts::ProfileUpdate {
        display_name: None,
        note: None,
        locked: None,
        bot: None,
        discoverable: None,
        fields: None,
        avatar_key: None,
        header_key: None,
        posting: Some(defaults),
    };
    petrel::repo::accounts::update_profile(table, &bob.id, update).await.unwrap();
    let (_, posted, _) = p.call_as(bob_tok, "POST", "/api/v1/statuses", Some("status=defaults")).await;
    assert_eq!((posted["visibility"].as_str(), posted["sensitive"].as_bool()), (Some("unlisted"), Some(true)));
    assert_eq!(posted["language"], "de");
    let (_, posted, _) =
        p.call_as(bob_tok, "POST", "/api/v1/statuses", Some("status=x&visibility=public&language=en")).await;
    assert_eq!((posted["visibility"].as_str(), posted["language"].as_str()), (Some("public"), Some("en")));
    let (_, me, _) = p.call_as(bob_tok, "GET", "/api/v1/accounts/verify_credentials", None).await;
    assert_eq!(me["source"]["privacy"], "unlisted");
    assert_eq!(me["source"]["sensitive"], true);
    assert_eq!(me["source"]["language"], "de");
    // The credential account carries a role (the OpenAPI schema requires it); others do not.
    assert_eq!(me["role"]["permissions"], "0");
    let (_, other_acct, _) = p.call_as(owner, "GET", &format!("/api/v1/accounts/{}", bob.id), None).await;
    assert!(other_acct.get("role").is_none(), "{other_acct}");
}

#[tokio::test]
async fn smaller_gaps_embedded() {
    gaps(InProcess::new().await).await;
}

#[tokio::test]
async fn smaller_gaps_on_moto() {
    let Some(vars) = petrel_e2e::fresh_aws("petrel-gaps").await else { return };
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    gaps(InProcess::with_vars(&vars).await).await;
}

/// Every route family under /api, /oauth and /.well-known: an unknown path, a wrong method and
/// a missing token answer Mastodon's status with a JSON error body.
#[tokio::test]
async fn errors_are_mastodons_everywhere() {
    let p = InProcess::new().await;
    let unknown = [
        "/api/v1/nothing",
        "/api/v2/nothing",
        "/api/v1/statuses/1/nothing",
        "/api/v1/accounts/1/nothing",
        "/api/v1/conversations/1/nothing",
        "/oauth/nothing",
        "/.well-known/nothing",
    ];
    for path in unknown {
        let (status, body, _) = p.call_as(Some(&p.token), "GET", path, None).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("Record not found")), "GET {path}");
    }
    // Mastodon's router sends a method a path does not take to "not found".
    let wrong = [
        ("DELETE", "/api/v1/timelines/home"),
        ("PUT", "/api/v1/conversations"),
        ("GET", "/api/v1/conversations/1/read"),
        ("GET", "/api/v1/statuses/1/mute"),
        ("PATCH", "/api/v1/accounts/verify_credentials"),
        ("PUT", "/api/v1/notifications"),
        ("DELETE", "/api/v2/instance"),
        ("GET", "/oauth/token"),
        ("PUT", "/oauth/authorize"),
        ("POST", "/.well-known/webfinger"),
        ("POST", "/.well-known/nodeinfo"),
    ];
    for (method, path) in wrong {
        let (status, body, _) = p.call_as(Some(&p.token), method, path, None).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("Record not found")), "{method} {path}");
    }
    let need_token = [
        ("GET", "/api/v1/timelines/home"),
        ("GET", "/api/v1/conversations"),
        ("POST", "/api/v1/statuses"),
        ("POST", "/api/v1/statuses/1/mute"),
        ("POST", "/api/v1/accounts/1/note"),
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v2/notifications"),
        ("GET", "/api/v1/markers"),
        ("GET", "/api/v1/preferences"),
        ("GET", "/api/v1/bookmarks"),
        ("GET", "/api/v1/push/subscription"),
        ("GET", "/api/v1/apps/verify_credentials"),
        ("GET", "/api/v1/follow_requests"),
        ("GET", "/api/v1/followed_tags"),
        ("GET", "/api/v1/domain_blocks"),
    ];
    for (method, path) in need_token {
        let (status, body, _) = p.call_as(None, method, path, Some("status=x")).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
}

async fn remote_actor(p: &InProcess, uri: &str, shared: Option<&str>) -> petrel::model::Account {
    let mut doc = serde_json::json!({ "id": uri, "type": "Person", "preferredUsername": "x",
        "inbox": format!("{uri}/inbox"),
        "publicKey": { "id": format!("{uri}#main-key"), "owner": uri, "publicKeyPem": "-" } });
    if let Some(s) = shared {
        doc["endpoints"] = serde_json::json!({ "sharedInbox": s });
    }
    let a = petrel::activitypub::convert::remote_account(&doc, petrel::ids::snowflake(), 0).unwrap();
    petrel::repo::actors::save(p.ctx.stores.table.as_ref(), a).await.unwrap()
}

/// A Create of a Note from `actor` mentioning the owner, processed as the inbox does after the
/// signature verified; returns whether it was stored.
async fn mention_from(p: &InProcess, actor: &petrel::model::Account, n: u32) -> bool {
    let uri = actor.remote.as_ref().unwrap().uri.clone();
    let owner = format!("{}/users/owner", p.ctx.config.base_url());
    let note_id = format!("{uri}/notes/{n}");
    let note = serde_json::json!({ "id": note_id, "type": "Note", "attributedTo": uri, "content": "<p>@owner hi</p>",
        "to": [owner], "tag": [{ "type": "Mention", "href": owner }], "published": "2026-01-01T00:00:00Z" });
    let create = serde_json::json!({ "id": format!("{note_id}/activity"), "type": "Create", "actor": uri,
        "to": [owner], "object": note });
    inbox::process::activity(&p.ctx, &create, actor).await.unwrap();
    petrel::repo::statuses::by_uri(p.ctx.stores.table.as_ref(), &note_id).await.unwrap().is_some()
}

/// What a fan-out of one post to the owner's followers queues: the inboxes.
async fn fan_out(p: &InProcess) -> std::collections::BTreeSet<String> {
    let publish = petrel::events::Publish {
        account_id: p.account.id.clone(),
        activity: serde_json::json!({ "id": format!("{}/activity/{}", p.ctx.config.base_url(), petrel::ids::snowflake()),
            "type": "Create" }),
        to_followers: true,
        inboxes: Vec::new(),
        status_id: None,
        cursor: None,
        over: None,
        render: None,
    };
    outbox_fanout::fanout::publish(&p.ctx, publish).await.unwrap();
    let mut got = std::collections::BTreeSet::new();
    loop {
        let batch = p
            .ctx
            .stores
            .queues
            .outbox
            .receive(10, std::time::Duration::from_secs(30), std::time::Duration::ZERO)
            .await
            .unwrap();
        if batch.is_empty() {
            return got;
        }
        for m in batch {
            if let petrel::events::OutboxEvent::Deliver(d) = serde_json::from_str(&m.body).unwrap() {
                got.insert(d.inbox);
            }
            p.ctx.stores.queues.outbox.delete(&m.receipt).await.unwrap();
        }
    }
}

/// A domain block applies to inbound activities (the domain's accounts count as blocked), to
/// timelines (their posts leave the home timeline) and to deliveries (fan-out skips the domain),
/// subdomains included; unblocking undoes all three.
async fn domain_blocks(p: InProcess) {
    let owner = Some(p.token.as_str());
    let table = p.ctx.stores.table.as_ref();
    let bad = remote_actor(&p, "https://bad.example/users/b", Some("https://bad.example/inbox")).await;
    let sub = remote_actor(&p, "https://eu.bad.example/users/s", None).await;
    let good = remote_actor(&p, "https://good.example/users/g", Some("https://good.example/inbox")).await;
    for a in [&bad, &sub, &good] {
        assert!(petrel::repo::follows::add_follower(table, &p.account, a, "f").await.unwrap());
    }
    let everyone: std::collections::BTreeSet<String> =
        ["https://bad.example/inbox", "https://eu.bad.example/users/s/inbox", "https://good.example/inbox"]
            .map(String::from)
            .into();
    assert_eq!(fan_out(&p).await, everyone);
    // A post of the domain in the home timeline before the block.
    let mut s = petrel::model::Status::boost(petrel::ids::snowflake(), bad.id.clone(), String::new(), 1);
    (s.reblog_of, s.text, s.content, s.remote_uri) =
        (None, "from bad".into(), "<p>from bad</p>".into(), Some("https://bad.example/notes/0".into()));
    let delivery =
        petrel::repo::statuses::Delivery { home_of: vec![p.account.id.clone()], notify: Vec::new(), home_cap: None };
    let stored = petrel::repo::statuses::store_remote(table, &s, &delivery).await.unwrap().unwrap();
    let home_ids = |body: &Value| body.as_array().unwrap().iter().map(id).collect::<Vec<_>>();
    let (_, home, _) = p.call_as(owner, "GET", "/api/v1/timelines/home", None).await;
    assert!(home_ids(&home).contains(&stored));

    let (status, body, _) =
        p.call_as(owner, "POST", "/api/v1/domain_blocks", Some("domain=https://Bad.Example/")).await;
    assert_eq!((status, body), (200, serde_json::json!({})));
    let (_, list, _) = p.call_as(owner, "GET", "/api/v1/domain_blocks", None).await;
    assert_eq!(list, serde_json::json!(["bad.example"]));
    let (status, body, _) = p.call_as(owner, "POST", "/api/v1/domain_blocks", Some("domain=not%20a%20domain")).await;
    assert_eq!(status, 422, "{body}");
    let (status, _, _) = p.call_as(owner, "POST", "/api/v1/domain_blocks", None).await;
    assert_eq!(status, 422);

    let (_, home, _) = p.call_as(owner, "GET", "/api/v1/timelines/home", None).await;
    assert!(!home_ids(&home).contains(&stored), "the domain's posts leave the timeline");
    let uri = format!("/api/v1/accounts/relationships?id[]={}&id[]={}&id[]={}", bad.id, sub.id, good.id);
    let (_, rels, _) = p.call_as(owner, "GET", &uri, None).await;
    let blocking: Vec<bool> =
        rels.as_array().unwrap().iter().map(|r| r["domain_blocking"].as_bool().unwrap()).collect();
    assert_eq!(blocking, [true, true, false]);
    assert_eq!(fan_out(&p).await, ["https://good.example/inbox".to_string()].into(), "nothing to the domain");
    assert!(!mention_from(&p, &bad, 1).await, "the domain's post is not taken in");
    assert!(!mention_from(&p, &sub, 2).await, "nor its subdomain's");
    assert!(mention_from(&p, &good, 3).await, "another domain's is");
    let (_, notes, _) = p.call_as(owner, "GET", "/api/v1/notifications", None).await;
    let from: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["account"]["id"].as_str().unwrap()).collect();
    assert_eq!(from, [good.id.as_str()]);

    // DELETE with the domain in the query (as Mastodon.py sends it) or the body.
    let (status, _, _) = p.call_as(owner, "DELETE", "/api/v1/domain_blocks?domain=bad.example", None).await;
    assert_eq!(status, 200);
    let (_, list, _) = p.call_as(owner, "GET", "/api/v1/domain_blocks", None).await;
    assert_eq!(list, serde_json::json!([]));
    let (_, home, _) = p.call_as(owner, "GET", "/api/v1/timelines/home", None).await;
    assert!(home_ids(&home).contains(&stored));
    assert_eq!(fan_out(&p).await, everyone);
    assert!(mention_from(&p, &bad, 4).await);
}

#[tokio::test]
async fn domain_blocks_embedded() {
    domain_blocks(InProcess::new().await).await;
}

#[tokio::test]
async fn domain_blocks_on_moto() {
    let Some(vars) = petrel_e2e::fresh_aws("petrel-dblk").await else { return };
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    domain_blocks(InProcess::with_vars(&vars).await).await;
}
