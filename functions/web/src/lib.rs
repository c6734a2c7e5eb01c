//! The web function: Mastodon client API, OAuth, and (with federation) ActivityPub GETs and
//! pages. The handler tree mirrors the URL tree: `mastodon/api/v1/statuses.rs` serves
//! `/api/v1/statuses/…`.

pub mod federation;
pub mod mastodon;
pub mod oauth;
pub mod pagination;
pub mod streaming;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use petrel::Ctx;

use mastodon::api::{v1, v2};

/// A 1×1 transparent PNG for accounts without an avatar or header.
const MISSING_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn missing_image() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], MISSING_PNG)
}

fn api() -> Router<Ctx> {
    let empty = get(v1::misc::empty_list);
    let empty_user = get(v1::misc::empty_user_list);
    Router::new()
        .route("/api/v1/apps", post(v1::apps::create))
        .route("/api/v1/apps/verify_credentials", get(v1::apps::verify_credentials))
        .route("/api/v1/instance", get(v1::instance::v1))
        .route("/api/v2/instance", get(v1::instance::v2))
        .route("/api/v1/instance/peers", empty.clone())
        .route("/api/v1/instance/rules", empty.clone())
        .route("/api/v1/instance/activity", empty.clone())
        .route("/api/v1/custom_emojis", empty.clone())
        .route("/api/v1/preferences", get(v1::misc::preferences))
        .route("/api/v1/markers", get(v1::misc::markers).post(v1::misc::save_markers))
        .route("/api/v1/accounts/verify_credentials", get(v1::accounts::verify_credentials))
        .route("/api/v1/accounts/lookup", get(v1::accounts::lookup))
        .route("/api/v1/accounts/search", get(v1::accounts::search))
        .route("/api/v1/accounts/relationships", get(v1::accounts::relationships))
        .route("/api/v1/accounts/{id}", get(v1::accounts::get))
        .route("/api/v1/accounts/{id}/statuses", get(v1::accounts::statuses))
        .route("/api/v1/accounts/{id}/followers", get(v1::accounts::followers))
        .route("/api/v1/accounts/{id}/following", get(v1::accounts::following))
        .route("/api/v1/accounts/{id}/follow", post(v1::accounts::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(v1::accounts::unfollow))
        .route("/api/v1/accounts/{id}/block", post(v1::accounts::block))
        .route("/api/v1/accounts/{id}/unblock", post(v1::accounts::unblock))
        .route("/api/v1/accounts/{id}/mute", post(v1::accounts::mute))
        .route("/api/v1/accounts/{id}/unmute", post(v1::accounts::unmute))
        .route("/api/v1/statuses", post(v1::statuses::create).get(v1::statuses::get_many))
        .route("/api/v1/statuses/{id}", get(v1::statuses::get).delete(v1::statuses::delete).put(v1::statuses::edit))
        .route("/api/v1/statuses/{id}/source", get(v1::statuses::source))
        .route("/api/v1/statuses/{id}/history", get(v1::statuses::history))
        .route("/api/v1/statuses/{id}/card", get(v1::statuses::card))
        .route("/api/v1/statuses/{id}/bookmark", post(v1::statuses::bookmark))
        .route("/api/v1/statuses/{id}/unbookmark", post(v1::statuses::unbookmark))
        .route("/api/v1/statuses/{id}/pin", post(v1::statuses::pin))
        .route("/api/v1/statuses/{id}/unpin", post(v1::statuses::unpin))
        .route("/api/v1/statuses/{id}/context", get(v1::statuses::context))
        .route("/api/v1/statuses/{id}/favourite", post(v1::statuses::favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(v1::statuses::unfavourite))
        .route("/api/v1/statuses/{id}/favourited_by", get(v1::statuses::favourited_by))
        .route("/api/v1/statuses/{id}/reblog", post(v1::statuses::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(v1::statuses::unreblog))
        .route("/api/v1/statuses/{id}/reblogged_by", get(v1::statuses::reblogged_by))
        .route("/api/v1/timelines/home", get(v1::timelines::home))
        .route("/api/v1/polls/{id}", get(v1::polls::get))
        .route("/api/v1/polls/{id}/votes", post(v1::polls::vote))
        .route("/api/v1/scheduled_statuses", get(v1::scheduled_statuses::list))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(v1::scheduled_statuses::get).put(v1::scheduled_statuses::update).delete(v1::scheduled_statuses::delete),
        )
        .route("/api/v1/timelines/public", get(v1::timelines::public))
        .route("/api/v1/timelines/tag/{tag}", get(v1::timelines::tag))
        .route("/api/v1/favourites", get(v1::timelines::favourites))
        .route("/api/v2/search", get(v2::search::search))
        // Features without data in Petrel yet: well-formed empty answers.
        .route("/api/v1/trends", empty.clone())
        .route("/api/v1/trends/tags", empty.clone())
        .route("/api/v1/trends/statuses", empty.clone())
        .route("/api/v1/trends/links", empty.clone())
        .route("/api/v1/announcements", empty.clone())
        .route("/api/v2/suggestions", empty.clone())
        .route("/api/v1/suggestions", empty.clone())
        .route("/api/v1/endorsements", empty_user.clone())
        // Lists, filters and hashtags (issue #16).
        .route("/api/v1/lists", get(v1::lists::index).post(v1::lists::create))
        .route("/api/v1/lists/{id}", get(v1::lists::show).put(v1::lists::update).delete(v1::lists::delete))
        .route(
            "/api/v1/lists/{id}/accounts",
            get(v1::lists::accounts).post(v1::lists::add_accounts).delete(v1::lists::remove_accounts),
        )
        .route("/api/v1/timelines/list/{id}", get(v1::lists::timeline))
        .route("/api/v1/accounts/{id}/lists", get(v1::lists::of_account))
        .route("/api/v2/filters", get(v2::filters::index).post(v2::filters::create))
        .route("/api/v2/filters/{id}", get(v2::filters::show).put(v2::filters::update).delete(v2::filters::delete))
        .route("/api/v2/filters/{id}/keywords", get(v2::filters::keywords).post(v2::filters::add_keyword))
        .route(
            "/api/v2/filters/keywords/{id}",
            get(v2::filters::keyword).put(v2::filters::update_keyword).delete(v2::filters::delete_keyword),
        )
        .route("/api/v2/filters/{id}/statuses", get(v2::filters::statuses).post(v2::filters::add_status))
        .route("/api/v2/filters/statuses/{id}", get(v2::filters::status).delete(v2::filters::delete_status))
        .route("/api/v1/filters", get(v2::filters::v1_index).post(v2::filters::v1_create))
        .route(
            "/api/v1/filters/{id}",
            get(v2::filters::v1_show).put(v2::filters::v1_update).delete(v2::filters::v1_delete),
        )
        .route("/api/v1/tags/{name}", get(v1::tags::show))
        .route("/api/v1/tags/{name}/follow", post(v1::tags::follow))
        .route("/api/v1/tags/{name}/unfollow", post(v1::tags::unfollow))
        .route("/api/v1/tags/{name}/feature", post(v1::tags::tag_feature))
        .route("/api/v1/tags/{name}/unfeature", post(v1::tags::tag_unfeature))
        .route("/api/v1/followed_tags", get(v1::tags::followed))
        .route("/api/v1/featured_tags", get(v1::tags::featured).post(v1::tags::feature))
        .route("/api/v1/featured_tags/suggestions", get(v1::tags::suggestions))
        .route("/api/v1/featured_tags/{id}", axum::routing::delete(v1::tags::unfeature))
        .route("/api/v1/accounts/{id}/featured_tags", get(v1::tags::of_account))
        .route("/api/v1/bookmarks", get(v1::timelines::bookmarks))
        .route("/api/v1/blocks", get(v1::accounts::blocks))
        .route("/api/v1/mutes", get(v1::accounts::mutes))
        .route("/api/v1/follow_requests", get(v1::accounts::follow_requests))
        .route("/api/v1/follow_requests/{id}/authorize", post(v1::accounts::authorize_request))
        .route("/api/v1/follow_requests/{id}/reject", post(v1::accounts::reject_request))
        .route("/api/v1/petrel/statuses/{id}/deliveries", get(v1::petrel::deliveries))
        // Conversations, thread mutes and account notes (issue #16, items 5 and 7).
        .route("/api/v1/conversations", get(v1::conversations::list))
        .route("/api/v1/conversations/{id}", axum::routing::delete(v1::conversations::remove))
        .route("/api/v1/conversations/{id}/read", post(v1::conversations::read))
        .route("/api/v1/statuses/{id}/mute", post(v1::statuses::mute))
        .route("/api/v1/statuses/{id}/unmute", post(v1::statuses::unmute))
        .route("/api/v1/accounts/{id}/note", post(v1::accounts::note))
        .route(
            "/api/v1/domain_blocks",
            get(v1::domain_blocks::list).post(v1::domain_blocks::block).delete(v1::domain_blocks::unblock),
        )
        .route("/api/v1/notifications", get(v1::notifications::list))
        .route("/api/v1/notifications/clear", post(v1::notifications::clear))
        .route("/api/v1/notifications/unread_count", get(v2::notifications::unread_count_v1))
        .route("/api/v2/notifications", get(v2::notifications::list))
        .route("/api/v2/notifications/unread_count", get(v2::notifications::unread_count))
        .route("/api/v2/notifications/{group_key}", get(v2::notifications::get))
        .route("/api/v2/notifications/{group_key}/accounts", get(v2::notifications::group_accounts))
        .route("/api/v2/notifications/{group_key}/dismiss", post(v2::notifications::dismiss))
        .route("/api/v1/notifications/{id}", get(v1::notifications::get))
        .route("/api/v1/notifications/{id}/dismiss", post(v1::notifications::dismiss))
        .route(
            "/api/v1/push/subscription",
            get(v1::push::get).post(v1::push::create).put(v1::push::update).delete(v1::push::delete),
        )
        .route("/oauth/token", post(oauth::token::token))
        .route("/oauth/revoke", post(oauth::token::revoke))
        .route("/.well-known/oauth-authorization-server", get(oauth::metadata::metadata))
        .merge(streaming::routes())
        // Set before the CORS layer, which must still see (and answer) preflight OPTIONS.
        .method_not_allowed_fallback(petrel::http::wrong_method)
        .layer(petrel::http::cors())
}

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .merge(federation::router())
        .route("/health", get(petrel::http::health))
        .route("/oauth/authorize", get(oauth::authorize::show).post(oauth::authorize::approve))
        .route(
            "/oauth/authorized_applications",
            get(oauth::authorized_applications::show).post(oauth::authorized_applications::manage),
        )
        .route(petrel::mastodon::convert::MISSING_AVATAR, get(missing_image))
        .route(petrel::mastodon::convert::MISSING_HEADER, get(missing_image))
        // For the routes above; the API's routes have their own, inside their CORS layer.
        .method_not_allowed_fallback(petrel::http::wrong_method)
        .merge(api())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(petrel::http::request_span))
        .with_state(ctx)
}

async fn not_found() -> axum::response::Response {
    petrel::http::error_response(StatusCode::NOT_FOUND, "Record not found")
}
