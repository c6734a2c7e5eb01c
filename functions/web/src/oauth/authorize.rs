//! `GET /oauth/authorize` serves the owner a page to sign in and approve the app in one step;
//! `POST /oauth/authorize` checks it and redirects with a code (or shows the code, out of band).
//! The form is protected against cross-site posting by a double-submit token: a random value
//! in a SameSite=Strict cookie that must match the form's hidden field.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use petrel::http::ClientAddr;
use petrel::model::{App, AuthCode};
use petrel::repo::oauth;
use petrel::Ctx;
use serde::Deserialize;

use crate::mastodon::api::v1::apps::OOB;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{Params, QueryParams};
use petrel::api::scopes;

pub(crate) const CSRF_COOKIE: &str = "petrel_csrf";

#[derive(Deserialize, Clone, Default)]
pub struct AuthorizeParams {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub(crate) fn esc(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\"><title>{}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.5}}\
label{{display:block;margin-top:1rem}}input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}\
button{{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}}.error{{color:#b00020}}code{{font-size:1.2rem;word-break:break-all}}\
.scopes{{padding-left:1.2rem;overflow-wrap:normal;word-break:normal}}.scopes li{{margin:.3rem 0}}\
.scope{{white-space:nowrap;font-family:ui-monospace,monospace;font-size:.85rem;color:#555}}\
</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// Checks the request against the registered app; errors here are shown, never redirected,
/// since the redirect URI itself may be the problem.
async fn validate(ctx: &Ctx, p: &AuthorizeParams) -> ApiResult<(App, Vec<String>)> {
    let bad = |m: &str| ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", m);
    let app = oauth::app(ctx.stores.table.as_ref(), &p.client_id)
        .await?
        .ok_or_else(|| ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_client", "The client is unknown."))?;
    if !app.redirect_uris.iter().any(|u| u == &p.redirect_uri) {
        return Err(bad("The redirect URI included is not valid."));
    }
    if p.response_type != "code" {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "Only response_type=code is supported.",
        ));
    }
    let scopes = match p.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => scopes::parse(s).map_err(|e| ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_scope", e))?,
        None => app.scopes.clone(),
    };
    if !scopes::within(&scopes, &app.scopes) {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        ));
    }
    if p.code_challenge.is_some() && p.code_challenge_method.as_deref().unwrap_or("plain") != "S256" {
        return Err(bad("Only the S256 code challenge method is supported."));
    }
    Ok((app, scopes))
}

/// What a scope lets an app do, in plain words for the sign-in page.
pub(crate) fn scope_description(scope: &str) -> String {
    let known = match scope {
        "read" => "Read everything in your account: posts, timelines, notifications, follows, lists and settings",
        "write" => "Post, edit and delete, favourite and boost, follow, and change your profile and settings",
        "follow" => "Follow, unfollow, block and mute accounts",
        "push" => "Send notifications to this device",
        "profile" => "See your name, picture and bio",
        "read:accounts" => "See your profile and the accounts you look up",
        "read:blocks" => "See whom you block",
        "read:bookmarks" => "See your bookmarks",
        "read:favourites" => "See your favourites",
        "read:filters" => "See your filters",
        "read:follows" => "See whom you follow and who follows you",
        "read:lists" => "See your lists",
        "read:mutes" => "See whom you mute",
        "read:notifications" => "Read your notifications",
        "read:search" => "Search on your behalf",
        "read:statuses" => "Read posts and timelines you can see",
        "write:accounts" => "Change your profile",
        "write:blocks" => "Block and unblock accounts and domains",
        "write:bookmarks" => "Bookmark posts",
        "write:conversations" => "Mark conversations read and remove them",
        "write:favourites" => "Favourite posts",
        "write:filters" => "Create and change filters",
        "write:follows" => "Follow and unfollow accounts",
        "write:lists" => "Create and change lists",
        "write:media" => "Upload pictures, video and sound",
        "write:mutes" => "Mute accounts and conversations",
        "write:notifications" => "Dismiss notifications",
        "write:reports" => "Report accounts and posts",
        "write:statuses" => "Post, edit, delete and boost",
        other if other.starts_with("admin:") => "Administer this server (Petrel has no admin API: nothing more)",
        _ => "",
    };
    known.to_string()
}

