//! The backend options every subcommand shares, turned into Petrel's typed configuration.

use clap::Args;
use petrel::config::ConfigError;
use petrel::Config;

#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// Directory of the embedded backend's data (SQLite database and blobs).
    #[arg(long, global = true, env = "PETREL_DATA", default_value = "./data")]
    pub data: String,
    /// Host (and port) that serves Petrel; ActivityPub ids and URLs are built from it
    /// [default: localhost:8080, or the stack's Domain output with --stack].
    #[arg(long, global = true, env = "PETREL_DOMAIN")]
    pub domain: Option<String>,
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
    /// Operate the deployed stack of this name: the table, bucket, queue and domains come from
    /// its CloudFormation outputs (implies --aws; --domain and --handle-domain still win).
    #[arg(long, global = true, env = "PETREL_STACK")]
    pub stack: Option<String>,
    /// AWS region of the stack and its resources (default: AWS_REGION or the profile's region).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The stack's outputs, read once by `load_stack`.
    #[arg(skip)]
    pub stack_outputs: Option<crate::stack::StackOutputs>,
}

impl BackendArgs {
    /// Reads the outputs of `--stack`, when given (one DescribeStacks).
    pub async fn load_stack(&mut self) -> Result<(), CliError> {
        if let Some(name) = &self.stack {
            self.stack_outputs = Some(crate::stack::outputs(name).await?);
        }
        Ok(())
    }

    /// Flags first (the outputs of `--stack` count as flags), then `PETREL_*` variables, then
    /// defaults; validated in one place.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let stack = self.stack_outputs.as_ref();
        let from_stack = |f: fn(&crate::stack::StackOutputs) -> &String| stack.map(|s| f(s).clone());
        Config::from_vars(|key| match key {
            "PETREL_DATA" => Some(self.data.clone()),
            "PETREL_DOMAIN" => self.domain.clone().or_else(|| from_stack(|s| &s.domain)),
            // An explicit --domain without --handle-domain means handles on that domain.
            "PETREL_HANDLE_DOMAIN" => self.handle_domain.clone().or_else(|| {
                if self.domain.is_none() {
                    from_stack(|s| &s.handle_domain)
                } else {
                    None
                }
            }),
            "PETREL_BACKEND" if self.aws || stack.is_some() => Some("aws".into()),
            "PETREL_TABLE" if stack.is_some() => from_stack(|s| &s.table),
            "PETREL_BUCKET" if stack.is_some() => from_stack(|s| &s.bucket),
            "PETREL_OUTBOX_QUEUE" if stack.is_some() => from_stack(|s| &s.queue),
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
    #[error("{0}")]
    Stack(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}
