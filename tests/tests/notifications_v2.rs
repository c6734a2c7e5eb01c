//! Grouped notifications (API v2) and unread counts, through the web function's router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel::model::{Account, Notification};
use petrel_e2e::InProcess;
use serde_json::Value;

async fn remote(p: &InProcess, name: &str) -> Account {
    let doc = serde_json::json!({
        "id": format!("https://remote.example/users/{name}"), "type": "Person", "preferredUsername": name,
        "inbox": format!("https://remote.example/users/{name}/inbox"),
        "publicKey": { "id": format!("https://remote.example/users/{name}#main-key"), "publicKeyPem": "pem" },
    });
    let a = petrel::activitypub::convert::remote_account(&doc, petrel::ids::snowflake(), 0).unwrap();
    petrel::repo::actors::save(p.ctx.stores.table.as_ref(), a).await.unwrap()
}

/// Writes a notification `secs` seconds after a fixed instant (all within one 12-hour window).
async fn notify(p: &InProcess, kind: &str, from: &Account, status: Option<&str>, secs: i64) -> String {
    let at = 1_700_000_000_000 / petrel::repo::notifications::GROUP_SPAN_MS
        * petrel::repo::notifications::GROUP_SPAN_MS
        + 1000 * secs;
    let n = Notification {
        id: petrel::ids::snowflake_at(at as u64),
        kind: kind.into(),
        from_account_id: from.id.clone(),
        status_id: status.map(str::to_string),
        created_at: at,
        ttl: None,
    };
    petrel::repo::notifications::create(p.ctx.stores.table.as_ref(), &p.account.id, &n).await.unwrap();
    n.id
}

fn groups(body: &Value) -> Vec<(String, u64, Vec<String>)> {
    body["notification_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let samples = g["sample_account_ids"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string());
            (g["type"].as_str().unwrap().to_string(), g["notifications_count"].as_u64().unwrap(), samples.collect())
        })
        .collect()
}

