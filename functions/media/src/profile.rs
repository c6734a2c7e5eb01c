//! `PATCH /api/v1/accounts/update_credentials`. It lives in the media function because an
//! avatar or header is an image upload: the same pipeline (sniff, limits, upright, no metadata)
//! applies, the avatar cropped square. Plain form or JSON bodies work too.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{form_to_json, from_value, lenient, Params};
use petrel::mastodon::convert;
use petrel::mastodon::entities::Account;
use petrel::repo::accounts;
use petrel::Ctx;
use serde::Deserialize;

use crate::pipeline::{self, Shape};
use crate::upload::{too_large, MAX_UPLOAD_BYTES};

#[derive(Deserialize, Default)]
pub struct UpdateCredentials {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    discoverable: Option<bool>,
    /// `fields_attributes[0][name]=…` arrives as an object keyed by index, or as an array.
    #[serde(default)]
    fields_attributes: Option<serde_json::Value>,
    /// `source[privacy]`, `source[sensitive]`, `source[language]`: the posting defaults.
    #[serde(default)]
    source: Option<SourceParams>,
}

#[derive(Deserialize, Default)]
pub struct SourceParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    privacy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    language: Option<String>,
}

/// The account's posting defaults with what `source[…]` changes; `None` when it changes nothing.
fn posting_from(
    current: &petrel::model::PostingDefaults,
    p: Option<SourceParams>,
) -> ApiResult<Option<petrel::model::PostingDefaults>> {
    let Some(p) = p else { return Ok(None) };
    let mut next = current.clone();
    if let Some(v) = p.privacy.filter(|v| !v.is_empty()) {
        if petrel::model::Visibility::parse(&v).is_none() {
            return Err(ApiError::Unprocessable(format!("`{v}` is not a visibility")));
        }
        next.privacy = Some(v);
    }
    if let Some(v) = p.sensitive {
        next.sensitive = v;
    }
    if let Some(v) = p.language {
        if v.is_empty() {
            next.language = None;
        } else if v.len() > 8 || !v.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return Err(ApiError::Unprocessable(format!("`{v}` is not a language code")));
        } else {
            next.language = Some(v);
        }
    }
    Ok((&next != current).then_some(next))
}

fn fields_from(value: &serde_json::Value) -> ApiResult<Vec<(String, String)>> {
    let entries: Vec<&serde_json::Value> = match value {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(m) => {
            let mut keyed: Vec<(&String, &serde_json::Value)> = m.iter().collect();
            keyed.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
            keyed.into_iter().map(|(_, v)| v).collect()
        }
        _ => return Err(ApiError::Unprocessable("fields_attributes must be a list".into())),
    };
    let mut fields = Vec::new();
    for e in entries {
        let name = e.get("name").and_then(|v| v.as_str()).unwrap_or_default().trim().to_string();
        let value = e.get("value").and_then(|v| v.as_str()).unwrap_or_default().trim().to_string();
        if name.is_empty() && value.is_empty() {
            continue;
        }
        if name.chars().count() > 255 || value.chars().count() > 255 {
            return Err(ApiError::Unprocessable("profile fields are limited to 255 characters".into()));
        }
        fields.push((name, value));
    }
    if fields.len() > 4 {
        return Err(ApiError::Unprocessable("at most 4 profile fields".into()));
    }
    Ok(fields)
}

/// Reads a multipart body: text fields into the parameters, `avatar` and `header` as files.
async fn read_multipart(
    mut form: Multipart,
) -> ApiResult<(UpdateCredentials, Option<bytes::Bytes>, Option<bytes::Bytes>)> {
    let (mut pairs, mut avatar, mut header) = (Vec::new(), None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(ApiError::BadRequest(format!("malformed multipart body: {e}"))),
        };
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?;
        match name.as_str() {
            "avatar" => avatar = Some(data),
            "header" => header = Some(data),
            _ => pairs.push((name, String::from_utf8_lossy(&data).into_owned())),
        }
    }
    Ok((from_value(form_to_json(pairs)?)?, avatar, header))
}

/// Processes and stores one profile image; returns its blob key.
async fn store_image(ctx: &Ctx, account_id: &str, which: &str, bytes: bytes::Bytes, shape: Shape) -> ApiResult<String> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    let processed = tokio::task::spawn_blocking(move || pipeline::process_profile(&bytes, shape))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Unprocessable(format!("{which}: {e}")))?;
    let key = format!("accounts/{account_id}/{which}-{}.{}", petrel::ids::snowflake(), processed.extension);
    ctx.stores.blobs.put(&key, processed.original.bytes.into(), processed.content_type).await?;
    Ok(key)
}

