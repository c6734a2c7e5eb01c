//! `petrel`: what more than one of Petrel's functions needs — configuration, storage ports and
//! their adapters, the domain's stored types and repositories, and the glue that runs handlers in
//! Lambda and under `petrel serve` alike.

pub mod activitypub;
pub mod api;
pub mod archive;
pub mod cache;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod crypto;
pub mod events;
pub mod http;
pub mod ids;
pub mod lambda;
pub mod links;
pub mod logging;
pub mod mastodon;
pub mod model;
pub mod push;
pub mod repo;
pub mod store;
pub mod streaming;
pub mod text;

use std::sync::Arc;

pub use config::Config;
pub use store::{Stores, Uses};

/// What every handler receives: configuration, ports and the outbound HTTP client, built once
/// per process.
#[derive(Clone)]
pub struct Ctx {
    pub config: Arc<Config>,
    pub stores: Stores,
    /// The one client for requests to other servers (SSRF-checked, signed by the caller).
    pub http: activitypub::fetch::SafeClient,
    /// The site's VAPID key for Web Push, read (or created) on first need and kept for the
    /// process's life: parsed once per container.
    pub vapid: Arc<tokio::sync::OnceCell<Arc<push::webpush::Vapid>>>,
    /// The local accounts, for the instance document (counts and contact): see [`Ctx::local_accounts`].
    local_accounts: Arc<cache::Ttl<Arc<Vec<model::Account>>>>,
}

/// How long the instance document's counts and contact may be stale. Clients read the document
/// when they start; a minute-old post count is invisible to them, and a minute bounds how long
/// another instance shows an old profile.
pub const LOCAL_ACCOUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Repo(#[from] repo::RepoError),
    #[error("the recorded site settings: {0}")]
    Config(#[from] config::ConfigError),
    /// Failing the start (rather than serving under a placeholder) means Lambda starts afresh
    /// on the next request, so the domain takes effect as soon as it is recorded.
    #[error("no domain recorded yet: run `petrel account create` with --domain (the stack's CreateOwner output)")]
    Unconfigured,
    /// The table's data belongs to another domain: its ActivityPub ids (and the ids other servers
    /// hold) are built from the recorded one, so serving it under the configured one would
    /// silently break every follow and reply. Refused at start, before any request is answered.
    #[error(
        "the configured domain is {configured} (handles @…@{configured_handles}), but this table's data \
         belongs to {recorded} (handles @…@{recorded_handles}), which its ActivityPub ids contain. \
         Deploy with Domain={recorded} (or an empty Domain, which reads it from the table) and \
         HandleDomain={recorded_handles}; a new domain needs a new table (ExistingTableName empty in a new stack)"
    )]
    DomainMismatch { configured: String, configured_handles: String, recorded: String, recorded_handles: String },
}

impl Ctx {
    pub async fn connect(config: Config) -> Result<Ctx, ConnectError> {
        Ctx::connect_using::<store::UsesAll>(config).await
    }

    /// Like [`Ctx::connect`], with only the ports and backends `U` uses (a Lambda function's
    /// `main`: see [`store::Uses`]).
    pub async fn connect_using<U: store::Uses>(config: Config) -> Result<Ctx, ConnectError> {
        Ctx::connect_checked::<U>(config, true).await
    }

    /// For `petrel serve`: like [`Ctx::connect`], but a domain that differs from the recorded one
    /// is logged, not refused. A local server is started under other addresses than the one its
    /// data was created with (development, the end-to-end tests); the Lambda functions refuse.
    pub async fn connect_local(config: Config) -> Result<Ctx, ConnectError> {
        let mut ctx = Ctx::connect_checked::<store::UsesAll>(config, false).await?;
        ctx.stores = ctx.stores.with_local_connections();
        Ok(ctx)
    }

    async fn connect_checked<U: store::Uses>(config: Config, strict: bool) -> Result<Ctx, ConnectError> {
        let stores = Stores::connect_using::<U>(&config).await?;
        // One read per process start, either way: the recorded domain is taken (no domain in
        // the environment) or must match the configured one. Nothing recorded and a configured
        // domain: a new deployment before its first `petrel account create`, which records it.
        let recorded = repo::site::get(stores.table.as_ref()).await?;
        let config = match (config.domain_from_table, recorded) {
            (true, Some(site)) => config.with_site(&site.domain, &site.handle_domain)?,
            (true, None) => return Err(ConnectError::Unconfigured),
            (false, Some(site)) if site.domain != config.domain || site.handle_domain != config.handle_domain => {
                let mismatch = ConnectError::DomainMismatch {
                    configured: config.domain.clone(),
                    configured_handles: config.handle_domain.clone(),
                    recorded: site.domain,
                    recorded_handles: site.handle_domain,
                };
                if strict {
                    return Err(mismatch);
                }
                tracing::warn!("{mismatch}");
                config
            }
            (false, _) => config,
        };
        let policy = activitypub::fetch::FetchPolicy {
            allow_private_network: config.allow_private_network,
            ..Default::default()
        };
        let http = activitypub::fetch::SafeClient::new(policy);
        Ok(Ctx {
            config: Arc::new(config),
            stores,
            http,
            vapid: Arc::default(),
            local_accounts: Arc::new(cache::Ttl::new(LOCAL_ACCOUNTS_TTL)),
        })
    }
}

impl Ctx {
    /// The local accounts (one query and one batch get), reused for [`LOCAL_ACCOUNTS_TTL`]: the
    /// instance document is read by every client start and by link previews, and would
    /// otherwise read the table on every call.
    pub async fn local_accounts(&self) -> Result<Arc<Vec<model::Account>>, repo::RepoError> {
        let table = self.stores.table.as_ref();
        self.local_accounts.get_or_try_load(|| async { repo::accounts::list_local(table).await.map(Arc::new) }).await
    }
}
