//! Stored types → Mastodon entities, in one place.

use crate::activitypub::sanitize::clean;
use crate::activitypub::vocab::http_url;
use crate::clock::{date_only, iso8601_ms};
use crate::config::Config;
use crate::mastodon::entities as e;
use crate::model;

/// Where an account without an avatar or header points (served by the web function).
pub const MISSING_AVATAR: &str = "/avatars/original/missing.png";
pub const MISSING_HEADER: &str = "/headers/original/missing.png";

pub fn account_url(cfg: &Config, username: &str) -> String {
    format!("{}/@{username}", cfg.base_url())
}

pub fn actor_uri(cfg: &Config, username: &str) -> String {
    format!("{}/users/{username}", cfg.base_url())
}

pub fn status_uri(cfg: &Config, username: &str, id: &str) -> String {
    format!("{}/users/{username}/statuses/{id}", cfg.base_url())
}

pub fn status_url(cfg: &Config, username: &str, id: &str) -> String {
    format!("{}/@{username}/{id}", cfg.base_url())
}

pub fn account(cfg: &Config, a: &model::Account, with_source: bool) -> e::Account {
    let remote = a.remote.as_ref();
    // Remote images are linked where their server keeps them, local ones from the media base.
    // Remote links are checked again on the way out (http(s) only), as they were on the way in:
    // records stored before that check existed must not reach a client either.
    let image = |key: &Option<String>, remote_url: Option<&String>, missing: &str| match (key, remote_url) {
        (_, Some(url)) if http_url(url).is_some() => url.clone(),
        (_, Some(_)) => format!("{}{missing}", cfg.base_url()),
        (Some(k), None) => format!("{}/{k}", cfg.media_base),
        (None, None) => format!("{}{missing}", cfg.base_url()),
    };
    let fields: Vec<e::Field> = a
        .fields
        .iter()
        .map(|(name, value)| e::Field {
            name: name.clone(),
            value: clean(value),
            verified_at: a.verified_links.get(value).map(|at| iso8601_ms(*at)),
        })
        .collect();
    let avatar = image(&a.avatar_key, remote.and_then(|r| r.avatar_url.as_ref()), MISSING_AVATAR);
    let header = image(&a.header_key, remote.and_then(|r| r.header_url.as_ref()), MISSING_HEADER);
    e::Account {
        id: a.id.clone(),
        username: a.username.clone(),
        acct: a.acct(),
        url: remote.map_or_else(
            || account_url(cfg, &a.username),
            |r| http_url(&r.url).or_else(|| http_url(&r.uri)).unwrap_or_default(),
        ),
        uri: remote.map_or_else(|| actor_uri(cfg, &a.username), |r| r.uri.clone()),
        display_name: a.display_name.clone(),
        // HTML is sanitised on output as well as on input: local bios and posts are built by
        // Petrel, but a stored record may predate a fix, and clients render this HTML.
        note: clean(&a.note),
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        locked: a.locked,
        fields: fields.clone(),
        emojis: emojis(&a.emojis),
        bot: a.bot,
        group: remote.is_some_and(|r| r.actor_type == "Group"),
        discoverable: Some(a.discoverable),
        indexable: a.discoverable,
        noindex: Some(!a.discoverable),
        hide_collections: Some(false),
        created_at: iso8601_ms(a.created_at - a.created_at.rem_euclid(86_400_000)),
        last_status_at: a.last_status_at.map(date_only),
        statuses_count: a.statuses_count.max(0) as u64,
        followers_count: a.followers_count.max(0) as u64,
        following_count: a.following_count.max(0) as u64,
        source: with_source.then(|| e::Source {
            note: html_to_text(&a.note),
            fields,
            privacy: a.posting.privacy.clone().unwrap_or_else(|| "public".into()),
            sensitive: a.posting.sensitive,
            language: a.posting.language.clone(),
            follow_requests_count: 0,
            indexable: a.discoverable,
            discoverable: Some(a.discoverable),
            hide_collections: Some(false),
        }),
        roles: Vec::new(),
        // Mastodon's "everyone" role: Petrel has no admin API, so no permissions are claimed.
        role: with_source.then(
            || serde_json::json!({ "id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": false }),
        ),
    }
}

