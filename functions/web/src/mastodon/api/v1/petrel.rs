//! `/api/v1/petrel/…`: Petrel's own additions to the client API.

use axum::extract::{Path, State};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::repo::{deliveries, statuses};
use petrel::Ctx;

/// `GET /api/v1/petrel/statuses/:id/deliveries`: the author's view of how far a post reached
/// its followers' servers (two reads: the status, for ownership, and its counters).
pub async fn deliveries(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<deliveries::Report>> {
    let me = auth.user("read:statuses")?;
    let table = ctx.stores.table.as_ref();
    statuses::get(table, &id).await?.filter(|s| s.account_id == me.id).ok_or(ApiError::NotFound)?;
    Ok(Json(deliveries::report(table, &id).await?))
}
