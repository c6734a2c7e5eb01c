//! The Queue port on SQLite, with SQS semantics: delay, visibility timeout, receive count, and a
//! redrive to a dead-letter queue once a message has been received `max_receives` times.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::db::{now_ms, random_hex, sql, write_tx, Db};
use crate::store::error::{StoreError, StoreResult};
use crate::store::queue::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub dead_letter_queue: String,
    pub max_receives: u32,
}

pub struct EmbeddedQueue {
    db: Db,
    name: String,
    redrive: Option<Redrive>,
}

impl EmbeddedQueue {
    pub fn new(db: Db, name: impl Into<String>, redrive: Option<Redrive>) -> Self {
        EmbeddedQueue { db, name: name.into(), redrive }
    }
}

fn insert(conn: &Connection, queue: &str, msg: &OutMessage) -> StoreResult<String> {
    let id = random_hex(16)?;
    let now = now_ms();
    conn.execute(
        "INSERT INTO messages (id, queue, body, visible_at, receive_count, sent_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        params![id, queue, msg.body, now + msg.delay.as_millis() as i64, now],
    )
    .map_err(sql)?;
    Ok(id)
}

fn receive_now(
    conn: &mut Connection,
    queue: &str,
    redrive: &Option<Redrive>,
    max: u32,
    visibility: Duration,
) -> StoreResult<Vec<Received>> {
    let tx = write_tx(conn)?;
    let now = now_ms();
    let mut out = Vec::new();
    {
        let mut stmt = tx
            .prepare("SELECT id, body, receive_count, sent_at FROM messages WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, sent_at LIMIT 100")
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![queue, now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?, r.get::<_, i64>(3)?))
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        for (id, body, count, sent_at) in rows {
            if out.len() as u32 == max {
                break;
            }
            if let Some(r) = redrive {
                if count >= r.max_receives {
                    tx.execute(
                        "UPDATE messages SET queue = ?1, receive_count = 0, receipt = NULL, visible_at = ?2 WHERE id = ?3",
                        params![r.dead_letter_queue, now, id],
                    )
                    .map_err(sql)?;
                    tracing::warn!(queue, message_id = %id, receives = count, "message moved to the dead-letter queue");
                    continue;
                }
            }
            let receipt = format!("{id}.{}", random_hex(16)?);
            tx.execute(
                "UPDATE messages SET receive_count = receive_count + 1, receipt = ?1, visible_at = ?2 WHERE id = ?3",
                params![receipt, now + visibility.as_millis() as i64, id],
            )
            .map_err(sql)?;
            out.push(Received { id, receipt, body, receive_count: count + 1, sent_at_ms: sent_at });
        }
    }
    tx.commit().map_err(sql)?;
    Ok(out)
}

#[async_trait]
impl Queue for EmbeddedQueue {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, msg: OutMessage) -> StoreResult<String> {
        validate_message(&msg)?;
        let queue = self.name.clone();
        self.db.run(move |c| insert(c, &queue, &msg)).await
    }

    async fn send_batch(&self, msgs: Vec<OutMessage>) -> StoreResult<Vec<StoreResult<String>>> {
        validate_batch(&msgs)?;
        let queue = self.name.clone();
        self.db
            .run(move |c| Ok(msgs.iter().map(|m| validate_message(m).and_then(|_| insert(c, &queue, m))).collect()))
            .await
    }

    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Received>> {
        validate_receive(max, visibility, wait)?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let (queue, redrive) = (self.name.clone(), self.redrive.clone());
            let got = self.db.run(move |c| receive_now(c, &queue, &redrive, max, visibility)).await?;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(got);
            }
            // Long polling: look again shortly, as SQS answers as soon as a message arrives.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        let (queue, receipt) = (self.name.clone(), receipt.to_string());
        self.db
            .run(move |c| {
                let n = c
                    .execute("DELETE FROM messages WHERE queue = ?1 AND receipt = ?2", params![queue, receipt])
                    .map_err(sql)?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!("no message in {queue} with receipt {receipt}")));
                }
                Ok(())
            })
            .await
    }

    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        if visibility > MAX_VISIBILITY {
            return Err(StoreError::LimitExceeded("visibility timeout over 12 hours".into()));
        }
        let (queue, receipt) = (self.name.clone(), receipt.to_string());
        self.db
            .run(move |c| {
                let now = now_ms();
                let n = c
                    .execute(
                        "UPDATE messages SET visible_at = ?1 WHERE queue = ?2 AND receipt = ?3 AND visible_at > ?4",
                        params![now + visibility.as_millis() as i64, queue, receipt, now],
                    )
                    .map_err(sql)?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!(
                        "no in-flight message in {queue} with receipt {receipt}"
                    )));
                }
                Ok(())
            })
            .await
    }
}