#[tokio::test]
async fn favourites_boosts_and_follows_group_and_unread_counts_follow_the_marker() {
    let p = InProcess::new().await;
    let tok = Some(p.token.as_str());
    let (a, b, c) = (remote(&p, "a").await, remote(&p, "b").await, remote(&p, "c").await);
    let (_, s, _) = p.call_as(tok, "POST", "/api/v1/statuses", Some("status=one")).await;
    let (_, t, _) = p.call_as(tok, "POST", "/api/v1/statuses", Some("status=two")).await;
    let (s, t) = (s["id"].as_str().unwrap().to_string(), t["id"].as_str().unwrap().to_string());
    notify(&p, "favourite", &a, Some(&s), 1).await;
    notify(&p, "favourite", &b, Some(&s), 2).await;
    notify(&p, "mention", &a, Some(&t), 3).await;
    notify(&p, "follow", &b, None, 4).await;
    notify(&p, "favourite", &c, Some(&s), 5).await;
    notify(&p, "follow", &c, None, 6).await;
    let newest = notify(&p, "favourite", &a, Some(&t), 7).await;

    let (status, body, link) = p.call_as(tok, "GET", "/api/v2/notifications", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        groups(&body),
        [
            ("favourite".to_string(), 1, vec![a.id.clone()]),
            ("follow".to_string(), 2, vec![c.id.clone(), b.id.clone()]),
            ("favourite".to_string(), 3, vec![c.id.clone(), b.id.clone(), a.id.clone()]),
            ("mention".to_string(), 1, vec![a.id.clone()]),
        ]
    );
    assert_eq!(body["notification_groups"][0]["most_recent_notification_id"].as_u64().unwrap().to_string(), newest);
    assert_eq!(body["accounts"].as_array().unwrap().len(), 3);
    assert_eq!(body["statuses"].as_array().unwrap().len(), 2);
    assert!(link.unwrap().contains("max_id="));

    // Not grouped when the client asks for other types only; filters as in v1.
    let (_, body, _) = p.call_as(tok, "GET", "/api/v2/notifications?grouped_types[]=reblog", None).await;
    assert_eq!(groups(&body).len(), 7);
    let (_, body, _) = p.call_as(tok, "GET", "/api/v2/notifications?types[]=follow", None).await;
    assert_eq!(groups(&body), [("follow".to_string(), 2, vec![c.id.clone(), b.id.clone()])]);
    let (_, body, _) = p.call_as(tok, "GET", &format!("/api/v1/notifications?account_id={}", a.id), None).await;
    assert_eq!(body.as_array().unwrap().len(), 3);

    // Paging by groups: two at a time, every notification counted once over the pages.
    let (mut counted, mut uri, mut pages) = (0, "/api/v2/notifications?limit=2".to_string(), 0);
    loop {
        let (_, body, link) = p.call_as(tok, "GET", &uri, None).await;
        let g = groups(&body);
        if g.is_empty() {
            break;
        }
        assert!(g.len() <= 2);
        counted += g.iter().map(|(_, n, _)| n).sum::<u64>();
        pages += 1;
        let next = link.unwrap();
        let max_id = next.split("max_id=").nth(1).unwrap().split('>').next().unwrap().to_string();
        uri = format!("/api/v2/notifications?limit=2&max_id={max_id}");
        assert!(pages < 10);
    }
    assert_eq!(counted, 7);

    // One group, its accounts, and dismissing it.
    let (_, body, _) = p.call_as(tok, "GET", "/api/v2/notifications", None).await;
    let key = body["notification_groups"][2]["group_key"].as_str().unwrap().to_string();
    let (status, one, _) = p.call_as(tok, "GET", &format!("/api/v2/notifications/{key}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(groups(&one), [("favourite".to_string(), 3, vec![c.id.clone(), b.id.clone(), a.id.clone()])]);
    let (_, accounts, _) = p.call_as(tok, "GET", &format!("/api/v2/notifications/{key}/accounts"), None).await;
    assert_eq!(accounts.as_array().unwrap().len(), 3);
    for bad in ["nope", "favourite-x-1", "ungrouped-1", "mention-1-1"] {
        let (status, _, _) = p.call_as(tok, "GET", &format!("/api/v2/notifications/{bad}"), None).await;
        assert_eq!(status, 404, "{bad}");
    }

    // Unread counts follow the notifications marker.
    let (_, count, _) = p.call_as(tok, "GET", "/api/v1/notifications/unread_count", None).await;
    assert_eq!(count["count"], 7);
    let (_, count, _) = p.call_as(tok, "GET", "/api/v2/notifications/unread_count", None).await;
    assert_eq!(count["count"], 4);
    let (_, all, _) = p.call_as(tok, "GET", "/api/v1/notifications", None).await;
    let third = all[2]["id"].as_str().unwrap();
    let (status, _, _) =
        p.call_as(tok, "POST", "/api/v1/markers", Some(&format!("notifications[last_read_id]={third}"))).await;
    assert_eq!(status, 200);
    let (_, count, _) = p.call_as(tok, "GET", "/api/v1/notifications/unread_count", None).await;
    assert_eq!(count["count"], 2);

    let (status, _, _) = p.call_as(tok, "POST", &format!("/api/v2/notifications/{key}/dismiss"), None).await;
    assert_eq!(status, 200);
    let (_, body, _) = p.call_as(tok, "GET", "/api/v2/notifications", None).await;
    assert_eq!(groups(&body).len(), 3);
    let (status, _, _) = p.call_as(tok, "GET", &format!("/api/v2/notifications/{key}"), None).await;
    assert_eq!(status, 404);

    // A muted sender leaves the groups.
    let (status, _, _) = p.call_as(tok, "POST", &format!("/api/v1/accounts/{}/mute", c.id), None).await;
    assert_eq!(status, 200);
    let (_, body, _) = p.call_as(tok, "GET", "/api/v2/notifications?types[]=follow", None).await;
    assert_eq!(groups(&body), [("follow".to_string(), 1, vec![b.id.clone()])]);
}
