//! One client connection: the read loop that parses and acts on operations,
//! and the write loop that drains the outbound buffer to the socket.
//!
//! All state of the read side lives in `Connection`, never in locals held
//! across an `.await`, so every branch of the `select!` is cancellation safe.

use super::account::{Account, AccountRules, DEFAULT_MAX_SUBSCRIPTION_BYTES};
use super::claims;
use super::close::CloseReason;
use super::deliver::{Message, publish_internal};
use super::handle::{ClientHandle, Subscription, Target};
use super::login::{LoginState, PendingLogin};
use super::plugin_stage::PendingTransforms;
use super::responses::RESPONSE_PREFIX;
use super::stats::LocalStats;
use super::sysreq;
use super::{Shared, write_loop};
use crate::protocol::{
    ConnectOptions, Limits, Op, ParseError, ServerInfo, encode_err, encode_info, parse,
};
use crate::subject::{
    MatchCache, footprint, is_valid_literal_subject, is_valid_subject, subjects_overlap,
};
use crate::tenant::permissions::{CompiledPermissions, PublishCheckCache};
use bytes::{Buf, Bytes, BytesMut};
use rustc_hash::FxHashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep};

/// Read buffer growth step; big enough that a busy publisher's batch is
/// parsed and flushed in few iterations.
const READ_CHUNK: usize = 64 * 1024;

/// A new connection's first read buffer. Most connections that only log in
/// and exchange a few small operations never need more, and allocating 64
/// KiB for each of them showed in connection set-up profiles; a publisher
/// that fills it grows it to [`READ_CHUNK`] within two reads.
const FIRST_READ_CHUNK: usize = 4 * 1024;

/// Longest pause of a publisher whose destinations are above high water.
const STALL_MAX: std::time::Duration = std::time::Duration::from_millis(10);

/// The exact nats-server text for a refused subscription.
pub(super) fn sub_violation(subject: &[u8], queue: Option<&[u8]>) -> String {
    let subject = String::from_utf8_lossy(subject);
    match queue {
        Some(q) => format!(
            "Permissions Violation for Subscription to \"{subject}\" using queue \"{}\"",
            String::from_utf8_lossy(q)
        ),
        None => format!("Permissions Violation for Subscription to \"{subject}\""),
    }
}

/// A client's subscription and its copies in exporters' indexes.
pub(super) struct SubEntry {
    pub(super) sub: Arc<Subscription>,
    pub(super) shadows: Vec<Arc<Subscription>>,
    /// Bytes charged to the account's subscription memory for it.
    pub(super) charged: usize,
}

pub(super) struct Connection {
    pub(super) handle: Arc<ClientHandle>,
    pub(super) server: Arc<Shared>,
    pub(super) account: Arc<Account>,
    pub(super) opts: ConnectOptions,
    pub(super) connected: bool,
    pub(super) limits: Limits,
    /// The account's rules as of binding or the last reload.
    pub(super) rules: Arc<AccountRules>,
    /// `None`: unrestricted.
    pub(super) perms: Option<Arc<CompiledPermissions>>,
    pub(super) pub_cache: PublishCheckCache,
    pub(super) subs: FxHashMap<Bytes, SubEntry>,
    pub(super) cache: MatchCache<Arc<Subscription>>,
    /// Destinations this batch made non-empty; woken once at batch end.
    pub(super) wake: Vec<Arc<ClientHandle>>,
    /// Destinations above their high-water mark; this connection pauses
    /// reading for a moment so they can catch up.
    pub(super) stalled: Vec<Arc<ClientHandle>>,
    /// Scratch for export transforms during one delivery (see `deliver`).
    pub(super) crossed: super::deliver::Crossed,
    pub(super) stats: LocalStats,
    pings_out: u32,
    /// When the oldest unanswered server PING left, to measure the round trip.
    ping_sent: Option<Instant>,
    sent_connect_info: bool,
    read_buf: BytesMut,
    /// How much room a read is given: grows from [`FIRST_READ_CHUNK`] to
    /// [`READ_CHUNK`] when reads fill it.
    read_chunk: usize,
    pub(super) peer: SocketAddr,
    pub(super) login: LoginState,
    /// Messages waiting for a transform plugin (see `plugin_stage`).
    pub(super) transform_batch: PendingTransforms,
    /// Set once `close` or `abandon` has cleaned up; otherwise dropping
    /// the connection does (see `cleanup`).
    pub(super) finished: bool,
}

