//! What a reader's poll costs: one object read and no table operation, for every feed and page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Request};
use tower::ServiceExt;

async fn get(site: &support::Site, uri: &str, etag: Option<&str>) -> (u16, Option<String>, petrel::store::OpCounts) {
    let app = feed::router(site.ctx.clone());
    let mut req = Request::builder().uri(uri);
    if let Some(etag) = etag {
        req = req.header(header::IF_NONE_MATCH, etag);
    }
    let before = site.ctx.stores.ops.snapshot();
    let response = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let ops = site.ctx.stores.ops.snapshot().since(&before);
    let etag = response.headers().get(header::ETAG).map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), etag, ops)
}

#[tokio::test]
async fn a_poll_is_one_object_read_and_no_table_operation() {
    let site = support::site(30).await;
    feed::render::render(&site.ctx, &site.account.id, &["rust".into()], &[]).await.unwrap();
    let post = {
        let page = feed::load::account_feeds(&site.ctx, &site.account, None, 20, &[]).await.unwrap();
        page.posts.items[0].id.clone()
    };
    for uri in [
        "/@owner.rss".to_string(),
        "/@owner.atom".into(),
        "/@owner.json".into(),
        "/@owner/feed.json".into(),
        "/@owner/with_replies.rss".into(),
        "/@owner/with_replies.atom".into(),
        "/@owner/with_replies.json".into(),
        "/@owner".into(),
        format!("/@owner/{post}"),
        "/tags/rust.rss".into(),
        "/tags/rust.atom".into(),
    ] {
        let (status, etag, ops) = get(&site, &uri, None).await;
        assert_eq!(status, 200, "{uri}");
        assert_eq!((ops.blob_get, ops.table_reads(), ops.table_writes(), ops.total()), (1, 0, 0, 1), "{uri}: {ops:?}");
        // The conditional request a reader repeats costs the same read and sends nothing.
        let (status, _, ops) = get(&site, &uri, etag.as_deref()).await;
        assert_eq!(status, 304, "{uri}");
        assert_eq!(ops.total(), 1, "{uri}: {ops:?}");
    }
}

#[tokio::test]
async fn an_unknown_name_costs_the_object_read_and_the_username_lookup() {
    let site = support::site(1).await;
    let (status, _, ops) = get(&site, "/@nobody.rss", None).await;
    assert_eq!(status, 404);
    assert_eq!((ops.blob_get, ops.table_get, ops.total()), (1, 1, 2), "{ops:?}");
    let (status, _, ops) = get(&site, "/@no.body.rss", None).await;
    assert_eq!((status, ops.total()), (404, 0), "an impossible name reads nothing");
}

#[tokio::test]
async fn a_feed_never_rendered_is_rendered_on_its_first_request() {
    let site = support::site(3).await;
    let (status, _, ops) = get(&site, "/@owner.atom", None).await;
    assert_eq!(status, 200);
    assert!(ops.blob_put >= 7, "the account's objects were stored: {ops:?}");
    let (status, _, ops) = get(&site, "/@owner.atom", None).await;
    assert_eq!((status, ops.total()), (200, 1), "{ops:?}");
}
