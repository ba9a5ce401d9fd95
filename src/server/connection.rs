//! One client connection's read side: the loop that reads, parses and
//! acts on operations. Login is `crate::login`, delivery `crate::route`
//! (through `outlet`), the write side `writer`, the end `cleanup`.
//!
//! All state of the read side lives in `Connection`, never in locals held
//! across an `.await`, so every branch of the `select!` is cancellation safe.

use super::outlet::Outlet;
use super::reader::Reader;
use super::shared::Shared;
use super::subs::{Subscriptions, unindex};
use super::writer;
use crate::auth::{TlsPeer, new_nonce};
use crate::client::{ClientHandle, CloseReason, SHARE_MAX, SHARE_MIN};
use crate::login::{PendingLogin, Session};
use crate::plugin::PublisherInfo;
use crate::protocol::{
    ConnectOptions, Limits, Op, ParseError, ServerInfo, encode_err, encode_info, parse,
};
use crate::route::{DeliveryCtx, Message, PluginStage, Publisher};
use crate::subject::is_valid_literal_subject;
use crate::tenant::RESPONSE_PREFIX;
use bytes::{Buf, Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep};

/// Longest pause of a publisher whose destinations are above high water.
const STALL_MAX: std::time::Duration = std::time::Duration::from_millis(10);

/// What a connection keeps about its login besides the session.
pub(super) struct LoginState {
    /// Sent in INFO when some user logs in with an nkey.
    pub nonce: Option<String>,
    /// The verified client certificate's identity (TLS with `verify`).
    pub tls_peer: Option<Arc<TlsPeer>>,
    /// A CONNECT whose credentials are being checked (boxed: most
    /// connections hold none for most of their life).
    pub pending: Option<Box<PendingLogin>>,
    pub started: SystemTime,
}

impl LoginState {
    pub fn new(server: &Shared) -> LoginState {
        LoginState {
            nonce: server.tenancy().nonce_required().then(new_nonce),
            tls_peer: None,
            pending: None,
            started: SystemTime::now(),
        }
    }
}

/// Server PINGs without an answer, and when the oldest left (to measure
/// the round trip).
#[derive(Default)]
struct Pinger {
    out: u32,
    sent: Option<Instant>,
    /// When the connection was greeted, until its first CONNECT: the
    /// INFO-to-CONNECT time is the first RTT estimate, as nats-server
    /// makes it, so `/connz` shows an `rtt` from the start.
    greeted: Option<Instant>,
}

/// Where a connection is in its life.
#[derive(Default)]
pub(super) struct Phase {
    /// CONNECT accepted (and its login, if any, succeeded).
    pub(super) connected: bool,
    /// The INFO with `connect_info` went out after the first PING.
    sent_connect_info: bool,
    /// `close` or `abandon` has cleaned up; otherwise dropping the
    /// connection does (see `cleanup`).
    pub(super) finished: bool,
}

pub(super) struct Connection {
    pub(super) handle: Arc<ClientHandle>,
    pub(super) server: Arc<Shared>,
    pub(super) peer: SocketAddr,
    pub(super) phase: Phase,
    pub(super) opts: ConnectOptions,
    /// The credentials check in progress and what it reads.
    pub(super) login: LoginState,
    /// The tenant account and the rules this connection is bound to.
    pub(super) session: Session,
    pub(super) subs: Subscriptions,
    /// Messages waiting for a transform plugin.
    pub(super) plugins: PluginStage,
    pub(super) delivery: DeliveryCtx,
    reader: Reader,
    pinger: Pinger,
}

