//! One leaf connection once it is logged in, whichever side dialled: the
//! loop that reads the peer's interest (`LS+`/`LS-`) and messages
//! (`LMSG`/`HMSG`) and answers its pings. What the peer announced becomes
//! subscriptions of the account (`Target::Leaf`); what the account holds
//! goes to the peer through the `LeafLink` watching it.

use crate::client::{ClientHandle, CloseReason};
use crate::login::{Credentials, Session};
use crate::plugin::PublisherInfo;
use crate::protocol::{Limits, ParseError, PeerOp, encode_err, parse_leaf};
use crate::route::{DeliveryCtx, Message, PluginStage, Publisher, Sink, deliver};
use crate::server::peer_link::{PeerLink, interest_key};
use crate::server::shared::Shared;
use crate::server::subs::{SubEntry, fits_budget, index, shadows_for, unindex};
use crate::subject::{
    footprint, is_subset_match, is_valid_literal_subject, is_valid_subject, matches,
};
use crate::tenant::{InterestWatcher, Subscription, Target};
use bytes::{Buf, Bytes, BytesMut};
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

/// Longest pause of the peer's reads while local destinations drain (as
/// for a client publisher, `connection.rs`).
const STALL_MAX: Duration = Duration::from_millis(10);

/// A leaf connection's read buffer grows in steps of this.
const READ_CHUNK: usize = 64 * 1024;

/// How long a leaf whose loop was detected waits before dialling again
/// (nats-server's `leafNodeReconnectDelayAfterLoopDetected`).
pub(super) const LOOP_DELAY: Duration = Duration::from_secs(30);

/// nats-server's loop-detection subject prefix.
const LOOP_PREFIX: &[u8] = b"$LDS.";

/// What the peer is, as its INFO or CONNECT told.
pub(super) struct Peer {
    pub name: String,
    pub headers: bool,
    /// A Switchyard peer runs its tenant's plugins where a message enters
    /// from a client; what it forwards is not transformed again here.
    pub switchyard: bool,
}

/// Subject filters of one connection (a remote's `deny_imports` and
/// `deny_exports`).
#[derive(Default, Clone)]
pub(super) struct Filters {
    /// Messages from the peer on these subjects are dropped.
    pub deny_in: Vec<Bytes>,
    /// The peer's interest in these subjects is ignored: nothing on them
    /// is sent to it.
    pub deny_out: Vec<Bytes>,
}

/// A logged-in leaf connection's read side.
pub(super) struct LeafConn {
    pub handle: Arc<ClientHandle>,
    pub server: Arc<Shared>,
    pub session: Session,
    pub peer: Peer,
    pub filters: Filters,
    /// Bytes read but not yet parsed (the handshake may leave some).
    pub buf: BytesMut,
    link: Arc<PeerLink>,
    /// The peer's interest, by `subject` or `subject queue`.
    subs: FxHashMap<Bytes, SubEntry>,
    delivery: DeliveryCtx,
    plugins: PluginStage,
    limits: Limits,
    pings_out: u32,
    /// Set when the peer told us (or we told it) of a loop.
    pub loop_detected: bool,
    /// Its entry in the server's list of leaves, once running.
    pub entry: Option<Arc<super::state::LeafEntry>>,
    /// On the hub side, the credentials it logged in with, checked again
    /// after a reload.
    pub login: Option<Credentials>,
}

impl LeafConn {
    pub(super) fn new(
        handle: Arc<ClientHandle>,
        server: Arc<Shared>,
        session: Session,
        peer: Peer,
        filters: Filters,
        buf: BytesMut,
    ) -> LeafConn {
        let link = Arc::new(PeerLink::leaf(handle.clone(), filters.deny_in.clone()));
        let mut delivery = DeliveryCtx::new(Some(handle.clone()), session.max_payload);
        // Never back to the peer a message came from.
        delivery.echo = false;
        delivery.server_max_payload = server.config.max_payload;
        handle.set_headers(peer.headers);
        // Wildcard interest that overlaps a subscribe deny is filtered per
        // message, as for a client.
        let filter = session
            .perms
            .clone()
            .map(|p| p as Arc<dyn crate::client::DeliveryFilter>);
        handle.set_permissions(filter, None);
        let limits = Limits {
            max_control_line: server.config.max_control_line,
            max_payload: session.max_payload,
        };
        LeafConn {
            handle,
            server,
            session,
            peer,
            filters,
            buf,
            link,
            subs: FxHashMap::default(),
            delivery,
            plugins: PluginStage::default(),
            limits,
            pings_out: 0,
            loop_detected: false,
            entry: None,
            login: None,
        }
    }