impl Connection {
    /// A connection that has not read or written anything yet; `setup`
    /// decides how its socket is wrapped before `serve` runs it.
    pub(super) fn new(peer: SocketAddr, server: Arc<Shared>, handle: Arc<ClientHandle>) -> Self {
        let account = server.global.clone();
        let rules = account.rules();
        Connection {
            transform_batch: None,
            rules,
            perms: None,
            pub_cache: PublishCheckCache::new(),
            limits: Limits {
                max_control_line: server.config.max_control_line,
                max_payload: server.config.max_payload,
            },
            // Before CONNECT nats-server applies the defaults (verbose,
            // pedantic and echo on).
            opts: ConnectOptions::from_json(b"{}").unwrap_or_default(),
            handle,
            account,
            connected: false,
            subs: FxHashMap::default(),
            cache: MatchCache::default(),
            wake: Vec::new(),
            stalled: Vec::new(),
            crossed: Vec::new(),
            stats: LocalStats::default(),
            pings_out: 0,
            ping_sent: None,
            sent_connect_info: false,
            read_buf: BytesMut::with_capacity(FIRST_READ_CHUNK),
            read_chunk: FIRST_READ_CHUNK,
            peer,
            login: LoginState::new(&server),
            server,
            finished: false,
        }
    }

    /// The INFO line this connection is greeted with.
    pub(super) fn info_line(&self) -> BytesMut {
        let mut buf = BytesMut::new();
        encode_info(&mut buf, &self.info(false));
        buf
    }