impl Connection {
    /// A connection that has not read or written anything yet; `setup`
    /// decides how its socket is wrapped before `serve` runs it.
    pub(super) fn new(peer: SocketAddr, server: Arc<Shared>, handle: Arc<ClientHandle>) -> Self {
        let max_payload = server.config.max_payload;
        Connection {
            session: Session::unbound(server.global.clone(), max_payload),
            plugins: PluginStage::default(),
            delivery: DeliveryCtx::new(Some(handle.clone()), max_payload),
            reader: Reader::new(Limits {
                max_control_line: server.config.max_control_line,
                max_payload,
            }),
            // Before CONNECT nats-server applies the defaults (verbose,
            // pedantic and echo on).
            opts: ConnectOptions::from_json(b"{}").unwrap_or_default(),
            handle,
            phase: Phase::default(),
            subs: Subscriptions::default(),
            pinger: Pinger {
                greeted: Some(Instant::now()),
                ..Pinger::default()
            },
            peer,
            login: LoginState::new(&server),
            server,
        }
    }

    /// Takes the first RTT estimate, at the first CONNECT.
    pub(super) fn estimate_rtt(&mut self) {
        if let Some(greeted) = self.pinger.greeted.take() {
            self.handle.counters.set_rtt(greeted.elapsed());
        }
    }

    /// The payload limit the parser enforces (the session's, once bound).
    pub(super) fn reader_limits(&mut self, max_payload: usize) {
        self.reader.limits.max_payload = max_payload;
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
        let writer = tokio::spawn(writer::write_loop(
            wr,
            self.handle.clone(),
            self.server.config.write_deadline,
        ));
        let reason = self.read_loop(rd).await;
        self.close(reason, writer).await;
    }

