//! `POST /oauth/token` and `POST /oauth/revoke`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use base64::Engine;
use petrel::mastodon::entities::Token;
use petrel::model::AccessToken;
use petrel::repo::oauth;
use petrel::Ctx;
use serde::Deserialize;

use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};
use petrel::api::scopes;

#[derive(Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_secret: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

fn grant_error(description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Client credentials from the body, or from HTTP Basic (client_secret_basic).
fn client_credentials(req: &TokenRequest, headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())));
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (req.client_id.clone(), req.client_secret.clone()),
    }
}

fn pkce_s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

pub async fn token(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Params(req): Params<TokenRequest>,
) -> ApiResult<Json<Token>> {
    let (client_id, secret) = client_credentials(&req, &headers);
    let client_id =
        client_id.ok_or_else(|| ApiError::oauth(StatusCode::UNAUTHORIZED, "invalid_client", "client_id is missing"))?;
    let table = ctx.stores.table.as_ref();
    let (app, account_id, scopes) = match req.grant_type.as_str() {
        "authorization_code" => {
            let app = super::client(&ctx, &client_id, secret.as_deref()).await?;
            let code = req.code.as_deref().ok_or_else(|| grant_error("code is missing"))?;
            let stored = oauth::redeem_code(table, code).await?.ok_or_else(|| {
                grant_error(
                    "The provided authorization grant is invalid, expired, revoked, or was issued to another client.",
                )
            })?;
            if stored.client_id != app.client_id {
                return Err(grant_error("The authorization code was issued to another client."));
            }
            if req.redirect_uri.as_deref().is_some_and(|r| r != stored.redirect_uri) {
                return Err(grant_error("The redirect URI does not match the one the code was issued for."));
            }
            match (&stored.code_challenge, &req.code_verifier) {
                (Some(challenge), Some(verifier)) if pkce_s256(verifier) == *challenge => {}
                (Some(_), _) => return Err(grant_error("The PKCE code verifier does not match the challenge.")),
                // Without PKCE the client must prove itself with its secret.
                (None, _) if secret.is_none() => {
                    return Err(ApiError::oauth(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "client_secret is required without PKCE",
                    ));
                }
                (None, _) => {}
            }
            (app, Some(stored.account_id), stored.scopes)
        }
        "password" => {
            let app = super::client(&ctx, &client_id, Some(secret.as_deref().unwrap_or_default())).await?;
            let scopes = requested_scopes(req.scope.as_deref(), &app.scopes)?;
            let (Some(user), Some(pass)) = (req.username.as_deref(), req.password.as_deref()) else {
                return Err(grant_error("username and password are required"));
            };
            let account = super::check_login(&ctx, user, pass)
                .await?
                .ok_or_else(|| grant_error("The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."))?;
            (app, Some(account.id), scopes)
        }
        "client_credentials" => {
            let app = super::client(&ctx, &client_id, Some(secret.as_deref().unwrap_or_default())).await?;
            let scopes = requested_scopes(req.scope.as_deref(), &app.scopes)?;
            (app, None, scopes)
        }
        "" => return Err(ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is missing")),
        other => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("`{other}` is not supported"),
            ));
        }
    };
    let created_at = petrel::clock::now_ms() / 1000;
    let scope = scopes.join(" ");
    let value = oauth::issue_token(
        table,
        AccessToken {
            client_id,
            account_id,
            scopes,
            created_at: created_at * 1000,
            app_name: Some(app.name),
            app_website: app.website,
        },
    )
    .await?;
    Ok(Json(Token { access_token: value, token_type: "Bearer".into(), scope, created_at }))
}

/// The scopes asked for, which must lie within the app's; the app's own when none are asked.
fn requested_scopes(asked: Option<&str>, registered: &[String]) -> ApiResult<Vec<String>> {
    let Some(asked) = asked.filter(|s| !s.trim().is_empty()) else { return Ok(registered.to_vec()) };
    let scopes = scopes::parse(asked).map_err(|e| ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_scope", e))?;
    if !scopes::within(&scopes, registered) {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        ));
    }
    Ok(scopes)
}

#[derive(Deserialize)]
pub struct RevokeRequest {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_secret: Option<String>,
    #[serde(default)]
    token: String,
}

pub async fn revoke(State(ctx): State<Ctx>, Params(req): Params<RevokeRequest>) -> ApiResult<Json<serde_json::Value>> {
    let client_id = req.client_id.unwrap_or_default();
    let app = super::client(&ctx, &client_id, Some(req.client_secret.as_deref().unwrap_or_default())).await?;
    let table = ctx.stores.table.as_ref();
    if let Some(token) = oauth::token(table, &req.token).await? {
        if token.client_id != app.client_id {
            return Err(ApiError::oauth(
                StatusCode::FORBIDDEN,
                "unauthorized_client",
                "You are not authorized to revoke this token",
            ));
        }
        oauth::revoke_token(table, &req.token, &token).await?;
    }
    // RFC 7009: an unknown token is not an error.
    Ok(Json(serde_json::json!({})))
}
