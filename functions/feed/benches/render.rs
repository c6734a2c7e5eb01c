//! Render time of an account's feeds and profile page for 20 and 200 items, and what one poll
//! costs in store operations. Run: `cargo bench -p feed --bench render` (add `--profile dev` on a
//! busy machine; the figures are then unoptimised and say so).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

#[tokio::main]
async fn main() {
    let profile = if cfg!(debug_assertions) { "dev (unoptimised)" } else { "release" };
    println!("feed render benchmark, {profile} build, embedded backend");
    let site = support::site(240).await;
    let ctx = &site.ctx;
    for n in [20usize, 200] {
        let feeds = feed::load::account_feeds(ctx, &site.account, None, n, &[]).await.unwrap();
        assert_eq!(feeds.with_replies.items.len(), n);
        let rounds = if n == 20 { 50 } else { 10 };
        let started = Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            let objs = feed::render::account_objects(&ctx.config, &site.account, &feeds).unwrap();
            bytes = objs.iter().map(|o| o.bytes.len()).sum::<usize>();
        }
        let per_render = started.elapsed() / rounds;
        let before = ctx.stores.ops.snapshot();
        let started = Instant::now();
        let loaded = feed::load::account_feeds(ctx, &site.account, None, n, &[]).await.unwrap();
        let load_time = started.elapsed();
        let reads = ctx.stores.ops.snapshot().since(&before);
        assert_eq!(loaded.posts.items.len(), n);
        println!(
            "{n:>3} items: 6 feeds + profile page rendered in {:>7.2} ms ({} KiB); reading them: {:>6.2} ms, {} queries + {} batch gets",
            per_render.as_secs_f64() * 1000.0,
            bytes / 1024,
            load_time.as_secs_f64() * 1000.0,
            reads.table_query,
            reads.table_batch_get,
        );
    }
    feed::render::render(ctx, &site.account.id, &[], &[]).await.unwrap();
    let app = feed::router(ctx.clone());
    let before = ctx.stores.ops.snapshot();
    let polls = 100u32;
    let started = Instant::now();
    for _ in 0..polls {
        let req = Request::builder().uri("/@owner.atom").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(req).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let per_poll = started.elapsed() / polls;
    let ops = ctx.stores.ops.snapshot().since(&before);
    println!(
        "one poll of /@owner.atom: {} blob get, {} table reads, {} operations in all ({:.3} ms each)",
        ops.blob_get / u64::from(polls),
        ops.table_reads() / u64::from(polls),
        ops.total() / u64::from(polls),
        per_poll.as_secs_f64() * 1000.0
    );
}
