//! Polls and scheduled statuses through the web function's router, the inbox and the outbox
//! consumer's timed work, on the embedded backend and on the AWS adapters against moto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use outbox_fanout::deliver::Receipt;
use outbox_fanout::timed;
use petrel::consumer::Settled;
use petrel::events::{OutboxEvent, PollWork, ScheduledWork};
use petrel::model::Account;
use petrel::repo::{keys, polls, scheduled, statuses};
use petrel_e2e::InProcess;
use serde_json::{json, Value};

async fn backends(prefix: &str) -> Vec<(&'static str, InProcess)> {
    let mut out = vec![("embedded", InProcess::new().await)];
    if let Some(vars) = petrel_e2e::fresh_aws(prefix).await {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        out.push(("aws", InProcess::with_vars(&vars).await));
    }
    out
}

async fn remote(p: &InProcess, name: &str) -> Account {
    let doc = json!({
        "id": format!("https://remote.example/users/{name}"), "type": "Person", "preferredUsername": name,
        "inbox": format!("https://remote.example/users/{name}/inbox"),
        "publicKey": { "id": format!("https://remote.example/users/{name}#main-key"), "publicKeyPem": "pem" },
    });
    let a = petrel::activitypub::convert::remote_account(&doc, petrel::ids::snowflake(), 0).unwrap();
    petrel::repo::actors::save(p.ctx.stores.table.as_ref(), a).await.unwrap()
}

fn counts(poll: &Value) -> Vec<Value> {
    poll["options"].as_array().unwrap().iter().map(|o| o["votes_count"].clone()).collect()
}

/// Moves a stored poll's end to `at` (ms), as if time had passed.
async fn end_poll_at(p: &InProcess, status_id: &str, at: i64) {
    let table = p.ctx.stores.table.as_ref();
    let status = statuses::get(table, status_id).await.unwrap().unwrap();
    let mut poll = status.poll.clone().unwrap();
    poll.expires_at = Some(at);
    polls::refresh_remote(table, &status, &poll).await.unwrap();
}

