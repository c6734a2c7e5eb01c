//! `POST /inbox` and `POST /users/{name}/inbox`: cap the body, verify the signature, check the
//! signer is the actor, process, answer 202.
//!
//! Processing happens in the request rather than behind a queue: an inbox queue's event source
//! mapping would poll all month, idle or not, and that polling alone costs more than the rest of
//! a small server's bill (infra/deploy.md, "Why one queue"). The sender is the retry mechanism:
//! a transient failure answers 503, and its redelivery is processed.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use petrel::activitypub::resolve::{self, ResolveError};
use petrel::activitypub::signatures::{self, Incoming, PublicKey};
use petrel::activitypub::vocab;
use petrel::http::error_response;
use petrel::model::Account;
use petrel::repo::accounts;
use petrel::Ctx;

use crate::{process, InboxError};
use serde_json::Value;

/// Larger activities are refused: Mastodon's own limit is about 1 MB too.
pub const MAX_BODY: usize = 1024 * 1024;

/// Outbound fetches one inbound request may cause (the signer's key and actor, an object, its
/// author, a boosted post…), and the time they may take together. With the function's 25 s
/// timeout this bounds what one unauthenticated request can cost (infra/deploy.md).
pub const MAX_FETCHES: u32 = 6;
pub const MAX_FETCH_TIME: std::time::Duration = std::time::Duration::from_secs(15);

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/inbox", post(shared_inbox))
        .route("/users/{name}/inbox", post(personal_inbox))
        .method_not_allowed_fallback(petrel::http::wrong_method)
        .layer(axum::middleware::from_fn(petrel::http::request_span))
        .with_state(ctx)
}

async fn shared_inbox(State(ctx): State<Ctx>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    receive(&ctx, None, &method, &uri, &headers, body).await.unwrap_or_else(|r| r)
}

async fn personal_inbox(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(&ctx, Some(&name), &method, &uri, &headers, body).await.unwrap_or_else(|r| r)
}

fn reject(status: StatusCode, why: impl Into<String>) -> Response {
    let why = why.into();
    tracing::info!(%status, reason = %why, "activity refused");
    error_response(status, why)
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "inbox failed");
    error_response(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable, try again later")
}

async fn receive(
    ctx: &Ctx,
    name: Option<&str>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    if let Some(name) = name {
        let found = match petrel::model::valid_username(name) {
            true => accounts::by_username(ctx.stores.table.as_ref(), name).await.map_err(internal)?,
            false => None,
        };
        if found.is_none() {
            return Err(reject(StatusCode::NOT_FOUND, "no such account"));
        }
    }
    let body = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| reject(StatusCode::PAYLOAD_TOO_LARGE, format!("activities are limited to {MAX_BODY} bytes")))?;
    let activity: Value =
        serde_json::from_slice(&body).map_err(|e| reject(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?;
    let id = vocab::str_prop(&activity, "id").filter(|i| vocab::host_of(i).is_some());
    let actor = activity.get("actor").and_then(vocab::id_of);
    let (Some(id), Some(actor)) = (id, actor) else {
        return Err(reject(StatusCode::BAD_REQUEST, "an activity needs an http(s) `id` and an `actor`"));
    };
    if !vocab::same_host(id, actor) {
        return Err(reject(StatusCode::BAD_REQUEST, "the activity id is not on its actor's host"));
    }

    // The target as the sender signed it, rebuilt from configuration: behind API Gateway or
    // CloudFront the Host header the function sees is not the one that was signed.
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let incoming = Incoming {
        method,
        path_and_query: path,
        scheme: &ctx.config.scheme,
        authority: &ctx.config.domain,
        headers,
        body: &body,
    };
    let parsed = signatures::parse(&incoming, time::OffsetDateTime::now_utc())
        .map_err(|e| reject(StatusCode::UNAUTHORIZED, e.to_string()))?;
    // Before anything is fetched: a key can only speak for an actor on its own host.
    if !vocab::same_host(parsed.key_id(), actor) {
        return Err(reject(StatusCode::UNAUTHORIZED, "the signing key is not on the actor's host"));
    }
    let work = verify_and_process(ctx, &parsed, &activity, id, actor);
    petrel::activitypub::fetch::with_budget(MAX_FETCHES, MAX_FETCH_TIME, work).await
}

/// Verifies the signer (fetching its key when needed) and applies the activity, within the
/// request's fetch budget.
async fn verify_and_process(
    ctx: &Ctx,
    parsed: &signatures::Parsed,
    activity: &Value,
    id: &str,
    actor: &str,
) -> Result<Response, Response> {
    let signer = match verified_signer(ctx, parsed).await {
        Ok(s) => s,
        // A deleted actor's key is gone (410): its Delete cannot be verified and has nothing to do.
        Err(_)
            if vocab::type_of(activity) == "Delete" && activity.get("object").and_then(vocab::id_of) == Some(actor) =>
        {
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        Err(e) => return Err(e),
    };
    let signer_uri = signer.remote.as_ref().map(|r| r.uri.as_str()).unwrap_or_default();
    if signer_uri != actor {
        return Err(reject(StatusCode::UNAUTHORIZED, format!("signed by {signer_uri}, not by the actor {actor}")));
    }

    // No "seen it" record per activity id: every handler is idempotent by the keys it writes
    // (a status by its URI, a reaction by its author, a follower by its account), so a repeat
    // changes nothing, and not writing a marker for each of the many activities a server
    // receives is a large part of its bill (infra/deploy.md, "What it costs").
    match process::activity(ctx, activity, &signer).await {
        Ok(()) => Ok(StatusCode::ACCEPTED.into_response()),
        // What will never work (a bad document, a gone object) is accepted and dropped: a retry
        // would fail the same way.
        Err(InboxError::Resolve(e)) if !e.is_transient() => {
            tracing::info!(error = %e, id, "activity dropped");
            Ok(StatusCode::ACCEPTED.into_response())
        }
        // Not processed: the sender retries, and what this attempt wrote is written again
        // harmlessly.
        Err(e) => Err(internal(e)),
    }
}

/// The signer's account once its signature verifies; a failure with the cached key refetches the
/// key once (it may have been rotated).
async fn verified_signer(ctx: &Ctx, parsed: &signatures::Parsed) -> Result<Account, Response> {
    let unauthorized = |e: ResolveError| {
        if e.is_transient() {
            internal(e)
        } else {
            reject(StatusCode::UNAUTHORIZED, format!("cannot use key {}: {e}", parsed.key_id()))
        }
    };
    let check = |account: &Account| -> bool {
        PublicKey::from_spki_pem(&account.public_key_pem).is_ok_and(|k| parsed.verify(&k).is_ok())
    };
    let cached = resolve::key_owner(ctx, parsed.key_id(), false).await.map_err(unauthorized)?;
    if check(&cached) {
        return Ok(cached);
    }
    let fresh = resolve::key_owner(ctx, parsed.key_id(), true).await.map_err(unauthorized)?;
    if check(&fresh) {
        return Ok(fresh);
    }
    Err(reject(StatusCode::UNAUTHORIZED, "the signature does not verify"))
}
