//! Runs each port's contract suite against the embedded adapters and against the AWS adapters on
//! moto server (started by infra/local/moto.sh, which `infra/test.sh` runs). Without an emulator
//! the AWS half fails with instructions, unless PETREL_SKIP_AWS=1 says to skip it out loud.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use petrel::store::contract;
use petrel::store::embedded::{blob_routes, Db, EmbeddedBlobs, EmbeddedQueue, EmbeddedTable, Redrive};
use petrel::store::{aws, Queue, StoreError, Table};

fn ns() -> String {
    format!("t{}", petrel::ids::random_token(6))
}

/// The SDK configuration for moto, or `None` when the AWS half is explicitly skipped. It is the
/// one the Lambda functions build (from the environment alone); the end-to-end tests run the
/// adapters on aws-config's (`aws::load_sdk_config`), which the CLI and `petrel serve` use.
async fn moto() -> Option<aws_config::SdkConfig> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("PETREL_SKIP_AWS").as_deref() == Ok("1") {
            eprintln!("SKIPPED: AWS adapter contract (PETREL_SKIP_AWS=1)");
            return None;
        }
        panic!("AWS_ENDPOINT_URL is not set: run `bash infra/test.sh` (starts moto server), or set PETREL_SKIP_AWS=1 to skip the AWS half");
    }
    Some(aws::lambda_sdk_config().expect("region and credentials in the environment"))
}

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} must name the provisioned resource (infra/local/provision.py)"))
}

#[tokio::test]
async fn table_contract_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::new(Db::open(dir.path()).unwrap()));
    contract::table::run_all(table, &ns(), true).await;
}

#[tokio::test]
async fn table_contract_dynamodb() {
    let Some(sdk) = moto().await else { return };
    let table: Arc<dyn Table> = Arc::new(aws::DynamoTable::new(&sdk, env("PETREL_TABLE")));
    // moto applies concurrent UpdateItem calls without isolation (seen: 13 of 20 ADDs kept).
    contract::table::run_all(table, &ns(), false).await;
}

#[tokio::test]
async fn embedded_table_keeps_data_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let t = EmbeddedTable::new(Db::open(dir.path()).unwrap());
        t.put(petrel::store::Key::new("p", "s").to_item(), None).await.unwrap();
    }
    let t = EmbeddedTable::new(Db::open(dir.path()).unwrap());
    assert!(t.get(&petrel::store::Key::new("p", "s")).await.unwrap().is_some());
}

/// Two processes on one data directory (`petrel serve` and the CLI) write the same items at once:
/// every conditional write waits for the other's lock instead of failing with "database is
/// locked", and none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_connections_to_one_file_wait_for_each_other() {
    use petrel::store::{Key, Update};
    let dir = tempfile::tempdir().unwrap();
    let tables: Vec<Arc<EmbeddedTable>> =
        (0..2).map(|_| Arc::new(EmbeddedTable::new(Db::open(dir.path()).unwrap()))).collect();
    let key = Key::new("p", "counter");
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (t, key) = (tables[i % 2].clone(), key.clone());
        tasks.push(tokio::spawn(async move { t.update(&key, Update::default().add("n", 1), None).await.map(|_| ()) }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let item = tables[0].get(&key).await.unwrap().unwrap();
    assert_eq!(petrel::store::num_attr_of(&item, "n"), Some(200));
}

#[tokio::test]
async fn queue_contract_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let redrive = Redrive { dead_letter_queue: "q-dlq".into(), max_receives: 2 };
    let q = EmbeddedQueue::new(db.clone(), "q", Some(redrive));
    let dlq = EmbeddedQueue::new(db, "q-dlq", None);
    contract::queue::run_all(&q, &dlq, 2).await;
}

#[tokio::test]
async fn queue_contract_sqs() {
    let Some(sdk) = moto().await else { return };
    let client = aws_sdk_sqs::Client::new(&sdk);
    let name = format!("contract-{}", ns());
    let dlq_url = client.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
    let arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .unwrap();
    let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": "2" }).to_string();
    client
        .create_queue()
        .queue_name(&name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, policy)
        .send()
        .await
        .unwrap();
    let q = aws::SqsQueue::connect(&sdk, &name).await.unwrap();
    let dlq = aws::SqsQueue::connect(&sdk, &dlq_url).await.unwrap();
    contract::queue::run_all(&q, &dlq, 2).await;
}