async fn notifications_of(p: &InProcess, token: &str, kind: &str) -> Vec<Value> {
    let (code, body, _) = p.call_as(Some(token), "GET", "/api/v1/notifications", None).await;
    assert_eq!(code, 200, "{body}");
    body.as_array().unwrap().iter().filter(|n| n["type"] == kind).cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn polls_are_created_voted_on_edited_and_end_with_notifications() {
    for (backend, p) in backends("petrel-polls").await {
        let owner = Some(p.token.as_str());
        let (_bob, bob_token) = p.user("bob").await;
        let bob = Some(bob_token.as_str());

        // Form, as Mastodon.py and most apps send it.
        let form = "status=Tea%3F&poll%5Boptions%5D%5B%5D=yes&poll%5Boptions%5D%5B%5D=no&poll%5Bexpires_in%5D=600";
        let (code, s, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some(form)).await;
        assert_eq!(code, 200, "{backend}: {s}");
        let id = s["id"].as_str().unwrap().to_string();
        assert_eq!(s["poll"]["id"], id.as_str());
        assert_eq!(s["poll"]["multiple"], false);
        assert_eq!(s["poll"]["expired"], false);
        assert_eq!(counts(&s["poll"]), vec![json!(0), json!(0)]);
        assert_eq!(s["poll"]["voted"], false, "{backend}");

        // JSON, multiple choice with hidden totals.
        let body = r#"{"status":"Pick","poll":{"options":["a","b","c"],"expires_in":3600,"multiple":true,"hide_totals":true}}"#;
        let (code, m, _) = p.call_json(owner, "POST", "/api/v1/statuses", body).await;
        assert_eq!(code, 200, "{backend}: {m}");
        let multi = m["id"].as_str().unwrap().to_string();
        assert_eq!(m["poll"]["multiple"], true);
        assert_eq!(counts(&m["poll"]), vec![Value::Null, Value::Null, Value::Null], "hidden until the end");

        // Mastodon's refusals.
        for (form, says) in [
            ("status=x&poll%5Boptions%5D%5B%5D=only&poll%5Bexpires_in%5D=600", "more than one item"),
            ("status=x&poll%5Boptions%5D%5B%5D=a&poll%5Boptions%5D%5B%5D=b&poll%5Bexpires_in%5D=60", "too soon"),
            ("status=x&poll%5Boptions%5D%5B%5D=a&poll%5Boptions%5D%5B%5D=a&poll%5Bexpires_in%5D=600", "duplicate"),
            (
                "status=x&poll%5Boptions%5D%5B%5D=1&poll%5Boptions%5D%5B%5D=2&poll%5Boptions%5D%5B%5D=3&poll%5Boptions%5D%5B%5D=4&poll%5Boptions%5D%5B%5D=5&poll%5Bexpires_in%5D=600",
                "more than 4 items",
            ),
            ("status=x&poll%5Boptions%5D%5B%5D=a&poll%5Boptions%5D%5B%5D=b", "can't be blank"),
        ] {
            let (code, e, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some(form)).await;
            assert_eq!(code, 422, "{backend} {form}: {e}");
            assert!(e["error"].as_str().unwrap().contains(says), "{backend}: {e}");
        }

        // Votes.
        let (code, v, _) = p.call_as(bob, "POST", &format!("/api/v1/polls/{id}/votes"), Some("choices%5B%5D=1")).await;
        assert_eq!(code, 200, "{backend}: {v}");
        assert_eq!(counts(&v), vec![json!(0), json!(1)]);
        assert_eq!(
            (v["voted"].clone(), v["own_votes"].clone(), v["voters_count"].clone()),
            (json!(true), json!([1]), json!(1))
        );
        for (token, form, error) in
            [(bob, "choices%5B%5D=0", polls::ALREADY_VOTED), (owner, "choices%5B%5D=0", polls::SELF_VOTE)]
        {
            let (code, e, _) = p.call_as(token, "POST", &format!("/api/v1/polls/{id}/votes"), Some(form)).await;
            assert_eq!(
                (code, e["error"].as_str().unwrap()),
                (422, format!("Validation failed: {error}").as_str()),
                "{backend}"
            );
        }
        let (code, e, _) =
            p.call_as(bob, "POST", &format!("/api/v1/polls/{multi}/votes"), Some("choices%5B%5D=7")).await;
        assert_eq!(
            (code, e["error"].as_str().unwrap()),
            (422, format!("Validation failed: {}", polls::NO_SUCH_OPTION).as_str()),
            "{backend}"
        );
        let (code, _, _) =
            p.call_json(bob, "POST", &format!("/api/v1/polls/{multi}/votes"), r#"{"choices":[0]}"#).await;
        assert_eq!(code, 200);
        let (code, v, _) =
            p.call_json(bob, "POST", &format!("/api/v1/polls/{multi}/votes"), r#"{"choices":["2"]}"#).await;
        assert_eq!(code, 200, "a second vote on other options of a multiple-choice poll: {v}");
        assert_eq!(
            (v["votes_count"].clone(), v["voters_count"].clone(), v["own_votes"].clone()),
            (json!(2), json!(1), json!([0, 2]))
        );
        let (code, _, _) =
            p.call_json(bob, "POST", &format!("/api/v1/polls/{multi}/votes"), r#"{"choices":[2]}"#).await;
        assert_eq!(code, 422, "the same option twice");

        // Each viewer sees their own votes, on the poll and in timelines.
        let (_, g, _) = p.call_as(owner, "GET", &format!("/api/v1/polls/{id}"), None).await;
        assert_eq!(
            (g["voted"].clone(), g["own_votes"].clone(), g["votes_count"].clone()),
            (json!(false), json!([]), json!(1))
        );
        let (_, anon, _) = p.call_as(None, "GET", &format!("/api/v1/polls/{id}"), None).await;
        assert!(anon.get("voted").is_none(), "no viewer, no `voted`: {anon}");
        let (_, st, _) = p.call_as(bob, "GET", &format!("/api/v1/statuses/{id}"), None).await;
        assert_eq!(st["poll"]["own_votes"], json!([1]));
        let (_, tl, _) = p.call_as(bob, "GET", "/api/v1/timelines/public", None).await;
        let in_tl = tl.as_array().unwrap().iter().find(|s| s["id"] == id.as_str()).unwrap();
        assert_eq!(in_tl["poll"]["own_votes"], json!([1]), "{backend}");

        // One Update per burst of votes: the first vote claimed it, the second found it pending.
        let table = p.ctx.stores.table.as_ref();
        assert!(!polls::claim_update(table, &multi).await.unwrap(), "pending after the votes");
        polls::release_update(table, &multi).await.unwrap();
        assert!(polls::claim_update(table, &multi).await.unwrap());

        // The Question as other servers get it.
        let stored = statuses::get(table, &id).await.unwrap().unwrap();
        let note = petrel::activitypub::convert::note(&p.ctx.config, &p.account, &stored);
        assert_eq!(note["type"], "Question");
        assert_eq!(
            note["oneOf"][1],
            json!({"type": "Note", "name": "no", "replies": {"type": "Collection", "totalItems": 1}})
        );
        assert_eq!(note["votersCount"], 1);
        assert!(note["endTime"].as_str().unwrap().ends_with('Z'));
        let stored_multi = statuses::get(table, &multi).await.unwrap().unwrap();
        let note = petrel::activitypub::convert::note(&p.ctx.config, &p.account, &stored_multi);
        assert_eq!(note["anyOf"].as_array().unwrap().len(), 3);

        // The end: a stale message (the end moved) does nothing; the due one notifies the author
        // and the voter, once however often it comes.
        let ended_at = petrel::clock::now_ms() - 1000;
        end_poll_at(&p, &id, ended_at).await;
        let stale = PollWork { status_id: id.clone(), due_at: ended_at - 5000, voter: None };
        assert_eq!(timed::poll_ended(&p.ctx, stale, &Receipt::default()).await.unwrap(), Settled::Done);
        assert!(notifications_of(&p, &p.token, "poll").await.is_empty());
        let due = PollWork { status_id: id.clone(), due_at: ended_at, voter: None };
        for _ in 0..2 {
            timed::poll_ended(&p.ctx, due.clone(), &Receipt::default()).await.unwrap();
        }
        for token in [&p.token, &bob_token] {
            let ns = notifications_of(&p, token, "poll").await;
            assert_eq!(ns.len(), 1, "{backend}: {ns:?}");
            assert_eq!(ns[0]["status"]["id"], id.as_str());
            assert_eq!(ns[0]["status"]["poll"]["expired"], true);
        }
        let (code, e, _) =
            p.call_as(bob, "POST", &format!("/api/v1/polls/{multi}/votes"), Some("choices%5B%5D=1")).await;
        assert_eq!(code, 200, "{e}");
        end_poll_at(&p, &multi, ended_at).await;
        let (code, e, _) =
            p.call_as(bob, "POST", &format!("/api/v1/polls/{multi}/votes"), Some("choices%5B%5D=1")).await;
        assert_eq!(
            (code, e["error"].as_str().unwrap()),
            (422, format!("Validation failed: {}", polls::ENDED).as_str()),
            "{backend}"
        );
        let (_, ended, _) = p.call_as(bob, "GET", &format!("/api/v1/polls/{multi}"), None).await;
        assert_eq!(counts(&ended), vec![json!(1), json!(1), json!(1)], "totals show once it ended");

        // Edits: the same options keep the votes; other options start over.
        let (_, q, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some(form)).await;
        let q = q["id"].as_str().unwrap().to_string();
        p.call_as(bob, "POST", &format!("/api/v1/polls/{q}/votes"), Some("choices%5B%5D=0")).await;
        let keep = "status=Tea%3F%3F&poll%5Boptions%5D%5B%5D=yes&poll%5Boptions%5D%5B%5D=no&poll%5Bexpires_in%5D=900";
        let (code, e, _) = p.call_as(owner, "PUT", &format!("/api/v1/statuses/{q}"), Some(keep)).await;
        assert_eq!(code, 200, "{e}");
        assert_eq!(counts(&e["poll"]), vec![json!(1), json!(0)]);
        let change =
            "status=Coffee%3F&poll%5Boptions%5D%5B%5D=yes&poll%5Boptions%5D%5B%5D=later&poll%5Bexpires_in%5D=900";
        let (_, e, _) = p.call_as(owner, "PUT", &format!("/api/v1/statuses/{q}"), Some(change)).await;
        assert_eq!(counts(&e["poll"]), vec![json!(0), json!(0)], "{backend}");
        let (_, g, _) = p.call_as(bob, "GET", &format!("/api/v1/polls/{q}"), None).await;
        assert_eq!(g["voted"], false, "the votes went with the old options");
        let (code, _, _) = p.call_as(bob, "POST", &format!("/api/v1/polls/{q}/votes"), Some("choices%5B%5D=1")).await;
        assert_eq!(code, 200);
        let (_, e, _) = p.call_as(owner, "PUT", &format!("/api/v1/statuses/{q}"), Some("status=no+poll")).await;
        assert!(e["poll"].is_null(), "an edit without a poll removes it: {e}");
        let (code, _, _) = p.call_as(bob, "GET", &format!("/api/v1/polls/{q}"), None).await;
        assert_eq!(code, 404);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_polls_and_votes_cross_the_inbox_and_the_outbox() {
    for (backend, p) in backends("petrel-rpolls").await {
        let table = p.ctx.stores.table.as_ref();
        let carol = remote(&p, "carol").await;
        let owner_uri = petrel::mastodon::convert::actor_uri(&p.ctx.config, "owner");

        // A remote vote on a local poll is a Note named after the option, not a status.
        let (_, s, _) = p
            .call_as(
                Some(&p.token),
                "POST",
                "/api/v1/statuses",
                Some("status=Q&poll%5Boptions%5D%5B%5D=left&poll%5Boptions%5D%5B%5D=right&poll%5Bexpires_in%5D=600"),
            )
            .await;
        let id = s["id"].as_str().unwrap().to_string();
        let question = s["uri"].as_str().unwrap().to_string();
        let vote = json!({
            "id": "https://remote.example/users/carol#votes/1/activity", "type": "Create",
            "actor": "https://remote.example/users/carol", "to": [owner_uri],
            "object": {
                "id": "https://remote.example/users/carol#votes/1", "type": "Note", "name": "right",
                "attributedTo": "https://remote.example/users/carol", "to": [owner_uri], "inReplyTo": question,
            },
        });
        for _ in 0..2 {
            inbox::process::activity(&p.ctx, &vote, &carol).await.unwrap();
        }
        let (_, poll, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/polls/{id}"), None).await;
        assert_eq!(counts(&poll), vec![json!(0), json!(1)], "{backend}: counted once");
        assert!(statuses::by_uri(table, "https://remote.example/users/carol#votes/1").await.unwrap().is_none());
        assert_eq!(polls::voters(table, &id, false).await.unwrap(), vec![carol.id.clone()]);

        // The debounced Update goes to followers and to the voter's server.
        let w = PollWork { status_id: id.clone(), due_at: 0, voter: None };
        assert_eq!(timed::poll_update(&p.ctx, w, &Receipt::default()).await.unwrap(), Settled::Done);
        let msgs = drain(&p).await;
        let publish = msgs
            .iter()
            .find_map(|e| match e {
                OutboxEvent::Publish(pb) if pb.activity["type"] == "Update" => Some(pb.clone()),
                _ => None,
            })
            .expect("an Update is queued");
        assert_eq!(publish.activity["object"]["type"], "Question");
        assert_eq!(publish.activity["object"]["oneOf"][1]["replies"]["totalItems"], 1);
        assert_eq!(publish.inboxes, vec!["https://remote.example/users/carol/inbox".to_string()]);
        assert!(polls::claim_update(table, &id).await.unwrap(), "the mark came off");

        // A remote Question (Mastodon's documented shape) shows with its poll.
        let q = json!({
            "id": "https://remote.example/users/carol/statuses/9", "type": "Question",
            "attributedTo": "https://remote.example/users/carol", "content": "<p>Which?</p>",
            "published": "2026-11-01T10:00:00Z", "endTime": "2099-11-02T10:00:00Z", "votersCount": 7,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [],
            "tag": [{"type": "Mention", "href": owner_uri}],
            "oneOf": [
                {"type": "Note", "name": "cats", "replies": {"type": "Collection", "totalItems": 4}},
                {"type": "Note", "name": "dogs", "replies": {"type": "Collection", "totalItems": 3}},
            ],
        });
        let create = json!({"id": "https://remote.example/c/9", "type": "Create", "actor": carol.remote.as_ref().unwrap().uri, "object": q});
        inbox::process::activity(&p.ctx, &create, &carol).await.unwrap();
        let rs = statuses::by_uri(table, "https://remote.example/users/carol/statuses/9").await.unwrap().unwrap();
        let (_, st, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/statuses/{}", rs.id), None).await;
        assert_eq!(counts(&st["poll"]), vec![json!(4), json!(3)], "{backend}: {st}");
        assert_eq!((st["poll"]["voters_count"].clone(), st["poll"]["voted"].clone()), (json!(7), json!(false)));

        // The local account's vote goes to the author as Mastodon sends one.
        let (code, v, _) =
            p.call_as(Some(&p.token), "POST", &format!("/api/v1/polls/{}/votes", rs.id), Some("choices%5B%5D=1")).await;
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["own_votes"], json!([1]));
        // Counted here at once (the author's server counts it again in its next results).
        assert_eq!((counts(&v), v["voters_count"].clone()), (vec![json!(4), json!(4)], json!(8)), "{backend}: {v}");
        let delivered: Vec<_> = drain(&p)
            .await
            .into_iter()
            .filter_map(|e| match e {
                OutboxEvent::Deliver(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(delivered.len(), 1, "{backend}");
        let a = &delivered[0].activity;
        assert_eq!(delivered[0].inbox, "https://remote.example/users/carol/inbox");
        assert_eq!(a["type"], "Create");
        assert_eq!(a["object"]["type"], "Note");
        assert_eq!(a["object"]["name"], "dogs");
        assert_eq!(a["object"]["inReplyTo"], "https://remote.example/users/carol/statuses/9");
        assert_eq!(a["object"]["to"], json!(["https://remote.example/users/carol"]));
        assert!(a["object"].get("content").is_none());

        // The author's Update refreshes the counts without making it an edit.
        let mut q2 = q.clone();
        q2["oneOf"][1]["replies"]["totalItems"] = json!(4);
        q2["votersCount"] = json!(8);
        let update = json!({"id": "https://remote.example/u/9", "type": "Update", "actor": carol.remote.as_ref().unwrap().uri, "object": q2});
        inbox::process::activity(&p.ctx, &update, &carol).await.unwrap();
        let (_, st, _) = p.call_as(Some(&p.token), "GET", &format!("/api/v1/statuses/{}", rs.id), None).await;
        // The author's results include the vote: not counted twice.
        assert_eq!(counts(&st["poll"]), vec![json!(4), json!(4)], "{backend}");
        assert_eq!(st["poll"]["voters_count"], json!(8), "{backend}");
        assert_eq!(st["poll"]["own_votes"], json!([1]));
        assert!(st["edited_at"].is_null(), "{backend}");

        // At its end, the local voter is notified (the author is elsewhere).
        let end = petrel::clock::now_ms() - 1000;
        end_poll_at(&p, &rs.id, end).await;
        let w = PollWork { status_id: rs.id.clone(), due_at: end, voter: Some(p.account.id.clone()) };
        timed::poll_ended(&p.ctx, w, &Receipt::default()).await.unwrap();
        assert_eq!(notifications_of(&p, &p.token, "poll").await.len(), 1, "{backend}");
    }
}

/// Every message visible on the outbox queue now, removed from it.
async fn drain(p: &InProcess) -> Vec<OutboxEvent> {
    let q = p.ctx.stores.queues.outbox.as_ref();
    let mut out = Vec::new();
    loop {
        let got = q.receive(10, std::time::Duration::from_secs(30), std::time::Duration::ZERO).await.unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).unwrap());
            q.delete(&m.receipt).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_statuses_publish_once_at_their_time() {
    for (backend, p) in backends("petrel-sched").await {
        let owner = Some(p.token.as_str());
        let table = p.ctx.stores.table.as_ref();
        let iso = |ms: i64| petrel::clock::iso8601_ms(ms).replace(':', "%3A");
        let now = petrel::clock::now_ms();

        let (code, e, _) = p
            .call_as(
                owner,
                "POST",
                "/api/v1/statuses",
                Some(&format!("status=soon&scheduled_at={}", iso(now + 120_000))),
            )
            .await;
        assert_eq!(code, 422, "{backend}: {e}");
        assert_eq!(e["error"], "Validation failed: Scheduled at The scheduled date must be in the future");

        // An upload waiting for a status: it would expire in a day.
        let media = petrel::repo::media::create(table, upload(&p.account.id)).await.unwrap();
        let form = format!(
            "status=later&visibility=unlisted&media_ids%5B%5D={}&scheduled_at={}",
            media.id,
            iso(now + 600_000)
        );
        let (code, s, _) = p.call_as(owner, "POST", "/api/v1/statuses", Some(&form)).await;
        assert_eq!(code, 200, "{backend}: {s}");
        let sid = s["id"].as_str().unwrap().to_string();
        assert_eq!(s["params"]["text"], "later");
        assert_eq!(s["params"]["visibility"], "unlisted");
        assert_eq!(s["media_attachments"][0]["id"], media.id.as_str());
        let stored_media = table.get(&keys::media(&media.id)).await.unwrap().unwrap();
        assert!(
            !stored_media.contains_key(petrel::store::TTL),
            "{backend}: a scheduled status's upload does not expire"
        );
        let (_, list, _) = p.call_as(owner, "GET", "/api/v1/scheduled_statuses", None).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let before = statuses::all_ids_of(table, &p.account.id).await.unwrap().len();

        // Rescheduled: the new time is stored, the old message does nothing.
        let new_at = now + 1_200_000;
        let (code, r, _) = p
            .call_as(
                owner,
                "PUT",
                &format!("/api/v1/scheduled_statuses/{sid}"),
                Some(&format!("scheduled_at={}", iso(new_at))),
            )
            .await;
        assert_eq!(code, 200, "{r}");
        assert_eq!(r["scheduled_at"], petrel::clock::iso8601_ms(new_at));
        let (code, _, _) = p
            .call_as(
                owner,
                "PUT",
                &format!("/api/v1/scheduled_statuses/{sid}"),
                Some(&format!("scheduled_at={}", iso(now + 1000))),
            )
            .await;
        assert_eq!(code, 422);

        // Before its time the message is sent on (no receipt to hold) and nothing is published.
        let early = ScheduledWork { account_id: p.account.id.clone(), scheduled_id: sid.clone(), scheduled_at: new_at };
        assert_eq!(timed::publish_scheduled(&p.ctx, early, &Receipt::default()).await.unwrap(), Settled::Done);
        assert_eq!(statuses::all_ids_of(table, &p.account.id).await.unwrap().len(), before);

        // Time passes: the stored time moves into the past (P2); the message for another time
        // (P1, as if queued before a reschedule) publishes nothing, the one for P2 publishes once.
        let s_item = scheduled::get(table, &p.account.id, &sid).await.unwrap().unwrap();
        let (p1, p2) = (now - 60_000, now - 30_000);
        scheduled::reschedule(table, &s_item, p2).await.unwrap();
        let old = ScheduledWork { account_id: p.account.id.clone(), scheduled_id: sid.clone(), scheduled_at: p1 };
        timed::publish_scheduled(&p.ctx, old, &Receipt::default()).await.unwrap();
        assert_eq!(statuses::all_ids_of(table, &p.account.id).await.unwrap().len(), before, "{backend}");
        let due = ScheduledWork { account_id: p.account.id.clone(), scheduled_id: sid.clone(), scheduled_at: p2 };
        for _ in 0..2 {
            assert_eq!(
                timed::publish_scheduled(&p.ctx, due.clone(), &Receipt::default()).await.unwrap(),
                Settled::Done
            );
        }
        let ids = statuses::all_ids_of(table, &p.account.id).await.unwrap();
        assert_eq!(ids.len(), before + 1, "{backend}: published once");
        let published = statuses::get(table, ids.last().unwrap()).await.unwrap().unwrap();
        assert_eq!(published.text, "later");
        assert_eq!(published.media[0].id, media.id);
        assert!(published.created_at >= now);
        let m = petrel::repo::media::get(table, &media.id).await.unwrap().unwrap();
        assert_eq!(m.status_id.as_deref(), Some(published.id.as_str()));
        let (_, list, _) = p.call_as(owner, "GET", "/api/v1/scheduled_statuses", None).await;
        assert_eq!(list, json!([]));
        let queued = drain(&p).await;
        assert!(queued.iter().any(|e| matches!(e, OutboxEvent::Publish(pb) if pb.activity["type"] == "Create")));

        // Deleted: gone from the list, and its message publishes nothing.
        let (_, d, _) = p
            .call_as(
                owner,
                "POST",
                "/api/v1/statuses",
                Some(&format!("status=never&scheduled_at={}", iso(now + 900_000))),
            )
            .await;
        let did = d["id"].as_str().unwrap().to_string();
        let d_at = scheduled::get(table, &p.account.id, &did).await.unwrap().unwrap().scheduled_at;
        let (code, body, _) = p.call_as(owner, "DELETE", &format!("/api/v1/scheduled_statuses/{did}"), None).await;
        assert_eq!((code, body), (200, json!({})));
        let (code, _, _) = p.call_as(owner, "GET", &format!("/api/v1/scheduled_statuses/{did}"), None).await;
        assert_eq!(code, 404);
        let gone = ScheduledWork { account_id: p.account.id.clone(), scheduled_id: did, scheduled_at: d_at };
        let count = statuses::all_ids_of(table, &p.account.id).await.unwrap().len();
        timed::publish_scheduled(&p.ctx, gone, &Receipt::default()).await.unwrap();
        assert_eq!(statuses::all_ids_of(table, &p.account.id).await.unwrap().len(), count);

        // A scheduled poll starts when it is published.
        let (code, sp, _) = p
            .call_json(
                owner,
                "POST",
                "/api/v1/statuses",
                &json!({"status": "vote later", "scheduled_at": petrel::clock::iso8601_ms(now + 900_000),
                        "poll": {"options": ["x", "y"], "expires_in": 300}})
                .to_string(),
            )
            .await;
        assert_eq!(code, 200, "{sp}");
        assert_eq!(
            sp["params"]["poll"],
            json!({"options": ["x", "y"], "expires_in": 300, "multiple": false, "hide_totals": false})
        );
    }
}

fn upload(account_id: &str) -> petrel::model::Media {
    let dims = petrel::model::Dimensions { width: 1, height: 1, size: 1 };
    petrel::model::Media {
        id: petrel::ids::snowflake(),
        account_id: account_id.to_string(),
        kind: "image".into(),
        content_type: "image/png".into(),
        original_key: String::new(),
        small_key: String::new(),
        original: dims,
        small: dims,
        blurhash: String::new(),
        description: None,
        focus: None,
        created_at: 0,
        status_id: None,
        ttl: None,
        remote_url: None,
    }
}

#[test]
fn mastodon_documented_question_and_vote_shapes_parse() {
    // From docs.joinmastodon.org/spec/activitypub/ (Question) and Mastodon's vote serializer.
    let q = json!({
        "id": "https://mastodon.example/users/alice/statuses/1009947848598745", "type": "Question",
        "content": "What should I eat for breakfast today?", "published": "2023-03-05T07:40:13Z",
        "endTime": "2023-03-06T07:40:13Z", "votersCount": 7,
        "anyOf": [
            {"type": "Note", "name": "apple", "replies": {"type": "Collection", "totalItems": 3}},
            {"type": "Note", "name": "orange", "replies": {"type": "Collection", "totalItems": 7}},
            {"type": "Note", "name": "banana", "replies": {"type": "Collection", "totalItems": 6}},
        ],
    });
    let poll = petrel::activitypub::convert::remote_poll(&q).unwrap();
    assert!(poll.multiple);
    assert_eq!(poll.options, vec!["apple", "orange", "banana"]);
    assert_eq!(poll.remote_counts, vec![3, 7, 6]);
    assert_eq!(poll.remote_voters, Some(7));
    assert_eq!(poll.expires_at, petrel::clock::parse_rfc3339_ms("2023-03-06T07:40:13Z"));
    let mut closed = q.clone();
    closed["closed"] = json!("2023-03-06T07:40:13Z");
    assert!(petrel::activitypub::convert::remote_poll(&closed).unwrap().closed);
    assert!(petrel::activitypub::convert::remote_poll(&json!({"type": "Question"})).is_none());
    // JSON-LD readers (Fedify) see `votersCount` only when the context names it, as Mastodon's does.
    assert_eq!(petrel::activitypub::vocab::context()[2]["votersCount"], "toot:votersCount");
}

#[tokio::test]
async fn what_polls_add_to_a_timeline_page_and_what_a_vote_costs() {
    let p = InProcess::new().await;
    let (_, bob_token) = p.user("bob").await;
    for i in 0..5 {
        p.call("POST", "/api/v1/statuses", Some(&format!("status=plain%20{i}"))).await;
    }
    let (_, _, plain) = p.call("GET", "/api/v1/timelines/home?limit=20", None).await;
    let form = "status=Q&poll%5Boptions%5D%5B%5D=a&poll%5Boptions%5D%5B%5D=b&poll%5Bexpires_in%5D=600";
    let (_, s, post) = p.call("POST", "/api/v1/statuses", Some(form)).await;
    // A poll adds the delayed message of its end to posting's one transaction and one batch.
    assert_eq!((post.table_transact, post.queue_send_batch, post.queue_send), (1, 1, 1), "{post:?}");
    let (_, _, with_poll) = p.call("GET", "/api/v1/timelines/home?limit=20", None).await;
    // A page with polls: one more batch get, of the viewer's votes; none without.
    assert_eq!(with_poll.table_batch_get, plain.table_batch_get + 1, "{plain:?} {with_poll:?}");
    assert_eq!(with_poll.total(), plain.total() + 1);

    let id = s["id"].as_str().unwrap();
    let before = p.ctx.stores.ops.snapshot();
    let (code, _, _) =
        p.call_as(Some(&bob_token), "POST", &format!("/api/v1/polls/{id}/votes"), Some("choices%5B%5D=0")).await;
    assert_eq!(code, 200);
    let vote = p.ctx.stores.ops.snapshot().since(&before);
    println!("a vote on a local poll: {vote:?}");
    // Authentication (2 reads), the status (1 read), the voter's earlier votes (1 read), the vote
    // (1 transaction), the Update's claim (1 update) and its delayed message, and the status read
    // back for the answer (1 read).
    assert_eq!((vote.table_get, vote.table_transact, vote.table_update, vote.queue_send), (5, 1, 1, 1), "{vote:?}");
}
