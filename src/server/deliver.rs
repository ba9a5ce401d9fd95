//! Fan-out of one published message to the subscriptions it matched.
//!
//! This is the hot path: the match comes from the connection's own cache,
//! every destination is written under its own lock only, and writers are
//! woken once per batch (see `Connection::finish_batch`).

use super::Shared;
use super::account::Account;
use super::close::CloseReason;
use super::connection::Connection;
use super::handle::{Admit, ClientHandle, Subscription};
use super::outbound::Push;
use super::stats::LocalStats;
use crate::protocol::{NO_RESPONDERS_STATUS, encode_hmsg, encode_msg};
use crate::subject::matches;
use bytes::{BufMut, BytesMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A message on its way out, borrowing from the publisher's read buffer.
pub(super) struct Message<'a> {
    pub subject: &'a [u8],
    pub reply: Option<&'a [u8]>,
    pub headers: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

/// What delivery needs from the publishing connection, borrowed field by
/// field so the cached match can be read while the rest is updated.
struct Sender<'c> {
    me: &'c Arc<ClientHandle>,
    echo: bool,
    account: &'c Account,
    server: &'c Shared,
    wake: &'c mut Vec<Arc<ClientHandle>>,
    stalled: &'c mut Vec<Arc<ClientHandle>>,
    stats: &'c mut LocalStats,
}

impl Connection {
    pub(super) fn route(
        &mut self,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) {
        let msg = Message {
            subject,
            reply,
            headers,
            payload,
        };
        let result = self.cache.lookup(&self.account.index, subject);
        let mut tx = Sender {
            me: &self.handle,
            echo: self.opts.echo,
            account: &self.account,
            server: &self.server,
            wake: &mut self.wake,
            stalled: &mut self.stalled,
            stats: &mut self.stats,
        };
        let mut delivered = 0usize;
        for sub in &result.plain {
            if tx.deliver(sub, &msg) {
                delivered += 1;
            }
        }
        for (_, members) in &result.groups {
            // One member per group, starting at a random one and moving on
            // when a member is excluded (echo off) or gone.
            let n = members.len();
            let start = fastrand::usize(..n);
            if (0..n).any(|i| tx.deliver(&members[(start + i) % n], &msg)) {
                delivered += 1;
            }
        }
        if delivered == 0 && reply.is_some() && self.opts.no_responders && self.opts.headers {
            self.no_responders(&msg);
        }
    }

    /// Tells a requester at once that nobody received its request, on the
    /// requester's own subscription to the reply subject.
    fn no_responders(&self, msg: &Message<'_>) {
        let Some(reply) = msg.reply else { return };
        let Some(sub) = self.subs.values().find(|s| matches(&s.subject, reply)) else {
            return;
        };
        let mut hdr = BytesMut::with_capacity(NO_RESPONDERS_STATUS.len() + msg.subject.len() + 20);
        hdr.put_slice(NO_RESPONDERS_STATUS);
        hdr.put_slice(b"Nats-Subject: ");
        hdr.put_slice(msg.subject);
        hdr.put_slice(b"\r\n\r\n");
        self.handle
            .outbound
            .push_control(|b| encode_hmsg(b, reply, &sub.sid, None, &hdr, b""));
    }
}

impl Sender<'_> {
    /// Queues `msg` for `sub`; false if it was not delivered.
    fn deliver(&mut self, sub: &Arc<Subscription>, msg: &Message<'_>) -> bool {
        let dest = &sub.client;
        if !self.echo && Arc::ptr_eq(dest, self.me) {
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
        let pushed = dest.outbound.push(frame, |b| match headers {
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
                true
            }
            Push::SlowConsumer => {
                if dest.kill(CloseReason::SlowConsumer) {
                    self.server
                        .stats
                        .slow_consumers
                        .fetch_add(1, Ordering::Relaxed);
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
}
