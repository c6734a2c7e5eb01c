//! The web function's one error type. Every failure becomes Mastodon's `{"error": "..."}` body
//! with the status clients expect; internal details are logged, never sent.

use crate::repo::RepoError;
use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("The access token is invalid")]
    Unauthorized,
    #[error("This action is outside the authorized scopes")]
    Forbidden,
    #[error("{0}")]
    ForbiddenMsg(String),
    #[error("Record not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("Validation failed: {0}")]
    Unprocessable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// OAuth errors carry RFC 6749 codes (`invalid_grant`, `invalid_client`…).
    #[error("{code}")]
    OAuth { status: StatusCode, code: &'static str, description: String },
    #[error("internal error")]
    Internal(String),
    #[error("The service is busy; try again")]
    Unavailable(String),
    /// Too many failed sign-ins: answered 429 with `Retry-After`.
    #[error("Too many failed sign-ins; try again later")]
    TooManyRequests { retry_after: u64 },
}

impl ApiError {
    pub fn oauth(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        ApiError::OAuth { status, code, description: description.into() }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Transient(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(_) => ApiError::NotFound,
            RepoError::Conflict(m) => ApiError::Conflict(m),
            RepoError::Invalid(m) => ApiError::Unprocessable(m),
            RepoError::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::ForbiddenMsg(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::OAuth { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        };
        let body = match &self {
            ApiError::Internal(detail) | ApiError::Unavailable(detail) => {
                tracing::error!(error = %detail, "request failed");
                serde_json::json!({ "error": self.to_string() })
            }
            ApiError::OAuth { code, description, .. } => {
                serde_json::json!({ "error": code, "error_description": description })
            }
            other => serde_json::json!({ "error": other.to_string() }),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer error=\"invalid_token\""));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
