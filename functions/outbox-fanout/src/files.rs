//! Media files' lifecycle, changed here for the web function, which has no S3 client (issue #20:
//! it kept web's binary over 10 MB): the uploads a new or scheduled status uses stop expiring,
//! and a deleted status's files are removed. Both are idempotent, so a retried message repeats
//! them harmlessly; a failure is retried like any message (the temporary mark expires an upload a
//! day after it was made, well beyond the retries).

use petrel::consumer::Settled;
use petrel::events::FileWork;
use petrel::Ctx;

use crate::FanoutError;

/// Keys this message may touch: an attachment's files (`media/{id}/original.{ext}` and
/// `media/{id}/small.{ext}`, as the media function names them and as outbox-fanout's IAM policy
/// allows), never a card image, an avatar, a feed or a page.
fn is_media_file(key: &str) -> bool {
    let mut parts = key.split('/');
    let (Some("media"), Some(id), Some(file), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    id != "cards"
        && (file.starts_with("original.") || file.starts_with("small."))
        && petrel::store::blobs::validate_key(key).is_ok()
}

pub async fn files(ctx: &Ctx, w: FileWork) -> Result<Settled, FanoutError> {
    let blobs = ctx.stores.blobs.as_ref();
    for key in w.keep.iter().filter(|k| checked(k)) {
        blobs.keep(key).await?;
    }
    for key in w.delete.iter().filter(|k| checked(k)) {
        blobs.delete(key).await?;
    }
    Ok(Settled::Done)
}

fn checked(key: &str) -> bool {
    let ok = is_media_file(key);
    if !ok {
        tracing::warn!(key, "file message names something other than an attachment's file; skipped");
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::is_media_file;

    #[test]
    fn only_attachment_files_are_touched() {
        assert!(is_media_file("media/01HX/original.jpg"));
        assert!(is_media_file("media/01HX/small.webp"));
        for key in [
            "media/cards/abc.jpg",
            "media/cards/original.jpg",
            "media/../accounts/original.jpg",
            "media/01HX/avatar.png",
            "media/01HX/x/original.jpg",
            "accounts/01HX/original.png",
            "site/feeds/alice.rss",
            "media/",
            "media/x",
            "",
        ] {
            assert!(!is_media_file(key), "{key}");
        }
    }
}