fn login_page(
    cfg: &petrel::Config,
    app: &App,
    scopes: &[String],
    p: &AuthorizeParams,
    csrf: &str,
    error: Option<&str>,
) -> String {
    let hidden = [
        ("client_id", p.client_id.as_str()),
        ("redirect_uri", p.redirect_uri.as_str()),
        ("response_type", p.response_type.as_str()),
        ("scope", &scopes.join(" ")),
        ("state", p.state.as_deref().unwrap_or_default()),
        ("code_challenge", p.code_challenge.as_deref().unwrap_or_default()),
        ("code_challenge_method", p.code_challenge_method.as_deref().unwrap_or_default()),
        ("csrf", csrf),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    .collect::<String>();
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    // The app's website only as an http(s) link (it is what the app registered, not checked).
    let app_name = match app.website.as_deref().and_then(petrel::activitypub::vocab::http_url) {
        Some(url) => format!("<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>", esc(&url), esc(&app.name)),
        None => format!("<strong>{}</strong>", esc(&app.name)),
    };
    let allows: String = scopes
        .iter()
        .map(|s| {
            let what = scope_description(s);
            let what = if what.is_empty() { String::new() } else { format!("{} ", esc(&what)) };
            format!("<li>{what}<span class=\"scope\">{}</span></li>", esc(s))
        })
        .collect();
    let site = &cfg.domain;
    page(
        &format!("Sign in to {site}"),
        &format!(
            "<h1>Sign in to {}</h1><p>{app_name} asks to use your account on {}. It will be able to:</p>\
<ul class=\"scopes\">{allows}</ul>{error}\
<form method=\"post\" action=\"/oauth/authorize\">{hidden}\
<label>Username <input name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" required autofocus></label>\
<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">Authorize</button></form>",
            esc(site),
            esc(site),
        ),
    )
}

/// What a throttled sign-in form says.
pub(crate) fn throttled_message(retry_after: u64) -> String {
    let minutes = retry_after.div_ceil(60);
    format!("Too many failed sign-ins. Try again in {minutes} minute{}.", if minutes == 1 { "" } else { "s" })
}

/// Adds `Retry-After` to a 429 page.
pub(crate) fn too_many(mut response: Response, retry_after: u64) -> Response {
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
    response
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub(crate) fn with_csrf_cookie(html: String, status: StatusCode, csrf: &str) -> Response {
    let cookie = format!("{CSRF_COOKIE}={csrf}; Path=/oauth; HttpOnly; SameSite=Strict; Max-Age=3600");
    (
        status,
        [
            (header::SET_COOKIE, cookie),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::X_FRAME_OPTIONS, "DENY".to_string()),
        ],
        Html(html),
    )
        .into_response()
}

pub async fn show(State(ctx): State<Ctx>, QueryParams(p): QueryParams<AuthorizeParams>) -> ApiResult<Response> {
    let (app, scopes) = validate(&ctx, &p).await?;
    let csrf = petrel::ids::random_token(16);
    Ok(with_csrf_cookie(login_page(&ctx.config, &app, &scopes, &p, &csrf, None), StatusCode::OK, &csrf))
}

pub async fn approve(
    State(ctx): State<Ctx>,
    client: ClientAddr,
    headers: HeaderMap,
    Params(form): Params<LoginForm>,
) -> ApiResult<Response> {
    let p = &form.params;
    let (app, scopes) = validate(&ctx, p).await?;
    let cookie_token = cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || cookie_token != form.csrf {
        return Err(ApiError::ForbiddenMsg(
            "The form has expired or was not sent from this site; reload the page and try again.".into(),
        ));
    }
    let account = match super::check_login(&ctx, &form.username, &form.password, client).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            let csrf = petrel::ids::random_token(16);
            let html = login_page(&ctx.config, &app, &scopes, p, &csrf, Some("Invalid username or password."));
            return Ok(with_csrf_cookie(html, StatusCode::UNAUTHORIZED, &csrf));
        }
        Err(ApiError::TooManyRequests { retry_after }) => {
            let csrf = petrel::ids::random_token(16);
            let html = login_page(&ctx.config, &app, &scopes, p, &csrf, Some(&throttled_message(retry_after)));
            return Ok(too_many(with_csrf_cookie(html, StatusCode::TOO_MANY_REQUESTS, &csrf), retry_after));
        }
        Err(e) => return Err(e),
    };
    let code = oauth::issue_code(
        ctx.stores.table.as_ref(),
        AuthCode {
            client_id: app.client_id.clone(),
            account_id: account.id,
            redirect_uri: p.redirect_uri.clone(),
            scopes,
            code_challenge: p.code_challenge.clone().filter(|c| !c.is_empty()),
            ttl: 0,
            generation: account.token_generation,
        },
    )
    .await?;
    if p.redirect_uri == OOB {
        let html = page(
            "Authorization code",
            &format!(
                "<h1>Authorization code</h1><p>Copy this code and paste it into {}:</p><p><code id=\"code\">{}</code></p>",
                esc(&app.name),
                esc(&code)
            ),
        );
        return Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response());
    }
    let mut target = url::Url::parse(&p.redirect_uri).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = p.state.as_deref().filter(|s| !s.is_empty()) {
        target.query_pairs_mut().append_pair("state", state);
    }
    Ok(Redirect::to(target.as_str()).into_response())
}
