//! Mastodon pagination: `max_id`/`since_id`/`min_id`/`limit` in, a `Link` header with `next`
//! and `prev` out.

use axum::http::header::LINK;
use axum::response::{IntoResponse, Response};
use axum::Json;
use petrel::repo::timelines::PageParams;
use petrel::Ctx;
use serde::{Deserialize, Serialize};

use petrel::api::params::lenient;

#[derive(Deserialize, Default)]
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

    /// `ids` are the page's ids, newest first, as read from the index (before any filtering), so
    /// the links continue where the index stopped; `path` is the endpoint's path.
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

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        if let Some(link) = self.link.and_then(|l| l.parse().ok()) {
            response.headers_mut().insert(LINK, link);
        }
        response
    }
}
