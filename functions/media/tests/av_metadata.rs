//! Audio and video go through `POST /api/v2/media` unprocessed, but what can identify or locate
//! the uploader is removed before the file is stored, and a file that cannot be parsed safely is
//! refused. These tests drive the media function's router on the embedded backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

const LOCATION: &[u8] = b"+48.8577+002.2950/";
const ARTIST: &[u8] = b"Alice Example";
/// Stands for coded audio and video: it must reach the stored file unchanged.
const PAYLOAD: &[u8] = b"\x00\x01\x02\x03coded media samples, not metadata\xfe\xff";

struct App {
    ctx: petrel::Ctx,
    token: String,
    dir: tempfile::TempDir,
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let config = petrel::Config::from_vars(|k| (k == "PETREL_DATA").then(|| data.clone())).unwrap();
    let ctx = petrel::Ctx::connect(config).await.unwrap();
    let table = ctx.stores.table.as_ref();
    let account = petrel::repo::accounts::create(table, "alice", "correct horse battery").await.unwrap();
    let (app, _) = petrel::repo::oauth::create_app(
        table,
        "test",
        None,
        vec!["urn:ietf:wg:oauth:2.0:oob".into()],
        vec!["write".into()],
    )
    .await
    .unwrap();
    let token = petrel::repo::oauth::issue_token(
        table,
        petrel::model::AccessToken {
            client_id: app.client_id,
            account_id: Some(account.id),
            scopes: vec!["write".into()],
            created_at: 0,
            app_name: None,
            app_website: None,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    App { ctx, token, dir }
}

impl App {
    /// Uploads `file` and returns the status and the JSON answer.
    async fn upload(&self, file: &[u8]) -> (u16, serde_json::Value) {
        let boundary = "petrel-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post("/api/v2/media")
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        let res = media::router(self.ctx.clone()).oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    /// How many objects the embedded blob store holds.
    fn stored_files(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 })
                .sum()
        }
        count(&self.dir.path().join("blobs").join("objects"))
    }

    /// The stored original of an uploaded attachment.
    async fn stored(&self, id: &str) -> Vec<u8> {
        let m = petrel::repo::media::get(self.ctx.stores.table.as_ref(), id).await.unwrap().unwrap();
        self.ctx.stores.blobs.get(&m.original_key).await.unwrap().unwrap().bytes.to_vec()
    }
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A phone video as Android's MediaMuxer writes it: the place in `moov/udta/©xyz`, the artist
/// in iTunes-style `moov/udta/meta/ilst`, the samples in `mdat`.
fn phone_mp4() -> Vec<u8> {
    let mut mvhd = vec![0u8; 100];
    mvhd[4..8].copy_from_slice(&0xdead_beef_u32.to_be_bytes()); // creation time
    let mut xyz = vec![0, 18, 0x15, 0xc7];
    xyz.extend_from_slice(LOCATION);
    let art = boxed(b"\xa9ART", &boxed(b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0], ARTIST].concat()));
    let meta = boxed(b"meta", &[&[0u8; 4][..], &boxed(b"hdlr", &[0u8; 25]), &boxed(b"ilst", &art)].concat());
    let udta = boxed(b"udta", &[boxed(b"\xa9xyz", &xyz), meta].concat());
    let moov = boxed(b"moov", &[boxed(b"mvhd", &mvhd), udta].concat());
    [boxed(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41"), moov, boxed(b"mdat", PAYLOAD)].concat()
}

#[tokio::test]
async fn an_mp4_is_stored_without_its_location_and_tags() {
    let app = app().await;
    let file = phone_mp4();
    assert!(contains(&file, LOCATION) && contains(&file, ARTIST));
    let (status, m) = app.upload(&file).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["type"], "video");
    let stored = app.stored(m["id"].as_str().unwrap()).await;
    assert!(!contains(&stored, LOCATION), "the location is gone");
    assert!(!contains(&stored, ARTIST), "the artist is gone");
    assert!(!contains(&stored, &0xdead_beef_u32.to_be_bytes()), "the recording time is gone");
    assert_eq!(stored.len(), file.len(), "boxes keep their sizes, so chunk offsets stay valid");
    assert!(stored.ends_with(&boxed(b"mdat", PAYLOAD)), "the samples are untouched");
    assert_eq!(m["meta"]["petrel"]["size"], stored.len());
    assert_eq!(m["meta"]["petrel"]["metadata_removed"], true);
}

#[tokio::test]
async fn an_mp3_is_stored_without_its_id3_tags() {
    let app = app().await;
    let frames: Vec<u8> = b"\xff\xfb\x90\x64".iter().copied().cycle().take(4 * 32).collect();
    let tpe1 = [b"TPE1".as_slice(), &[0, 0, 0, 14, 0, 0, 0], ARTIST].concat();
    let mut file = [b"ID3\x03\x00\x00\x00\x00\x00".as_slice(), &[u8::try_from(tpe1.len()).unwrap()], &tpe1].concat();
    file.extend_from_slice(&frames);
    let mut v1 = [b"TAG".as_slice(), b"Title", ARTIST].concat();
    v1.resize(128, 0);
    file.extend_from_slice(&v1);
    let (status, m) = app.upload(&file).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["type"], "audio");
    assert_eq!(app.stored(m["id"].as_str().unwrap()).await, frames, "only the MPEG frames are kept");
}

#[tokio::test]
async fn a_file_that_cannot_be_parsed_is_refused_and_nothing_is_stored() {
    let app = app().await;
    let mut file = phone_mp4();
    // The `moov` box claims more bytes than the file holds.
    let moov = file.windows(4).position(|w| w == b"moov").unwrap() - 4;
    file[moov..moov + 4].copy_from_slice(&0x7fff_0000_u32.to_be_bytes());
    let (status, m) = app.upload(&file).await;
    assert_eq!(status, 422, "{m}");
    assert!(m["error"].as_str().unwrap().contains("MP4"), "{m}");
    assert_eq!(app.stored_files(), 0, "nothing was stored");
    // The same file, well formed, is stored: the count above can see a file.
    assert_eq!(app.upload(&phone_mp4()).await.0, 200);
    assert!(app.stored_files() > 0);
}