#[tokio::test]
async fn blobs_contract_embedded() {
    let dir = tempfile::tempdir().unwrap();
    // Serve the store the way `petrel serve` does, so presigned URLs can be used.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/media", listener.local_addr().unwrap());
    let blobs = Arc::new(EmbeddedBlobs::open(dir.path(), &base).unwrap());
    let app = axum::Router::new().nest("/media", blob_routes(blobs.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    contract::blobs::run_all(blobs.as_ref(), &ns(), true).await;
}

#[tokio::test]
async fn blobs_contract_s3() {
    let Some(sdk) = moto().await else { return };
    let blobs = aws::S3Blobs::new(&sdk, env("PETREL_BUCKET"), "https://media.example");
    // moto accepts any presigned URL, so only S3 itself can show tampering refused.
    contract::blobs::run_all(&blobs, &ns(), false).await;
}

#[tokio::test]
async fn missing_aws_resources_are_typed_errors() {
    let Some(sdk) = moto().await else { return };
    let t = aws::DynamoTable::new(&sdk, "petrel-no-such-table");
    assert!(matches!(t.get(&petrel::store::Key::new("p", "s")).await, Err(StoreError::MissingResource(_))));
    let b = aws::S3Blobs::new(&sdk, "petrel-no-such-bucket", "https://x");
    let put = petrel::store::Blobs::put(&b, "k", bytes::Bytes::from_static(b"x"), "text/plain").await;
    assert!(matches!(put, Err(StoreError::MissingResource(_))), "{put:?}");
    let q = aws::SqsQueue::connect(&sdk, "petrel-no-such-queue").await;
    assert!(matches!(q, Err(StoreError::MissingResource(_))), "{:?}", q.err());
    // Named but not resolved until used (as the functions build it): the first use fails alike.
    let q = aws::SqsQueue::new(&sdk, "petrel-no-such-queue");
    let sent = q.send(petrel::store::OutMessage::new("x")).await;
    assert!(matches!(sent, Err(StoreError::MissingResource(_))), "{sent:?}");
    // A queue URL that was never created fails at first use with the same error.
    let url = format!(
        "{}/000000000000/petrel-no-such-queue",
        std::env::var("AWS_ENDPOINT_URL").unwrap().trim_end_matches('/')
    );
    let q = aws::SqsQueue::connect(&sdk, &url).await.unwrap();
    let sent = q.send(petrel::store::OutMessage::new("x")).await;
    assert!(matches!(sent, Err(StoreError::MissingResource(_))), "{sent:?}");
}

#[tokio::test]
async fn connections_contract_embedded() {
    use petrel::store::embedded::EmbeddedConnections;
    let c = EmbeddedConnections::default();
    let (id, mut rx) = c.open();
    let (ended, _ended_rx) = c.open();
    c.close(&ended).unwrap();
    assert!(matches!(c.close(&ended), Err(StoreError::NotFound(_))));
    contract::connections::run_all(&c, &id, Some(&ended)).await;
    // What was sent arrived, in order; closing ends the channel.
    assert_eq!(rx.recv().await.unwrap(), r#"{"event":"update","payload":"héllo ✓"}"#);
    assert_eq!(rx.recv().await.unwrap().len(), petrel::store::connections::MAX_MESSAGE_BYTES);
    c.close(&id).unwrap();
    assert_eq!(rx.recv().await, None);
}

#[tokio::test]
async fn embedded_connections_drop_a_client_that_left_or_fell_behind() {
    use petrel::store::embedded::{connections_backlog, EmbeddedConnections};
    use petrel::store::Connections;
    let c = EmbeddedConnections::default();
    let (left, rx) = c.open();
    drop(rx);
    assert!(matches!(c.send(&left, "x").await, Err(StoreError::NotFound(_))));
    let (slow, _rx) = c.open();
    for _ in 0..connections_backlog() {
        c.send(&slow, "x").await.unwrap();
    }
    assert!(matches!(c.send(&slow, "x").await, Err(StoreError::LimitExceeded(_))));
    // Closed by falling behind: later sends find it gone.
    assert!(matches!(c.send(&slow, "x").await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn connections_contract_apigateway() {
    let Some(sdk) = moto().await else { return };
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let c = aws::ApiGatewayConnections::new(&sdk, &endpoint);
    contract::connections::run_all(&c, &format!("conn-{}", ns()), None).await;
}