    /// Starts relaying the account's interest to the peer.
    pub(super) fn start(&mut self) {
        let account = &self.session.account;
        let now = account.watch(self.link.clone());
        self.link
            .announce_all(&now, std::slice::from_ref(account.loop_subject()));
        // A first PING measures the round trip for `/leafz`, as nats-server's.
        if self.handle.counters.start_rtt_ping() {
            self.handle.control(|b| b.extend_from_slice(b"PING\r\n"));
        }
    }

    /// Tells monitoring how many interest entries the peer holds here.
    fn publish_interest(&self) {
        if let Some(entry) = &self.entry {
            entry
                .subscriptions
                .store(self.subs.len(), Ordering::Relaxed);
        }
    }

    /// Reads and acts until the connection ends; returns why.
    pub(super) async fn read_loop<R: AsyncRead + Unpin>(&mut self, mut rd: R) -> CloseReason {
        let cfg = &self.server.config;
        let mut shutdown = self.server.shutdown.subscribe();
        let mut ping = interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let handle = self.handle.clone();
        // What the handshake left unparsed.
        if let Err(reason) = self.process() {
            return reason;
        }
        loop {
            if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
                self.buf.reserve(READ_CHUNK);
            }
            tokio::select! {
                biased;
                _ = handle.killed() => return handle.kill_reason(),
                _ = handle.reload_requested() => {
                    if let Err(reason) = self.on_reload() {
                        return reason;
                    }
                }
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = ping.tick() => {
                    if self.pings_out + 1 > self.server.config.ping_max {
                        return CloseReason::StaleConnection;
                    }
                    self.pings_out += 1;
                    self.handle.counters.start_rtt_ping();
                    self.handle.control(|b| b.extend_from_slice(b"PING\r\n"));
                }
                read = rd.read_buf(&mut self.buf) => match read {
                    Ok(0) => return CloseReason::ClientClosed,
                    Ok(_) => {
                        if let Err(reason) = self.process() {
                            return reason;
                        }
                        if !self.delivery.stalled.is_empty() {
                            // Paused like a client publisher; the peer
                            // sees TCP backpressure, as from a nats-server.
                            self.delivery.wait_stalled(STALL_MAX).await;
                        }
                    }
                    Err(_) => return CloseReason::ReadError,
                },
            }
        }
    }

    /// Handles every complete operation in the buffer, then wakes the
    /// destinations it wrote to.
    fn process(&mut self) -> Result<(), CloseReason> {
        self.handle.counters.touch(SystemTime::now());
        let mut buf = std::mem::take(&mut self.buf);
        let mut at = 0;
        let result = loop {
            match parse_leaf(&buf[at..], &self.limits) {
                Ok(Some((op, used))) => {
                    at += used;
                    if let Err(reason) = self.on_op(op) {
                        break Err(reason);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => {
                    if let ParseError::BadArguments { op } = e {
                        tracing::debug!(cid = self.handle.id, op, "malformed leaf arguments");
                    }
                    break Err(CloseReason::from(e));
                }
            }
        };
        buf.advance(at);
        self.buf = buf;
        self.finish_batch();
        result
    }

    fn finish_batch(&mut self) {
        self.delivery.wake_all();
        let stats = &self.delivery.stats;
        let counters = &self.handle.counters;
        if stats.in_msgs > 0 {
            counters.in_msgs.fetch_add(stats.in_msgs, Ordering::Relaxed);
            counters
                .in_bytes
                .fetch_add(stats.in_bytes, Ordering::Relaxed);
        }
        self.server.stats.absorb(&mut self.delivery.stats);
    }

    fn on_op(&mut self, op: PeerOp<'_>) -> Result<(), CloseReason> {
        match op {
            PeerOp::Ping => self.handle.control(|b| b.extend_from_slice(b"PONG\r\n")),
            PeerOp::Pong => {
                self.pings_out = 0;
                self.handle.counters.finish_rtt_ping();
            }
            PeerOp::Sub { subject, queue, .. } => self.on_sub(subject, queue.map(|(q, _)| q))?,
            PeerOp::Unsub { subject, queue, .. } => self.on_unsub(subject, queue),
            PeerOp::Msg {
                subject,
                account: _,
                reply,
                queues,
                headers,
                payload,
            } => self.on_msg(subject, reply, queues, headers, payload),
            PeerOp::Err(text) => {
                let text = String::from_utf8_lossy(text);
                if text.starts_with("Loop detected") {
                    self.loop_detected = true;
                }
                tracing::warn!(cid = self.handle.id, peer = %self.peer.name, error = %text, "leaf node peer reported an error");
            }
            // A later INFO (new leafnode URLs) and +OK need no answer here.
            PeerOp::Info(_) | PeerOp::Ok => {}
            PeerOp::Connect(_) => return Err(CloseReason::ProtocolViolation),
        }
        Ok(())
    }

    /// `LS+`: the peer wants messages on `subject` (in `queue`).
    fn on_sub(&mut self, subject: &[u8], queue: Option<&[u8]>) -> Result<(), CloseReason> {
        let account = self.session.account.clone();
        if subject == &account.loop_subject()[..] {
            let text = format!(
                "Loop detected for leafnode account=\"{}\". Delaying attempt to reconnect for {}s",
                account.name,
                LOOP_DELAY.as_secs()
            );
            tracing::error!(cid = self.handle.id, peer = %self.peer.name, "{text}");
            self.handle.control(|b| encode_err(b, &text));
            self.loop_detected = true;
            return Err(CloseReason::ProtocolViolation);
        }
        let key = interest_key(subject, queue);
        // A repeated `LS+` for a queue group only updates its weight.
        if self.subs.contains_key(&key) {
            return Ok(());
        }
        if !is_valid_subject(subject) || queue.is_some_and(|q| !is_valid_literal_subject(q)) {
            self.send_err("Invalid Subject");
            return Ok(());
        }
        if self
            .filters
            .deny_out
            .iter()
            .any(|d| is_subset_match(subject, d))
        {
            return Ok(());
        }
        // The loop-detection subjects carry no traffic and are never
        // refused, as in nats-server.
        if let Some(p) = &self.session.perms
            && !subject.starts_with(LOOP_PREFIX)
            && !p.can_subscribe(subject, queue)
        {
            let subject = String::from_utf8_lossy(subject);
            self.send_err(&format!(
                "Permissions Violation for Subscription to \"{subject}\""
            ));
            return Ok(());
        }
        let max = self.server.config.leafnodes.as_ref().map_or(
            crate::config::leafnodes::DEFAULT_MAX_LEAF_SUBSCRIPTIONS,
            |l| l.max_subscriptions,
        );
        let charge = footprint(subject, queue);
        if self.subs.len() >= max || !fits_budget(&account, &self.session.rules, charge) {
            tracing::warn!(cid = self.handle.id, peer = %self.peer.name, "leaf interest over its limit; ignored");
            self.send_err("maximum subscriptions exceeded");
            return Ok(());
        }
        let sub = Arc::new(Subscription::new(
            Target::Leaf(self.handle.clone()),
            key.clone(),
            Bytes::copy_from_slice(subject),
            queue.map(Bytes::copy_from_slice),
        ));
        if let Some(p) = &self.session.perms {
            sub.needs_filter
                .store(p.sub_needs_delivery_filter(subject), Ordering::Relaxed);
        }
        let entry = index(&account, &self.session.rules, sub, charge);
        self.subs.insert(key, entry);
        self.publish_interest();
        Ok(())
    }

    /// `LS-`: the peer's interest in `subject` (in `queue`) is gone.
    fn on_unsub(&mut self, subject: &[u8], queue: Option<&[u8]>) {
        let key = interest_key(subject, queue);
        if let Some(entry) = self.subs.remove(&key) {
            unindex(&self.session.account, &entry);
            self.publish_interest();
        }
    }

    /// `LMSG`/`HMSG`: a message for this side's subscribers.
    fn on_msg(
        &mut self,
        subject: &[u8],
        reply: Option<&[u8]>,
        queues: &[u8],
        headers: Option<&[u8]>,
        payload: &[u8],
    ) {
        self.delivery.stats.in_msgs += 1;
        self.delivery.stats.in_bytes += (payload.len() + headers.map_or(0, <[u8]>::len)) as u64;
        if self.filters.deny_in.iter().any(|d| matches(d, subject)) {
            return;
        }
        if let Some(p) = &self.session.perms
            && !p.can_publish_cached(&mut self.session.publish_cache, subject)
        {
            let subject = String::from_utf8_lossy(subject);
            self.send_err(&format!(
                "Permissions Violation for Publish to \"{subject}\""
            ));
            return;
        }
        let filter = self.delivery.queue_filter.get_or_insert_with(Vec::new);
        filter.clear();
        filter.extend_from_slice(queues);
        let msg = Message {
            subject,
            reply,
            headers,
            payload,
            // Peer connections read into their own buffer and copy.
            shared: None,
        };
        let account = &self.session.account;
        let plugins = self.session.rules.plugins.as_ref();
        if plugins.is_none() || self.peer.switchyard {
            deliver(account, msg, &mut self.delivery);
            return;
        }
        let from = Publisher {
            plugins,
            info: PublisherInfo {
                user: self.session.user().unwrap_or(""),
                client_id: self.handle.id,
                client_name: Some(&self.peer.name),
            },
            max_payload: self.session.max_payload,
        };
        let mut sink = LeafSink {
            account,
            ctx: &mut self.delivery,
        };
        // Flushed per message: the queue filter belongs to this message.
        self.plugins.publish(&from, msg, &mut sink);
        self.plugins.flush(&from, &mut sink);
    }

    /// After a reload: a hub-side leaf logs in again with the same
    /// credentials (a removed user or tenant is disconnected, changed
    /// permissions apply); a remote's tenant must still be the same
    /// account. Either way the peer's interest is checked against the new
    /// permissions and its import shadows rebuilt.
    fn on_reload(&mut self) -> Result<(), CloseReason> {
        let tenancy = self.server.tenancy();
        match (&self.login, self.session.identity.clone()) {
            (Some(login), Some(old)) => {
                let again = Credentials {
                    tenancy: tenancy.clone(),
                    opts: login.opts.clone(),
                    nonce: login.nonce.clone(),
                    peer: login.peer,
                    tls_peer: None,
                };
                let grant = again.recheck(&old, self.session.auth_plugin.as_ref());
                let max_payload = self.server.config.max_payload;
                self.session
                    .rebind(&tenancy, grant, max_payload, 0)
                    .inspect_err(|reason| {
                        tracing::info!(
                            cid = self.handle.id,
                            ?reason,
                            "leaf login no longer valid after reload"
                        );
                    })?;
            }
            // Logged in without a tenant user: only while there are none.
            (Some(_), None) if tenancy.users.is_some() => return Err(CloseReason::AuthViolation),
            _ => {
                let account = &self.session.account;
                let same = Arc::ptr_eq(account, &self.server.global)
                    || tenancy
                        .accounts
                        .get(&*account.name)
                        .is_some_and(|a| Arc::ptr_eq(a, account));
                if !same {
                    return Err(CloseReason::AuthViolation);
                }
                self.session.rules = account.rules();
            }
        }
        let filter = self
            .session
            .perms
            .clone()
            .map(|p| p as Arc<dyn crate::client::DeliveryFilter>);
        self.handle.set_permissions(filter, None);
        let account = self.session.account.clone();
        let keys: Vec<Bytes> = self.subs.keys().cloned().collect();
        for key in keys {
            let Some(mut entry) = self.subs.remove(&key) else {
                continue;
            };
            let sub = entry.sub.clone();
            if let Some(p) = &self.session.perms
                && !sub.subject.starts_with(LOOP_PREFIX)
                && !p.can_subscribe(&sub.subject, sub.queue.as_deref())
            {
                unindex(&account, &entry);
                continue;
            }
            for shadow in std::mem::take(&mut entry.shadows) {
                shadow.remove_shadow();
            }
            entry.shadows = shadows_for(&account, &self.session.rules, &sub);
            self.subs.insert(key, entry);
        }
        self.publish_interest();
        Ok(())
    }

    fn send_err(&self, text: &str) {
        self.handle.control(|b| encode_err(b, text));
    }

    /// Removes everything the connection put in the account: the watcher
    /// and the peer's interest. Idempotent.
    pub(super) fn unregister(&mut self) {
        let watcher: Arc<dyn InterestWatcher<Subscription>> = self.link.clone();
        self.session.account.watchers.remove(&watcher);
        for (_, entry) in self.subs.drain() {
            unindex(&self.session.account, &entry);
        }
        self.session.unbind();
    }
}

impl Drop for LeafConn {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// Where a leaf's messages leave the plugin stage: delivery in its account.
struct LeafSink<'c> {
    account: &'c Arc<crate::tenant::Account>,
    ctx: &'c mut DeliveryCtx,
}

impl Sink for LeafSink<'_> {
    fn deliver(&mut self, msg: Message<'_>) {
        deliver(self.account, msg, self.ctx);
    }

    fn refuse(&mut self, _reply: Option<&[u8]>, reason: &str) {
        tracing::debug!(reason, "plugin refused a message from a leaf node");
    }
}
