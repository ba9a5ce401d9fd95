//! What other connections may touch of a connection: its outbound buffer,
//! whether it takes headers, its grants, and a way to kill it.

use super::close::CloseReason;
use super::info::{ClientCounters, ClientMeta};
use super::outbound::{Outbound, Push};
use super::permits::{DeliveryFilter, Grants, ResponsePermission};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::SystemTime;
use tokio::sync::Notify;

/// What a connection learns when another task ends it: set once, by the
/// first caller of `kill`.
#[derive(Default)]
struct KillSwitch {
    killed: AtomicBool,
    reason: parking_lot::Mutex<Option<CloseReason>>,
    notify: Notify,
}

/// Thirteen fields: what publishers, monitoring and the connection's own
/// task each touch of it, kept flat so delivery reaches `outbound` with
/// one dereference.
pub struct ClientHandle {
    pub id: u64,
    pub peer: SocketAddr,
    pub started: SystemTime,
    pub outbound: Outbound,
    /// Published once per read batch, read by monitoring.
    pub counters: ClientCounters,
    meta: parking_lot::Mutex<Arc<ClientMeta>>,
    /// Set (under the account's `retired` lock) once this connection's
    /// totals have moved into its account's, so they are not counted twice.
    pub retired: AtomicBool,
    headers: AtomicBool,
    async_info: AtomicBool,
    kill: KillSwitch,
    reload: Notify,
    grants: Grants,
    /// Subscriptions that reached their auto-unsubscribe max, to be dropped
    /// from the owner's own table on its next batch.
    pub expired_subs: AtomicUsize,
}

impl ClientHandle {
    pub fn new(id: u64, max_pending: usize, peer: SocketAddr, account: Arc<str>) -> Self {
        let started = SystemTime::now();
        let counters = ClientCounters::default();
        counters.touch(started);
        ClientHandle {
            id,
            peer,
            started,
            outbound: Outbound::new(max_pending),
            counters,
            meta: parking_lot::Mutex::new(Arc::new(ClientMeta::unbound(account))),
            retired: AtomicBool::new(false),
            headers: AtomicBool::new(false),
            async_info: AtomicBool::new(false),
            kill: KillSwitch::default(),
            reload: Notify::new(),
            grants: Grants::default(),
            expired_subs: AtomicUsize::new(0),
        }
    }

    /// Queues protocol bytes the broker writes to this client (PONG, +OK,
    /// -ERR, INFO, status messages). Over `max_pending` the connection is
    /// closed as a slow consumer, as for messages.
    pub fn control(&self, encode: impl FnOnce(&mut bytes::BytesMut)) {
        if self.outbound.push_control(encode) == Push::SlowConsumer
            && self.kill(CloseReason::SlowConsumer)
        {
            tracing::warn!(
                cid = self.id,
                "slow consumer: pending bytes over max_pending, closing"
            );
        }
    }

    pub fn meta(&self) -> Arc<ClientMeta> {
        self.meta.lock().clone()
    }

    pub fn set_meta(&self, meta: ClientMeta) {
        *self.meta.lock() = Arc::new(meta);
    }

    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub fn set_headers(&self, on: bool) {
        self.headers.store(on, Ordering::Relaxed);
    }

    /// Whether the client takes INFO at any time (it sent CONNECT with
    /// protocol 1), as nats-server requires before sending an async INFO.
    pub fn takes_async_info(&self) -> bool {
        self.async_info.load(Ordering::Relaxed)
    }

    pub fn set_async_info(&self, on: bool) {
        self.async_info.store(on, Ordering::Relaxed);
    }

    /// Asks the connection's own task to close it for `reason`. Returns true
    /// for the first caller only, so the event is counted once.
    pub fn kill(&self, reason: CloseReason) -> bool {
        let first = !self.kill.killed.swap(true, Ordering::AcqRel);
        if first {
            *self.kill.reason.lock() = Some(reason);
            self.kill.notify.notify_one();
        }
        first
    }

    pub fn kill_reason(&self) -> CloseReason {
        self.kill
            .reason
            .lock()
            .unwrap_or(CloseReason::ServerShutdown)
    }

    pub async fn killed(&self) {
        self.kill.notify.notified().await
    }

    /// Installs the connection's permissions (at login and reload): the
    /// delivery filter and, with `allow_responses`, its reply permits.
    pub fn set_permissions(
        &self,
        filter: Option<Arc<dyn DeliveryFilter>>,
        responses: Option<ResponsePermission>,
    ) {
        self.grants.set(filter, responses);
    }

    /// Whether a message on `subject` may be delivered to a subscription
    /// that overlaps a subscribe deny entry.
    pub fn delivery_allowed(&self, subject: &[u8]) -> bool {
        self.grants.delivery_allowed(subject)
    }

    /// Records that this connection received a request it may answer on `reply`.
    pub fn note_reply(&self, reply: &[u8]) {
        self.grants.note_reply(reply);
    }

    /// Consumes one permission to publish on `subject` as a reply.
    pub fn take_reply_permit(&self, subject: &[u8]) -> bool {
        self.grants.take_reply_permit(subject)
    }

    /// Asks the connection's task to re-check its login and permissions
    /// against reloaded tenants.
    pub fn request_reload(&self) {
        self.reload.notify_one();
    }

    pub async fn reload_requested(&self) {
        self.reload.notified().await
    }
}
