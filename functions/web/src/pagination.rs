//! Mastodon pagination: `max_id`/`since_id`/`min_id`/`limit` in, a `Link` header with `next`
//! and `prev` out.

use axum::http::header::LINK;
use axum::response::{IntoResponse, Response};
use axum::Json;
use petrel::mastodon::entities::Status;
use petrel::repo::timelines::PageParams;
use petrel::Ctx;
use serde::{Deserialize, Serialize};

use petrel::api::error::ApiResult;
use petrel::api::params::lenient;

#[derive(Deserialize, Default, Clone)]
pub struct Params {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    max_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    since_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    min_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    limit: Option<u32>,
}

impl Params {
    /// The `limit` asked for, if any (endpoints whose limits differ from timelines' clamp it).
    pub fn limit(&self) -> Option<u32> {
        self.limit
    }

    pub fn into_page_params(self) -> PageParams {
        // Non-numeric ids cannot bound a snowflake range; Mastodon ignores them too.
        let id = |v: Option<String>| v.filter(|s| petrel::repo::statuses::valid_id(s));
        PageParams { max_id: id(self.max_id), since_id: id(self.since_id), min_id: id(self.min_id), limit: self.limit }
    }
}

/// A page of entities with its Link header.
pub struct Paged<T> {
    items: Vec<T>,
    link: Option<String>,
}

impl<T> Paged<T> {
    pub fn empty() -> Self {
        Paged { items: Vec::new(), link: None }
    }

    /// `ids` are the ids of the returned items, newest first (never of what was read and left
    /// out: a link must not reveal that a hidden item exists, nor when it was made); `path` is
    /// the endpoint's path.
    pub fn new(ctx: &Ctx, items: Vec<T>, ids: &[String], path: &str) -> Self {
        let link = match (ids.first(), ids.last()) {
            (Some(newest), Some(oldest)) => {
                let base = format!("{}{path}", ctx.config.base_url());
                Some(format!("<{base}?max_id={oldest}>; rel=\"next\", <{base}?min_id={newest}>; rel=\"prev\""))
            }
            _ => None,
        };
        Paged { items, link }
    }
}

impl<T> Paged<T> {
    /// A page with a Link header of its own (empty: none), for lists not paged by snowflakes.
    pub fn with_link(items: Vec<T>, link: String) -> Self {
        Paged { items, link: (!link.is_empty()).then_some(link) }
    }
}

impl Paged<petrel::mastodon::entities::Status> {
    /// A page of statuses, linked by the statuses returned.
    pub fn statuses(ctx: &Ctx, items: Vec<petrel::mastodon::entities::Status>, path: &str) -> Self {
        let ids: Vec<String> = items.iter().map(|s| s.id.clone()).collect();
        Paged::new(ctx, items, &ids, path)
    }
}

/// A page is read again further on at most this many times when what was read is left out
/// (statuses the viewer may not see, muted authors, filters): enough to fill ordinary pages,
/// bounded so one request costs at most this many queries and batch gets.
pub const MAX_ROUNDS: usize = 3;

/// Fills a page of statuses from an index read in rounds. `read` reads one page of the index for
/// the parameters and returns the ids it read (newest first) and what it keeps of them; while the
/// page is short and the index goes on, the next round starts past the last id read. The result
/// is newest first, at most `limit` long, and holds the `limit` nearest to the bound the
/// parameters give (the newest below `max_id`, or the oldest above `min_id`).
pub async fn fill<F, Fut>(params: PageParams, mut read: F) -> ApiResult<Vec<Status>>
where
    F: FnMut(PageParams) -> Fut,
    Fut: std::future::Future<Output = ApiResult<(Vec<String>, Vec<Status>)>>,
{
    let limit = params.limit() as usize;
    let ascending = params.min_id.is_some();
    let mut next = params;
    let mut kept: Vec<Status> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let (ids, found) = read(next.clone()).await?;
        kept.extend(found);
        if kept.len() >= limit || ids.len() < limit {
            break;
        }
        // Newest first: the oldest read bounds a descending page, the newest an ascending one.
        if ascending {
            next.min_id = ids.first().cloned();
        } else {
            next.max_id = ids.last().cloned();
        }
    }
    // Snowflakes sort by time when of equal length.
    kept.sort_by(|a, b| b.id.len().cmp(&a.id.len()).then_with(|| b.id.cmp(&a.id)));
    kept.dedup_by(|a, b| a.id == b.id);
    if ascending {
        let skip = kept.len().saturating_sub(limit);
        kept.drain(..skip);
    } else {
        kept.truncate(limit);
    }
    Ok(kept)
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        if let Some(link) = self.link.and_then(|l| l.parse().ok()) {
            response.headers_mut().insert(LINK, link);
        }
        response
    }
}
