//! What a connection may answer and receive beyond its own rules: reply
//! permits (`allow_responses`) and the delivery filter for subscriptions
//! that overlap a subscribe deny entry. Set at login and reload, read by
//! delivery.

use bytes::Bytes;
use hashlink::LinkedHashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How many responses a responder may publish to a reply subject it
/// received, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePermission {
    pub max: u32,
    pub ttl: Duration,
}

impl ResponsePermission {
    /// nats-server's `DEFAULT_ALLOW_RESPONSE_MAX_MSGS` and `..._EXPIRATION`.
    pub const DEFAULT: ResponsePermission = ResponsePermission {
        max: 1,
        ttl: Duration::from_secs(120),
    };
}

/// The part of a connection's permissions delivery consults: whether a
/// message on a subject may reach it. Implemented by the tenant's compiled
/// permissions; defined here so a connection's handle does not depend on
/// the account model.
pub trait DeliveryFilter: Send + Sync {
    fn deliverable(&self, subject: &[u8]) -> bool;
}

/// A connection's grants, shared between its own task (which installs
/// them) and the publishers that deliver to it.
#[derive(Default)]
pub(super) struct Grants {
    /// Read at delivery only for subscriptions flagged `needs_filter`.
    filter: parking_lot::RwLock<Option<Arc<dyn DeliveryFilter>>>,
    /// Reply subjects this connection may answer (`allow_responses`).
    replies: parking_lot::Mutex<Option<ReplyPermits>>,
    tracks_replies: AtomicBool,
}

impl Grants {
    pub(super) fn set(
        &self,
        filter: Option<Arc<dyn DeliveryFilter>>,
        responses: Option<ResponsePermission>,
    ) {
        *self.filter.write() = filter;
        self.tracks_replies
            .store(responses.is_some(), Ordering::Release);
        *self.replies.lock() = responses.map(|limit| ReplyPermits {
            limit,
            open: LinkedHashMap::default(),
        });
    }

    pub(super) fn delivery_allowed(&self, subject: &[u8]) -> bool {
        self.filter
            .read()
            .as_ref()
            .is_none_or(|p| p.deliverable(subject))
    }

    pub(super) fn note_reply(&self, reply: &[u8]) {
        if !self.tracks_replies.load(Ordering::Acquire) {
            return;
        }
        if let Some(permits) = self.replies.lock().as_mut() {
            permits.note(reply);
        }
    }

    pub(super) fn take_reply_permit(&self, subject: &[u8]) -> bool {
        self.tracks_replies.load(Ordering::Acquire)
            && self
                .replies
                .lock()
                .as_mut()
                .is_some_and(|p| p.take(subject))
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
