//! `GET /oauth/authorized_applications`: the owner's page of the apps that hold a token to the
//! account (Mastodon has a page at the same path), where any or all of them can be revoked.
//!
//! There is no session: every POST carries the username and password, checked (and throttled)
//! like any sign-in, and the double-submit CSRF token of the authorize form. Listing is a POST
//! too, so nothing about the account is shown to a GET, and a GET changes nothing.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};
use petrel::http::ClientAddr;
use petrel::model::Account;
use petrel::repo::oauth::{self, TokenEntry};
use petrel::Ctx;
use serde::Deserialize;

use super::authorize::{cookie, esc, page, throttled_message, too_many, with_csrf_cookie, CSRF_COOKIE};

const PATH: &str = "/oauth/authorized_applications";

#[derive(Deserialize)]
pub struct Form {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    /// Ids of listed tokens to revoke (repeated checkboxes).
    #[serde(default, deserialize_with = "lenient::string_list")]
    revoke: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    revoke_all: Option<bool>,
}

fn sign_in_page(csrf: &str, username: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    page(
        "Authorised apps",
        &format!(
            "<h1>Authorised apps</h1><p>Sign in to see the apps that can use your account, and to revoke their access.</p>{error}\
<form method=\"post\" action=\"{PATH}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<label>Username <input name=\"username\" value=\"{}\" autocomplete=\"username\" autocapitalize=\"none\" required autofocus></label>\
<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">Show my apps</button></form>",
            esc(csrf),
            esc(username)
        ),
    )
}

fn when(ms: i64) -> String {
    let iso = petrel::clock::iso8601_ms(ms);
    format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "))
}

fn list_page(csrf: &str, account: &Account, tokens: &[TokenEntry], notice: Option<&str>) -> String {
    let notice = notice.map(|n| format!("<p role=\"status\">{}</p>", esc(n))).unwrap_or_default();
    let rows = if tokens.is_empty() {
        "<p>No app holds a token to this account.</p>".to_string()
    } else {
        let items: String = tokens
            .iter()
            .map(|t| {
                format!(
                    "<li><label><input type=\"checkbox\" name=\"revoke\" value=\"{}\" style=\"width:auto\"> <strong>{}</strong> \
— <code>{}</code>, authorised {}</label></li>",
                    esc(&t.id),
                    esc(t.app_name.as_deref().unwrap_or(&t.client_id)),
                    esc(&t.scopes.join(" ")),
                    esc(&when(t.created_at))
                )
            })
            .collect();
        format!("<ul>{items}</ul>")
    };
    page(
        "Authorised apps",
        &format!(
            "<h1>Authorised apps of @{}</h1>{notice}\
<form method=\"post\" action=\"{PATH}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"username\" value=\"{}\">{rows}\
<label><input type=\"checkbox\" name=\"revoke_all\" value=\"1\" style=\"width:auto\"> Revoke every app's access \
(also sign-ins older than this list)</label>\
<label>Confirm with your password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">Revoke selected</button></form>",
            esc(&account.username),
            esc(csrf),
            esc(&account.username)
        ),
    )
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store"), (header::X_FRAME_OPTIONS, "DENY")], Html(body)).into_response()
}

pub async fn show() -> Response {
    let csrf = petrel::ids::random_token(16);
    with_csrf_cookie(sign_in_page(&csrf, "", None), StatusCode::OK, &csrf)
}

pub async fn manage(
    State(ctx): State<Ctx>,
    client: ClientAddr,
    headers: HeaderMap,
    Params(form): Params<Form>,
) -> ApiResult<Response> {
    let cookie_token = cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || cookie_token != form.csrf {
        return Err(ApiError::ForbiddenMsg(
            "The form has expired or was not sent from this site; reload the page and try again.".into(),
        ));
    }
    let csrf = form.csrf.as_str();
    let account = match super::check_login(&ctx, &form.username, &form.password, client).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            let body = sign_in_page(csrf, &form.username, Some("Invalid username or password."));
            return Ok(html(StatusCode::UNAUTHORIZED, body));
        }
        Err(ApiError::TooManyRequests { retry_after }) => {
            let body = sign_in_page(csrf, &form.username, Some(&throttled_message(retry_after)));
            return Ok(too_many(html(StatusCode::TOO_MANY_REQUESTS, body), retry_after));
        }
        Err(e) => return Err(e),
    };
    let table = ctx.stores.table.as_ref();
    let notice = if form.revoke_all == Some(true) {
        let n = oauth::revoke_all_tokens(table, &account.id).await?;
        tracing::info!(account = %account.id, listed = n, "every token revoked by the owner");
        Some("Every app's access was revoked.".to_string())
    } else if !form.revoke.is_empty() {
        let mut revoked = 0;
        for id in form.revoke.iter().take(100) {
            if oauth::revoke_account_token(table, &account.id, id).await? {
                revoked += 1;
            }
        }
        tracing::info!(account = %account.id, revoked, "tokens revoked by the owner");
        Some(format!("Revoked {revoked} authorisation{}.", if revoked == 1 { "" } else { "s" }))
    } else {
        None
    };
    let tokens = oauth::account_tokens(table, &account.id).await?;
    Ok(html(StatusCode::OK, list_page(csrf, &account, &tokens, notice.as_deref())))
}
