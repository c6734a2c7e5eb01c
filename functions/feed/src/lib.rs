//! The feed function serves RSS 2.0, Atom and JSON Feed and the public HTML pages from the
//! bucket — the newest page of each with one object read and no table read. They are rendered
//! into the bucket by `render::render`, which outbox-fanout runs when a change is published (the
//! one work queue; infra/deploy.md says why there is no feed queue).
//!
//! URLs: `/@name` (profile), `/@name/ID` (post), `/@name.rss|.atom|.json` and `/@name/feed.json`
//! (posts without replies), `/@name/with_replies.rss|.atom|.json`, `/tags/TAG.rss|.atom`; each
//! feed takes `?max_id=` for older pages.

pub mod atom;
pub mod json_feed;
pub mod load;
pub mod objects;
pub mod pages;
pub mod render;
pub mod rss;
pub mod serve;
pub mod view;

use std::sync::OnceLock;

use axum::routing::get;
use axum::Router;
use petrel::repo::RepoError;
use petrel::store::StoreError;
use petrel::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rendering failed: {0}")]
    Render(String),
    #[error("PETREL_FEED_ITEMS: {0}")]
    Config(String),
}

/// Items per feed page, from `PETREL_FEED_ITEMS` (default 20, at most 200).
pub fn items() -> usize {
    static ITEMS: OnceLock<usize> = OnceLock::new();
    *ITEMS.get_or_init(|| items_from(std::env::var("PETREL_FEED_ITEMS").ok().as_deref()).unwrap_or(load::DEFAULT_ITEMS))
}

pub fn items_from(value: Option<&str>) -> Result<usize, FeedError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(load::DEFAULT_ITEMS),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=load::MAX_ITEMS).contains(&n) => Ok(n),
            _ => Err(FeedError::Config(format!("`{v}` is not a number from 1 to {}", load::MAX_ITEMS))),
        },
    }
}

/// Fails at start on a bad `PETREL_FEED_ITEMS` rather than at the first render.
pub fn check_config() -> Result<(), FeedError> {
    items_from(std::env::var("PETREL_FEED_ITEMS").ok().as_deref()).map(|_| ())
}

/// The public routes: feeds and pages.
pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/@{name}", get(serve::account))
        .route("/@{name}/{rest}", get(serve::account_sub))
        .route("/tags/{tag}", get(serve::tag))
        .method_not_allowed_fallback(petrel::http::wrong_method)
        .layer(axum::middleware::from_fn(petrel::http::request_span))
        .with_state(ctx)
}