pub async fn update_credentials(State(ctx): State<Ctx>, auth: Auth, req: Request) -> ApiResult<Json<Account>> {
    let account = auth.user("write:accounts")?;
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (p, avatar, header) = if multipart {
        let form = Multipart::from_request(req, &ctx).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        read_multipart(form).await?
    } else {
        let Params(p) = Params::<UpdateCredentials>::from_request(req, &ctx).await?;
        (p, None, None)
    };
    if p.display_name.as_ref().is_some_and(|n| n.chars().count() > 30) {
        return Err(ApiError::Unprocessable("Display name is too long (maximum is 30 characters)".into()));
    }
    if p.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::Unprocessable("Note is too long (maximum is 500 characters)".into()));
    }
    let fields = p.fields_attributes.as_ref().map(fields_from).transpose()?;
    let posting = posting_from(&account.posting, p.source)?;
    // Images are checked and stored before the profile changes; a bad image changes nothing.
    let avatar_key = match avatar {
        Some(b) => Some(store_image(&ctx, &account.id, "avatar", b, Shape::Square(400)).await?),
        None => None,
    };
    let header_key = match header {
        Some(b) => Some(store_image(&ctx, &account.id, "header", b, Shape::Fit(1500, 500)).await?),
        None => None,
    };
    let changes = accounts::ProfileUpdate {
        display_name: p.display_name,
        note: p.note.map(|n| petrel::text::render(&n, &ctx.config.base_url(), &[]).html),
        locked: p.locked,
        bot: p.bot,
        discoverable: p.discoverable,
        fields,
        avatar_key: avatar_key.clone(),
        header_key: header_key.clone(),
        posting,
    };
    let fresh = accounts::update_profile(ctx.stores.table.as_ref(), &account.id, changes).await?;
    // The replaced images are no longer referenced.
    for (new, old) in [(&avatar_key, &account.avatar_key), (&header_key, &account.header_key)] {
        if let (Some(_), Some(old)) = (new, old) {
            if let Err(e) = ctx.stores.blobs.delete(old).await {
                tracing::warn!(key = %old, error = %e, "replaced profile image was not removed");
            }
        }
    }
    // Followers' servers get Update(actor), and the profile page and feeds are rendered again
    // (two messages, three with a link check, one SQS request). The profile is saved either way; a failed send is logged
    // (the next change publishes the whole actor again).
    let mut events = vec![
        petrel::events::OutboxEvent::Publish(petrel::events::Publish {
            account_id: fresh.id.clone(),
            activity: petrel::activitypub::convert::update_actor(&ctx.config, &fresh, petrel::clock::now_ms()),
            to_followers: true,
            inboxes: Vec::new(),
            status_id: None,
            cursor: None,
            over: None,
            render: None,
        }),
        petrel::events::OutboxEvent::Render(petrel::events::Render {
            account_id: fresh.id.clone(),
            tags: vec![],
            statuses: vec![],
        }),
    ];
    // Changed fields with https links are checked for links back (`rel="me"`) off the request
    // path; a change that removes every link clears the marks the same way.
    let http = ctx.config.allow_private_network;
    let links = |a: &petrel::model::Account| a.fields.iter().any(|(_, v)| petrel::links::field_link(v, http).is_some());
    if fresh.fields != account.fields && (links(&fresh) || !account.verified_links.is_empty()) {
        events.push(petrel::events::OutboxEvent::VerifyLinks(petrel::events::VerifyWork {
            account_id: fresh.id.clone(),
        }));
    }
    match events.iter().map(petrel::events::OutboxEvent::message).collect::<Result<Vec<_>, _>>() {
        Ok(messages) => match ctx.stores.queues.outbox.send_batch(messages).await {
            Ok(results) => {
                for e in results.into_iter().filter_map(Result::err) {
                    tracing::warn!(error = %e, "profile update not published");
                }
            }
            Err(e) => tracing::warn!(error = %e, "profile update not published"),
        },
        Err(e) => tracing::warn!(error = %e, "profile update not published"),
    }
    Ok(Json(convert::account(&ctx.config, &fresh, true)))
}
