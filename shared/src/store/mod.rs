//! Storage ports (Table, Blobs, Queue), their AWS and embedded adapters, and operation counting.
//! Handlers receive `Stores`, never an SDK client.

pub mod absent;
pub mod aws;
pub mod blobs;
pub mod connections;
pub mod counted;
pub mod embedded;
pub mod error;
pub mod queue;
pub mod table;

#[cfg(any(test, feature = "contract"))]
pub mod contract;

use std::sync::Arc;

pub use blobs::{Blob, Blobs};
pub use connections::Connections;
pub use counted::{Counted, OpCounter, OpCounts};
pub use error::{StoreError, StoreResult};
pub use queue::{OutMessage, Queue, Received};
pub use table::{
    num_attr as num_attr_of, str_attr as str_attr_of, Cond, Item, Key, Page, Query, SkRange, Table, TxOp, Update,
    Value, PK, SK, TTL,
};

/// The key attributes every item carries besides its record's own fields.
pub const PK_SK_ATTRS: [&str; 2] = [PK, SK];

use crate::config::{Backend, Config, DEFAULT_OUTBOX_QUEUE};

/// How many receives a message gets before its queue's redrive moves it to the dead-letter queue.
/// template.yaml sets the same `maxReceiveCount`; infra/local/provision.py reads it from there.
pub const MAX_RECEIVES: u32 = 5;

/// The work queues. One: fan-out, delivery and feed renders all go to outbox-fanout, because
/// each SQS event source mapping polls all month whether or not there is work (infra/deploy.md).
#[derive(Clone)]
pub struct Queues {
    pub outbox: Arc<dyn Queue>,
}

/// Every port a handler may use, counted.
#[derive(Clone)]
pub struct Stores {
    pub table: Arc<dyn Table>,
    pub blobs: Arc<dyn Blobs>,
    pub queues: Queues,
    /// Streaming clients' WebSocket connections (`crate::streaming`).
    pub connections: Arc<dyn Connections>,
    pub ops: Arc<OpCounter>,
    /// The embedded blob store, which `petrel serve` also serves over HTTP; `None` on AWS.
    pub local_blobs: Option<Arc<embedded::EmbeddedBlobs>>,
    /// The in-process connections `petrel serve`'s own WebSocket and SSE endpoints hold; `None`
    /// in Lambda, where API Gateway holds them.
    pub local_connections: Option<Arc<embedded::EmbeddedConnections>>,
}

fn counted<T: ?Sized>(inner: Arc<T>, ops: &Arc<OpCounter>) -> Counted<T> {
    Counted::new(inner, ops.clone())
}

/// The dead-letter queue's name for a work queue, on either backend.
pub fn dead_letter_name(queue: &str) -> String {
    format!("{queue}-dlq")
}

/// The ports and backends a binary can use, fixed when it is compiled. A Lambda function's
/// `main` names what it uses; what it leaves out is never built, so its code — SQLite for the
/// embedded backend, the S3 or SQS SDK client — is not linked into the function's binary. A port
/// left out is an [`absent::Absent`] stand-in whose every call fails, naming the port.
pub trait Uses {
    /// SQLite and a directory (`petrel serve`, the CLI, tests); Lambda functions run on AWS only.
    const EMBEDDED: bool = true;
    /// A Lambda function: its AWS configuration comes from the environment Lambda sets
    /// ([`aws::lambda_sdk_config`]), not from aws-config's provider chains (which the CLI and
    /// `petrel serve` keep, for profiles and SSO).
    const LAMBDA: bool = !Self::EMBEDDED;
    /// The Blobs port (S3).
    const BLOBS: bool = true;
    /// The Queue port (SQS).
    const QUEUE: bool = true;
    /// The Connections port (API Gateway Management API): the functions that post streaming
    /// events.
    const CONNECTIONS: bool = true;
}

/// Everything: both backends, every port (`petrel serve`, the CLI, tests).
pub struct UsesAll;
impl Uses for UsesAll {}

impl Stores {
    /// Builds the ports the configuration names. On AWS, one `SdkConfig` is loaded and shared.
    pub async fn connect(config: &Config) -> StoreResult<Stores> {
        Stores::connect_using::<UsesAll>(config).await
    }

