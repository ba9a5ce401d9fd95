//! What a connection to another server tells its peer about one account's
//! interest: one `LS+`/`RS+` per subject (and queue group, with its member
//! count) that some subscription here holds, one `LS-`/`RS-` when the last
//! goes. The account calls `interest_changed` for every change.
//!
//! A leaf connection announces every subscription but the peer's own. A
//! route announces only this server's own clients and leaf nodes: never
//! another route's interest (the mesh is one hop), and never a service
//! import's entry, which every server of the cluster holds itself.

use crate::client::ClientHandle;
use crate::protocol::{Dialect, encode_peer_sub, encode_peer_unsub};
use crate::subject::is_subset_match;
use crate::tenant::{InterestWatcher, Subscription, Target};
use bytes::Bytes;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How a peer's subscription is named on the wire and in both sides'
/// tables: `subject`, or `subject queue`.
pub(super) fn interest_key(subject: &[u8], queue: Option<&[u8]>) -> Bytes {
    match queue {
        None => Bytes::copy_from_slice(subject),
        Some(q) => Bytes::from([subject, b" ", q].concat()),
    }
}

/// One connection's view of one account's interest.
pub(super) struct PeerLink {
    handle: Arc<ClientHandle>,
    dialect: Dialect,
    /// The account's name on the wire (empty on a leaf connection).
    account: Bytes,
    /// Subjects this side does not want from the peer (a leaf remote's
    /// `deny_imports`): no interest is announced for them.
    deny: Vec<Bytes>,
    /// Subscriptions announced, by `subject` or `subject queue`. Bounded by
    /// the account's subscriptions, which its limits cap.
    announced: parking_lot::Mutex<FxHashMap<Bytes, u32>>,
}

impl PeerLink {
    pub(super) fn leaf(handle: Arc<ClientHandle>, deny: Vec<Bytes>) -> PeerLink {
        PeerLink::new(handle, Dialect::Leaf, Bytes::new(), deny)
    }

    pub(super) fn route(handle: Arc<ClientHandle>, account: Bytes) -> PeerLink {
        PeerLink::new(handle, Dialect::Route, account, Vec::new())
    }

    fn new(handle: Arc<ClientHandle>, dialect: Dialect, account: Bytes, deny: Vec<Bytes>) -> Self {
        PeerLink {
            handle,
            dialect,
            account,
            deny,
            announced: parking_lot::Mutex::new(FxHashMap::default()),
        }
    }

    /// Whether the peer hears of `sub`.
    fn relays(&self, sub: &Subscription) -> bool {
        match self.dialect {
            Dialect::Leaf => sub.owner() != self.handle.id,
            Dialect::Route => matches!(sub.target, Target::Client(_) | Target::Leaf(_)),
        }
    }

    /// Announces what the account held when the link started watching,
    /// and the subjects this server answers without a subscription
    /// (`extra`: a loop-detection subject, a service-response wildcard).
    pub(super) fn announce_all(&self, subs: &[Arc<Subscription>], extra: &[Bytes]) {
        for subject in extra {
            self.change(subject, None, 1);
        }
        for sub in subs {
            if self.relays(sub) {
                self.change(&sub.subject, sub.queue.as_deref(), 1);
            }
        }
    }

    fn change(&self, subject: &[u8], queue: Option<&[u8]>, delta: i32) {
        if self.deny.iter().any(|d| is_subset_match(subject, d)) {
            return;
        }
        // A shadow's group in an exporter's index carries its importer's
        // name after a space; the peer sees the group by its own name.
        let queue = queue.map(|q| q.split(|&b| b == b' ').next().unwrap_or(q));
        let key = interest_key(subject, queue);
        let mut announced = self.announced.lock();
        let count = announced.entry(key.clone()).or_insert(0);
        let before = *count;
        *count = if delta > 0 {
            before.saturating_add(1)
        } else {
            before.saturating_sub(1)
        };
        let after = *count;
        if after == 0 {
            announced.remove(&key);
        }
        let (dialect, account) = (self.dialect, &self.account[..]);
        // Plain interest is announced once; a queue group's weight is
        // re-announced as its membership changes.
        match (queue, before, after) {
            (_, 0, 0) => {}
            (None, 0, _) => self
                .handle
                .control(|b| encode_peer_sub(b, dialect, account, subject, None)),
            (Some(q), _, n) if n > 0 => self
                .handle
                .control(|b| encode_peer_sub(b, dialect, account, subject, Some((q, n)))),
            (_, _, 0) => self
                .handle
                .control(|b| encode_peer_unsub(b, dialect, account, subject, queue)),
            _ => {}
        }
    }
}

impl InterestWatcher<Subscription> for PeerLink {
    fn interest_changed(&self, sub: &Subscription, delta: i32) {
        if self.relays(sub) {
            self.change(&sub.subject, sub.queue.as_deref(), delta);
        }
    }
}
