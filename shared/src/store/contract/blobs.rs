use std::time::Duration;

use bytes::Bytes;

use crate::store::blobs::*;
use crate::store::StoreError;

/// `ns` prefixes every key, so runs do not meet. `checks_signatures` is false only for an
/// emulator that accepts any presigned URL (moto), where the tampering check cannot be made.
pub async fn run_all(b: &dyn Blobs, ns: &str, checks_signatures: bool) {
    round_trip(b, ns).await;
    temporary_mark(b, ns).await;
    bad_keys(b).await;
    presigned_put(b, ns, checks_signatures).await;
}

pub async fn round_trip(b: &dyn Blobs, ns: &str) {
    let key = format!("{ns}/media/one.png");
    let data = Bytes::from_static(b"\x89PNG\r\n\x1a\nnot really");
    let etag = b.put(&key, data.clone(), "image/png").await.unwrap();
    assert!(!etag.is_empty());
    let got = b.get(&key).await.unwrap().expect("object written is read back");
    assert_eq!(got.bytes, data);
    assert_eq!(got.content_type, "image/png");
    assert_eq!(got.etag, etag);
    // Overwrite changes content and ETag.
    let etag2 = b.put(&key, Bytes::from_static(b"other"), "text/plain").await.unwrap();
    assert_ne!(etag, etag2);
    assert_eq!(b.get(&key).await.unwrap().unwrap().content_type, "text/plain");
    assert_eq!(b.public_url(&key).rsplit_once(&key).map(|(_, rest)| rest), Some(""), "public URL ends with the key");
    assert!(b.public_url(&key).starts_with("http"));
    b.delete(&key).await.unwrap();
    assert_eq!(b.get(&key).await.unwrap(), None);
    b.delete(&key).await.unwrap();
    assert_eq!(b.get(&format!("{ns}/never")).await.unwrap(), None);
}

/// Temporary uploads carry the mark the lifecycle rule expires by, until `keep` removes it.
pub async fn temporary_mark(b: &dyn Blobs, ns: &str) {
    let (temp, plain) = (format!("{ns}/media/temp.jpg"), format!("{ns}/media/plain.jpg"));
    b.put_temporary(&temp, Bytes::from_static(b"jpeg"), "image/jpeg").await.unwrap();
    b.put(&plain, Bytes::from_static(b"jpeg"), "image/jpeg").await.unwrap();
    assert_eq!(b.is_temporary(&temp).await.unwrap(), Some(true));
    assert_eq!(b.is_temporary(&plain).await.unwrap(), Some(false));
    let got = b.get(&temp).await.unwrap().expect("a temporary object reads like any other");
    assert_eq!((got.bytes.as_ref(), got.content_type.as_str()), (&b"jpeg"[..], "image/jpeg"));
    b.keep(&temp).await.unwrap();
    assert_eq!(b.is_temporary(&temp).await.unwrap(), Some(false));
    b.keep(&temp).await.unwrap();
    let missing = format!("{ns}/media/missing.jpg");
    assert_eq!(b.is_temporary(&missing).await.unwrap(), None);
    // `keep` of a missing object is not checked here: S3 answers 404 (taken as success), but moto
    // 5.2 answers 500, so the case cannot be held to one behaviour on both adapters.
    b.delete(&temp).await.unwrap();
    b.delete(&plain).await.unwrap();
}

pub async fn bad_keys(b: &dyn Blobs) {
    for key in ["../etc/passwd", "/abs", "a//b", "a b"] {
        assert!(
            matches!(b.put(key, Bytes::from_static(b"x"), "text/plain").await, Err(StoreError::InvalidInput(_))),
            "{key}"
        );
        assert!(matches!(b.get(key).await, Err(StoreError::InvalidInput(_))), "{key}");
    }
    assert!(matches!(b.put("ok", Bytes::from_static(b"x"), "no-slash").await, Err(StoreError::InvalidInput(_))));
}

pub async fn presigned_put(b: &dyn Blobs, ns: &str, checks_signatures: bool) {
    let key = format!("{ns}/upload/direct.jpg");
    let url = b.presign_put(&key, "image/jpeg", Duration::from_secs(300)).await.unwrap();
    let client = reqwest::Client::new();
    let put = client.put(&url).header("content-type", "image/jpeg").body("jpeg bytes").send().await.unwrap();
    assert!(put.status().is_success(), "presigned PUT answered {}", put.status());
    let got = b.get(&key).await.unwrap().expect("presigned PUT stored the object");
    assert_eq!(got.bytes, Bytes::from_static(b"jpeg bytes"));
    if checks_signatures {
        let tampered = url.replace("direct.jpg", "other.jpg");
        let bad = client.put(&tampered).header("content-type", "image/jpeg").body("x").send().await.unwrap();
        assert!(bad.status().is_client_error(), "tampered presigned URL answered {}", bad.status());
        assert_eq!(b.get(&format!("{ns}/upload/other.jpg")).await.unwrap(), None);
        let wrong_type = client.put(&url).header("content-type", "text/html").body("<script>").send().await.unwrap();
        assert!(
            wrong_type.status().is_client_error(),
            "a presigned PUT with another content type answered {}",
            wrong_type.status()
        );
    }
    assert!(matches!(
        b.presign_put(&key, "image/jpeg", Duration::from_secs(8 * 24 * 3600)).await,
        Err(StoreError::LimitExceeded(_))
    ));
    b.delete(&key).await.unwrap();
}
