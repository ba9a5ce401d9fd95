//! What other connections may touch of a connection: its outbound buffer,
//! whether it takes headers, and a way to kill it. Also the subscription
//! record stored in an account's index.

use super::account::{ServiceImport, StreamImport};
use super::client_info::{ClientCounters, ClientMeta};
use super::close::CloseReason;
use super::outbound::{Outbound, Push};
use crate::tenant::permissions::{CompiledPermissions, ResponsePermission};
use bytes::Bytes;
use hashlink::LinkedHashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use tokio::sync::Notify;

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
    killed: AtomicBool,
    kill_reason: parking_lot::Mutex<Option<CloseReason>>,
    kill: Notify,
    reload: Notify,
    /// The connection's permissions, read at delivery only for
    /// subscriptions flagged `needs_filter`.
    perms: parking_lot::RwLock<Option<Arc<CompiledPermissions>>>,
    /// Reply subjects this connection may answer (`allow_responses`).
    replies: parking_lot::Mutex<Option<ReplyPermits>>,
    tracks_replies: AtomicBool,
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
            killed: AtomicBool::new(false),
            kill_reason: parking_lot::Mutex::new(None),
            kill: Notify::new(),
            reload: Notify::new(),
            perms: parking_lot::RwLock::new(None),
            replies: parking_lot::Mutex::new(None),
            tracks_replies: AtomicBool::new(false),
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

    /// Installs the connection's permissions (at login and reload).
    pub fn set_permissions(&self, perms: Option<Arc<CompiledPermissions>>) {
        let responses = perms.as_ref().and_then(|p| p.response_permission());
        *self.perms.write() = perms;
        self.tracks_replies
            .store(responses.is_some(), Ordering::Release);
        *self.replies.lock() = responses.map(|limit| ReplyPermits {
            limit,
            open: LinkedHashMap::default(),
        });
    }

    /// Whether a message on `subject` may be delivered to a subscription
    /// that overlaps a subscribe deny entry.
    pub fn delivery_allowed(&self, subject: &[u8]) -> bool {
        self.perms
            .read()
            .as_ref()
            .is_none_or(|p| p.deliverable(subject))
    }

    /// Records that this connection received a request it may answer on `reply`.
    pub fn note_reply(&self, reply: &[u8]) {
        if !self.tracks_replies.load(Ordering::Acquire) {
            return;
        }
        if let Some(permits) = self.replies.lock().as_mut() {
            permits.note(reply);
        }
    }

    /// Consumes one permission to publish on `subject` as a reply.
    pub fn take_reply_permit(&self, subject: &[u8]) -> bool {
        self.tracks_replies.load(Ordering::Acquire)
            && self
                .replies
                .lock()
                .as_mut()
                .is_some_and(|p| p.take(subject))
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

/// Replies a responder may publish to although its publish permissions
/// would not allow them: each received reply subject, up to `max` times
/// within `ttl`. Kept in arrival order so that at the cap the oldest
/// permit goes in O(1): a responder that never answers costs the same per
/// request as one that always does.
struct ReplyPermits {
    limit: ResponsePermission,
    open: LinkedHashMap<Bytes, (u32, Instant), rustc_hash::FxBuildHasher>,
}

/// Open reply permits a connection keeps; past it the oldest permit is
/// dropped.
pub const MAX_OPEN_REPLIES: usize = 10_000;

impl ReplyPermits {
    fn note(&mut self, reply: &[u8]) {
        let expires = Instant::now() + self.limit.ttl;
        let permit = (self.limit.max.max(1), expires);
        // A reply noted again moves to the back with a fresh permit.
        self.open.remove(reply);
        while self.open.len() >= MAX_OPEN_REPLIES {
            self.open.pop_front();
        }
        self.open.insert(Bytes::copy_from_slice(reply), permit);
    }

    fn take(&mut self, subject: &[u8]) -> bool {
        let Some((left, expires)) = self.open.get_mut(subject) else {
            return false;
        };
        if *expires <= Instant::now() {
            self.open.remove(subject);
            return false;
        }
        *left -= 1;
        if *left == 0 {
            self.open.remove(subject);
        }
        true
    }
}

/// Where a matched subscription sends a message.
pub enum Target {
    /// A client connection's subscription.
    Client(Arc<ClientHandle>),
    /// A service import: the message continues into the exporting account.
    Service(Arc<ServiceImport>),
}

/// One entry of a subscription index: a client's SUB, a stream-import
/// shadow of one in another account, or a service import.
pub struct Subscription {
    pub target: Target,
    pub sid: Bytes,
    pub subject: Bytes,
    pub queue: Option<Bytes>,
    /// Set on the copy of a subscription placed in an exporter's index for
    /// a stream import.
    pub shadow: Option<Shadow>,
    /// Set when the subscription overlaps a subscribe deny entry, so each
    /// delivery checks the subscriber's permissions.
    pub needs_filter: AtomicBool,
    /// Auto-unsubscribe limit; 0 means none.
    max: AtomicU64,
    delivered: AtomicU64,
}

/// How a stream-import shadow maps messages back to its subscriber.
pub struct Shadow {
    pub import: Arc<StreamImport>,
    /// The subscription the client made, in its own namespace; it also
    /// holds the auto-unsubscribe count.
    pub origin: Arc<Subscription>,
}

/// Whether a delivery may go ahead, and whether it was the last one allowed.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Yes,
    Last,
    No,
}

