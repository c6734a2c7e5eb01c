//! Bounded growth (issue #14, item 5): remote posts nobody here touched expire and their listings
//! skip them; an interaction keeps a post (and its author, and its thread); home timelines are
//! trimmed to their cap; notifications expire; actors with relationships stay. Each scenario runs
//! on the embedded backend and on the AWS adapters against moto. Time is not faked: a post
//! "received 91 days ago" is written with the expiry the retention rule gives for that receipt
//! time, which lies in the past, exactly as DynamoDB would then see it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel::config::Retention;
use petrel::model::{Account, Notification, Status, Visibility};
use petrel::repo::{actors, keys, notifications, statuses, timelines};
use petrel::store::table::now_secs;
use petrel::store::TTL;
use petrel_e2e::InProcess;

const DAY: i64 = 86_400;

async fn both(name: &str, vars: &[(&str, &str)], run: impl AsyncFn(&InProcess)) {
    let local = InProcess::with_vars(vars).await;
    run(&local).await;
    let Some(aws) = petrel_e2e::fresh_aws(name).await else {
        return;
    };
    let mut all: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(vars);
    let on_moto = InProcess::with_vars(&all).await;
    run(&on_moto).await;
}

fn actor_doc(name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("https://remote.example/users/{name}"), "type": "Person", "preferredUsername": name,
        "inbox": format!("https://remote.example/users/{name}/inbox"),
        "publicKey": { "id": format!("https://remote.example/users/{name}#main-key"), "publicKeyPem": "pem" },
    })
}

/// A cached remote actor, expiring as `resolve` stores one (or with `ttl` when given).
async fn remote_actor(p: &InProcess, name: &str, ttl: Option<i64>) -> Account {
    let mut a = petrel::activitypub::convert::remote_account(&actor_doc(name), petrel::ids::snowflake(), 0).unwrap();
    a.ttl = ttl.or_else(|| actors::fresh_ttl(&p.ctx.config.retention));
    actors::save(p.ctx.stores.table.as_ref(), a).await.unwrap()
}

fn remote_status(author: &Account, n: u32) -> Status {
    let id = petrel::ids::snowflake();
    Status {
        id: id.clone(),
        account_id: author.id.clone(),
        text: String::new(),
        content: format!("<p>post {n} #growth</p>"),
        spoiler_text: String::new(),
        visibility: Visibility::Public,
        sensitive: false,
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        created_at: petrel::clock::now_ms(),
        edited_at: None,
        tags: vec!["growth".into()],
        mentions: vec![],
        favourites_count: 0,
        reblogs_count: 0,
        replies_count: 0,
        media: vec![],
        application: None,
        application_website: None,
        remote_uri: Some(format!("https://remote.example/notes/{id}")),
        remote_url: None,
        reblog_of: None,
        conversation: None,
        ttl: None,
        poll: None,
        poll_tally: Default::default(),
        emojis: Vec::new(),
        card: None,
    }
}

/// Stores `s` into the owner's home as the inbox does, received `days_ago`; returns its id.
async fn receive(p: &InProcess, mut s: Status, parent: Option<&Status>, mentions_local: bool, days_ago: i64) -> String {
    let r = p.ctx.config.retention;
    if let Some(parent) = parent {
        s.in_reply_to_id = Some(parent.id.clone());
        s.in_reply_to_account_id = Some(parent.account_id.clone());
    }
    s.ttl = statuses::remote_ttl(&r, parent, mentions_local, now_secs() - days_ago * DAY);
    let to = statuses::Delivery {
        home_of: vec![p.account.id.clone()],
        home_cap: Some(r.home_timeline_max),
        ..Default::default()
    };
    statuses::store_remote(p.ctx.stores.table.as_ref(), &s, &to).await.unwrap().unwrap()
}