/// A bio is stored as HTML; `source.note` gives it back as text.
pub(crate) fn html_to_text(html: &str) -> String {
    let with_breaks = html.replace("<br />", "\n").replace("</p><p>", "\n\n");
    let mut out = String::new();
    let mut in_tag = false;
    for c in with_breaks.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out).into_owned()
}

/// What the viewer has done to a status.
pub use crate::repo::statuses::Marks as Viewer;

pub fn status(cfg: &Config, s: &model::Status, author: &e::Account, viewer: Viewer) -> e::Status {
    e::Status {
        id: s.id.clone(),
        uri: s.remote_uri.clone().unwrap_or_else(|| status_uri(cfg, &author.username, &s.id)),
        url: Some(match (s.remote_url.as_deref().and_then(http_url), &s.remote_uri) {
            (Some(url), _) => url,
            (None, Some(uri)) => http_url(uri).unwrap_or_default(),
            (None, None) => status_url(cfg, &author.username, &s.id),
        }),
        created_at: iso8601_ms(s.created_at),
        edited_at: s.edited_at.map(iso8601_ms),
        account: author.clone(),
        content: clean(&s.content),
        text: Some(s.text.clone()),
        visibility: s.visibility.as_str().into(),
        sensitive: s.sensitive,
        spoiler_text: s.spoiler_text.clone(),
        media_attachments: s.media.iter().map(|m| media(cfg, m)).collect(),
        application: s
            .application
            .as_ref()
            .map(|name| e::StatusApplication { name: name.clone(), website: s.application_website.clone() }),
        mentions: s
            .mentions
            .iter()
            .map(|m| e::Mention {
                id: m.account_id.clone(),
                username: m.username.clone(),
                url: http_url(&m.url).unwrap_or_default(),
                acct: m.acct.clone(),
            })
            .collect(),
        tags: s.tags.iter().map(|t| tag(cfg, t)).collect(),
        emojis: emojis(&s.emojis),
        reblogs_count: s.reblogs_count.max(0) as u64,
        favourites_count: s.favourites_count.max(0) as u64,
        replies_count: s.replies_count.max(0) as u64,
        quotes_count: 0,
        in_reply_to_id: s.in_reply_to_id.clone(),
        in_reply_to_account_id: s.in_reply_to_account_id.clone(),
        reblog: None,
        poll: poll(s, None),
        card: s.card.as_ref().map(|c| card(cfg, c)),
        language: s.language.clone(),
        favourited: viewer.favourited,
        reblogged: viewer.reblogged,
        muted: viewer.muted,
        bookmarked: viewer.bookmarked,
        pinned: viewer.pinned,
        filtered: Vec::new(),
    }
}

/// CustomEmoji entities of a remote post or account (no static rendition is made: `static_url` is
/// the image itself; remote emoji are never offered in the picker).
pub fn emojis(list: &[model::Emoji]) -> Vec<e::CustomEmoji> {
    list.iter()
        .filter(|e| http_url(&e.url).is_some())
        .map(|e| e::CustomEmoji {
            shortcode: e.shortcode.clone(),
            url: e.url.clone(),
            static_url: e.url.clone(),
            visible_in_picker: false,
        })
        .collect()
}

/// The PreviewCard entity (Mastodon 4.x), with the image served from the media base.
pub fn card(cfg: &Config, c: &model::PreviewCard) -> serde_json::Value {
    serde_json::json!({
        "url": c.url,
        "title": c.title,
        "description": c.description,
        "type": c.kind,
        "author_name": c.author_name,
        "author_url": c.author_url,
        "authors": [],
        "provider_name": c.provider_name,
        "provider_url": c.provider_url,
        "html": "",
        "width": c.width,
        "height": c.height,
        "image": c.image_key.as_ref().map(|k| format!("{}/{k}", cfg.media_base)),
        "image_description": "",
        "embed_url": "",
        "blurhash": (!c.blurhash.is_empty()).then_some(&c.blurhash),
        "language": c.language,
        "published_at": null,
    })
}

