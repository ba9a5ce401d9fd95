//! One route once both sides have introduced themselves: the loop that
//! reads the peer's interest (`RS+`/`RS-`) and messages (`RMSG`/`HMSG`)
//! in every account, answers its pings and acts on its later INFOs
//! (a server it has just met, its lame duck mode). What the peer
//! announces becomes subscriptions with `Target::Route` in the named
//! account; what each account holds here goes to the peer through one
//! `PeerLink` per account.

use super::gossip;
use super::held::{HELD_MAX_BYTES, HeldInterest};
use super::state::RouteEntry;
use crate::client::{ClientHandle, CloseReason};
use crate::plugin::PublisherInfo;
use crate::protocol::{Dialect, Limits, ParseError, PeerOp, RouteInfo, parse_peer};
use crate::route::{DeliveryCtx, Message, PluginStage, Publisher, Sink, deliver};
use crate::server::peer_link::{PeerLink, interest_key};
use crate::server::shared::Shared;
use crate::server::subs::{SubEntry, fits_budget, unindex};
use crate::subject::{footprint, is_valid_literal_subject, is_valid_subject};
use crate::tenant::{Account, AccountRules, InterestWatcher, Subscription, Target};
use bytes::{Buf, Bytes, BytesMut};
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

/// Longest pause of the peer's reads while local destinations drain.
const STALL_MAX: Duration = Duration::from_millis(10);

/// A route's read buffer grows in steps of this.
const READ_CHUNK: usize = 64 * 1024;

/// nats-server pings routes at most this often.
const MAX_PING_INTERVAL: Duration = Duration::from_secs(30);

/// The other server, as its INFO told.
pub(super) struct Peer {
    pub name: String,
    pub headers: bool,
    /// A Switchyard peer runs its tenants' plugins where a message enters
    /// from a client; what it forwards is not transformed again here.
    pub switchyard: bool,
}

/// One account the route carries.
struct Bound {
    account: Arc<Account>,
    rules: Arc<AccountRules>,
    link: Arc<PeerLink>,
}

/// A registered route's read side.
pub(super) struct RouteConn {
    pub handle: Arc<ClientHandle>,
    pub server: Arc<Shared>,
    pub peer: Peer,
    /// Bytes read but not yet parsed (the handshake may leave some).
    pub buf: BytesMut,
    /// The accounts, by their name on the wire.
    accounts: FxHashMap<Bytes, Bound>,
    /// The peer's interest, by `account subject [queue]`.
    subs: FxHashMap<Bytes, (Bytes, SubEntry)>,
    /// The peer's interest in accounts this server does not have yet.
    held: HeldInterest,
    delivery: DeliveryCtx,
    plugins: PluginStage,
    limits: Limits,
    pings_out: u32,
    pub entry: Arc<RouteEntry>,
}

/// Every account a route carries: the global one, the tenants and the
/// system account.
fn all_accounts(server: &Shared) -> Vec<Arc<Account>> {
    let tenancy = server.tenancy();
    let mut all: Vec<Arc<Account>> = tenancy.accounts.values().cloned().collect();
    for extra in [&server.global, &tenancy.system] {
        if !all.iter().any(|a| Arc::ptr_eq(a, extra)) {
            all.push(extra.clone());
        }
    }
    all
}

impl RouteConn {
    pub(super) fn new(
        handle: Arc<ClientHandle>,
        server: Arc<Shared>,
        peer: Peer,
        buf: BytesMut,
        entry: Arc<RouteEntry>,
    ) -> RouteConn {
        let mut delivery = DeliveryCtx::new(Some(handle.clone()), server.config.max_payload);
        delivery.echo = false;
        delivery.from_route = true;
        delivery.server_max_payload = server.config.max_payload;
        handle.set_headers(peer.headers);
        let limits = Limits {
            // nats-server allows other servers 16 times a client's line.
            max_control_line: server.config.max_control_line.saturating_mul(16),
            max_payload: server.config.max_payload,
        };
        RouteConn {
            handle,
            server,
            peer,
            buf,
            accounts: FxHashMap::default(),
            subs: FxHashMap::default(),
            held: HeldInterest::default(),
            delivery,
            plugins: PluginStage::default(),
            limits,
            pings_out: 0,
            entry,
        }
    }

    /// Starts relaying every account's interest to the peer.
    pub(super) fn start(&mut self) {
        for account in all_accounts(&self.server) {
            self.bind(account);
        }
        if self.handle.counters.start_rtt_ping() {
            self.handle.control(|b| b.extend_from_slice(b"PING\r\n"));
        }
    }

