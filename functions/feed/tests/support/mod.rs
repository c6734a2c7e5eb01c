//! An embedded backend with an account and its posts, for the poll-cost test and the benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use petrel::model::{Account, Dimensions, Media, Status, Visibility};
use petrel::repo::{accounts, media, statuses};
use petrel::Ctx;

pub struct Site {
    pub ctx: Ctx,
    pub account: Account,
    _dir: tempfile::TempDir,
}

/// An account with `posts` public posts; every third has an image with alt text, every fifth a
/// content warning, every seventh is a reply.
pub async fn site(posts: usize) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let config = petrel::Config::from_vars(|k| (k == "PETREL_DATA").then(|| data.clone())).unwrap();
    let ctx = Ctx::connect(config).await.unwrap();
    let table = ctx.stores.table.as_ref();
    let account = accounts::create(table, "owner", "correct horse battery").await.unwrap();
    let mut previous: Option<String> = None;
    for i in 0..posts {
        let id = petrel::ids::snowflake();
        let mut attached = Vec::new();
        if i % 3 == 0 {
            let m = Media {
                id: petrel::ids::snowflake(),
                account_id: account.id.clone(),
                kind: "image".into(),
                content_type: "image/jpeg".into(),
                original_key: format!("media/{i}/original.jpg"),
                small_key: format!("media/{i}/small.jpg"),
                original: Dimensions { width: 1200, height: 800, size: 120_000 },
                small: Dimensions { width: 640, height: 427, size: 30_000 },
                blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj".into(),
                description: Some(format!("Photo number {i}")),
                focus: None,
                created_at: petrel::clock::now_ms(),
                status_id: None,
                ttl: None,
                remote_url: None,
            };
            attached.push(media::create(table, m).await.unwrap());
        }
        let reply = i % 7 == 6;
        let text = format!("Post number {i} about #rust and <things> & more words to make it a realistic length.");
        let rendered = petrel::text::render(&text, &ctx.config.base_url(), &[]);
        let status = Status {
            id: id.clone(),
            account_id: account.id.clone(),
            text,
            content: rendered.html,
            spoiler_text: if i % 5 == 4 { "Spoilers".into() } else { String::new() },
            visibility: Visibility::Public,
            sensitive: false,
            language: Some("en".into()),
            in_reply_to_id: if reply { previous.clone() } else { None },
            in_reply_to_account_id: if reply { Some(account.id.clone()) } else { None },
            in_reply_to_uri: None,
            created_at: petrel::clock::now_ms(),
            edited_at: None,
            tags: rendered.tags,
            mentions: vec![],
            favourites_count: 0,
            reblogs_count: 0,
            replies_count: 0,
            media: attached,
            application: None,
            application_website: None,
            remote_uri: None,
            remote_url: None,
            reblog_of: None,
            conversation: None,
            poll: None,
            poll_tally: Default::default(),
            emojis: Vec::new(),
            card: None,
            ttl: None,
        };
        statuses::create(table, status, None).await.unwrap();
        previous = Some(id);
    }
    Site { ctx, account, _dir: dir }
}
