//! Replies owed across a service import.
//!
//! A request that crosses from an importer into an exporter gets a fresh
//! reply subject `_R_.<6 base62>.<6 base62>` in the exporter's namespace;
//! this map remembers where the answer must go back to. Singleton services
//! forget the entry after the first response; streamed and chunked ones
//! keep it until the response threshold passes.

use super::account::Account;
use crate::config::tenant::ResponseType;
use bytes::Bytes;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reply subjects of this form are owned by the broker; clients may not
/// use them as their own reply subjects.
pub const RESPONSE_PREFIX: &[u8] = b"_R_.";

pub struct PendingResponse {
    pub requester: Arc<Account>,
    pub reply: Bytes,
    pub response_type: ResponseType,
    pub expires: Instant,
}

/// Where a response goes: the requester's account and original reply subject.
pub struct Forward {
    pub requester: Arc<Account>,
    pub reply: Bytes,
}

#[derive(Default)]
pub struct ResponseMap {
    entries: Mutex<FxHashMap<Bytes, PendingResponse>>,
}

const BASE62: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn reply_subject() -> Bytes {
    let mut s = Vec::with_capacity(RESPONSE_PREFIX.len() + 13);
    s.extend_from_slice(RESPONSE_PREFIX);
    for i in 0..13 {
        s.push(if i == 6 {
            b'.'
        } else {
            BASE62[fastrand::usize(..BASE62.len())]
        });
    }
    Bytes::from(s)
}

impl ResponseMap {
    /// Registers a pending response and returns the reply subject to use in
    /// the exporter's namespace.
    pub fn register(
        &self,
        requester: Arc<Account>,
        reply: &[u8],
        response_type: ResponseType,
        threshold: Duration,
    ) -> Bytes {
        let mut entries = self.entries.lock();
        let subject = loop {
            let candidate = reply_subject();
            if !entries.contains_key(&candidate) {
                break candidate;
            }
        };
        let pending = PendingResponse {
            requester,
            reply: Bytes::copy_from_slice(reply),
            response_type,
            expires: Instant::now() + threshold,
        };
        entries.insert(subject.clone(), pending);
        subject
    }

    /// Looks up where a response on `subject` goes; a singleton entry is
    /// consumed, and an expired one is dropped.
    pub fn take(&self, subject: &[u8]) -> Option<Forward> {
        let mut entries = self.entries.lock();
        let entry = entries.get(subject)?;
        if entry.expires <= Instant::now() {
            entries.remove(subject);
            return None;
        }
        if entry.response_type == ResponseType::Singleton {
            let e = entries.remove(subject)?;
            return Some(Forward {
                requester: e.requester,
                reply: e.reply,
            });
        }
        Some(Forward {
            requester: entry.requester.clone(),
            reply: entry.reply.clone(),
        })
    }

    /// Forgets a pending response (the request reached nobody).
    pub fn remove(&self, subject: &[u8]) {
        self.entries.lock().remove(subject);
    }

    /// Drops expired entries; returns how many are left.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut entries = self.entries.lock();
        entries.retain(|_, e| e.expires > now);
        entries.len()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }
}
