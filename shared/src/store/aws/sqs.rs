//! The Queue port on SQS. The dead-letter redrive is the queue's own RedrivePolicy (template.yaml
//! or infra/local/provision.py); this adapter only sends, receives and deletes.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use super::{map_sdk_error, LazyClient};
use crate::store::error::{StoreError, StoreResult};
use crate::store::queue::*;

pub struct SqsQueue {
    client: LazyClient<Client>,
    /// The queue's URL: given, or resolved from its name by the first call that needs it.
    url: tokio::sync::OnceCell<String>,
    name: String,
}

fn secs(d: Duration) -> i32 {
    // SQS counts whole seconds; round up so a visibility or delay is never shorter than asked.
    i32::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i32::MAX)
}

fn is_url(queue: &str) -> bool {
    queue.starts_with("https://") || queue.starts_with("http://")
}

impl SqsQueue {
    /// `queue` is a queue URL — what the template passes, so a function makes no request to
    /// start — or a name, resolved with GetQueueUrl when the queue is first used.
    pub fn new(sdk: &aws_config::SdkConfig, queue: &str) -> Self {
        let url = tokio::sync::OnceCell::new_with(is_url(queue).then(|| queue.to_string()));
        let name = queue.rsplit('/').next().unwrap_or(queue).to_string();
        let sdk = sdk.clone();
        SqsQueue { client: LazyClient::new(move || Client::new(&sdk)), url, name }
    }

    /// Like [`SqsQueue::new`], but a name is resolved now: a queue that does not exist fails here.
    pub async fn connect(sdk: &aws_config::SdkConfig, queue: &str) -> StoreResult<Self> {
        let q = SqsQueue::new(sdk, queue);
        q.url().await?;
        Ok(q)
    }

    async fn url(&self) -> StoreResult<&str> {
        let url = self
            .url
            .get_or_try_init(|| async {
                self.client
                    .get()
                    .get_queue_url()
                    .queue_name(&self.name)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(e, &format!("GetQueueUrl for {}", self.name)))?
                    .queue_url
                    .ok_or_else(|| StoreError::MissingResource(format!("queue {}", self.name)))
            })
            .await?;
        Ok(url)
    }
}

#[async_trait]
impl Queue for SqsQueue {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, msg: OutMessage) -> StoreResult<String> {
        validate_message(&msg)?;
        let out = self
            .client
            .get()
            .send_message()
            .queue_url(self.url().await?)
            .message_body(msg.body)
            .delay_seconds(secs(msg.delay))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("SendMessage to {}", self.name)))?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn send_batch(&self, msgs: Vec<OutMessage>) -> StoreResult<Vec<StoreResult<String>>> {
        validate_batch(&msgs)?;
        let mut results: Vec<StoreResult<String>> =
            msgs.iter().map(validate_message).map(|r| r.map(|_| String::new())).collect();
        let mut entries = Vec::new();
        for (i, m) in msgs.into_iter().enumerate() {
            if results[i].is_ok() {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body)
                    .delay_seconds(secs(m.delay))
                    .build()
                    .map_err(|e| StoreError::InvalidInput(e.to_string()))?;
                entries.push(entry);
            }
        }
        if entries.is_empty() {
            return Ok(results);
        }
        let out = self
            .client
            .get()
            .send_message_batch()
            .queue_url(self.url().await?)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("SendMessageBatch to {}", self.name)))?;
        for ok in out.successful {
            if let Some(slot) = ok.id.parse::<usize>().ok().and_then(|i| results.get_mut(i)) {
                *slot = Ok(ok.message_id);
            }
        }
        for failed in out.failed {
            if let Some(slot) = failed.id.parse::<usize>().ok().and_then(|i| results.get_mut(i)) {
                let msg = format!("{}: {}", failed.code, failed.message.unwrap_or_default());
                *slot =
                    Err(if failed.sender_fault { StoreError::InvalidInput(msg) } else { StoreError::Transient(msg) });
            }
        }
        Ok(results)
    }

    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Received>> {
        validate_receive(max, visibility, wait)?;
        let out = self
            .client
            .get()
            .receive_message()
            .queue_url(self.url().await?)
            .max_number_of_messages(max as i32)
            .visibility_timeout(secs(visibility))
            .wait_time_seconds(secs(wait))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("ReceiveMessage from {}", self.name)))?;
        let mut received = Vec::new();
        for m in out.messages.unwrap_or_default() {
            let attrs = m.attributes.unwrap_or_default();
            let attr = |name: MessageSystemAttributeName| attrs.get(&name).and_then(|v| v.parse::<i64>().ok());
            let (Some(id), Some(receipt)) = (m.message_id, m.receipt_handle) else {
                return Err(StoreError::Corrupt("SQS returned a message without id or receipt".into()));
            };
            received.push(Received {
                id,
                receipt,
                body: m.body.unwrap_or_default(),
                receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount).unwrap_or(1) as u32,
                sent_at_ms: attr(MessageSystemAttributeName::SentTimestamp).unwrap_or(0),
            });
        }
        Ok(received)
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.client
            .get()
            .delete_message()
            .queue_url(self.url().await?)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("DeleteMessage from {}", self.name)))?;
        Ok(())
    }

    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        if visibility > MAX_VISIBILITY {
            return Err(StoreError::LimitExceeded("visibility timeout over 12 hours".into()));
        }
        self.client
            .get()
            .change_message_visibility()
            .queue_url(self.url().await?)
            .receipt_handle(receipt)
            .visibility_timeout(secs(visibility))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("ChangeMessageVisibility in {}", self.name)))?;
        Ok(())
    }
}
