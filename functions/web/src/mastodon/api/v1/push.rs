//! `/api/v1/push/subscription`: the Web Push subscription of the calling access token (one per
//! token; a new `POST` replaces it). Form-encoded (`subscription[endpoint]`,
//! `subscription[keys][p256dh]`, `data[alerts][mention]=1`, `data[policy]`…) or JSON, as apps
//! send it. The pushes themselves are queued where notifications are made (`petrel::push`) and
//! sent by outbox-fanout.

use axum::extract::State;
use axum::Json;
use petrel::model::{PushPolicy, PushSubscription, ALERT_TYPES};
use petrel::push::{self, webpush::SubscriberKeys, PushError};
use petrel::repo;
use petrel::Ctx;
use serde_json::{json, Map, Value};

use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::Params;

/// The site's VAPID public key, as `vapid_key` and `server_key` carry it.
pub async fn vapid_key(ctx: &Ctx) -> ApiResult<String> {
    match push::vapid(ctx).await {
        Ok(key) => Ok(key.public_key().to_string()),
        Err(PushError::Repo(e)) => Err(e.into()),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// Mastodon's WebPushSubscription entity.
fn entity(s: &PushSubscription, server_key: String) -> Value {
    let alerts: Map<String, Value> =
        ALERT_TYPES.iter().map(|t| (t.to_string(), Value::Bool(s.alerts.iter().any(|a| a == t)))).collect();
    json!({
        "id": s.id,
        "endpoint": s.endpoint,
        "standard": s.standard,
        "alerts": alerts,
        "server_key": server_key,
        "policy": s.policy.as_str(),
    })
}

/// A boolean as Rails casts a parameter: false for `false`, `0`, `"0"`, `"f"`, `"false"`,
/// `"off"` (any case) and empty values, true for anything else.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !matches!(s.trim().to_ascii_lowercase().as_str(), "" | "0" | "f" | "false" | "off"),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |node, key| node.get(key)).and_then(Value::as_str)
}

/// `data[alerts]` (the types asked for; unknown types are ignored) and `data[policy]` (Mastodon.py
/// sends `policy` at the top level: read there too).
fn data_of(params: &Value) -> ApiResult<(Vec<String>, PushPolicy)> {
    let data = params.get("data");
    let alerts = data
        .and_then(|d| d.get("alerts"))
        .and_then(Value::as_object)
        .map(|a| {
            ALERT_TYPES.iter().filter(|t| a.get(**t).is_some_and(truthy)).map(|t| t.to_string()).collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let policy = match data.and_then(|d| str_at(d, &["policy"])).or_else(|| str_at(params, &["policy"])) {
        None | Some("") => PushPolicy::All,
        Some(p) => PushPolicy::parse(p).ok_or_else(|| {
            ApiError::Unprocessable(format!("Policy `{p}` is not one of all, followed, follower, none"))
        })?,
    };
    Ok((alerts, policy))
}

/// `POST /api/v1/push/subscription`: subscribes the token (replacing its subscription).
pub async fn create(State(ctx): State<Ctx>, auth: Auth, Params(params): Params<Value>) -> ApiResult<Json<Value>> {
    let me = auth.user("push")?;
    let sub = params
        .get("subscription")
        .filter(|s| s.is_object())
        .ok_or_else(|| ApiError::BadRequest("param is missing or the value is empty: subscription".into()))?;
    let endpoint = str_at(sub, &["endpoint"]).map(str::trim).unwrap_or_default();
    if endpoint.is_empty() {
        return Err(ApiError::Unprocessable("Endpoint can't be blank".into()));
    }
    let endpoint = push::check_endpoint(endpoint, ctx.http.policy())
        .map_err(|e| ApiError::Unprocessable(format!("Endpoint is invalid: {e}")))?;
    let keys = SubscriberKeys::parse(
        str_at(sub, &["keys", "p256dh"]).unwrap_or_default(),
        str_at(sub, &["keys", "auth"]).unwrap_or_default(),
    )
    .map_err(|e| ApiError::Unprocessable(format!("Keys are invalid: {e}")))?;
    let (alerts, policy) = data_of(&params)?;
    let server_key = vapid_key(&ctx).await?;
    let subscription = PushSubscription {
        id: petrel::ids::snowflake(),
        endpoint: endpoint.to_string(),
        p256dh: push::webpush::b64url(&keys.p256dh),
        auth: push::webpush::b64url(&keys.auth),
        standard: sub.get("standard").is_some_and(truthy),
        alerts,
        policy,
        access_token: auth.bearer.clone(),
        created_at: petrel::clock::now_ms(),
    };
    repo::push::put(ctx.stores.table.as_ref(), &me.id, &auth.bearer, &subscription).await?;
    Ok(Json(entity(&subscription, server_key)))
}

/// `GET /api/v1/push/subscription`.
pub async fn get(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Value>> {
    let me = auth.user("push")?;
    let s = repo::push::get(ctx.stores.table.as_ref(), &me.id, &auth.bearer).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(entity(&s, vapid_key(&ctx).await?)))
}

/// `PUT /api/v1/push/subscription`: replaces the alerts and the policy, as Mastodon replaces its
/// `data` (a type not named is no longer pushed).
pub async fn update(State(ctx): State<Ctx>, auth: Auth, Params(params): Params<Value>) -> ApiResult<Json<Value>> {
    let me = auth.user("push")?;
    let (alerts, policy) = data_of(&params)?;
    let s = repo::push::update_data(ctx.stores.table.as_ref(), &me.id, &auth.bearer, &alerts, policy)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(entity(&s, vapid_key(&ctx).await?)))
}

/// `DELETE /api/v1/push/subscription`: `{}`, whether or not there was one.
pub async fn delete(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Value>> {
    let me = auth.user("push")?;
    repo::push::delete(ctx.stores.table.as_ref(), &me.id, &auth.bearer).await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_as_rails_reads_them() {
        assert!(truthy(&json!("1")) && truthy(&json!("true")) && truthy(&json!(true)) && truthy(&json!(1)));
        assert!(!truthy(&json!("0")) && !truthy(&json!("false")) && !truthy(&json!("OFF")) && !truthy(&json!("")));
        let form = json!({"data": {"alerts": {"mention": "1", "follow": "0", "bogus": "1", "admin.sign_up": "true"}}, "policy": "followed"});
        let (alerts, policy) = data_of(&form).unwrap();
        assert_eq!(alerts, vec!["mention".to_string(), "admin.sign_up".to_string()]);
        assert_eq!(policy, PushPolicy::Followed);
        let nested = json!({"data": {"policy": "none"}, "policy": "all"});
        assert_eq!(data_of(&nested).unwrap().1, PushPolicy::None, "data[policy] wins");
        assert!(data_of(&json!({"data": {"policy": "friends"}})).is_err());
    }
}
