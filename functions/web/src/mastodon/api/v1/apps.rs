//! `POST /api/v1/apps`, `GET /api/v1/apps/verify_credentials`.

use axum::extract::State;
use axum::Json;
use petrel::mastodon::entities::Application;
use petrel::model::App;
use petrel::repo::oauth;
use petrel::Ctx;
use serde::Deserialize;

use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};
use petrel::api::scopes;

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

#[derive(Deserialize)]
pub struct CreateApp {
    #[serde(default)]
    client_name: String,
    #[serde(default, deserialize_with = "lenient::string_list")]
    redirect_uris: Vec<String>,
    #[serde(default)]
    scopes: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    website: Option<String>,
}

/// A redirect URI Petrel will send codes to: out-of-band, https/http, or an app's custom scheme,
/// never a scheme that runs code in a browser.
pub fn valid_redirect_uri(uri: &str) -> bool {
    if uri == OOB {
        return true;
    }
    match url::Url::parse(uri) {
        Ok(u) => {
            let scheme = u.scheme();
            let dangerous = matches!(scheme, "javascript" | "data" | "vbscript" | "file" | "blob" | "about");
            let web_without_host = matches!(scheme, "http" | "https") && u.host_str().is_none_or(str::is_empty);
            !dangerous && !web_without_host && u.fragment().is_none()
        }
        Err(_) => false,
    }
}

/// The app entity; `vapid_key` is the site's Web Push key (Mastodon 4.3 still sends it here).
pub fn entity(app: &App, secret: Option<String>, vapid_key: String) -> Application {
    Application {
        id: app.id.clone(),
        name: app.name.clone(),
        website: app.website.clone(),
        scopes: app.scopes.clone(),
        redirect_uri: app.redirect_uris.join("\n"),
        redirect_uris: app.redirect_uris.clone(),
        vapid_key,
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_id: secret.as_ref().map(|_| app.client_id.clone()),
        client_secret: secret,
    }
}

pub async fn create(State(ctx): State<Ctx>, Params(p): Params<CreateApp>) -> ApiResult<Json<Application>> {
    let name = p.client_name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("Name can't be blank".into()));
    }
    if name.chars().count() > 60 {
        return Err(ApiError::Unprocessable("Name is too long (maximum is 60 characters)".into()));
    }
    // Mastodon accepts several URIs in one string, one per line.
    let uris: Vec<String> = p
        .redirect_uris
        .iter()
        .flat_map(|u| u.split('\n'))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    if uris.is_empty() {
        return Err(ApiError::Unprocessable("Redirect URI can't be blank".into()));
    }
    if let Some(bad) = uris.iter().find(|u| !valid_redirect_uri(u)) {
        return Err(ApiError::Unprocessable(format!("Redirect URI must be an absolute URI: {bad}")));
    }
    let scopes = scopes::parse(p.scopes.as_deref().unwrap_or("read")).map_err(ApiError::Unprocessable)?;
    let website = p.website.filter(|w| url::Url::parse(w).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
    let (app, secret) = oauth::create_app(ctx.stores.table.as_ref(), name, website, uris, scopes).await?;
    Ok(Json(entity(&app, Some(secret), super::push::vapid_key(&ctx).await?)))
}

pub async fn verify_credentials(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Application>> {
    let app = oauth::app(ctx.stores.table.as_ref(), &auth.token.client_id).await?.ok_or(ApiError::Unauthorized)?;
    Ok(Json(entity(&app, None, super::push::vapid_key(&ctx).await?)))
}