impl Subscription {
    pub fn new(target: Target, sid: Bytes, subject: Bytes, queue: Option<Bytes>) -> Self {
        Subscription {
            target,
            sid,
            subject,
            queue,
            shadow: None,
            needs_filter: AtomicBool::new(false),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// A copy of `origin` for the exporter's index, on the exporter's
    /// `filter`. Its queue group is keyed by the importing account too, so
    /// it never joins the exporter's own group of the same name (queue
    /// names cannot contain spaces, so the key cannot collide).
    pub fn shadow(
        origin: &Arc<Subscription>,
        import: Arc<StreamImport>,
        filter: Bytes,
        importer: &str,
    ) -> Self {
        let target = match &origin.target {
            Target::Client(c) => Target::Client(c.clone()),
            Target::Service(s) => Target::Service(s.clone()),
        };
        Subscription {
            target,
            sid: origin.sid.clone(),
            subject: filter,
            queue: origin
                .queue
                .as_ref()
                .map(|q| Bytes::from([&q[..], b" ", importer.as_bytes()].concat())),
            shadow: Some(Shadow {
                import,
                origin: origin.clone(),
            }),
            needs_filter: AtomicBool::new(origin.needs_filter.load(Ordering::Relaxed)),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// Removes a stream-import shadow from the exporter's index it lives in
    /// (nothing for other subscriptions).
    pub fn remove_shadow(self: &Arc<Self>) {
        if let Some(sh) = &self.shadow {
            sh.import
                .exporter
                .index
                .remove(&self.subject, self.queue.as_ref(), |s| Arc::ptr_eq(s, self));
        }
    }

    /// Claims one delivery against the auto-unsubscribe limit (a shadow
    /// counts against its origin).
    pub fn admit(&self) -> Admit {
        if let Some(shadow) = &self.shadow {
            return shadow.origin.admit();
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn permits(max: u32) -> ReplyPermits {
        ReplyPermits {
            limit: ResponsePermission {
                max,
                ttl: Duration::from_secs(60),
            },
            open: LinkedHashMap::default(),
        }
    }

    /// A responder that never answers: permits stay at the cap, the oldest
    /// go first, and the newest still work.
    #[test]
    fn reply_permits_are_capped_oldest_first() {
        let mut p = permits(1);
        for i in 0..3 * MAX_OPEN_REPLIES {
            p.note(format!("_INBOX.{i}").as_bytes());
        }
        assert_eq!(p.open.len(), MAX_OPEN_REPLIES);
        assert!(!p.take(b"_INBOX.0"), "the oldest permit was dropped");
        let newest = format!("_INBOX.{}", 3 * MAX_OPEN_REPLIES - 1);
        assert!(p.take(newest.as_bytes()));
        assert!(!p.take(newest.as_bytes()), "max 1: used up");
    }

    #[test]
    fn a_reply_noted_again_is_refreshed_not_evicted() {
        let mut p = permits(2);
        p.note(b"first");
        for i in 0..MAX_OPEN_REPLIES - 1 {
            p.note(format!("r.{i}").as_bytes());
        }
        p.note(b"first");
        p.note(b"one.more");
        assert!(p.take(b"first"), "refreshed, so not the oldest");
        assert!(!p.take(b"r.0"), "r.0 was the oldest");
    }
}
