//! The backend options every subcommand shares, turned into Petrel's typed configuration.

use clap::Args;
use petrel::config::ConfigError;
use petrel::Config;

#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// Directory of the embedded backend's data (SQLite database and blobs).
    #[arg(long, global = true, env = "PETREL_DATA", default_value = "./data")]
    pub data: String,
    /// Host (and port) that serves Petrel; ActivityPub ids and URLs are built from it.
    #[arg(long, global = true, env = "PETREL_DOMAIN", default_value = "localhost:8080")]
    pub domain: String,
    /// Domain of handles (@name@domain) when it differs from --domain.
    #[arg(long, global = true, env = "PETREL_HANDLE_DOMAIN")]
    pub handle_domain: Option<String>,
    /// Use DynamoDB, S3 and SQS (AWS_ENDPOINT_URL for an emulator; PETREL_TABLE, PETREL_BUCKET,
    /// PETREL_*_QUEUE name them) instead of the embedded backend. PETREL_BACKEND=aws does the same.
    #[arg(long, global = true)]
    pub aws: bool,
    /// Let outbound federation requests reach loopback and private addresses, so a peer on
    /// 127.0.0.1 can be followed in local tests. Off by default, and never set in Lambda.
    #[arg(long, global = true)]
    pub allow_private_network: bool,
}

impl BackendArgs {
    /// Flags first, then `PETREL_*` variables, then defaults; validated in one place.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::from_vars(|key| match key {
            "PETREL_DATA" => Some(self.data.clone()),
            "PETREL_DOMAIN" => Some(self.domain.clone()),
            "PETREL_HANDLE_DOMAIN" => self.handle_domain.clone(),
            "PETREL_BACKEND" if self.aws => Some("aws".into()),
            "PETREL_ALLOW_PRIVATE_NETWORK" if self.allow_private_network => Some("true".into()),
            other => std::env::var(other).ok().filter(|v| !v.is_empty()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("storage: {0}")]
    Store(#[from] petrel::store::StoreError),
    #[error("{0}")]
    Connect(#[from] petrel::ConnectError),
    #[error("{0}")]
    Repo(#[from] petrel::repo::RepoError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Archive(#[from] petrel::archive::ArchiveError),
}
