//! The Blobs port on S3.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;

use super::{map_sdk_error, LazyClient};
use crate::store::blobs::*;
use crate::store::error::{StoreError, StoreResult};

pub struct S3Blobs {
    client: LazyClient<Client>,
    bucket: String,
    public_base: String,
}

impl S3Blobs {
    async fn store(&self, key: &str, bytes: Bytes, content_type: &str, temporary: bool) -> StoreResult<String> {
        validate_put(key, bytes.len(), content_type)?;
        let mut put = self.client.get().put_object().bucket(&self.bucket).key(key).content_type(content_type);
        if temporary {
            // In the same request: an untagged moment would let nothing expire it.
            put = put.tagging(format!("{TEMPORARY_TAG}=true"));
        }
        let out = put
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("PutObject to {}", self.bucket)))?;
        Ok(out.e_tag.unwrap_or_default())
    }

    /// `public_base` is where readers fetch objects (CloudFront in AWS), without a trailing slash.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>, public_base: &str) -> Self {
        // An endpoint override (moto, LocalStack) cannot resolve `bucket.host`: use path style.
        let path_style = sdk.endpoint_url().is_some();
        let sdk = sdk.clone();
        S3Blobs {
            client: LazyClient::new(move || {
                Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(path_style).build())
            }),
            bucket: bucket.into(),
            public_base: public_base.trim_end_matches('/').to_string(),
        }
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        self.store(key, bytes, content_type, false).await
    }

    async fn put_temporary(&self, key: &str, bytes: Bytes, content_type: &str) -> StoreResult<String> {
        self.store(key, bytes, content_type, true).await
    }

    async fn keep(&self, key: &str) -> StoreResult<()> {
        validate_key(key)?;
        match self.client.get().delete_object_tagging().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(()),
            Err(e) => Err(map_sdk_error(e, &format!("DeleteObjectTagging in {}", self.bucket))),
        }
    }

    async fn is_temporary(&self, key: &str) -> StoreResult<Option<bool>> {
        validate_key(key)?;
        match self.client.get().get_object_tagging().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(out.tag_set().iter().any(|t| t.key() == TEMPORARY_TAG && t.value() == "true"))),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(map_sdk_error(e, &format!("GetObjectTagging in {}", self.bucket))),
        }
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Blob>> {
        validate_key(key)?;
        let out = match self.client.get().get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(map_sdk_error(e, &format!("GetObject from {}", self.bucket))),
        };
        let content_type = out.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
        let etag = out.e_tag.clone().unwrap_or_default();
        let last_modified =
            out.last_modified.and_then(|t| std::time::SystemTime::try_from(t).ok()).unwrap_or(std::time::UNIX_EPOCH);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Transient(format!("reading object {key}: {e}")))?
            .into_bytes();
        Ok(Some(Blob { bytes, content_type, etag, last_modified }))
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        validate_key(key)?;
        self.client
            .get()
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("DeleteObject from {}", self.bucket)))?;
        Ok(())
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }

    async fn presign_put(&self, key: &str, content_type: &str, expires: Duration) -> StoreResult<String> {
        validate_presign(key, content_type, expires)?;
        let conf = PresigningConfig::expires_in(expires).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
        let req = self
            .client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(conf)
            .await
            .map_err(|e| map_sdk_error(e, "presigning PutObject"))?;
        Ok(req.uri().to_string())
    }
}
