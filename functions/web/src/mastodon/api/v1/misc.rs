//! Small endpoints clients call at start: preferences, markers, custom emojis, peers, and the
//! lists of features Petrel has no data for yet, which answer a well-formed empty result (never
//! 404: Ivory and others crash on one).

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use petrel::repo::keys;
use petrel::store::{Update, Value};
use petrel::Ctx;
use serde_json::json;

use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{Params, QueryParams};

pub async fn preferences(auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    auth.user("read:accounts")?;
    Ok(Json(json!({
        "posting:default:visibility": "public",
        "posting:default:sensitive": false,
        "posting:default:language": null,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}

const TIMELINES: [&str; 2] = ["home", "notifications"];

#[derive(serde::Deserialize)]
pub struct MarkerQuery {
    #[serde(default, deserialize_with = "petrel::api::params::lenient::string_list")]
    timeline: Vec<String>,
}

pub async fn markers(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<MarkerQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("read:statuses")?;
    let wanted: Vec<&str> =
        TIMELINES.iter().copied().filter(|t| q.timeline.is_empty() || q.timeline.iter().any(|w| w == t)).collect();
    let keys: Vec<_> = wanted.iter().map(|t| keys::marker(&account.id, t)).collect();
    let mut out = serde_json::Map::new();
    for (t, item) in wanted.iter().zip(ctx.stores.table.batch_get(&keys).await?) {
        if let Some(item) = item {
            out.insert(t.to_string(), marker_json(&item));
        }
    }
    Ok(Json(serde_json::Value::Object(out)))
}

fn marker_json(item: &petrel::store::Item) -> serde_json::Value {
    json!({
        "last_read_id": petrel::store::str_attr_of(item, "last_read_id").unwrap_or_default(),
        "version": petrel::store::table::num_attr(item, "version").unwrap_or(0),
        "updated_at": petrel::clock::iso8601_ms(petrel::store::table::num_attr(item, "updated_at").unwrap_or(0)),
    })
}

pub async fn save_markers(
    State(ctx): State<Ctx>,
    auth: Auth,
    Params(p): Params<HashMap<String, serde_json::Value>>,
) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("write:statuses")?;
    let mut out = serde_json::Map::new();
    for t in TIMELINES {
        let Some(last) = p
            .get(t)
            .and_then(|v| v.get("last_read_id"))
            .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())))
        else {
            continue;
        };
        if !petrel::repo::statuses::valid_id(&last) {
            return Err(ApiError::Unprocessable(format!("`{last}` is not an id")));
        }
        let update = Update::default()
            .set("last_read_id", Value::S(last))
            .set("updated_at", Value::N(petrel::clock::now_ms().to_string()))
            .add("version", 1);
        let item = ctx.stores.table.update(&keys::marker(&account.id, t), update, None).await?;
        out.insert(t.to_string(), marker_json(&item));
    }
    Ok(Json(serde_json::Value::Object(out)))
}

/// `[]` for endpoints whose features Petrel does not have (lists, filters, trends…).
pub async fn empty_list() -> Json<Vec<serde_json::Value>> {
    Json(Vec::new())
}

/// `[]` for the owner's lists that need a signed-in user (blocks, mutes, follow requests…).
pub async fn empty_user_list(auth: Auth) -> ApiResult<Json<Vec<serde_json::Value>>> {
    auth.account.as_ref().ok_or(ApiError::Unprocessable("This method requires an authenticated user".into()))?;
    Ok(Json(Vec::new()))
}