    /// Watches `account` and announces what it holds.
    fn bind(&mut self, account: Arc<Account>) {
        let name = Bytes::copy_from_slice(account.name.as_bytes());
        let link = Arc::new(PeerLink::route(self.handle.clone(), name.clone()));
        let now = account.watch(link.clone());
        let mut extra = vec![account.responses.interest()];
        if Arc::ptr_eq(&account, &self.server.tenancy().system) {
            extra.extend(super::info::system_interest(&self.server.info.server_id));
        }
        link.announce_all(&now, &extra);
        let rules = account.rules();
        self.accounts.insert(
            name,
            Bound {
                account,
                rules,
                link,
            },
        );
    }

    /// Stops watching the account bound under `name` and drops the peer's
    /// interest in it.
    fn unbind(&mut self, name: &Bytes) {
        let Some(bound) = self.accounts.remove(name) else {
            return;
        };
        let watcher: Arc<dyn InterestWatcher<Subscription>> = bound.link.clone();
        bound.account.watchers.remove(&watcher);
        self.subs.retain(|_, (acc, entry)| {
            if acc == name {
                unindex(&bound.account, entry);
                false
            } else {
                true
            }
        });
    }

    fn publish_interest(&self) {
        self.entry
            .subscriptions
            .store(self.subs.len(), Ordering::Relaxed);
    }

