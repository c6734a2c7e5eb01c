use serde::{Deserialize, Serialize};

/// A client application registered through `POST /api/v1/apps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub client_id: String,
    /// SHA-256 of the client secret, hex; the secret itself is shown once.
    pub secret_hash: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub created_at: i64,
}

/// An access token, stored under the SHA-256 of its value so a table leak leaks no tokens.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AccessToken {
    pub client_id: String,
    /// None for a client_credentials token (app-level, no user).
    pub account_id: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: i64,
    /// The app's name and website, copied here so a post can name its app without a read.
    #[serde(default)]
    pub app_name: Option<String>,
    #[serde(default)]
    pub app_website: Option<String>,
    /// The token's entry in its account's token list (`keys::account_token`), which the owner
    /// names to revoke it; set when issued. None for app-level tokens and for tokens issued
    /// before the list existed.
    #[serde(default)]
    pub id: Option<String>,
    /// The account's `token_generation` when the token was issued: a password change or a
    /// "revoke all" moves the account's on, and a token of an older generation is refused.
    #[serde(default)]
    pub generation: i64,
}

/// An authorization code, single use, valid for ten minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    /// Expiry, epoch seconds: stored as the table's `ttl` attribute.
    pub ttl: i64,
    /// The account's token generation when the owner approved: the token it is exchanged for
    /// carries it, so a password change in between also voids the code.
    #[serde(default)]
    pub generation: i64,
}