    /// Runs the connection over its socket halves until it closes. Generic
    /// so a plaintext connection keeps tokio's lock-free TCP halves and only
    /// TLS connections pay for TLS. `greeted`: INFO already went out (in
    /// plaintext, before a TLS upgrade).
    pub(super) async fn serve<R, W>(mut self, rd: R, wr: W, greeted: bool)
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        if !greeted {
            let info = self.info(false);
            self.handle.control(|b| encode_info(b, &info));
        }
        let writer = tokio::spawn(write_loop(wr, self.handle.clone(), self.server.clone()));
        let reason = self.read_loop(rd).await;
        self.close(reason, writer).await;
    }

    /// Ends a connection that never started serving (its TLS handshake
    /// failed): nothing to flush, nothing to announce.
    pub(super) fn abandon(mut self, reason: CloseReason) {
        tracing::debug!(cid = self.handle.id, peer = %self.peer, ?reason, "connection closed before serving");
        self.server.forget(self.handle.id);
        self.finished = true;
    }

    async fn read_loop<R: AsyncRead + Unpin>(&mut self, mut rd: R) -> CloseReason {
        let cfg = &self.server.config;
        let mut shutdown = self.server.shutdown.subscribe();
        let mut ping = interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let auth_required = self.server.auth_required();
        let auth_deadline = sleep(cfg.auth_timeout);
        tokio::pin!(auth_deadline);
        // Armed when a login's credentials carry an expiry.
        let expiry = sleep(std::time::Duration::from_secs(365 * 24 * 3600));
        tokio::pin!(expiry);
        let mut armed: Option<Instant> = None;
        let handle = self.handle.clone();
        loop {
            if self.login.expires != armed {
                armed = self.login.expires;
                if let Some(at) = armed {
                    expiry.as_mut().reset(at);
                }
            }
            if self.read_buf.capacity() - self.read_buf.len() < self.read_chunk / 4 {
                self.read_buf.reserve(self.read_chunk);
            }
            let room = self.read_buf.capacity() - self.read_buf.len();
            tokio::select! {
                biased;
                _ = handle.killed() => return handle.kill_reason(),
                _ = handle.reload_requested() => {
                    if let Err(reason) = self.on_reload() {
                        return reason;
                    }
                }
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = &mut auth_deadline, if auth_required && !self.connected => return CloseReason::AuthTimeout,
                _ = &mut expiry, if armed.is_some() => return CloseReason::AuthExpired,
                _ = ping.tick() => {
                    if let Err(reason) = self.on_ping_timer() {
                        return reason;
                    }
                }
                checked = PendingLogin::finished(&mut self.login.pending), if self.login.pending.is_some() => {
                    let pending = self.login.pending.take().expect("branch runs only when pending");
                    if let Err(reason) = self
                        .finish_pending_login(pending, checked)
                        .and_then(|()| self.process())
                    {
                        return reason;
                    }
                }
                read = rd.read_buf(&mut self.read_buf), if self.login.pending.is_none() => match read {
                    Ok(0) => return CloseReason::ClientClosed,
                    Ok(n) => {
                        if n == room && self.read_chunk < READ_CHUNK {
                            self.read_chunk = (self.read_chunk * 4).min(READ_CHUNK);
                        }
                        if let Err(reason) = self.process() {
                            return reason;
                        }
                        if !self.stalled.is_empty() {
                            self.stall().await;
                        }
                    }
                    Err(_) => return CloseReason::ReadError,
                },
            }
        }
    }

    /// Parses and handles every complete operation in the read buffer, then
    /// wakes the writers of every destination touched.
    fn process(&mut self) -> Result<(), CloseReason> {
        self.handle.counters.touch(SystemTime::now());
        self.check_first_op()?;
        let mut buf = std::mem::take(&mut self.read_buf);
        let mut at = 0;
        let result = loop {
            if self.login.pending.is_some() {
                // The rest waits in the buffer until the login is checked.
                break Ok(());
            }
            match parse(&buf[at..], &self.limits) {
                Ok(Some((op, used))) => {
                    at += used;
                    if let Err(reason) = self.on_op(op) {
                        break Err(reason);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => {
                    if let ParseError::BadArguments { op } = e {
                        tracing::debug!(cid = self.handle.id, op, "malformed arguments");
                    }
                    break Err(CloseReason::from(e));
                }
            }
        };
        self.flush_transforms();
        buf.advance(at);
        self.read_buf = buf;
        self.finish_batch();
        result
    }

    /// When authentication is required the first operation must be
    /// CONNECT. Decided on the first byte, as nats-server's parser does, so
    /// `PUB a 1000000` and its payload are refused before they are
    /// buffered, not when the auth timeout fires.
    fn check_first_op(&self) -> Result<(), CloseReason> {
        let first = self.read_buf.first();
        if !self.connected
            && self.login.pending.is_none()
            && first.is_some_and(|b| !b.eq_ignore_ascii_case(&b'C'))
            && self.server.auth_required()
        {
            return Err(CloseReason::AuthViolation);
        }
        Ok(())
    }

    /// Pauses this publisher until its busiest destinations drain below
    /// their high-water mark, for at most `STALL_MAX`. A reader that keeps
    /// up survives a burst; one that has stopped reading still overflows
    /// and is cut off, so the pause is always bounded.
    async fn stall(&mut self) {
        let deadline = Instant::now() + STALL_MAX;
        for dest in self.stalled.drain(..) {
            if tokio::time::timeout_at(deadline, dest.outbound.wait_drained())
                .await
                .is_err()
            {
                break;
            }
        }
        self.stalled.clear();
    }

    pub(super) fn finish_batch(&mut self) {
        for dest in self.wake.drain(..) {
            dest.outbound.wake_writer();
        }
        // Monitoring counters: a few uncontended atomics per batch, never
        // per message.
        let counters = &self.handle.counters;
        if self.stats.in_msgs > 0 {
            counters
                .in_msgs
                .fetch_add(self.stats.in_msgs, Ordering::Relaxed);
            counters
                .in_bytes
                .fetch_add(self.stats.in_bytes, Ordering::Relaxed);
        }
        let hits = self.cache.take_hits();
        if hits > 0 {
            self.server
                .stats
                .cache_hits
                .fetch_add(hits, Ordering::Relaxed);
        }
        counters
            .cache_entries
            .store(self.cache.len(), Ordering::Relaxed);
        self.stats.publish(&self.server.stats);
        if self.handle.expired_subs.swap(0, Ordering::AcqRel) > 0 {
            let expired: Vec<Bytes> = self
                .subs
                .iter()
                .filter(|(_, e)| e.sub.is_expired())
                .map(|(sid, _)| sid.clone())
                .collect();
            for sid in expired {
                if let Some(entry) = self.subs.remove(&sid) {
                    self.unindex(&entry);
                }
            }
        }
    }

    fn on_op(&mut self, op: Op<'_>) -> Result<(), CloseReason> {
        if let Op::Connect(json) = op {
            return self.on_connect(json);
        }
        if !self.connected && self.server.auth_required() {
            return Err(CloseReason::AuthViolation);
        }
        if !matches!(op, Op::Pub { .. }) {
            // Nothing may overtake messages waiting for a transform.
            self.flush_transforms();
        }
        match op {
            Op::Ping => {
                self.handle.control(|b| b.extend_from_slice(b"PONG\r\n"));
                if self.connected && self.opts.protocol >= 1 && !self.sent_connect_info {
                    self.sent_connect_info = true;
                    let info = self.info(true);
                    self.handle.control(|b| encode_info(b, &info));
                }
            }
            Op::Pong => {
                self.pings_out = 0;
                if let Some(sent) = self.ping_sent.take() {
                    self.handle.counters.set_rtt(sent.elapsed());
                }
                self.handle.counters.finish_rtt_ping();
            }
            Op::Pub {
                subject,
                reply,
                headers,
                payload,
            } => self.on_pub(subject, reply, headers, payload)?,
            Op::Sub {
                subject,
                queue,
                sid,
            } => self.on_sub(subject, queue, sid),
            Op::Unsub { sid, max } => self.on_unsub(sid, max),
            // Clients may send these; nats-server ignores them from clients.
            Op::Info(_) | Op::Ok | Op::Err(_) => {}
            Op::Msg { .. } => return Err(CloseReason::UnknownOp),
            Op::Connect(_) => unreachable!("handled above"),
        }
        Ok(())
    }

    fn on_pub(
        &mut self,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> Result<(), CloseReason> {
        if headers.is_some() && !self.opts.headers {
            return Err(CloseReason::ProtocolViolation);
        }
        if self.opts.pedantic && !is_valid_literal_subject(subject) {
            self.send_err("Invalid Publish Subject");
        }
        if let Some(reply) = reply.filter(|r| r.starts_with(RESPONSE_PREFIX)) {
            // `_R_.` replies belong to the broker's service-import tracking.
            let reply = String::from_utf8_lossy(reply);
            self.send_err(&format!(
                "Permissions Violation for Publish with Reply of \"{reply}\""
            ));
            return Ok(());
        }
        self.ok();
        self.stats.in_msgs += 1;
        self.stats.in_bytes += (payload.len() + headers.map_or(0, <[u8]>::len)) as u64;
        // Mappings first: permissions apply to the mapped subject.
        let mapped = if self.rules.mappings.is_empty() {
            None
        } else {
            self.rules.mappings.map(subject)
        };
        let subject = mapped.as_deref().unwrap_or(subject);
        if !self.may_publish(subject) {
            let subject = String::from_utf8_lossy(subject);
            self.send_err(&format!(
                "Permissions Violation for Publish to \"{subject}\""
            ));
            return Ok(());
        }
        if subject.starts_with(sysreq::PREFIX)
            && self.is_system_account()
            && let Some(answer) = self.answer_system_request(subject, payload)
        {
            if let Some(reply) = reply {
                publish_internal(&self.server, &self.account, reply, &answer);
            }
            return Ok(());
        }
        self.publish(Message {
            subject,
            reply,
            headers,
            payload,
        });
        Ok(())
    }

    /// Requests the server answers itself for system-account clients:
    /// account claims updates and monitoring (`$SYS.REQ.SERVER.*`).
    fn answer_system_request(&self, subject: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
        if let Some(request) = claims::request(subject) {
            return claims::answer(&self.server, request, payload);
        }
        let kind = sysreq::server_request(subject, &self.server.info.server_id)?;
        Some(crate::monitor::answer_system_request(
            &super::Observer::new(self.server.clone()),
            kind,
            payload,
        ))
    }

    fn is_system_account(&self) -> bool {
        Arc::ptr_eq(&self.account, &self.server.tenancy().system)
    }

    /// Publish permissions, with replies allowed by `allow_responses`.
    fn may_publish(&mut self, subject: &[u8]) -> bool {
        match &self.perms {
            None => true,
            Some(p) => {
                p.can_publish_cached(&mut self.pub_cache, subject)
                    || self.handle.take_reply_permit(subject)
            }
        }
    }

    fn on_sub(&mut self, subject: &[u8], queue: Option<&[u8]>, sid: &[u8]) {
        if !is_valid_subject(subject)
            || queue.is_some_and(|q| !is_valid_literal_subject(q))
            || !self.within_subject_limits(subject)
        {
            self.send_err("Invalid Subject");
            return;
        }
        if let Some(p) = &self.perms
            && !p.can_subscribe(subject, queue)
        {
            self.send_err(&sub_violation(subject, queue));
            return;
        }
        // A duplicate sid is ignored, as nats-server does.
        if self.subs.contains_key(sid) {
            self.ok();
            return;
        }
        if self
            .login
            .max_subscriptions
            .is_some_and(|max| self.subs.len() >= max)
        {
            self.send_err("maximum subscriptions exceeded");
            return;
        }
        let charge = footprint(subject, queue);
        let budget = self
            .rules
            .max_subscription_bytes
            .unwrap_or(DEFAULT_MAX_SUBSCRIPTION_BYTES);
        // Checked, then charged: connections racing at the edge may
        // overshoot by one subscription each, never more.
        if self.account.subscription_bytes.load(Ordering::Relaxed) + charge > budget {
            tracing::debug!(
                cid = self.handle.id,
                budget,
                "tenant subscription memory exhausted"
            );
            self.send_err("maximum subscriptions exceeded");
            return;
        }
        let sid = Bytes::copy_from_slice(sid);
        let queue = queue.map(Bytes::copy_from_slice);
        let sub = Arc::new(Subscription::new(
            Target::Client(self.handle.clone()),
            sid.clone(),
            Bytes::copy_from_slice(subject),
            queue.clone(),
        ));
        if let Some(p) = &self.perms {
            let filter = p.sub_needs_delivery_filter(subject);
            sub.needs_filter.store(filter, Ordering::Relaxed);
        }
        self.account
            .index
            .insert(subject, queue.as_ref(), sub.clone());
        let shadows = self.shadows_for(&sub);
        let charged = charge * (1 + shadows.len());
        self.account
            .subscription_bytes
            .fetch_add(charged, Ordering::Relaxed);
        self.subs.insert(
            sid,
            SubEntry {
                sub,
                shadows,
                charged,
            },
        );
        self.ok();
    }

    /// The server's `max_subject_length` and `max_subject_tokens`, which
    /// bound what one subscription can make the index hold.
    fn within_subject_limits(&self, subject: &[u8]) -> bool {
        let cfg = &self.server.config;
        subject.len() <= cfg.max_subject_length
            && memchr::memchr_iter(b'.', subject).count() < cfg.max_subject_tokens
    }

    /// Places copies of `sub` in the exporters' indexes for every stream
    /// import it overlaps.
    pub(super) fn shadows_for(&self, sub: &Arc<Subscription>) -> Vec<Arc<Subscription>> {
        let mut shadows = Vec::new();
        for import in &self.rules.stream_imports {
            if !subjects_overlap(&sub.subject, &import.local) {
                continue;
            }
            let filter = import.exporter_filter(&sub.subject);
            let shadow = Arc::new(Subscription::shadow(
                sub,
                import.clone(),
                filter,
                &self.account.name,
            ));
            import
                .exporter
                .index
                .insert(&shadow.subject, shadow.queue.as_ref(), shadow.clone());
            shadows.push(shadow);
        }
        shadows
    }

    fn on_unsub(&mut self, sid: &[u8], max: Option<u64>) {
        let remove_now = match (self.subs.get(sid), max) {
            (Some(entry), Some(max)) if max > 0 => entry.sub.set_max(max),
            (Some(_), _) => true,
            (None, _) => false,
        };
        if remove_now && let Some(entry) = self.subs.remove(sid) {
            self.unindex(&entry);
        }
        self.ok();
    }

    pub(super) fn unindex(&self, entry: &SubEntry) {
        // Saturating: a subscription made before CONNECT bound the
        // connection to its tenant was charged to the account it had then.
        let _ = self.account.subscription_bytes.fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |v| Some(v.saturating_sub(entry.charged)),
        );
        let sub = &entry.sub;
        self.account
            .index
            .remove(&sub.subject, sub.queue.as_ref(), |s| Arc::ptr_eq(s, sub));
        for shadow in &entry.shadows {
            shadow.remove_shadow();
        }
    }

    fn on_ping_timer(&mut self) -> Result<(), CloseReason> {
        if self.pings_out + 1 > self.server.config.ping_max {
            return Err(CloseReason::StaleConnection);
        }
        self.pings_out += 1;
        if self.ping_sent.is_none() {
            self.ping_sent = Some(Instant::now());
        }
        self.handle.control(|b| b.extend_from_slice(b"PING\r\n"));
        Ok(())
    }

    pub(super) fn ok(&self) {
        if self.opts.verbose {
            self.handle.control(|b| b.extend_from_slice(b"+OK\r\n"));
        }
    }

    pub(super) fn send_err(&self, text: &str) {
        self.handle.control(|b| encode_err(b, text));
    }

    fn info(&self, connect_info: bool) -> ServerInfo {
        let mut info = self.server.info.clone();
        info.client_id = self.handle.id;
        info.client_ip = Some(self.peer.ip().to_string());
        info.nonce = self.login.nonce.clone();
        info.auth_required |= info.nonce.is_some();
        if connect_info {
            info.connect_info = true;
            info.remote_account = Some(self.account.name.to_string());
        }
        info
    }
}
