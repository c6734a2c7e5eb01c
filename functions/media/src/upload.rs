//! `POST /api/v1/media`, `POST /api/v2/media`, `GET`/`PUT /api/v1/media/:id`.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};
use petrel::mastodon::convert;
use petrel::model::{Dimensions, Media};
use petrel::repo::media;
use petrel::Ctx;
use serde::Deserialize;

use crate::pipeline::{self, PipelineError};
use crate::strip;

/// API Gateway and Lambda take at most 6 MB per request, and a binary body arrives base64
/// encoded (4 bytes for every 3), so a file can be at most ≈4.4 MB; 4 MiB leaves room for the
/// multipart framing.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_DESCRIPTION: usize = 1500;

struct Upload {
    file: Option<bytes::Bytes>,
    /// A preview image for audio or video.
    thumbnail: Option<bytes::Bytes>,
    description: Option<String>,
    focus: Option<String>,
}

pub fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!("File is too large: the limit is {MAX_UPLOAD_BYTES} bytes (4 MiB)"))
}

async fn read_upload(mut form: Multipart) -> ApiResult<Upload> {
    let mut up = Upload { file: None, thumbnail: None, description: None, focus: None };
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(ApiError::BadRequest(format!("malformed multipart body: {e}"))),
        };
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::BadRequest(format!("malformed multipart body: {e}"))
            }
        })?;
        match name.as_str() {
            "file" => up.file = Some(data),
            "thumbnail" => up.thumbnail = Some(data).filter(|d| !d.is_empty()),
            "description" => up.description = Some(String::from_utf8_lossy(&data).into_owned()),
            "focus" => up.focus = Some(String::from_utf8_lossy(&data).into_owned()),
            _ => {}
        }
    }
    Ok(up)
}

fn parse_focus(s: &str) -> ApiResult<(f64, f64)> {
    media::parse_focus(s).ok_or_else(|| {
        ApiError::Unprocessable(format!("focus `{s}` must be two numbers from -1.0 to 1.0, like `0.5,-0.2`"))
    })
}

fn check_description(d: &Option<String>) -> ApiResult<()> {
    if d.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(ApiError::Unprocessable(format!(
            "Description is too long (maximum is {MAX_DESCRIPTION} characters)"
        )));
    }
    Ok(())
}

/// Both versions answer with the processed attachment at once: processing is synchronous, so
/// v2's "202, come back later" never applies.
pub async fn upload(State(ctx): State<Ctx>, auth: Auth, form: Multipart) -> ApiResult<Response> {
    let account = auth.user("write:media")?;
    let up = read_upload(form).await?;
    let file = up.file.ok_or_else(|| ApiError::Unprocessable("file is missing".into()))?;
    if file.len() > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    check_description(&up.description)?;
    let focus = up.focus.as_deref().filter(|f| !f.is_empty()).map(parse_focus).transpose()?;
    if let Some(as_is) = pipeline::sniff_as_is(&file) {
        let file = strip_metadata(as_is, file).await?;
        return store_as_is(&ctx, account, as_is, file, up.thumbnail, up.description, focus).await;
    }
    let processed = process_image(file).await?;
    let id = petrel::ids::snowflake();
    // Keys come from the id alone: nothing the client sent names a file.
    let original_key = format!("media/{id}/original.{}", processed.extension);
    let small_key = format!("media/{id}/small.{}", processed.extension);
    let blobs = &ctx.stores.blobs;
    let record = Media {
        id: id.clone(),
        account_id: account.id.clone(),
        kind: "image".into(),
        content_type: processed.content_type.into(),
        original: Dimensions {
            width: processed.original.width,
            height: processed.original.height,
            size: processed.original.bytes.len() as u64,
        },
        small: Dimensions {
            width: processed.small.width,
            height: processed.small.height,
            size: processed.small.bytes.len() as u64,
        },
        original_key: original_key.clone(),
        small_key: small_key.clone(),
        blurhash: processed.blurhash,
        description: up.description.filter(|d| !d.is_empty()),
        focus,
        created_at: petrel::clock::now_ms(),
        status_id: None,
        ttl: None,
        remote_url: None,
    };
    blobs.put_temporary(&original_key, processed.original.bytes.into(), processed.content_type).await?;
    blobs.put_temporary(&small_key, processed.small.bytes.into(), processed.content_type).await?;
    // Files first, record last: a failure leaves at most unreferenced files (the bucket's
    // lifecycle rule removes them), never a record pointing at nothing.
    let record = media::create(ctx.stores.table.as_ref(), record).await?;
    Ok(Json(convert::media(&ctx.config, &record)).into_response())
}