pub fn tag(cfg: &Config, name: &str) -> e::Tag {
    e::Tag {
        name: name.to_string(),
        url: format!("{}/tags/{name}", cfg.base_url()),
        id: name.to_string(),
        history: Vec::new(),
    }
}

/// A MediaAttachment entity. Images carry Mastodon's `meta`; audio and video are stored without
/// re-encoding, which their `meta` says (`petrel.processed: false`), but without the metadata
/// that can identify or locate the uploader (`petrel.metadata_removed: true`: the media
/// function's `strip` module and the README list what is removed and kept), with a preview only
/// when the client sent a thumbnail.
pub fn media(cfg: &Config, m: &model::Media) -> serde_json::Value {
    let dims = |d: &model::Dimensions| {
        serde_json::json!({
            "width": d.width, "height": d.height, "size": format!("{}x{}", d.width, d.height),
            "aspect": if d.height == 0 { 0.0 } else { f64::from(d.width) / f64::from(d.height) },
        })
    };
    let mut meta = if m.kind == "image" {
        serde_json::json!({ "original": dims(&m.original), "small": dims(&m.small) })
    } else {
        let mut meta = serde_json::json!({ "petrel": { "processed": false, "size": m.original.size } });
        if m.remote_url.is_none() {
            meta["petrel"]["metadata_removed"] = true.into();
        }
        if !m.small_key.is_empty() {
            meta["small"] = dims(&m.small);
        }
        meta
    };
    if let Some((x, y)) = m.focus {
        meta["focus"] = serde_json::json!({ "x": x, "y": y });
    }
    if let Some(url) = &m.remote_url {
        return serde_json::json!({
            "id": m.id, "type": m.kind, "url": url, "preview_url": url, "remote_url": url,
            "preview_remote_url": null, "text_url": null, "meta": meta, "description": m.description,
            "blurhash": if m.blurhash.is_empty() { None } else { Some(&m.blurhash) },
        });
    }
    serde_json::json!({
        "id": m.id,
        "type": m.kind,
        "url": format!("{}/{}", cfg.media_base, m.original_key),
        "preview_url": (!m.small_key.is_empty()).then(|| format!("{}/{}", cfg.media_base, m.small_key)),
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": meta,
        "description": m.description,
        "blurhash": (!m.blurhash.is_empty()).then_some(&m.blurhash),
    })
}

/// The Poll entity of a status's poll (its id is the status's). `own` is the viewer's choices on
/// it when there is a viewer (`voted` and `own_votes` are left out without one). Hidden totals
/// show once the poll has ended.
pub fn poll(s: &model::Status, own: Option<&[u32]>) -> Option<serde_json::Value> {
    let p = s.poll.as_ref()?;
    let (votes, total, voters) = crate::repo::polls::counts(s)?;
    let expired = p.expired_at(crate::clock::now_ms());
    let show = !p.hide_totals || expired;
    let options: Vec<serde_json::Value> = p
        .options
        .iter()
        .zip(&votes)
        .map(|(title, n)| serde_json::json!({ "title": title, "votes_count": show.then_some(*n) }))
        .collect();
    let mut out = serde_json::json!({
        "id": s.id,
        "expires_at": p.expires_at.map(iso8601_ms),
        "expired": expired,
        "multiple": p.multiple,
        "votes_count": total,
        "voters_count": voters.or(Some(total)),
        "options": options,
        "emojis": [],
    });
    if let Some(own) = own {
        out["voted"] = serde_json::json!(!own.is_empty());
        out["own_votes"] = serde_json::json!(own);
    }
    Some(out)
}