    /// Like [`Stores::connect`], building only what `U` uses.
    pub async fn connect_using<U: Uses>(config: &Config) -> StoreResult<Stores> {
        match &config.backend {
            Backend::Embedded { data_dir } if U::EMBEDDED => Stores::embedded(data_dir, &config.media_base),
            Backend::Embedded { .. } => Err(StoreError::InvalidInput(
                "PETREL_BACKEND: this binary runs on AWS only (`aws`); `petrel serve` runs the embedded backend".into(),
            )),
            Backend::Aws { table, bucket, outbox_queue } => {
                let sdk = match U::LAMBDA {
                    true => aws::lambda_sdk_config()?,
                    false => {
                        // Boxed, so that a function's future has no state holding aws-config's
                        // loader: this branch is compiled out there, and the loader's provider
                        // chains (STS, SSO, profiles, metadata) with it.
                        let load: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
                            Box::pin(aws::load_sdk_config());
                        load.await
                    }
                };
                let mut stores = Stores::aws_using::<U>(&sdk, table, bucket, outbox_queue, &config.media_base);
                if let (true, Some(endpoint)) = (U::CONNECTIONS, &config.streaming_endpoint) {
                    let api = Arc::new(aws::ApiGatewayConnections::new(&sdk, endpoint));
                    stores.connections = Arc::new(counted(api, &stores.ops));
                }
                Ok(stores)
            }
        }
    }

    pub fn embedded(data_dir: &std::path::Path, media_base: &str) -> StoreResult<Stores> {
        let ops = Arc::new(OpCounter::default());
        let db = embedded::Db::open(data_dir)?;
        let queue = |name: &str| -> Arc<dyn Queue> {
            let redrive = embedded::Redrive { dead_letter_queue: dead_letter_name(name), max_receives: MAX_RECEIVES };
            Arc::new(counted(Arc::new(embedded::EmbeddedQueue::new(db.clone(), name, Some(redrive))), &ops))
        };
        let blobs = Arc::new(embedded::EmbeddedBlobs::open(&data_dir.join("blobs"), media_base)?);
        let connections = Arc::new(embedded::EmbeddedConnections::default());
        Ok(Stores {
            table: Arc::new(counted(Arc::new(embedded::EmbeddedTable::new(db.clone())), &ops)),
            blobs: Arc::new(counted(blobs.clone(), &ops)),
            queues: Queues { outbox: queue(DEFAULT_OUTBOX_QUEUE) },
            connections: Arc::new(counted(connections.clone(), &ops)),
            ops: ops.clone(),
            local_blobs: Some(blobs),
            local_connections: Some(connections),
        })
    }

    pub async fn aws(
        sdk: &aws_config::SdkConfig,
        table: &str,
        bucket: &str,
        outbox_queue: &str,
        media_base: &str,
    ) -> StoreResult<Stores> {
        Ok(Stores::aws_using::<UsesAll>(sdk, table, bucket, outbox_queue, media_base))
    }

    /// The AWS adapters `U` uses. Nothing is requested here: a queue given by name is resolved
    /// when it is first used (the template passes its URL). Connections are absent until
    /// [`Stores::connect_using`] (the WebSocket API's endpoint) or [`Stores::with_local_connections`]
    /// sets them.
    pub fn aws_using<U: Uses>(
        sdk: &aws_config::SdkConfig,
        table: &str,
        bucket: &str,
        outbox_queue: &str,
        media_base: &str,
    ) -> Stores {
        let ops = Arc::new(OpCounter::default());
        let blobs: Arc<dyn Blobs> = match U::BLOBS {
            true => Arc::new(counted(Arc::new(aws::S3Blobs::new(sdk, bucket, media_base)), &ops)),
            false => Arc::new(absent::Absent("blobs")),
        };
        let outbox: Arc<dyn Queue> = match U::QUEUE {
            true => Arc::new(counted(Arc::new(aws::SqsQueue::new(sdk, outbox_queue)), &ops)),
            false => Arc::new(absent::Absent("queue")),
        };
        Stores {
            table: Arc::new(counted(Arc::new(aws::DynamoTable::new(sdk, table)), &ops)),
            blobs,
            queues: Queues { outbox },
            connections: Arc::new(absent::Absent("connections")),
            ops: ops.clone(),
            local_blobs: None,
            local_connections: None,
        }
    }

    /// The same ports, with connections held in this process (`petrel serve` on either
    /// backend serves its WebSockets itself).
    pub fn with_local_connections(mut self) -> Stores {
        if self.local_connections.is_none() {
            let connections = Arc::new(embedded::EmbeddedConnections::default());
            self.connections = Arc::new(counted(connections.clone(), &self.ops));
            self.local_connections = Some(connections);
        }
        self
    }
}

/// Only the table, for commands that need nothing else (the CLI's account commands), so they
/// work against a deployment without naming its bucket and queues.
pub async fn connect_table(config: &Config) -> StoreResult<Arc<dyn Table>> {
    match &config.backend {
        Backend::Embedded { data_dir } => Ok(Arc::new(embedded::EmbeddedTable::new(embedded::Db::open(data_dir)?))),
        Backend::Aws { table, .. } => Ok(Arc::new(aws::DynamoTable::new(&aws::load_sdk_config().await, table))),
    }
}
