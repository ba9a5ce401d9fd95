//! Fan-out of one published message to the subscriptions it matched, and
//! across accounts through imports.
//!
//! This is the hot path: the match comes from the connection's own cache,
//! every destination is written under its own lock only, and writers are
//! woken once per batch (see `Connection::finish_batch`). Imports cost
//! nothing unless a message actually matches one.

use super::Shared;
use super::account::{Account, ServiceImport};
use super::close::CloseReason;
use super::connection::Connection;
use super::handle::{Admit, ClientHandle, Shadow, Subscription, Target};
use super::outbound::Push;
use super::responses::{Forward, RESPONSE_PREFIX};
use super::stats::LocalStats;
use crate::plugin::TransformPlugin;
use crate::plugin::transform::{OutMessage, Produced};
use crate::protocol::{NO_RESPONDERS_STATUS, encode_hmsg, encode_msg};
use crate::subject::{MatchResult, matches};
use bytes::{BufMut, BytesMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Service imports may chain (A imports from B, which imports from C);
/// configuration rejects cycles, and this bounds the depth regardless.
const MAX_IMPORT_DEPTH: u8 = 8;

/// A message on its way out, borrowing from the publisher's read buffer.
#[derive(Clone, Copy)]
pub(super) struct Message<'a> {
    pub subject: &'a [u8],
    pub reply: Option<&'a [u8]>,
    pub headers: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

// The plugin host has its own view of a message (it sits below the
// server); these convert between the two and from a plugin's output.
impl<'a> From<OutMessage<'a>> for Message<'a> {
    fn from(m: OutMessage<'a>) -> Self {
        Message {
            subject: m.subject,
            reply: m.reply,
            headers: m.headers,
            payload: m.payload,
        }
    }
}

impl<'a> From<Message<'a>> for OutMessage<'a> {
    fn from(m: Message<'a>) -> Self {
        OutMessage {
            subject: m.subject,
            reply: m.reply,
            headers: m.headers,
            payload: m.payload,
        }
    }
}

impl<'a> From<&'a Produced> for Message<'a> {
    fn from(p: &'a Produced) -> Self {
        Message {
            subject: &p.subject,
            reply: p.reply.as_deref(),
            headers: p.headers.as_deref(),
            payload: &p.payload,
        }
    }
}

/// What delivery needs from the publishing connection, borrowed field by
/// field so the cached match can be read while the rest is updated.
struct Sender<'c> {
    /// The publishing connection; `None` for messages the server publishes.
    me: Option<&'c Arc<ClientHandle>>,
    echo: bool,
    /// The account whose index produced the match being delivered.
    account: &'c Arc<Account>,
    server: &'c Shared,
    wake: &'c mut Vec<Arc<ClientHandle>>,
    stalled: &'c mut Vec<Arc<ClientHandle>>,
    stats: &'c mut LocalStats,
    depth: u8,
    /// Set while delivering a request that crossed a service import: it
    /// goes to the exporter's service subscribers only, never to the
    /// exporter's stream importers (their shadows share its index).
    service_request: bool,
    /// What each export transform made of this message, so importers of
    /// one export share one call. Borrowed (and left empty) so that the
    /// common message, which crosses no export, pays no drop for it.
    crossed: &'c mut Crossed,
}

/// Export transforms' results for the message being delivered.
pub(super) type Crossed = Vec<(Arc<TransformPlugin>, Arc<Vec<Produced>>)>;

impl Connection {
    pub(super) fn route(&mut self, msg: Message<'_>) {
        // A response to a request that crossed a service import goes back
        // to the requester's account.
        if msg.subject.starts_with(RESPONSE_PREFIX)
            && let Some(forward) = self.account.responses.take(msg.subject)
        {
            self.forward_response(forward, msg, 0);
            return;
        }
        let result = self.cache.lookup(&self.account.index, msg.subject);
        let mut tx = Sender {
            me: Some(&self.handle),
            echo: self.opts.echo,
            account: &self.account,
            server: &self.server,
            wake: &mut self.wake,
            stalled: &mut self.stalled,
            stats: &mut self.stats,
            depth: 0,
            service_request: false,
            crossed: &mut self.crossed,
        };
        let delivered = tx.deliver_all(result, &msg);
        if !self.crossed.is_empty() {
            self.crossed.clear();
        }
        self.stats.max_fanout = self.stats.max_fanout.max(delivered as u64);
        if delivered == 0 && msg.reply.is_some() && self.opts.no_responders && self.opts.headers {
            self.no_responders(&msg);
        }
    }

