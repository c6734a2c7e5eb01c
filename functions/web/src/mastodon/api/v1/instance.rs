//! Instance metadata, v1 and v2. Clients read `version` and `api_versions` to enable features.
//! The counts and the contact come from the local accounts, cached per process for a minute
//! (`Ctx::local_accounts`): after the first call, neither version reads the table.

use axum::extract::State;
use axum::Json;
use petrel::mastodon::{convert, API_VERSION, VERSION};
use petrel::Ctx;
use serde_json::{json, Value};

use petrel::api::error::ApiResult;

/// Limits clients show in their composers (the status length comes from configuration). The media
/// function enforces the media ones.
pub const MAX_MEDIA: usize = 4;

fn statuses_config(ctx: &Ctx) -> Value {
    json!({ "max_characters": ctx.config.max_characters, "max_media_attachments": MAX_MEDIA, "characters_reserved_per_url": petrel::text::URL_WEIGHT })
}

fn media_config() -> Value {
    json!({
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm", "audio/mpeg", "audio/ogg", "audio/mp4"],
        "image_size_limit": 4_194_304, "image_matrix_limit": 33_177_600,
        "video_size_limit": 4_194_304, "video_frame_rate_limit": 60, "video_matrix_limit": 8_294_400,
        "description_limit": 1500
    })
}

fn polls_config() -> Value {
    json!({ "max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2_629_746 })
}

pub async fn v1(State(ctx): State<Ctx>) -> ApiResult<Json<Value>> {
    let cfg = &ctx.config;
    let locals = ctx.local_accounts().await?;
    let statuses: i64 = locals.iter().map(|a| a.statuses_count.max(0)).sum();
    let contact = locals.first().map(|a| convert::account(cfg, a, false));
    Ok(Json(json!({
        "uri": cfg.handle_domain,
        "title": "Petrel",
        "short_description": "A serverless ActivityPub microblog",
        "description": "A serverless ActivityPub microblog",
        "email": "",
        "version": VERSION,
        "urls": { "streaming_api": format!("wss://{}", cfg.domain) },
        "stats": { "user_count": locals.len(), "status_count": statuses, "domain_count": 0 },
        "thumbnail": null,
        "languages": ["en"],
        "registrations": false,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": {
            "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 5 },
            "statuses": statuses_config(&ctx),
            "media_attachments": media_config(),
            "polls": polls_config(),
        },
        "contact_account": contact,
        "rules": [],
    })))
}

/// v2 carries the Web Push key (`configuration.vapid.public_key`); v1 has none, as in Mastodon.
pub async fn v2(State(ctx): State<Ctx>) -> ApiResult<Json<Value>> {
    let cfg = &ctx.config;
    let vapid_key = super::push::vapid_key(&ctx).await?;
    let locals = ctx.local_accounts().await?;
    let contact = locals.first().map(|a| convert::account(cfg, a, false));
    Ok(Json(json!({
        "domain": cfg.handle_domain,
        "title": "Petrel",
        "version": VERSION,
        "source_url": "",
        "description": "A serverless ActivityPub microblog",
        "usage": { "users": { "active_month": locals.len() } },
        "thumbnail": { "url": format!("{}{}", cfg.base_url(), convert::MISSING_HEADER) },
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": { "streaming": format!("wss://{}", cfg.domain), "status": null },
            "vapid": { "public_key": vapid_key },
            "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 5 },
            "statuses": statuses_config(&ctx),
            "media_attachments": media_config(),
            "polls": polls_config(),
            "translation": { "enabled": false },
        },
        "registrations": { "enabled": false, "approval_required": false, "message": null },
        "api_versions": { "mastodon": API_VERSION },
        "contact": { "email": "", "account": contact },
        "rules": [],
    })))
}
