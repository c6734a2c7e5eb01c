//! AWS adapters over one shared `SdkConfig`. `AWS_ENDPOINT_URL` is honoured by the SDK itself,
//! so the same code talks to moto server locally; S3 then needs path-style addressing.

mod dynamodb;
mod s3;
mod sqs;

pub use dynamodb::DynamoTable;
pub use s3::S3Blobs;
pub use sqs::SqsQueue;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::error::StoreError;

/// Loads the shared SDK configuration once per process (region, credentials, endpoint).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
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
        "NoSuchKey" | "ReceiptHandleIsInvalid" | "MessageNotInflight" | "AWS.SimpleQueueService.MessageNotInflight" => {
            StoreError::NotFound(msg)
        }
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
        | "EntityTooLarge" => StoreError::LimitExceeded(msg),
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