    /// Sends a response that arrived on a tracked `_R_.` subject back to
    /// the requester. `hops` counts the service imports already walked
    /// back: with chained imports (A imports from B, B from C) the reply
    /// owed to A is itself a tracked subject in B.
    fn forward_response(&mut self, forward: Forward, msg: Message<'_>, hops: u8) {
        let Some(transform) = forward
            .transform
            .as_ref()
            .filter(|t| t.plugin.registered.matches(&t.request))
        else {
            self.deliver_response(&forward, msg, hops);
            return;
        };
        // The response leaves through the export: its transform decides
        // what the requester gets (always on the requester's reply subject).
        let original = OutMessage {
            subject: &transform.request,
            reply: None,
            headers: msg.headers,
            payload: msg.payload,
        };
        for p in transform.plugin.cross(original, self.limits.max_payload) {
            self.deliver_response(
                &forward,
                Message {
                    subject: msg.subject,
                    reply: None,
                    headers: p.headers.as_deref(),
                    payload: &p.payload,
                },
                hops,
            );
        }
    }

    fn deliver_response(&mut self, forward: &Forward, msg: Message<'_>, hops: u8) {
        // The responder's own reply subject belongs to its namespace and
        // must not leak into the requester's.
        let back = Message {
            subject: &forward.reply,
            reply: None,
            ..msg
        };
        if forward.reply.starts_with(RESPONSE_PREFIX)
            && hops < MAX_IMPORT_DEPTH
            && let Some(next) = forward.requester.responses.take(&forward.reply)
        {
            self.forward_response(next, back, hops + 1);
            return;
        }
        let result = forward.requester.index.match_subject(&forward.reply);
        let mut tx = Sender {
            me: Some(&self.handle),
            echo: true,
            account: &forward.requester,
            server: &self.server,
            wake: &mut self.wake,
            stalled: &mut self.stalled,
            stats: &mut self.stats,
            depth: 0,
            service_request: false,
            crossed: &mut Vec::new(),
        };
        tx.deliver_all(&result, &back);
    }

    /// Tells a requester at once that nobody received its request, on the
    /// requester's own subscription to the reply subject.
    fn no_responders(&self, msg: &Message<'_>) {
        let Some(reply) = msg.reply else { return };
        let Some(entry) = self.subs.values().find(|e| matches(&e.sub.subject, reply)) else {
            return;
        };
        let mut hdr = BytesMut::with_capacity(NO_RESPONDERS_STATUS.len() + msg.subject.len() + 20);
        hdr.put_slice(NO_RESPONDERS_STATUS);
        hdr.put_slice(b"Nats-Subject: ");
        hdr.put_slice(msg.subject);
        hdr.put_slice(b"\r\n\r\n");
        let sid = entry.sub.sid.clone();
        self.handle
            .control(|b| encode_hmsg(b, reply, &sid, None, &hdr, b""));
    }
}

