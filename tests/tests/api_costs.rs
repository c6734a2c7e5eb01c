//! What the hot requests cost in store operations — the unit AWS bills. These are budgets: a
//! change that adds a read to a timeline page or a write to posting fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel_e2e::InProcess;

#[tokio::test]
async fn posting_is_one_transaction() {
    let p = InProcess::new().await;
    let (status, body, ops) = p.call("POST", "/api/v1/statuses", Some("status=Hello%20%23world")).await;
    assert_eq!(status, 200, "{body}");
    // Authentication reads the token and the account; the post itself is one transaction, and
    // one batch send queues its fan-out and the re-render of the author's feeds (two messages,
    // one SQS request). A post with hashtags adds one batch get: the local followers of its tags
    // (whose home timelines get it) and the author's featured tags among them (counted), both
    // written in the post's transaction. Streaming it reads who is connected: one query, and
    // nothing more with nobody connected (tests/tests/streaming.rs counts a connected viewer).
    assert_eq!(ops.table_get, 2, "{ops:?}");
    assert_eq!(ops.table_query, 1, "{ops:?}");
    assert_eq!(ops.table_transact, 1, "{ops:?}");
    assert_eq!(ops.table_batch_get, 1, "{ops:?}");
    assert_eq!(ops.queue_send_batch, 1, "{ops:?}");
    assert_eq!(ops.queue_messages_sent, 2, "{ops:?}");
    assert_eq!(ops.total(), 6, "{ops:?}");
    // Without hashtags, nothing more than before.
    let (status, body, ops) = p.call("POST", "/api/v1/statuses", Some("status=Hello")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((ops.table_get, ops.table_transact, ops.table_batch_get, ops.total()), (2, 1, 0, 5), "{ops:?}");
}

#[tokio::test]
async fn a_home_timeline_page_is_one_batch_get_and_six_queries() {
    let p = InProcess::new().await;
    for i in 0..25 {
        let (status, _, _) = p.call("POST", "/api/v1/statuses", Some(&format!("status=post%20{i}"))).await;
        assert_eq!(status, 200);
    }
    let (status, body, ops) = p.call("GET", "/api/v1/timelines/home?limit=20", None).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 20);
    assert_eq!(ops.table_get, 2, "authentication: token and account; {ops:?}");
    // The page's ids; then, all at once, its statuses and one query per kind of mark
    // (favourite, bookmark, pin, boost) over the page's id range, and one of the viewer's muted
    // threads: a read per (status, mark) would bill a read unit for each of the 100 mostly
    // missing markers. (`reblogged` and `muted` added two queries per page, whatever its size.)
    assert_eq!((ops.table_query, ops.table_batch_get), (6, 1), "{ops:?}");
    assert_eq!(ops.total(), 9, "{ops:?}");
}

#[tokio::test]
async fn reading_and_favouriting_a_status_read_it_once() {
    let p = InProcess::new().await;
    let (_, posted, _) = p.call("POST", "/api/v1/statuses", Some("status=read%20me")).await;
    let id = posted["id"].as_str().unwrap();
    let (status, body, ops) = p.call("GET", &format!("/api/v1/statuses/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((ops.table_get, ops.table_batch_get, ops.table_query, ops.total()), (2, 1, 5, 8), "{ops:?}");
    let (status, body, ops) = p.call("POST", &format!("/api/v1/statuses/{id}/favourite"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["favourited"], true);
    // Authentication (2), the visibility check (1), the transaction, the rendering reads.
    assert_eq!((ops.table_get, ops.table_transact, ops.table_batch_get, ops.total()), (3, 1, 1, 10), "{ops:?}");
}

#[tokio::test]
async fn the_instance_reads_the_table_once_per_process_not_per_call() {
    let p = InProcess::new().await;
    // The first call reads the local accounts (a query and a batch get) and, for v2, the site's
    // Web Push key; every later call within the cache's minute is served from memory.
    let (status, first, ops) = p.call("GET", "/api/v2/instance", None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!((ops.table_query, ops.table_batch_get), (1, 1), "{ops:?}");
    for uri in ["/api/v2/instance", "/api/v1/instance", "/api/v2/instance", "/api/v1/instance"] {
        let (status, body, ops) = p.call("GET", uri, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(ops.total(), 0, "{uri} after the first call: {ops:?}");
        assert_eq!(
            body["contact"]["account"]["username"].as_str().or(body["contact_account"]["username"].as_str()),
            Some("owner")
        );
    }
    let (_, v1, _) = p.call("GET", "/api/v1/instance", None).await;
    assert_eq!(v1["stats"]["user_count"], 1, "{v1}");
}
