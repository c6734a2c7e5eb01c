//! In-process connections for `petrel serve`: the server's WebSocket and SSE handlers open one
//! per client and forward what arrives on its channel; sending looks the channel up.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::store::connections::{validate_message, Connections};
use crate::store::error::{StoreError, StoreResult};

/// How many messages may wait for one slow client before further ones are refused (and the
/// connection is closed): a client that stopped reading must not hold the server's memory.
pub const BACKLOG: usize = 1024;

#[derive(Default)]
pub struct EmbeddedConnections {
    open: Mutex<HashMap<String, mpsc::Sender<String>>>,
}

impl EmbeddedConnections {
    /// A new connection: its id, and the channel its messages arrive on. The channel ends when
    /// the connection is closed through the port.
    pub fn open(&self) -> (String, mpsc::Receiver<String>) {
        let id = crate::ids::random_token(12);
        let (tx, rx) = mpsc::channel(BACKLOG);
        if let Ok(mut open) = self.open.lock() {
            open.insert(id.clone(), tx);
        }
        (id, rx)
    }

    /// Forgets a connection its client ended (what API Gateway does on a disconnect).
    pub fn forget(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(id);
        }
    }

    /// Ends a connection from the server's side (as API Gateway does after two hours): its
    /// channel ends, and later sends find it gone. `NotFound` when it was gone already.
    pub fn close(&self, connection_id: &str) -> StoreResult<()> {
        let removed = self.open.lock().ok().and_then(|mut open| open.remove(connection_id));
        match removed {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("connection {connection_id} is gone"))),
        }
    }

    fn sender(&self, id: &str) -> Option<mpsc::Sender<String>> {
        self.open.lock().ok()?.get(id).cloned()
    }
}

#[async_trait]
impl Connections for EmbeddedConnections {
    async fn send(&self, connection_id: &str, text: &str) -> StoreResult<()> {
        validate_message(connection_id, text)?;
        let gone = || StoreError::NotFound(format!("connection {connection_id} is gone"));
        let tx = self.sender(connection_id).ok_or_else(gone)?;
        match tx.try_send(text.to_string()) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.forget(connection_id);
                Err(gone())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Closing it is what API Gateway does to a client that does not keep up.
                self.forget(connection_id);
                Err(StoreError::LimitExceeded(format!("connection {connection_id} is {BACKLOG} messages behind")))
            }
        }
    }
}