impl Sender<'_> {
    /// Delivers to every plain subscriber and one member per queue group;
    /// returns how many deliveries were made.
    fn deliver_all(&mut self, result: &MatchResult<Arc<Subscription>>, msg: &Message<'_>) -> usize {
        let mut delivered = 0usize;
        for sub in &result.plain {
            if self.deliver(sub, msg) {
                delivered += 1;
            }
        }
        for (_, members) in &result.groups {
            // One member per group, starting at a random one and moving on
            // when a member is excluded (echo off) or gone.
            let n = members.len();
            let start = fastrand::usize(..n);
            if (0..n).any(|i| self.deliver(&members[(start + i) % n], msg)) {
                delivered += 1;
            }
        }
        delivered
    }

    fn deliver(&mut self, sub: &Arc<Subscription>, msg: &Message<'_>) -> bool {
        match &sub.target {
            Target::Service(import) => self.deliver_service(import, msg),
            Target::Client(dest) => match &sub.shadow {
                None => self.deliver_client(sub, dest, msg),
                // A stream importer's shadow: never for a service request.
                Some(_) if self.service_request => false,
                Some(shadow) => match &shadow.import.transform {
                    Some(plugin) if plugin.registered.matches(msg.subject) => {
                        let crossed = self.crossing(plugin, msg);
                        let mut delivered = false;
                        for p in crossed.iter() {
                            // What crosses stays inside the export.
                            if !matches(&shadow.import.source, &p.subject) {
                                continue;
                            }
                            delivered |= self.deliver_imported(sub, dest, shadow, &p.into());
                        }
                        delivered
                    }
                    _ => self.deliver_imported(sub, dest, shadow, msg),
                },
            },
        }
    }

    /// Delivers to an importer's subscription through its shadow: the
    /// subject is rewritten into the importer's namespace.
    fn deliver_imported(
        &mut self,
        sub: &Arc<Subscription>,
        dest: &Arc<ClientHandle>,
        shadow: &Shadow,
        msg: &Message<'_>,
    ) -> bool {
        let mut subject = Vec::with_capacity(msg.subject.len() + 16);
        shadow.import.rewrite.apply(msg.subject, &mut subject);
        // The shadow may be broader than what the client asked for.
        if !matches(&shadow.origin.subject, &subject) {
            return false;
        }
        self.deliver_client(
            sub,
            dest,
            &Message {
                subject: &subject,
                ..*msg
            },
        )
    }

    /// What `plugin` lets cross its export of `msg`, computed once per
    /// message however many importers subscribe.
    fn crossing(&mut self, plugin: &Arc<TransformPlugin>, msg: &Message<'_>) -> Arc<Vec<Produced>> {
        if let Some((_, done)) = self.crossed.iter().find(|(p, _)| Arc::ptr_eq(p, plugin)) {
            return done.clone();
        }
        let done = Arc::new(plugin.cross((*msg).into(), self.server.config.max_payload));
        self.crossed.push((plugin.clone(), done.clone()));
        done
    }

    /// Queues `msg` for a client subscription; false if it was not delivered.
    fn deliver_client(
        &mut self,
        sub: &Arc<Subscription>,
        dest: &Arc<ClientHandle>,
        msg: &Message<'_>,
    ) -> bool {
        if !self.echo && self.me.is_some_and(|me| Arc::ptr_eq(dest, me)) {
            return false;
        }
        if sub.needs_filter.load(Ordering::Relaxed) && !dest.delivery_allowed(msg.subject) {
            return false;
        }
        match sub.admit() {
            Admit::Yes => {}
            Admit::No => return false,
            Admit::Last => {
                self.account
                    .index
                    .remove(&sub.subject, sub.queue.as_ref(), |s| Arc::ptr_eq(s, sub));
                dest.expired_subs.fetch_add(1, Ordering::AcqRel);
            }
        }
        let headers = msg.headers.filter(|_| dest.supports_headers());
        let body = msg.payload.len() + headers.map_or(0, <[u8]>::len);
        let frame =
            body + msg.subject.len() + sub.sid.len() + msg.reply.map_or(0, <[u8]>::len) + 40;
        let pushed = dest.outbound.push_message(frame, body, |b| match headers {
            Some(h) => encode_hmsg(b, msg.subject, &sub.sid, msg.reply, h, msg.payload),
            None => encode_msg(b, msg.subject, &sub.sid, msg.reply, msg.payload),
        });
        match pushed {
            Push::Queued { wake, stall } => {
                if wake {
                    self.wake.push(dest.clone());
                }
                if stall && !self.stalled.iter().any(|d| Arc::ptr_eq(d, dest)) {
                    self.stalled.push(dest.clone());
                }
                self.stats.out_msgs += 1;
                self.stats.out_bytes += body as u64;
                if let Some(reply) = msg.reply {
                    dest.note_reply(reply);
                }
                true
            }
            Push::SlowConsumer => {
                // Counted once, when the connection closes.
                if dest.kill(CloseReason::SlowConsumer) {
                    tracing::warn!(
                        cid = dest.id,
                        "slow consumer: pending bytes over max_pending, closing"
                    );
                }
                false
            }
            Push::Closed => false,
        }
    }

    /// Carries a request into the exporting account: the subject is mapped
    /// to the exported one, the reply replaced by a tracked `_R_.` subject,
    /// and a `Nats-Request-Info` header names the requesting account.
    fn deliver_service(&mut self, import: &Arc<ServiceImport>, msg: &Message<'_>) -> bool {
        if self.depth >= MAX_IMPORT_DEPTH {
            return false;
        }
        let exporter = &import.exporter;
        let mut subject = Vec::with_capacity(msg.subject.len() + 16);
        import.rewrite.apply(msg.subject, &mut subject);
        let reply = msg.reply.map(|r| {
            exporter
                .responses
                .register(self.account.clone(), r, import, &subject)
        });
        let headers = request_info_headers(msg.headers, &self.account.name);
        let forwarded = Message {
            subject: &subject,
            reply: reply.as_deref(),
            headers: Some(&headers),
            payload: msg.payload,
        };
        let result = exporter.index.match_subject(&subject);
        let mut inner = Sender {
            me: self.me,
            echo: self.echo,
            account: exporter,
            server: self.server,
            wake: &mut *self.wake,
            stalled: &mut *self.stalled,
            stats: &mut *self.stats,
            depth: self.depth + 1,
            service_request: true,
            crossed: &mut Vec::new(),
        };
        let delivered = inner.deliver_all(&result, &forwarded);
        if delivered == 0
            && let Some(reply) = &reply
        {
            // Nobody will answer: forget the pending response now.
            exporter.responses.remove(reply);
        }
        delivered > 0
    }
}

