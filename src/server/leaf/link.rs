//! What a leaf connection tells its peer about its account's interest:
//! one `LS+` per subject (and queue group, with its member count) that
//! some subscription here holds, one `LS-` when the last goes. The
//! account calls `interest_changed` for every change; subscriptions the
//! peer itself announced are not sent back to it.

use crate::client::ClientHandle;
use crate::protocol::{encode_leaf_sub, encode_leaf_unsub};
use crate::subject::is_subset_match;
use crate::tenant::{InterestWatcher, Subscription};
use bytes::Bytes;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How a leaf subscription is named on the wire and in both sides'
/// tables: `subject`, or `subject queue`.
pub(super) fn interest_key(subject: &[u8], queue: Option<&[u8]>) -> Bytes {
    match queue {
        None => Bytes::copy_from_slice(subject),
        Some(q) => Bytes::from([subject, b" ", q].concat()),
    }
}

/// One leaf connection's view of its account's interest.
pub(super) struct LeafLink {
    handle: Arc<ClientHandle>,
    /// Subjects this side does not want from the peer (a remote's
    /// `deny_imports`): no interest is announced for them.
    deny: Vec<Bytes>,
    /// Subscriptions announced, by `subject` or `subject queue`. Bounded by
    /// the account's subscriptions, which its limits cap.
    announced: parking_lot::Mutex<FxHashMap<Bytes, u32>>,
}

impl LeafLink {
    pub(super) fn new(handle: Arc<ClientHandle>, deny: Vec<Bytes>) -> LeafLink {
        LeafLink {
            handle,
            deny,
            announced: parking_lot::Mutex::new(FxHashMap::default()),
        }
    }

    /// Announces what the account held when the link started watching,
    /// and the account's loop-detection subject.
    pub(super) fn announce_all(&self, subs: &[Arc<Subscription>], loop_subject: &[u8]) {
        self.change(loop_subject, None, 1);
        for sub in subs {
            if sub.owner() != self.handle.id {
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
        // Plain interest is announced once; a queue group's weight is
        // re-announced as its membership changes.
        match (queue, before, after) {
            (_, 0, 0) => {}
            (None, 0, _) => self.handle.control(|b| encode_leaf_sub(b, subject, None)),
            (Some(q), _, n) if n > 0 => self
                .handle
                .control(|b| encode_leaf_sub(b, subject, Some((q, n)))),
            (_, _, 0) => self
                .handle
                .control(|b| encode_leaf_unsub(b, subject, queue)),
            _ => {}
        }
    }
}

impl InterestWatcher for LeafLink {
    fn interest_changed(&self, subject: &[u8], queue: Option<&[u8]>, delta: i32, owner: u64) {
        if owner != self.handle.id {
            self.change(subject, queue, delta);
        }
    }
}
