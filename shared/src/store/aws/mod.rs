//! AWS adapters over one shared `SdkConfig`. `AWS_ENDPOINT_URL` is honoured by the SDK itself,
//! so the same code talks to moto server locally; S3 then needs path-style addressing.

mod apigw;
mod dynamodb;
mod s3;
mod sqs;

pub use apigw::ApiGatewayConnections;
pub use dynamodb::DynamoTable;
pub use s3::S3Blobs;
pub use sqs::SqsQueue;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::error::StoreError;

/// Loads the shared SDK configuration once per process (region, credentials, endpoint), with the
/// one HTTPS client every service client uses ([`https_client`]).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// The SDK configuration of a Lambda function, from the environment Lambda gives it: the region
/// (`AWS_REGION`) and the execution role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, valid for the execution environment's life), and
/// `AWS_ENDPOINT_URL` when set (moto). [`load_sdk_config`] also looks for profile files, SSO,
/// web identity and assume-role (which link the STS client), container and instance metadata
/// credentials, and a dozen settings' variables: work at every cold start, and code in every
/// function, for sources a function never has (issue #20). The service clients supply the rest
/// of their defaults (retries, timeouts, sleep, clock, identity cache) themselves.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, StoreError> {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let required = |name: &str| {
        var(name)
            .ok_or_else(|| StoreError::InvalidInput(format!("{name} is not set (Lambda sets it for every function)")))
    };
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let mut sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(required("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        sdk = sdk.endpoint_url(endpoint);
    }
    Ok(sdk.build())
}

/// The SDK's HTTPS client: rustls on ring (which the outbound client uses too, so aws-lc-rs is not
/// linked) trusting the webpki roots (Mozilla's list) compiled into the binary. The SDK's default
/// client reads the system's certificate store instead — on Debian a bundle file and then the
/// ~150 files of /etc/ssl/certs — when it first connects. Nothing is connected or parsed here:
/// the SDK builds the connector, and parses these roots, at its first request.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(webpki_roots_pem());
    // Building a context only stores its parts; it cannot fail.
    let context = TlsContext::builder().with_trust_store(trust).build().unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

/// An SDK client built when it is first used. A function's start builds only the DynamoDB
/// client (it reads the site's domain before its first event); S3, SQS and the API Gateway
/// Management API are built by the first request that calls them — most requests call none — so
/// a cold start does not pay for setting up clients it may never use (issue #20).
pub(crate) struct LazyClient<C> {
    client: std::sync::OnceLock<C>,
    build: Box<dyn Fn() -> C + Send + Sync>,
}

impl<C> LazyClient<C> {
    pub(crate) fn new(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        LazyClient { client: std::sync::OnceLock::new(), build: Box::new(build) }
    }

    pub(crate) fn get(&self) -> &C {
        self.client.get_or_init(&self.build)
    }
}

/// The webpki root certificates as one PEM bundle, the form the SDK's trust store takes.
fn webpki_roots_pem() -> Vec<u8> {
    use base64::Engine;
    let mut pem = Vec::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2048);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        for line in b64.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// Maps any SDK error onto the store's error type by the service's error code.
pub(crate) fn map_sdk_error<E, R>(err: SdkError<E, R>, what: &str) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown");
            let msg = format!("{what}: {code}: {}", e.message().unwrap_or_default());
            from_code(code, msg)
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Transient(format!("{what}: {}", DisplayErrorContext(&err)))
        }
        _ => StoreError::Backend(format!("{what}: {}", DisplayErrorContext(&err))),
    }
}

fn from_code(code: &str, msg: String) -> StoreError {
    match code {
        "ConditionalCheckFailedException" => StoreError::ConditionFailed { index: None },
        "ResourceNotFoundException"
        | "NoSuchBucket"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "QueueDoesNotExist" => StoreError::MissingResource(msg),
        // GoneException: API Gateway's 410 for a connection that has ended.
        "NoSuchKey"
        | "GoneException"
        | "ReceiptHandleIsInvalid"
        | "MessageNotInflight"
        | "AWS.SimpleQueueService.MessageNotInflight" => StoreError::NotFound(msg),
        "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded"
        | "ThrottlingException"
        | "Throttling"
        | "SlowDown"
        | "InternalServerError"
        | "InternalError"
        | "ServiceUnavailable"
        | "TransactionConflictException"
        | "TransactionInProgressException"
        | "RequestThrottled"
        | "KMS.ThrottlingException" => StoreError::Transient(msg),
        "ItemCollectionSizeLimitExceededException"
        | "OverLimit"
        | "BatchRequestTooLong"
        | "TooManyEntriesInBatchRequest"
        | "EntityTooLarge"
        | "PayloadTooLargeException"
        | "LimitExceededException" => StoreError::LimitExceeded(msg),
        "ValidationException" if msg.contains("size") => StoreError::LimitExceeded(msg),
        "ValidationException"
        | "InvalidParameterValue"
        | "InvalidMessageContents"
        | "InvalidArgument"
        | "InvalidRequest"
        | "MissingParameter"
        | "InvalidAttributeValue"
        | "EmptyBatchRequest"
        | "BatchEntryIdsNotDistinct" => StoreError::InvalidInput(msg),
        _ => StoreError::Backend(msg),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    #[test]
    fn a_gone_connection_is_not_found() {
        // moto's Management API never answers 410, so the mapping is held here.
        let e = super::from_code("GoneException", "PostToConnection: GoneException".into());
        assert!(matches!(e, super::StoreError::NotFound(_)), "{e:?}");
        let e = super::from_code("PayloadTooLargeException", "too large".into());
        assert!(matches!(e, super::StoreError::LimitExceeded(_)), "{e:?}");
    }

    #[test]
    fn the_pem_bundle_holds_every_webpki_root() {
        let pem = String::from_utf8(super::webpki_roots_pem()).unwrap();
        let decoded: Vec<Vec<u8>> = pem
            .split("-----END CERTIFICATE-----\n")
            .filter(|block| !block.is_empty())
            .map(|block| {
                let body = block.strip_prefix("-----BEGIN CERTIFICATE-----\n").unwrap();
                assert!(body.lines().all(|l| l.len() <= 64));
                base64::engine::general_purpose::STANDARD.decode(body.replace('\n', "")).unwrap()
            })
            .collect();
        let roots: Vec<&[u8]> = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| c.as_ref()).collect();
        assert!(roots.len() > 100);
        assert_eq!(decoded, roots);
    }
}
