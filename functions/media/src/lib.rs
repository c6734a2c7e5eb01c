//! The media function: uploads from phone apps (`/api/v1/media`, `/api/v2/media`). Its routes
//! arrive with the media pipeline; until then the router is empty and requests fall through to
//! the web function's 404 under `petrel serve`.

use axum::Router;
use petrel::Ctx;

pub fn router(ctx: Ctx) -> Router {
    Router::new().with_state(ctx)
}