/// Publishes a message from the server itself (system events) into `account`.
pub(super) fn publish_internal(
    server: &Shared,
    account: &Arc<Account>,
    subject: &[u8],
    payload: &[u8],
) {
    if account.index.is_empty() {
        return;
    }
    let result = account.index.match_subject(subject);
    let (mut wake, mut stalled, mut stats) = (Vec::new(), Vec::new(), LocalStats::default());
    let mut tx = Sender {
        me: None,
        echo: true,
        account,
        server,
        wake: &mut wake,
        stalled: &mut stalled,
        stats: &mut stats,
        depth: 0,
        service_request: false,
        crossed: &mut Vec::new(),
    };
    tx.deliver_all(
        &result,
        &Message {
            subject,
            reply: None,
            headers: None,
            payload,
        },
    );
    for dest in wake {
        dest.outbound.wake_writer();
    }
    stats.publish(&server.stats);
}

/// The header naming the requesting account of a request that crossed a
/// service import. Only the broker sets it: a client's own is replaced.
const REQUEST_INFO: &[u8] = b"Nats-Request-Info";

/// The message's header block with `Nats-Request-Info` set to `account`
/// (created when the message had no headers). Any `Nats-Request-Info` the
/// publisher wrote itself is dropped, whatever its case, so a responder
/// never sees a forged account.
fn request_info_headers(existing: Option<&[u8]>, account: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(existing.map_or(12, <[u8]>::len) + account.len() + 48);
    match existing.and_then(|h| h.strip_suffix(b"\r\n\r\n")) {
        Some(block) => {
            let mut lines = block.split(|&b| b == b'\n');
            if let Some(status) = lines.next() {
                out.extend_from_slice(status);
                out.push(b'\n');
            }
            for line in lines {
                let name = line.split(|&b| b == b':').next().unwrap_or_default();
                if name.trim_ascii().eq_ignore_ascii_case(REQUEST_INFO) {
                    continue;
                }
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            // `block` ended with the last header's CR (split on LF).
            if !out.ends_with(b"\r\n") {
                out.truncate(out.len() - 1);
                out.extend_from_slice(b"\r\n");
            }
        }
        None => out.extend_from_slice(b"NATS/1.0\r\n"),
    }
    out.extend_from_slice(REQUEST_INFO);
    out.extend_from_slice(b": {\"acc\":\"");
    out.extend_from_slice(account.as_bytes());
    out.extend_from_slice(b"\",\"rtt\":0}\r\n\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::request_info_headers;

    #[test]
    fn request_info_header_is_added() {
        assert_eq!(
            request_info_headers(None, "acme"),
            b"NATS/1.0\r\nNats-Request-Info: {\"acc\":\"acme\",\"rtt\":0}\r\n\r\n"
        );
        assert_eq!(
            request_info_headers(Some(b"NATS/1.0\r\nA: b\r\n\r\n"), "x"),
            b"NATS/1.0\r\nA: b\r\nNats-Request-Info: {\"acc\":\"x\",\"rtt\":0}\r\n\r\n"
        );
    }
}