    /// Reads and acts until the route ends; returns why.
    pub(super) async fn read_loop<R: AsyncRead + Unpin>(&mut self, mut rd: R) -> CloseReason {
        let every = self.server.config.ping_interval.min(MAX_PING_INTERVAL);
        let mut shutdown = self.server.shutdown.subscribe();
        let mut ping = interval_at(Instant::now() + every, every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let handle = self.handle.clone();
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
                _ = handle.reload_requested() => self.on_reload(),
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
            match parse_peer(&buf[at..], &self.limits, Dialect::Route) {
                Ok(Some((op, used))) => {
                    at += used;
                    if let Err(reason) = self.on_op(op) {
                        break Err(reason);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => {
                    if let ParseError::BadArguments { op } = e {
                        tracing::debug!(cid = self.handle.id, op, "malformed route arguments");
                    }
                    break Err(CloseReason::from(e));
                }
            }
        };
        buf.advance(at);
        self.buf = buf;
        self.delivery.wake_all();
        let stats = &self.delivery.stats;
        if stats.in_msgs > 0 {
            let counters = &self.handle.counters;
            counters.in_msgs.fetch_add(stats.in_msgs, Ordering::Relaxed);
            counters
                .in_bytes
                .fetch_add(stats.in_bytes, Ordering::Relaxed);
        }
        self.server.stats.absorb(&mut self.delivery.stats);
        result
    }

    fn on_op(&mut self, op: PeerOp<'_>) -> Result<(), CloseReason> {
        match op {
            PeerOp::Ping => self.handle.control(|b| b.extend_from_slice(b"PONG\r\n")),
            PeerOp::Pong => {
                self.pings_out = 0;
                self.handle.counters.finish_rtt_ping();
            }
            PeerOp::Sub {
                account,
                subject,
                queue,
            } => self.on_sub(account, subject, queue.map(|(q, _)| q)),
            PeerOp::Unsub {
                account,
                subject,
                queue,
            } => self.on_unsub(account, subject, queue),
            PeerOp::Msg {
                account,
                subject,
                reply,
                queues,
                headers,
                payload,
            } => self.on_msg(account, subject, reply, queues, headers, payload),
            PeerOp::Info(json) => match serde_json::from_slice::<RouteInfo>(json) {
                Ok(info) => gossip::on_info(&self.server, &self.entry, info),
                Err(e) => {
                    tracing::debug!(cid = self.handle.id, error = %e, "unreadable route INFO")
                }
            },
            PeerOp::Err(text) => {
                let text = String::from_utf8_lossy(text);
                tracing::warn!(cid = self.handle.id, peer = %self.peer.name, error = %text, "route peer reported an error");
            }
            PeerOp::Ok => {}
            PeerOp::Connect(_) => return Err(CloseReason::ProtocolViolation),
        }
        Ok(())
    }

    /// `RS+`: the peer wants messages on `subject` (in `queue`) in
    /// `account`.
    fn on_sub(&mut self, account: &[u8], subject: &[u8], queue: Option<&[u8]>) {
        let key = Bytes::from([account, b" ", &interest_key(subject, queue)[..]].concat());
        // A repeated `RS+` for a queue group only updates its weight.
        if self.subs.contains_key(&key) {
            return;
        }
        if !is_valid_subject(subject) || queue.is_some_and(|q| !is_valid_literal_subject(q)) {
            tracing::debug!(
                cid = self.handle.id,
                "invalid subject in route interest ignored"
            );
            return;
        }
        let max = self.server.config.cluster.as_ref().map_or(
            crate::config::cluster::DEFAULT_MAX_ROUTE_SUBSCRIPTIONS,
            |c| c.max_subscriptions,
        );
        let Some(bound) = self.accounts.get(account) else {
            let room = self.subs.len() + self.held.len() < max;
            if !(room && self.held.hold(key, account, subject, queue, HELD_MAX_BYTES)) {
                tracing::warn!(cid = self.handle.id, peer = %self.peer.name, "interest in unknown accounts over its limit; ignored");
            }
            return;
        };
        let charge = footprint(subject, queue);
        if self.subs.len() >= max || !fits_budget(&bound.account, &bound.rules, charge) {
            tracing::warn!(cid = self.handle.id, peer = %self.peer.name, "route interest over its limit; ignored");
            return;
        }
        let sub = Arc::new(Subscription::new(
            Target::Route(self.handle.clone()),
            key.clone(),
            Bytes::copy_from_slice(subject),
            queue.map(Bytes::copy_from_slice),
        ));
        // No stream-import shadows: the peer announces its own.
        bound.account.insert_sub(&sub);
        bound
            .account
            .subscription_bytes
            .fetch_add(charge, Ordering::Relaxed);
        let entry = SubEntry {
            sub,
            shadows: Vec::new(),
            charged: charge,
        };
        let name = Bytes::copy_from_slice(account);
        self.subs.insert(key, (name, entry));
        self.publish_interest();
    }

    /// `RS-`: the peer's interest is gone.
    fn on_unsub(&mut self, account: &[u8], subject: &[u8], queue: Option<&[u8]>) {
        let key = Bytes::from([account, b" ", &interest_key(subject, queue)[..]].concat());
        self.held.release(&key);
        if let Some((_, entry)) = self.subs.remove(&key)
            && let Some(bound) = self.accounts.get(account)
        {
            unindex(&bound.account, &entry);
            self.publish_interest();
        }
    }

    /// `RMSG`/`HMSG`: a message for this server's subscribers (never for
    /// another route).
    fn on_msg(
        &mut self,
        account: &[u8],
        subject: &[u8],
        reply: Option<&[u8]>,
        queues: &[u8],
        headers: Option<&[u8]>,
        payload: &[u8],
    ) {
        self.delivery.stats.in_msgs += 1;
        self.delivery.stats.in_bytes += (payload.len() + headers.map_or(0, <[u8]>::len)) as u64;
        let Some(bound) = self.accounts.get(account) else {
            return;
        };
        if subject.starts_with(crate::monitor::SYSTEM_REQUEST_PREFIX)
            && Arc::ptr_eq(&bound.account, &self.server.tenancy().system)
        {
            gossip::answer_system_request(&self.server, &bound.account, subject, reply, payload);
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
        let plugins = bound.rules.plugins.as_ref();
        if plugins.is_none() || self.peer.switchyard {
            deliver(&bound.account, msg, &mut self.delivery);
            return;
        }
        let from = Publisher {
            plugins,
            info: PublisherInfo {
                user: "",
                client_id: self.handle.id,
                client_name: Some(&self.peer.name),
            },
            max_payload: self.server.config.max_payload,
        };
        let mut sink = RouteSink {
            account: &bound.account,
            ctx: &mut self.delivery,
        };
        // Flushed per message: the queue filter belongs to this message.
        self.plugins.publish(&from, msg, &mut sink);
        self.plugins.flush(&from, &mut sink);
    }

    /// After a reload: new accounts are carried (with the interest the
    /// peer sent in them before they existed here), removed ones dropped,
    /// and every account's rules refreshed.
    fn on_reload(&mut self) {
        let now = all_accounts(&self.server);
        let gone: Vec<Bytes> = self
            .accounts
            .iter()
            .filter(|(_, b)| !now.iter().any(|a| Arc::ptr_eq(a, &b.account)))
            .map(|(name, _)| name.clone())
            .collect();
        for name in &gone {
            self.unbind(name);
        }
        for account in now {
            match self.accounts.get_mut(account.name.as_bytes()) {
                Some(bound) => bound.rules = account.rules(),
                None => {
                    let name = Bytes::copy_from_slice(account.name.as_bytes());
                    self.bind(account);
                    for held in self.held.take(&name) {
                        self.on_sub(&held.account, &held.subject, held.queue.as_deref());
                    }
                }
            }
        }
        self.publish_interest();
    }

    /// Removes everything the route put in the accounts: the watchers and
    /// the peer's interest. Idempotent.
    pub(super) fn unregister(&mut self) {
        let names: Vec<Bytes> = self.accounts.keys().cloned().collect();
        for name in &names {
            self.unbind(name);
        }
    }
}

impl Drop for RouteConn {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// Where a route's messages leave the plugin stage: delivery in their
/// account.
struct RouteSink<'c> {
    account: &'c Arc<Account>,
    ctx: &'c mut DeliveryCtx,
}

impl Sink for RouteSink<'_> {
    fn deliver(&mut self, msg: Message<'_>) {
        deliver(self.account, msg, self.ctx);
    }

    fn refuse(&mut self, _reply: Option<&[u8]>, reason: &str) {
        tracing::debug!(reason, "plugin refused a message from a route");
    }
}