/// Runs the image pipeline off the async workers (decoding is CPU work).
async fn process_image(file: bytes::Bytes) -> ApiResult<pipeline::Processed> {
    tokio::task::spawn_blocking(move || pipeline::process(&file))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| match e {
            PipelineError::Encode(m) => ApiError::Internal(m),
            other => ApiError::Unprocessable(other.to_string()),
        })
}

/// Removes what can identify or locate the uploader from audio or video, off the async workers.
/// A file that cannot be parsed safely is refused (422) rather than stored with its metadata.
async fn strip_metadata(as_is: pipeline::AsIs, file: bytes::Bytes) -> ApiResult<bytes::Bytes> {
    tokio::task::spawn_blocking(move || strip::strip(as_is.container, &file))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(bytes::Bytes::from)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))
}

/// Audio or video, stored without re-encoding but without its metadata; an optional thumbnail
/// goes through the image pipeline and becomes the preview (with its blurhash).
async fn store_as_is(
    ctx: &Ctx,
    account: &petrel::model::Account,
    as_is: pipeline::AsIs,
    file: bytes::Bytes,
    thumbnail: Option<bytes::Bytes>,
    description: Option<String>,
    focus: Option<(f64, f64)>,
) -> ApiResult<Response> {
    let thumb = match thumbnail {
        Some(t) => Some(process_image(t).await?),
        None => None,
    };
    let id = petrel::ids::snowflake();
    let original_key = format!("media/{id}/original.{}", as_is.extension);
    let blobs = &ctx.stores.blobs;
    let size = file.len() as u64;
    blobs.put_temporary(&original_key, file, as_is.content_type).await?;
    let (small_key, small, blurhash) = match thumb {
        Some(t) => {
            let key = format!("media/{id}/small.{}", t.extension);
            let dims = Dimensions { width: t.small.width, height: t.small.height, size: t.small.bytes.len() as u64 };
            blobs.put_temporary(&key, t.small.bytes.into(), t.content_type).await?;
            (key, dims, t.blurhash)
        }
        None => (String::new(), Dimensions { width: 0, height: 0, size: 0 }, String::new()),
    };
    let record = Media {
        id,
        account_id: account.id.clone(),
        kind: as_is.kind.into(),
        content_type: as_is.content_type.into(),
        original_key,
        small_key,
        original: Dimensions { width: 0, height: 0, size },
        small,
        blurhash,
        description: description.filter(|d| !d.is_empty()),
        focus,
        created_at: petrel::clock::now_ms(),
        status_id: None,
        ttl: None,
        remote_url: None,
    };
    let record = media::create(ctx.stores.table.as_ref(), record).await?;
    Ok(Json(convert::media(&ctx.config, &record)).into_response())
}

pub async fn get(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("write:media")?;
    let m = media::get(ctx.stores.table.as_ref(), &id)
        .await?
        .filter(|m| m.account_id == account.id)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(convert::media(&ctx.config, &m)))
}

#[derive(Deserialize)]
pub struct Describe {
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    focus: Option<String>,
}

pub async fn update(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<Describe>,
) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("write:media")?;
    let table = ctx.stores.table.as_ref();
    let m = media::get(table, &id).await?.filter(|m| m.account_id == account.id).ok_or(ApiError::NotFound)?;
    check_description(&p.description)?;
    let focus = p.focus.as_deref().map(parse_focus).transpose()?;
    let m = media::describe(table, &m, p.description, focus).await?;
    Ok(Json(convert::media(&ctx.config, &m)))
}

/// `DELETE /api/v1/media/:id`: removes an upload no status uses (Mastodon's rule: an attached
/// one is refused with 422), with its files; answers `{}`.
pub async fn delete(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("write:media")?;
    let table = ctx.stores.table.as_ref();
    let m = media::get(table, &id).await?.filter(|m| m.account_id == account.id).ok_or(ApiError::NotFound)?;
    if media::delete_unattached(table, &m).await? == media::Deleted::Attached {
        return Err(ApiError::Unprocessable("Media attachment is currently used by a status".into()));
    }
    for key in [&m.original_key, &m.small_key].into_iter().filter(|k| !k.is_empty()) {
        if let Err(e) = ctx.stores.blobs.delete(key).await {
            tracing::warn!(key = %key, error = %e, "file of a deleted upload was not removed");
        }
    }
    Ok(Json(serde_json::json!({})))
}
