//! What other connections may touch of a connection: its outbound buffer,
//! whether it takes headers, and a way to kill it. Also the subscription
//! record stored in an account's index.

use super::close::CloseReason;
use super::outbound::Outbound;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use tokio::sync::Notify;

pub struct ClientHandle {
    pub id: u64,
    pub outbound: Outbound,
    headers: AtomicBool,
    killed: AtomicBool,
    kill_reason: parking_lot::Mutex<Option<CloseReason>>,
    kill: Notify,
    /// Subscriptions that reached their auto-unsubscribe max, to be dropped
    /// from the owner's own table on its next batch.
    pub expired_subs: AtomicUsize,
}

impl ClientHandle {
    pub fn new(id: u64, max_pending: usize) -> Self {
        ClientHandle {
            id,
            outbound: Outbound::new(max_pending),
            headers: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            kill_reason: parking_lot::Mutex::new(None),
            kill: Notify::new(),
            expired_subs: AtomicUsize::new(0),
        }
    }

    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub fn set_headers(&self, on: bool) {
        self.headers.store(on, Ordering::Relaxed);
    }

    /// Asks the connection's own task to close it for `reason`. Returns true
    /// for the first caller only, so the event is counted once.
    pub fn kill(&self, reason: CloseReason) -> bool {
        let first = !self.killed.swap(true, Ordering::AcqRel);
        if first {
            *self.kill_reason.lock() = Some(reason);
            self.kill.notify_one();
        }
        first
    }

    pub fn kill_reason(&self) -> CloseReason {
        self.kill_reason
            .lock()
            .unwrap_or(CloseReason::ServerShutdown)
    }

    pub async fn killed(&self) {
        self.kill.notified().await
    }
}

/// One SUB of one connection.
pub struct Subscription {
    pub client: std::sync::Arc<ClientHandle>,
    pub sid: Bytes,
    pub subject: Bytes,
    pub queue: Option<Bytes>,
    /// Auto-unsubscribe limit; 0 means none.
    max: AtomicU64,
    delivered: AtomicU64,
}

/// Whether a delivery may go ahead, and whether it was the last one allowed.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Yes,
    Last,
    No,
}

impl Subscription {
    pub fn new(
        client: std::sync::Arc<ClientHandle>,
        sid: Bytes,
        subject: Bytes,
        queue: Option<Bytes>,
    ) -> Self {
        Subscription {
            client,
            sid,
            subject,
            queue,
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// Claims one delivery against the auto-unsubscribe limit.
    pub fn admit(&self) -> Admit {
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 {
            return Admit::Yes;
        }
        let n = self.delivered.fetch_add(1, Ordering::AcqRel) + 1;
        match n.cmp(&max) {
            std::cmp::Ordering::Less => Admit::Yes,
            std::cmp::Ordering::Equal => Admit::Last,
            std::cmp::Ordering::Greater => Admit::No,
        }
    }

    /// Sets the auto-unsubscribe limit; true if it is already reached.
    pub fn set_max(&self, max: u64) -> bool {
        self.max.store(max, Ordering::Release);
        self.delivered.load(Ordering::Acquire) >= max
    }

    pub fn is_expired(&self) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        max != 0 && self.delivered.load(Ordering::Relaxed) >= max
    }
}
