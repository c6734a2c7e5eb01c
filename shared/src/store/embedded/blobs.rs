//! The Blobs port on a directory: `objects/<key>` holds the bytes, `meta/<key>.json` the content
//! type and ETag. Writes go to a temporary file and are renamed into place, so a crash never
//! leaves half an object. `blob_routes` lets `petrel serve` play the part of S3 and CloudFront:
//! public GETs and presigned PUTs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use ring::hmac;
use serde::{Deserialize, Serialize};

use super::db::random_hex;
use crate::store::blobs::*;
use crate::store::error::{StoreError, StoreResult};

pub struct EmbeddedBlobs {
    root: PathBuf,
    /// Public base URL, without a trailing slash: `{public_base}/{key}`.
    public_base: String,
    key: hmac::Key,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    content_type: String,
    etag: String,
    /// The temporary mark (S3's `petrel-temporary` tag); nothing here expires by it.
    #[serde(default)]
    temporary: bool,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("blob store: {e}"))
}

impl EmbeddedBlobs {
    async fn store(&self, key: &str, bytes: Bytes, content_type: &str, temporary: bool) -> StoreResult<String> {
        validate_put(key, bytes.len(), content_type)?;
        let etag = etag_of(&bytes);
        let meta = Meta { content_type: content_type.to_string(), etag: etag.clone(), temporary };
        let meta = serde_json::to_vec(&meta).map_err(|e| StoreError::Backend(e.to_string()))?;
        write_atomically(&self.object_path(key), &bytes).await?;
        write_atomically(&self.meta_path(key), &meta).await?;
        Ok(etag)
    }

    async fn read_meta(&self, key: &str) -> StoreResult<Option<Meta>> {
        validate_key(key)?;
        let raw = match tokio::fs::read(self.meta_path(key)).await {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        serde_json::from_slice(&raw).map(Some).map_err(|e| StoreError::Corrupt(format!("blob metadata for {key}: {e}")))
    }

    /// Opens the store under `root`; the presigning secret is kept there so URLs survive restarts.
    pub fn open(root: &Path, public_base: &str) -> StoreResult<Self> {
        std::fs::create_dir_all(root.join("objects")).map_err(io)?;
        std::fs::create_dir_all(root.join("meta")).map_err(io)?;
        let secret_path = root.join("presign.secret");
        let secret = match std::fs::read_to_string(&secret_path) {
            Ok(s) if s.trim().len() >= 32 => s.trim().to_string(),
            _ => {
                let s = random_hex(32)?;
                std::fs::write(&secret_path, &s).map_err(io)?;
                s
            }
        };
        Ok(EmbeddedBlobs {
            root: root.to_path_buf(),
            public_base: public_base.trim_end_matches('/').to_string(),
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        })
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.root.join("objects").join(key)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.root.join("meta").join(format!("{key}.json"))
    }

    fn signature(&self, key: &str, content_type: &str, expires: u64) -> String {
        let tag = hmac::sign(&self.key, format!("PUT\n{key}\n{content_type}\n{expires}").as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn verify(&self, key: &str, content_type: &str, expires: u64, sig: &str) -> bool {
        let Some(sig) = decode_hex(sig) else {
            return false;
        };
        hmac::verify(&self.key, format!("PUT\n{key}\n{content_type}\n{expires}").as_bytes(), &sig).is_ok()
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn etag_of(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = d.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> StoreResult<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", random_hex(6)?));
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

#[async_trait]
impl Blobs for EmbeddedBlobs {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        self.store(key, bytes, content_type, false).await
    }

    async fn put_temporary(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        self.store(key, bytes, content_type, true).await
    }

    async fn keep(&self, key: &str) -> StoreResult<()> {
        let Some(mut meta) = self.read_meta(key).await? else {
            return Ok(());
        };
        meta.temporary = false;
        let raw = serde_json::to_vec(&meta).map_err(|e| StoreError::Backend(e.to_string()))?;
        write_atomically(&self.meta_path(key), &raw).await
    }

    async fn is_temporary(&self, key: &str) -> StoreResult<Option<bool>> {
        Ok(self.read_meta(key).await?.map(|m| m.temporary))
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Blob>> {
        validate_key(key)?;
        let bytes = match tokio::fs::read(self.object_path(key)).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            // A key that names a directory (a prefix of other keys) is no object either.
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta_raw = tokio::fs::read(self.meta_path(key)).await.map_err(io)?;
        let meta: Meta = serde_json::from_slice(&meta_raw)
            .map_err(|e| StoreError::Corrupt(format!("blob metadata for {key}: {e}")))?;
        let last_modified = tokio::fs::metadata(self.object_path(key)).await.and_then(|m| m.modified()).map_err(io)?;
        Ok(Some(Blob { bytes: Bytes::from(bytes), content_type: meta.content_type, etag: meta.etag, last_modified }))
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        validate_key(key)?;
        for path in [self.object_path(key), self.meta_path(key)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }

    async fn presign_put(&self, key: &str, content_type: &str, expires: Duration) -> StoreResult<String> {
        validate_presign(key, content_type, expires)?;
        let until = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + expires.as_secs();
        let sig = self.signature(key, content_type, until);
        let ct: String = url::form_urlencoded::byte_serialize(content_type.as_bytes()).collect();
        Ok(format!("{}/{key}?content-type={ct}&expires={until}&signature={sig}", self.public_base))
    }
}

#[derive(Deserialize)]
struct PresignQuery {
    #[serde(rename = "content-type")]
    content_type: String,
    expires: u64,
    signature: String,
}

fn plain(status: StatusCode, msg: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::json!({ "error": msg }).to_string())
        .into_response()
}

async fn serve_blob(
    State(blobs): State<Arc<EmbeddedBlobs>>,
    UrlPath(key): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    match blobs.get(&key).await {
        Ok(Some(blob)) => {
            if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(blob.etag.as_str()) {
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, blob.etag)]).into_response();
            }
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, blob.content_type),
                    (header::ETAG, blob.etag),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                ],
                blob.bytes,
            )
                .into_response()
        }
        Ok(None) | Err(StoreError::InvalidInput(_)) => plain(StatusCode::NOT_FOUND, "Record not found"),
        Err(e) => {
            tracing::error!(error = %e, "blob read failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "blob read failed")
        }
    }
}

async fn presigned_put(
    State(blobs): State<Arc<EmbeddedBlobs>>,
    UrlPath(key): UrlPath<String>,
    Query(q): Query<PresignQuery>,
    headers: HeaderMap,
    body: BodyBytes,
) -> Response {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(u64::MAX);
    let sent_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !blobs.verify(&key, &q.content_type, q.expires, &q.signature) {
        return plain(StatusCode::FORBIDDEN, "signature does not match");
    }
    if now > q.expires {
        return plain(StatusCode::FORBIDDEN, "presigned URL has expired");
    }
    if sent_type != q.content_type {
        return plain(StatusCode::FORBIDDEN, "content type differs from the signed one");
    }
    match blobs.put(&key, body, &q.content_type).await {
        Ok(etag) => (StatusCode::OK, [(header::ETAG, etag)]).into_response(),
        Err(e @ (StoreError::InvalidInput(_) | StoreError::LimitExceeded(_))) => {
            plain(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "blob write failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "blob write failed")
        }
    }
}

/// Routes under the blobs' public base path (`/media` by default): GET serves an object,
/// PUT with a valid presigned query stores one.
pub fn blob_routes(blobs: Arc<EmbeddedBlobs>) -> Router {
    Router::new().route("/{*key}", get(serve_blob).put(presigned_put)).with_state(blobs)
}