    /// Ends a connection that never started serving (its TLS handshake
    /// failed): nothing to flush, nothing to announce.
    pub(super) fn abandon(mut self, reason: CloseReason) {
        tracing::debug!(cid = self.handle.id, peer = %self.peer, ?reason, "connection closed before serving");
        self.server.forget(self.handle.id);
        self.phase.finished = true;
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
            if self.session.expires != armed {
                armed = self.session.expires;
                if let Some(at) = armed {
                    expiry.as_mut().reset(at);
                }
            }
            let room = self.reader.prepare();
            tokio::select! {
                biased;
                _ = handle.killed() => return handle.kill_reason(),
                _ = handle.reload_requested() => {
                    if let Err(reason) = self.on_reload() {
                        return reason;
                    }
                }
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = &mut auth_deadline, if auth_required && !self.phase.connected => return CloseReason::AuthTimeout,
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
                read = Reader::read_from(&mut rd, &mut self.reader.buf, room), if self.login.pending.is_none() => match read {
                    Ok(0) => return CloseReason::ClientClosed,
                    Ok(n) => {
                        self.reader.note_read(n, room);
                        if let Err(reason) = self.process() {
                            return reason;
                        }
                        if !self.delivery.stalled.is_empty() {
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
        let mut buf = std::mem::take(&mut self.reader.buf);
        let mut at = 0;
        let result = loop {
            if self.login.pending.is_some() {
                // The rest waits in the buffer until the login is checked.
                break Ok(());
            }
            match parse(&buf[at..], &self.reader.limits) {
                Ok(Some((op, used))) => {
                    // The frame's whole length decides, as in
                    // `Reader::prepare`: a frame given a buffer of its own
                    // there is frozen here.
                    let large = used <= SHARE_MAX
                        && matches!(&op, Op::Pub { payload, .. } if payload.len() >= SHARE_MIN)
                        && self.reader.may_share(used);
                    at += used;
                    let frozen;
                    let (op, shared) = if large {
                        // Everything up to the frame's end leaves the read
                        // buffer without a copy, so its payload can be
                        // shared by every subscriber's queue.
                        frozen = self.reader.freeze(&mut buf, at);
                        at = 0;
                        match reparse_large(&frozen, frozen.len() - used, &self.reader.limits) {
                            Ok(Some(parsed)) => parsed,
                            Ok(None) => continue,
                            Err(reason) => break Err(reason),
                        }
                    } else {
                        (op, None)
                    };
                    // One call site, so that it stays inlined into this
                    // loop: every small operation goes through it.
                    if let Err(reason) = self.on_op(op, shared.as_ref()) {
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
        self.reader.buf = buf;
        let stats = &self.delivery.stats;
        self.reader.note_batch(stats.in_msgs, stats.in_bytes);
        self.finish_batch();
        result
    }

    /// When authentication is required the first operation must be
    /// CONNECT. Decided on the first byte, as nats-server's parser does, so
    /// `PUB a 1000000` and its payload are refused before they are
    /// buffered, not when the auth timeout fires.
    fn check_first_op(&self) -> Result<(), CloseReason> {
        let first = self.reader.buf.first();
        if !self.phase.connected
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
        self.server.stats.stalls.fetch_add(1, Ordering::Relaxed);
        self.delivery.wait_stalled(STALL_MAX).await;
    }

    pub(super) fn finish_batch(&mut self) {
        self.delivery.wake_all();
        // Monitoring counters: a few uncontended atomics per batch, never
        // per message.
        let counters = &self.handle.counters;
        let stats = &self.delivery.stats;
        if stats.in_msgs > 0 {
            counters.in_msgs.fetch_add(stats.in_msgs, Ordering::Relaxed);
            counters
                .in_bytes
                .fetch_add(stats.in_bytes, Ordering::Relaxed);
        }
        let hits = self.delivery.cache.take_hits();
        if hits > 0 {
            self.server
                .stats
                .cache_hits
                .fetch_add(hits, Ordering::Relaxed);
        }
        counters
            .cache_entries
            .store(self.delivery.cache.len(), Ordering::Relaxed);
        self.server.stats.absorb(&mut self.delivery.stats);
        if self.handle.expired_subs.swap(0, Ordering::AcqRel) > 0 {
            let expired: Vec<Bytes> = self
                .subs
                .iter()
                .filter(|(_, e)| e.sub.is_expired())
                .map(|(sid, _)| sid.clone())
                .collect();
            for sid in expired {
                if let Some(entry) = self.subs.remove(&sid) {
                    unindex(&self.session.account, &entry);
                }
            }
        }
    }

    /// `shared`: a PUB's payload as shared `Bytes`, when it is large.
    fn on_op(&mut self, op: Op<'_>, shared: Option<&Bytes>) -> Result<(), CloseReason> {
        if let Op::Connect(json) = op {
            return self.on_connect(json);
        }
        if !self.phase.connected && self.server.auth_required() {
            return Err(CloseReason::AuthViolation);
        }
        if !matches!(op, Op::Pub { .. }) {
            // Nothing may overtake messages waiting for a transform.
            self.flush_transforms();
        }
        match op {
            Op::Ping => {
                self.handle.control(|b| b.extend_from_slice(b"PONG\r\n"));
                if self.phase.connected && self.opts.protocol >= 1 && !self.phase.sent_connect_info
                {
                    self.phase.sent_connect_info = true;
                    let info = self.info(true);
                    self.handle.control(|b| encode_info(b, &info));
                }
            }
            Op::Pong => {
                self.pinger.out = 0;
                if let Some(sent) = self.pinger.sent.take() {
                    self.handle.counters.set_rtt(sent.elapsed());
                }
                self.handle.counters.finish_rtt_ping();
            }
            Op::Pub {
                subject,
                reply,
                headers,
                payload,
            } => self.on_pub(subject, reply, headers, payload, shared)?,
            Op::Sub {
                subject,
                queue,
                sid,
            } => self.on_sub(subject, queue, sid),
            Op::Unsub { sid, max } => self.on_unsub(sid, max),
            // Clients may send these; nats-server ignores them from clients.
            Op::Info(_) | Op::Ok | Op::Err(_) => {}
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
        shared: Option<&Bytes>,
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
        self.delivery.stats.in_msgs += 1;
        self.delivery.stats.in_bytes += (payload.len() + headers.map_or(0, <[u8]>::len)) as u64;
        // Mappings first: permissions apply to the mapped subject.
        let rules = &self.session.rules;
        let mapped = if rules.mappings.is_empty() {
            None
        } else {
            rules.mappings.map(subject)
        };
        let subject = mapped.as_deref().unwrap_or(subject);
        if !self.may_publish(subject) {
            let subject = String::from_utf8_lossy(subject);
            self.send_err(&format!(
                "Permissions Violation for Publish to \"{subject}\""
            ));
            return Ok(());
        }
        if self.answered_by_server(subject, reply, payload) {
            return Ok(());
        }
        self.publish(Message {
            subject,
            reply,
            headers,
            payload,
            shared,
        });
        Ok(())
    }

    /// Hands a permitted message to the plugin stage, which delivers it.
    fn publish(&mut self, msg: Message<'_>) {
        let (stage, from, mut outlet) = self.publish_parts();
        stage.publish(&from, msg, &mut outlet);
    }

    /// Delivers what waits for a transform.
    pub(super) fn flush_transforms(&mut self) {
        if self.plugins.is_pending() {
            let (stage, from, mut outlet) = self.publish_parts();
            stage.flush(&from, &mut outlet);
        }
    }

    /// The plugin stage, who publishes, and where delivery writes: three
    /// disjoint borrows of the connection.
    fn publish_parts(&mut self) -> (&mut PluginStage, Publisher<'_>, Outlet<'_>) {
        let from = Publisher {
            plugins: self.session.rules.plugins.as_ref(),
            info: PublisherInfo {
                user: self.session.user().unwrap_or(""),
                client_id: self.handle.id,
                client_name: self.opts.name.as_deref(),
            },
            max_payload: self.session.max_payload,
        };
        let outlet = Outlet {
            account: &self.session.account,
            ctx: &mut self.delivery,
            handle: &self.handle,
            subs: &self.subs,
            opts: &self.opts,
        };
        (&mut self.plugins, from, outlet)
    }

    /// Publish permissions, with replies allowed by `allow_responses`.
    fn may_publish(&mut self, subject: &[u8]) -> bool {
        let session = &mut self.session;
        match &session.perms {
            None => true,
            Some(p) => {
                p.can_publish_cached(&mut session.publish_cache, subject)
                    || self.handle.take_reply_permit(subject)
            }
        }
    }

    fn on_ping_timer(&mut self) -> Result<(), CloseReason> {
        self.reader.trim();
        if self.pinger.out + 1 > self.server.config.ping_max {
            return Err(CloseReason::StaleConnection);
        }
        self.pinger.out += 1;
        if self.pinger.sent.is_none() {
            self.pinger.sent = Some(Instant::now());
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
        let mut info = self.server.client_info();
        info.client_id = self.handle.id;
        info.client_ip = Some(self.peer.ip().to_string());
        info.nonce = self.login.nonce.clone();
        info.auth_required |= info.nonce.is_some();
        if connect_info {
            info.connect_info = true;
            info.remote_account = Some(self.session.account.name.to_string());
        }
        info
    }
}

/// The large PUB or HPUB at `frame[start..]`, split off the read buffer,
/// parsed again, with its payload as shared `Bytes`. The same bytes were
/// parsed a moment ago (`Connection::process`); parsing them again is
/// cheaper than carrying offsets of every field across the split, and
/// costs one control line per large payload.
fn reparse_large<'a>(
    frame: &'a Bytes,
    start: usize,
    limits: &Limits,
) -> Result<Option<(Op<'a>, Option<Bytes>)>, CloseReason> {
    let parsed = parse(&frame[start..], limits).map_err(CloseReason::from)?;
    Ok(parsed.map(|(op, _)| {
        let shared = match &op {
            Op::Pub { payload, .. } => Some(frame.slice_ref(payload)),
            _ => None,
        };
        (op, shared)
    }))
}