async fn ttl_of(p: &InProcess, key: &petrel::store::Key) -> Option<i64> {
    let item = p.ctx.stores.table.get(key).await.unwrap().expect("item present");
    petrel::store::table::num_attr(&item, TTL)
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn untouched_remote_posts_expire_and_every_listing_skips_them() {
    both("retention-posts", &[], async |p: &InProcess| {
        let table = p.ctx.stores.table.as_ref();
        let bob = remote_actor(p, "bob", None).await;
        // Received 91 days ago (past the default 90): gone. Received 89 days ago: still there.
        let old = receive(p, remote_status(&bob, 1), None, false, 91).await;
        let recent = receive(p, remote_status(&bob, 2), None, false, 89).await;
        assert!(ttl_of(p, &keys::status(&recent)).await.is_some_and(|t| t > now_secs()));
        let (code, _, _) = p.call("GET", &format!("/api/v1/statuses/{old}"), None).await;
        assert_eq!(code, 404);
        // Its URI pointer and index entries went with it (hidden at once on both backends).
        let old_uri = format!("https://remote.example/notes/{old}");
        assert!(statuses::by_uri(table, &old_uri).await.unwrap().is_none());
        assert!(table.get(&keys::home_entry(&p.account.id, &old)).await.unwrap().is_none());
        // A reply that arrived to the expired post (its REPLIES entry pointed at the old one) and a
        // notification pointing at it: both listings skip what is gone rather than fail.
        let n = Notification { ttl: None, ..notifications::new(&Retention::default(), "mention", &bob.id, Some(&old)) };
        notifications::create(table, &p.account.id, &n).await.unwrap();
        let dangling = petrel::repo::keys::reply(&recent, &old);
        let mut entry = dangling.to_item();
        entry.insert("status_id".into(), petrel::store::Value::S(old.clone()));
        table.put(entry, None).await.unwrap();
        let home_entry = keys::home_entry(&p.account.id, &old).to_item();
        table.put(home_entry, None).await.unwrap();
        for path in [
            "/api/v1/timelines/home".to_string(),
            "/api/v1/timelines/public".to_string(),
            "/api/v1/timelines/tag/growth".to_string(),
            format!("/api/v1/accounts/{}/statuses", bob.id),
            "/api/v1/favourites".to_string(),
            "/api/v1/bookmarks".to_string(),
        ] {
            let (code, body, _) = p.call("GET", &path, None).await;
            assert_eq!(code, 200, "{path}: {body}");
            assert!(!ids(&body).contains(&old), "{path} shows an expired post");
        }
        let (code, body, _) = p.call("GET", "/api/v1/timelines/home", None).await;
        assert_eq!((code, ids(&body).contains(&recent)), (200, true), "{body}");
        let (code, body, _) = p.call("GET", &format!("/api/v1/statuses/{recent}/context"), None).await;
        assert_eq!(code, 200, "{body}");
        assert!(body["descendants"].as_array().unwrap().is_empty(), "{body}");
        let (code, body, _) = p.call("GET", "/api/v1/notifications", None).await;
        assert_eq!(code, 200, "{body}");
        assert!(!ids(&body).contains(&n.id), "a notification of an expired post is shown: {body}");
        let (code, _, _) = p.call("GET", "/api/v2/notifications", None).await;
        assert_eq!(code, 200);
        let (code, _, _) = p.call("GET", &format!("/api/v2/search?q={}&resolve=false", old_uri), None).await;
        assert_eq!(code, 200);
    })
    .await;
}

#[tokio::test]
async fn interactions_and_local_conversations_keep_posts_and_their_authors() {
    both("retention-keep", &[], async |p: &InProcess| {
        let table = p.ctx.stores.table.as_ref();
        let carol = remote_actor(p, "carol", None).await;
        let dave = remote_actor(p, "dave", None).await;
        assert!(carol.ttl.is_some() && dave.ttl.is_some());
        // Received 89 days ago: without the favourite it would be gone tomorrow.
        let faved = receive(p, remote_status(&carol, 1), None, false, 89).await;
        let before = ttl_of(p, &keys::status(&faved)).await;
        assert!(before.is_some());
        let (code, _, first) = p.call("POST", &format!("/api/v1/statuses/{faved}/favourite"), None).await;
        assert_eq!(code, 200);
        for key in [
            keys::status(&faved),
            keys::status_uri(&format!("https://remote.example/notes/{faved}")),
            keys::account_status(&carol.id, &faved),
            keys::account(&carol.id),
            keys::actor_uri("https://remote.example/users/carol"),
            keys::key_owner("https://remote.example/users/carol#main-key"),
        ] {
            assert_eq!(ttl_of(p, &key).await, None, "{key:?} still expires");
        }
        // What keeping costs: a favourite of a post kept already against one that expires (and
        // whose author is already kept), side by side.
        let kept_already = faved.clone();
        let (_, _, _) = p.call("POST", &format!("/api/v1/statuses/{kept_already}/unfavourite"), None).await;
        let (_, _, plain) = p.call("POST", &format!("/api/v1/statuses/{kept_already}/favourite"), None).await;
        let second = receive(p, remote_status(&carol, 2), None, false, 1).await;
        let (_, _, keeping) = p.call("POST", &format!("/api/v1/statuses/{second}/favourite"), None).await;
        println!("favourite, kept post: {plain:?}");
        println!("favourite, expiring post (author kept): {keeping:?}");
        println!("favourite, expiring post and author: {first:?}");
        // Keeping a post: 1 read of its author, 2 puts (URI pointer, author's index entry), 1 update.
        let extra = |a: u64, b: u64| a.saturating_sub(b);
        assert_eq!(
            (
                extra(keeping.table_get, plain.table_get),
                extra(keeping.table_put, plain.table_put),
                extra(keeping.table_update, plain.table_update)
            ),
            (1, 2, 1)
        );
        // The first time an author is kept: 3 writes more (its profile and both pointers).
        assert_eq!(
            (extra(first.table_put, keeping.table_put), extra(first.table_update, keeping.table_update)),
            (2, 1)
        );

        // Kept from the start: it mentions a local account, or replies to a local post.
        let mention = receive(p, remote_status(&dave, 3), None, true, 200).await;
        let (code, _, _) = p.call("POST", "/api/v1/statuses", Some("status=local+post")).await;
        assert_eq!(code, 200);
        let local = statuses::all_ids_of(table, &p.account.id).await.unwrap().pop().unwrap();
        let local_status = statuses::get(table, &local).await.unwrap().unwrap();
        assert_eq!(ttl_of(p, &keys::status(&local)).await, None, "a local post expires");
        let reply_to_local = receive(p, remote_status(&dave, 4), Some(&local_status), false, 200).await;
        for id in [&mention, &reply_to_local] {
            let (code, _, _) = p.call("GET", &format!("/api/v1/statuses/{id}"), None).await;
            assert_eq!(code, 200, "kept post {id} expired");
        }
        // A thread nobody here took part in expires; a local reply to its last post keeps the
        // whole chain up to it.
        let root = remote_status(&dave, 5);
        let root_id = receive(p, root.clone(), None, false, 10).await;
        let root = statuses::get(table, &root_id).await.unwrap().unwrap();
        let leaf_id = receive(p, remote_status(&carol, 6), Some(&root), false, 10).await;
        assert!(ttl_of(p, &keys::status(&leaf_id)).await.is_some(), "a reply to an expiring post is kept");
        let form = format!("status=me+too&in_reply_to_id={leaf_id}");
        let (code, _, _) = p.call("POST", "/api/v1/statuses", Some(&form)).await;
        assert_eq!(code, 200);
        for id in [&leaf_id, &root_id] {
            assert_eq!(ttl_of(p, &keys::status(id)).await, None, "{id} of the conversation still expires");
        }
        assert_eq!(ttl_of(p, &keys::reply(&root_id, &leaf_id)).await, None);
        // A reply arriving later to the kept thread is kept from the start.
        let root_now = statuses::get(table, &root_id).await.unwrap().unwrap();
        let late = receive(p, remote_status(&dave, 7), Some(&root_now), false, 200).await;
        let (code, _, _) = p.call("GET", &format!("/api/v1/statuses/{late}"), None).await;
        assert_eq!(code, 200);
        // Bookmarks and boosts keep too.
        for action in ["bookmark", "reblog"] {
            let id = receive(p, remote_status(&carol, 8), None, false, 1).await;
            let (code, body, _) = p.call("POST", &format!("/api/v1/statuses/{id}/{action}"), None).await;
            assert_eq!(code, 200, "{action}: {body}");
            assert_eq!(ttl_of(p, &keys::status(&id)).await, None, "{action} did not keep");
        }
    })
    .await;
}

#[tokio::test]
async fn home_timelines_are_trimmed_to_their_cap() {
    both("retention-home", &[("PETREL_HOME_TIMELINE_MAX", "20")], async |p: &InProcess| {
        let table = p.ctx.stores.table.as_ref();
        let bob = remote_actor(p, "bob", None).await;
        let home_count = async || {
            let mut n = 0;
            let mut cursor = None;
            loop {
                let page =
                    table.query(petrel::store::Query::new(keys::home(&p.account.id)).cursor(cursor)).await.unwrap();
                n += page.items.len();
                match page.cursor {
                    Some(c) => cursor = Some(c),
                    None => return n,
                }
            }
        };
        // Each insert trims on about one in TRIM_EVERY (a hash of account and status id, and the
        // ids carry the clock), so how many inserts it takes varies: insert until one past the
        // cap has trimmed, then five more. After the last insert that trimmed, the timeline
        // holds the cap plus what came after it. (A fixed count of 150 missed every trim in
        // about one run in twenty.)
        let mut total = 0;
        let mut last_trim = None;
        while total < 3000 && !last_trim.is_some_and(|t| t >= 25 && total > t + 5) {
            let id = receive(p, remote_status(&bob, total), None, false, 0).await;
            if timelines::trim_due(&p.account.id, &id) {
                last_trim = Some(total);
            }
            total += 1;
        }
        let last_trim = last_trim.expect("3000 inserts and not one trim: the hash is off");
        let expected = 20 + (total - 1 - last_trim) as usize;
        assert_eq!(home_count().await, expected);
        // A trim leaves exactly the newest `cap`, and the statuses themselves stay.
        let before = p.ctx.stores.ops.snapshot();
        let removed = timelines::trim_home(table, &p.account.id, 20).await.unwrap();
        let ops = p.ctx.stores.ops.snapshot().since(&before);
        println!("trim of {removed} entries: {ops:?}");
        assert_eq!((removed, home_count().await), (expected - 20, 20));
        assert_eq!((ops.table_query, ops.table_delete), (2, removed as u64));
        let (code, body, _) = p.call("GET", "/api/v1/timelines/home?limit=40", None).await;
        assert_eq!((code, ids(&body).len()), (200, 20));
    })
    .await;
}

#[tokio::test]
async fn old_notifications_expire_and_actors_with_relationships_stay() {
    both("retention-notif", &[], async |p: &InProcess| {
        let table = p.ctx.stores.table.as_ref();
        let r = p.ctx.config.retention;
        let erin = remote_actor(p, "erin", None).await;
        // A notification made now expires after the retention; one made 366 days ago is gone.
        let fresh = notifications::new(&r, "follow", &erin.id, None);
        assert!(fresh.ttl.is_some_and(|t| (t - now_secs() - 365 * DAY).abs() < 60), "{fresh:?}");
        let old = Notification {
            ttl: r.notification_ttl(now_secs() - 366 * DAY),
            ..notifications::new(&r, "follow", &erin.id, None)
        };
        notifications::create(table, &p.account.id, &fresh).await.unwrap();
        notifications::create(table, &p.account.id, &old).await.unwrap();
        let (code, body, _) = p.call("GET", "/api/v1/notifications", None).await;
        assert_eq!(code, 200);
        assert_eq!(ids(&body), vec![fresh.id.clone()]);

        // A block keeps the actor (its blocked_by list lives on its item); so do follows.
        for (name, action) in [("frank", "block"), ("gina", "mute"), ("hank", "follow")] {
            let a = remote_actor(p, name, None).await;
            let (code, body, _) = p.call("POST", &format!("/api/v1/accounts/{}/{action}", a.id), None).await;
            assert_eq!(code, 200, "{action}: {body}");
            for key in [
                keys::account(&a.id),
                keys::actor_uri(&format!("https://remote.example/users/{name}")),
                keys::key_owner(&format!("https://remote.example/users/{name}#main-key")),
            ] {
                assert_eq!(ttl_of(p, &key).await, None, "{action}: {key:?} still expires");
            }
        }
        // An unused actor whose expiry passed is dropped: its next use fetches it afresh.
        let gone = remote_actor(p, "ivan", Some(now_secs() - 1)).await;
        assert!(actors::by_uri(table, "https://remote.example/users/ivan").await.unwrap().is_none());
        assert!(actors::by_key_id(table, "https://remote.example/users/ivan#main-key").await.unwrap().is_none());
        assert!(petrel::repo::accounts::by_id(table, &gone.id).await.unwrap().is_none());
        // A use renews an actor close to its expiry (3 writes), not one far from it (none).
        let near = remote_actor(p, "judy", Some(now_secs() + DAY)).await;
        let before = p.ctx.stores.ops.snapshot();
        actors::touch(table, &near, &r).await.unwrap();
        let renew = p.ctx.stores.ops.snapshot().since(&before);
        let renewed = ttl_of(p, &keys::account(&near.id)).await.unwrap();
        assert!((renewed - now_secs() - r.actor_secs().unwrap()).abs() < 60);
        assert_eq!(ttl_of(p, &keys::actor_uri("https://remote.example/users/judy")).await, Some(renewed));
        let near = petrel::repo::accounts::by_id(table, &near.id).await.unwrap().unwrap();
        let before = p.ctx.stores.ops.snapshot();
        actors::touch(table, &near, &r).await.unwrap();
        let idle = p.ctx.stores.ops.snapshot().since(&before);
        assert_eq!((renew.table_update + renew.table_put, idle.total()), (3, 0));
    })
    .await;
}

/// The bytes each kind of item takes as DynamoDB sizes it (attribute names and values,
/// `item_size`, plus the 100 bytes of per-item overhead DynamoDB bills for storage), measured on
/// the items the code writes for realistic documents: a Mastodon actor with a 2048-bit key, bio
/// and two profile fields, and a 400-character Note with a hashtag, a mention and an image.
/// infra/cost uses these figures (notes/14-growth.md has the table). Prints them; asserts only
/// that each item exists and stays well under DynamoDB's limit.
#[tokio::test]
async fn item_sizes_of_what_a_remote_post_writes() {
    let p = InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let key_pem = petrel::crypto::generate_rsa_2048().unwrap().public_pem;
    let actor = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": "https://mastodon.example/users/kalinda", "type": "Person",
        "preferredUsername": "kalinda", "name": "Kalinda Ashworth-Ngata",
        "summary": "<p>Marine biologist in Wellington. Seabirds, kelp forests and the occasional bad pun. \
            She/her. Posts in English and te reo Māori.</p>",
        "url": "https://mastodon.example/@kalinda",
        "inbox": "https://mastodon.example/users/kalinda/inbox",
        "outbox": "https://mastodon.example/users/kalinda/outbox",
        "followers": "https://mastodon.example/users/kalinda/followers",
        "following": "https://mastodon.example/users/kalinda/following",
        "endpoints": { "sharedInbox": "https://mastodon.example/inbox" },
        "published": "2022-11-03T00:00:00Z", "manuallyApprovesFollowers": false, "discoverable": true,
        "icon": { "type": "Image", "mediaType": "image/png",
            "url": "https://files.mastodon.example/accounts/avatars/109/123/456/original/0a1b2c3d4e5f6789.png" },
        "image": { "type": "Image", "mediaType": "image/jpeg",
            "url": "https://files.mastodon.example/accounts/headers/109/123/456/original/9f8e7d6c5b4a3210.jpg" },
        "attachment": [
            { "type": "PropertyValue", "name": "Website", "value": "<a href=\"https://kalinda.example\">kalinda.example</a>" },
            { "type": "PropertyValue", "name": "Pronouns", "value": "she/her" }
        ],
        "publicKey": { "id": "https://mastodon.example/users/kalinda#main-key",
            "owner": "https://mastodon.example/users/kalinda", "publicKeyPem": key_pem },
    });
    let mut author =
        petrel::activitypub::convert::remote_account(&actor, petrel::ids::snowflake(), petrel::clock::now_ms())
            .unwrap();
    author.ttl = actors::fresh_ttl(&p.ctx.config.retention);
    let author = actors::save(table, author).await.unwrap();
    let note = serde_json::json!({
        "id": "https://mastodon.example/users/kalinda/statuses/113456789012345678", "type": "Note",
        "attributedTo": "https://mastodon.example/users/kalinda",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://mastodon.example/users/kalinda/followers", "https://other.example/users/sam"],
        "published": "2026-11-20T08:15:00Z",
        "url": "https://mastodon.example/@kalinda/113456789012345678",
        "content": format!("<p><span class=\"h-card\"><a href=\"https://other.example/@sam\" class=\"u-url mention\">@<span>sam</span></a></span> {} <a href=\"https://mastodon.example/tags/seabirds\" class=\"mention hashtag\" rel=\"tag\">#<span>seabirds</span></a></p>",
            "Counted 214 fluttering shearwaters off the south coast this morning, the most since we started the survey in 2019. The southerly brought them in close; two juveniles among them, which is a good sign for the colony after last year's storms. Photos later once I've sorted them."),
        "contentMap": { "en": "…" },
        "tag": [
            { "type": "Mention", "href": "https://other.example/users/sam", "name": "@sam@other.example" },
            { "type": "Hashtag", "href": "https://mastodon.example/tags/seabirds", "name": "#seabirds" }
        ],
        "attachment": [{ "type": "Document", "mediaType": "image/jpeg",
            "url": "https://files.mastodon.example/media_attachments/files/113/456/789/original/abcdef0123456789.jpg",
            "name": "A raft of shearwaters on grey water", "blurhash": "UFE:C[xu00Rj~qoft7of9Fj[xuayM{ayofWB",
            "width": 1600, "height": 1200 }],
    });
    let mut remote = petrel::activitypub::convert::remote_status(&note, &author, petrel::ids::snowflake()).unwrap();
    remote.status.ttl = p.ctx.config.retention.remote_status_ttl(now_secs());
    let s = remote.status;
    let n = notifications::new(&p.ctx.config.retention, "mention", &author.id, Some(&s.id));
    let to = statuses::Delivery {
        home_of: vec![p.account.id.clone()],
        notify: vec![(p.account.id.clone(), n)],
        home_cap: None,
    };
    let id = statuses::store_remote(table, &s, &to).await.unwrap().unwrap();
    // The same post without the image and the mention (the shape infra/cost/measure.py sends).
    let mut plain_note = note.clone();
    plain_note["id"] = serde_json::json!("https://mastodon.example/users/kalinda/statuses/113456789012345679");
    plain_note["attachment"] = serde_json::json!([]);
    plain_note["tag"] = serde_json::json!([note["tag"][1]]);
    let mut plain =
        petrel::activitypub::convert::remote_status(&plain_note, &author, petrel::ids::snowflake()).unwrap();
    plain.status.ttl = s.ttl;
    let plain_id = statuses::store_remote(table, &plain.status, &statuses::Delivery::default()).await.unwrap().unwrap();
    // A like of a local post by the remote account: the reaction, favourited-by and notification.
    // A local post of ordinary length with a hashtag (never expires): what 300 posts a month add.
    let text = "Counted+214+fluttering+shearwaters+off+the+south+coast+this+morning%2C+the+most+since+we+\
        started+the+survey+in+2019.+The+southerly+brought+them+in+close%3B+two+juveniles+among+them%2C+which+\
        is+a+good+sign+for+the+colony+after+last+year%27s+storms.+Photos+later.+https%3A%2F%2Fblog.example%2F\
        posts%2Fshearwaters+%23seabirds";
    let (_, body, _) = p.call("POST", "/api/v1/statuses", Some(&format!("status={text}"))).await;
    let local = body["id"].as_str().unwrap().to_string();
    let local_status = statuses::get(table, &local).await.unwrap().unwrap();
    let like = notifications::new(&p.ctx.config.retention, "favourite", &author.id, Some(&local));
    statuses::add_reaction(
        table,
        &local_status,
        "like",
        &author.id,
        "https://mastodon.example/users/kalinda#likes/1",
        Some(like.clone()),
    )
    .await
    .unwrap();
    let remote_uri = author.remote.as_ref().unwrap();
    let measured = [
        ("remote status with an image and a mention (STATUS#)", keys::status(&id)),
        ("remote status, text and a hashtag (STATUS#)", keys::status(&plain_id)),
        ("status URI pointer (STATUSURI#)", keys::status_uri(s.remote_uri.as_deref().unwrap())),
        ("author's statuses entry (POSTS#)", keys::account_status(&author.id, &id)),
        ("hashtag entry (TAG#)", keys::tag_entry("seabirds", &id)),
        ("home entry (HOME#)", keys::home_entry(&p.account.id, &id)),
        ("notification, mention (NOTIF#)", keys::notification(&p.account.id, &id)),
        ("notification, favourite (NOTIF#)", keys::notification(&p.account.id, &like.id)),
        ("local status, text and a hashtag (STATUS#)", keys::status(&local)),
        ("local post's entries (POSTS#, HOME#, PUBLIC#, TAG#), each", keys::public_entry(&local)),
        ("reaction (REACT#)", keys::reaction(&local, "like", &author.id)),
        ("favourited-by (FAVBY#)", keys::favourited_by(&local, &author.id)),
        ("remote actor (ACCT#)", keys::account(&author.id)),
        ("actor URI pointer (ACTORURI#)", keys::actor_uri(&remote_uri.uri)),
        ("key id pointer (KEYID#)", keys::key_owner(&remote_uri.key_id)),
    ];
    println!("| item kind | bytes per item (item_size + 100 overhead) |");
    println!("|---|---|");
    for (name, key) in measured {
        let item = table.get(&key).await.unwrap().unwrap_or_else(|| panic!("{name} not written"));
        let bytes = petrel::store::table::item_size(&item);
        assert!(bytes < 50_000, "{name}: {bytes}");
        println!("| {name} | {} |", bytes + 100);
    }
}
