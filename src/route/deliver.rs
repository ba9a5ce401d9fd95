//! Fan-out of one message to the subscriptions it matches in an account,
//! and across accounts through imports.
//!
//! This is the hot path: the match comes from the publisher's own cache,
//! every destination is written under its own lock only, and writers are
//! woken once per batch (the caller drains `DeliveryCtx::wake`). Imports
//! cost nothing unless a message actually matches one. Nothing here knows
//! what kind of connection published: a client, the server itself, and
//! (next) leaf and route connections all deliver through `deliver`.

use super::message::Message;
use super::peers::PeerSends;
use super::stats::BatchStats;
use crate::client::{ClientHandle, CloseReason, Push};
use crate::plugin::TransformPlugin;
use crate::plugin::transform::{OutMessage, Produced};
use crate::protocol::{
    Dialect, PeerMsg, encode_hmsg, encode_hmsg_head, encode_msg, encode_msg_head, encode_peer_msg,
    names_queue,
};
use crate::subject::{MatchCache, MatchResult, matches};
use crate::tenant::{
    Account, Admit, Forward, RESPONSE_PREFIX, ServiceImport, Shadow, Subscription, Target,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Service imports may chain (A imports from B, which imports from C);
/// configuration rejects cycles, and this bounds the depth regardless.
const MAX_IMPORT_DEPTH: u8 = 8;

/// Export transforms' results for the message being delivered.
type Crossed = Vec<(Arc<TransformPlugin>, Arc<Vec<Produced>>)>;

/// Everything one publisher keeps across deliveries: who it is, its match
/// cache, the destinations to wake and to wait for at the end of its
/// batch, and its counters. Owned by the publishing connection and reused,
/// so a delivery allocates nothing.
pub struct DeliveryCtx {
    /// The publishing connection; `None` for messages the server publishes.
    pub origin: Option<Arc<ClientHandle>>,
    /// Whether the origin receives its own messages.
    pub echo: bool,
    /// The origin's payload limit, for what a response transform makes.
    pub max_payload: usize,
    /// The server's payload limit, for what an export transform makes.
    pub server_max_payload: usize,
    pub cache: MatchCache<Arc<Subscription>>,
    /// Destinations this batch made non-empty; woken once at batch end.
    pub wake: Vec<Arc<ClientHandle>>,
    /// Destinations above their high-water mark; the publisher pauses
    /// reading for a moment so they can catch up.
    pub stalled: Vec<Arc<ClientHandle>>,
    pub stats: BatchStats,
    /// For a message from another server (a leaf node): the queue groups
    /// the sender chose this server to serve, space-separated; other
    /// groups get nothing. Reused between messages.
    pub queue_filter: Option<Vec<u8>>,
    /// Set for messages from a cluster route: they reach this server's
    /// clients and leaf nodes, never another route (the mesh is one hop).
    pub from_route: bool,
    /// What each export transform made of the message being delivered,
    /// so importers of one export share one call. Kept (empty) between
    /// messages so the common message, which crosses no export, pays no
    /// allocation for it.
    crossed: Crossed,
    /// The peer servers the message being delivered goes to, each once.
    peers: PeerSends,
}

impl DeliveryCtx {
    pub fn new(origin: Option<Arc<ClientHandle>>, max_payload: usize) -> DeliveryCtx {
        DeliveryCtx {
            origin,
            echo: true,
            max_payload,
            server_max_payload: max_payload,
            cache: MatchCache::default(),
            wake: Vec::new(),
            stalled: Vec::new(),
            stats: BatchStats::default(),
            queue_filter: None,
            from_route: false,
            crossed: Vec::new(),
            peers: PeerSends::default(),
        }
    }

    /// Waits until the destinations the batch filled above their
    /// high-water mark drain, for at most `max` in all: the publisher (a
    /// client, a leaf or a route) reads nothing meanwhile, so a subscriber
    /// that keeps up with its share survives a burst, and one that has
    /// stopped reading still overflows and is cut off.
    pub async fn wait_stalled(&mut self, max: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + max;
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

    /// Wakes the writer of every destination this batch made non-empty.
    pub fn wake_all(&mut self) {
        for dest in self.wake.drain(..) {
            dest.outbound.wake_writer();
        }
    }
}

/// Delivers `msg`, published in `account`, to every subscription it
/// matches there and, through imports, in other accounts. A response on a
/// tracked `_R_.` subject goes back to the requester's account instead.
/// Returns how many deliveries were made (0: nobody was listening).
pub fn deliver(account: &Arc<Account>, msg: Message<'_>, ctx: &mut DeliveryCtx) -> usize {
    if msg.subject.starts_with(RESPONSE_PREFIX)
        && let Some(forward) = account.responses.take(msg.subject)
    {
        forward_response(forward, msg, 0, ctx);
        return 1;
    }
    let DeliveryCtx {
        origin,
        echo,
        server_max_payload,
        cache,
        wake,
        stalled,
        stats,
        crossed,
        queue_filter,
        from_route,
        peers,
        ..
    } = ctx;
    let result = cache.lookup(&account.index, msg.subject);
    let mut tx = Sender {
        me: origin.as_ref(),
        echo: *echo,
        account,
        max_payload: *server_max_payload,
        wake,
        stalled,
        stats,
        depth: 0,
        service_request: false,
        crossed,
        queue_filter: queue_filter.as_deref(),
        from_route: *from_route,
        peers,
    };
    let delivered = tx.deliver_all(result, &msg);
    if !crossed.is_empty() {
        crossed.clear();
    }
    stats.max_fanout = stats.max_fanout.max(delivered as u64);
    delivered
}

/// Publishes a message from the server itself (system events) into
/// `account`, waking its destinations at once.
pub fn publish_internal(account: &Arc<Account>, subject: &[u8], payload: &[u8]) -> BatchStats {
    let mut ctx = DeliveryCtx::new(None, usize::MAX);
    if !account.index.is_empty() {
        let result = account.index.match_subject(subject);
        let DeliveryCtx {
            wake,
            stalled,
            stats,
            crossed,
            peers,
            ..
        } = &mut ctx;
        let mut tx = Sender {
            me: None,
            echo: true,
            account,
            max_payload: usize::MAX,
            wake,
            stalled,
            stats,
            depth: 0,
            service_request: false,
            crossed,
            queue_filter: None,
            from_route: false,
            peers,
        };
        tx.deliver_all(
            &result,
            &Message {
                subject,
                reply: None,
                headers: None,
                payload,
                shared: None,
            },
        );
    }
    ctx.wake_all();
    ctx.stats
}

/// Sends a response that arrived on a tracked `_R_.` subject back to the
/// requester. `hops` counts the service imports already walked back: with
/// chained imports (A imports from B, B from C) the reply owed to A is
/// itself a tracked subject in B.
fn forward_response(
    forward: Forward<Arc<Account>>,
    msg: Message<'_>,
    hops: u8,
    ctx: &mut DeliveryCtx,
) {
    let Some(transform) = forward
        .transform
        .as_ref()
        .filter(|t| t.plugin.registered.matches(&t.request))
    else {
        deliver_response(&forward, msg, hops, ctx);
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
    for p in transform.plugin.cross(original, ctx.max_payload) {
        deliver_response(
            &forward,
            Message {
                subject: msg.subject,
                reply: None,
                headers: p.headers.as_deref(),
                payload: &p.payload,
                shared: None,
            },
            hops,
            ctx,
        );
    }
}

fn deliver_response(
    forward: &Forward<Arc<Account>>,
    msg: Message<'_>,
    hops: u8,
    ctx: &mut DeliveryCtx,
) {
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
        forward_response(next, back, hops + 1, ctx);
        return;
    }
    let result = forward.requester.index.match_subject(&forward.reply);
    let mut tx = Sender {
        me: ctx.origin.as_ref(),
        echo: true,
        account: &forward.requester,
        max_payload: ctx.server_max_payload,
        wake: &mut ctx.wake,
        stalled: &mut ctx.stalled,
        stats: &mut ctx.stats,
        depth: 0,
        service_request: false,
        crossed: &mut Vec::new(),
        queue_filter: None,
        from_route: ctx.from_route,
        peers: &mut PeerSends::default(),
    };
    tx.deliver_all(&result, &back);
}

/// What delivery needs from the publisher, borrowed field by field so the
/// cached match can be read while the rest is updated.
struct Sender<'c> {
    me: Option<&'c Arc<ClientHandle>>,
    echo: bool,
    /// The account whose index produced the match being delivered.
    account: &'c Arc<Account>,
    max_payload: usize,
    wake: &'c mut Vec<Arc<ClientHandle>>,
    stalled: &'c mut Vec<Arc<ClientHandle>>,
    stats: &'c mut BatchStats,
    depth: u8,
    /// Set while delivering a request that crossed a service import: it
    /// goes to the exporter's service subscribers only, never to the
    /// exporter's stream importers (their shadows share its index).
    service_request: bool,
    crossed: &'c mut Crossed,
    /// `DeliveryCtx::queue_filter` while delivering in the publishing
    /// account; imports serve their own groups.
    queue_filter: Option<&'c [u8]>,
    /// `DeliveryCtx::from_route`.
    from_route: bool,
    /// `DeliveryCtx::peers`; sent at the end of `deliver_all`.
    peers: &'c mut PeerSends,
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
        for (name, members) in &result.groups {
            if let Some(chosen) = self.queue_filter {
                // A shadow's group name also carries its importer's.
                let own = name.split(|&b| b == b' ').next().unwrap_or_default();
                if !names_queue(chosen, own) {
                    continue;
                }
            }
            // One member per group, starting at a random one and moving on
            // when a member is excluded (echo off) or gone. Members on this
            // server first; another server's (a leaf node's or a route's)
            // only when none here took it, as nats-server does.
            let n = members.len();
            let start = fastrand::usize(..n);
            let mut pick = |remote: bool| {
                (0..n).any(|i| {
                    let m = &members[(start + i) % n];
                    matches!(m.target, Target::Leaf(_) | Target::Route(_)) == remote
                        && self.deliver(m, msg)
                })
            };
            if pick(false) || pick(true) {
                delivered += 1;
            }
        }
        if !self.peers.is_empty() {
            self.send_to_peers(msg);
        }
        delivered
    }

    /// Sends the message once to each peer server that took it.
    fn send_to_peers(&mut self, msg: &Message<'_>) {
        let mut list = std::mem::take(&mut self.peers.list);
        for p in list.drain(..) {
            let queues = (!p.queues.is_empty()).then_some(&p.queues[..]);
            self.push(&p.dest, Some(p.dialect), queues, b"", msg);
        }
        self.peers.list = list;
    }

    fn deliver(&mut self, sub: &Arc<Subscription>, msg: &Message<'_>) -> bool {
        match &sub.target {
            Target::Service(import) => self.deliver_service(import, msg),
            Target::Route(_) if self.from_route => false,
            Target::Route(dest) => self.deliver_client(sub, dest, msg),
            Target::Client(dest) | Target::Leaf(dest) => match &sub.shadow {
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
        let done = Arc::new(plugin.cross((*msg).into(), self.max_payload));
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
        let peer = match sub.target {
            Target::Leaf(_) => Some(Dialect::Leaf),
            Target::Route(_) => Some(Dialect::Route),
            _ => None,
        };
        // A peer server is told which of its queue groups is to serve it.
        let queue = sub.own_queue().filter(|_| peer.is_some()).map(|q| &q[..]);
        if let (Some(dialect), None) = (peer, &sub.shadow) {
            self.peers.add(dest, dialect, queue);
            return true;
        }
        match sub.admit() {
            Admit::Yes => {}
            Admit::No => return false,
            Admit::Last => {
                self.account.remove_sub(sub);
                dest.expired_subs.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.push(dest, peer, queue, &sub.sid, msg)
    }

    /// Encodes `msg` into `dest`'s outbound buffer: as `MSG`/`HMSG` for a
    /// client (with its `sid`), or for a peer server in its `dialect`,
    /// naming its `queues` chosen to serve it.
    fn push(
        &mut self,
        dest: &Arc<ClientHandle>,
        peer: Option<Dialect>,
        queues: Option<&[u8]>,
        sid: &[u8],
        msg: &Message<'_>,
    ) -> bool {
        let headers = msg.headers.filter(|_| dest.supports_headers());
        let body = msg.payload.len() + headers.map_or(0, <[u8]>::len);
        let frame = body
            + msg.subject.len()
            + sid.len()
            + queues.map_or(0, <[u8]>::len)
            + msg.reply.map_or(0, <[u8]>::len)
            + self.account.name.len()
            + 40;
        let pushed = match (peer, msg.shared) {
            // A large payload for a client: one shared buffer for every
            // subscriber. Peers (leaf, route) still get a copy.
            (None, Some(payload)) => dest.outbound.push_shared(
                frame - msg.payload.len(),
                body,
                |b| match headers {
                    Some(h) => encode_hmsg_head(b, msg.subject, sid, msg.reply, h, payload.len()),
                    None => encode_msg_head(b, msg.subject, sid, msg.reply, payload.len()),
                },
                payload,
            ),
            _ => dest
                .outbound
                .push_message(frame, body, |b| match (peer, headers) {
                    (Some(dialect), _) => encode_peer_msg(
                        b,
                        &PeerMsg {
                            dialect,
                            // A leaf connection carries one account; a route names it.
                            account: match dialect {
                                Dialect::Leaf => b"",
                                Dialect::Route => self.account.name.as_bytes(),
                            },
                            subject: msg.subject,
                            reply: msg.reply,
                            queue: queues,
                            headers,
                            payload: msg.payload,
                        },
                    ),
                    (None, Some(h)) => encode_hmsg(b, msg.subject, sid, msg.reply, h, msg.payload),
                    (None, None) => encode_msg(b, msg.subject, sid, msg.reply, msg.payload),
                }),
        };
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
                .register(self.account.clone(), r, import.response_terms(), &subject)
        });
        let headers = request_info_headers(msg.headers, &self.account.name);
        let forwarded = Message {
            subject: &subject,
            reply: reply.as_deref(),
            headers: Some(&headers),
            payload: msg.payload,
            shared: msg.shared,
        };
        let result = exporter.index.match_subject(&subject);
        let mut inner = Sender {
            me: self.me,
            echo: self.echo,
            account: exporter,
            max_payload: self.max_payload,
            wake: &mut *self.wake,
            stalled: &mut *self.stalled,
            stats: &mut *self.stats,
            depth: self.depth + 1,
            service_request: true,
            crossed: &mut Vec::new(),
            queue_filter: None,
            from_route: self.from_route,
            peers: &mut PeerSends::default(),
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
