//! Replies owed across a service import.
//!
//! A request that crosses from an importer into an exporter gets a fresh
//! reply subject `_R_.<6 base62>.<6 base62>` in the exporter's namespace;
//! this map remembers where the answer must go back to. Singleton services
//! forget the entry after the first response; streamed and chunked ones
//! keep it until the response threshold passes.

use crate::config::tenant::ResponseType;
use crate::plugin::TransformPlugin;
use bytes::Bytes;
use hashlink::LinkedHashMap;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Instant;

/// Reply subjects of this form are owned by the broker; clients may not
/// use them as their own reply subjects.
pub const RESPONSE_PREFIX: &[u8] = b"_R_.";

/// One reply owed; `R` is the requester (an account: generic so this table
/// sits below the account model that holds it).
pub struct PendingResponse<R> {
    pub requester: R,
    pub reply: Bytes,
    pub response_type: ResponseType,
    pub expires: Instant,
    pub transform: Option<ResponseTransform>,
}

/// The export's transform that responses pass, and the request subject
/// (in the exporter's namespace) they are presented under: a transform
/// registers for the service's subjects, not for `_R_.` ones.
#[derive(Clone)]
pub struct ResponseTransform {
    pub plugin: Arc<TransformPlugin>,
    pub request: Bytes,
}

/// Where a response goes: the requester's account and original reply
/// subject, and the export's transform it passes on the way.
pub struct Forward<R> {
    pub requester: R,
    pub reply: Bytes,
    pub transform: Option<ResponseTransform>,
}

/// Pending responses one account keeps; past it the oldest request's
/// entry goes (its late answer is dropped, as after its threshold). Each
/// entry is about 200 bytes, so the cap bounds a tenant whose services
/// never answer (or whose importers flood requests) to ~10 MiB.
pub const MAX_PENDING_RESPONSES: usize = 50_000;

/// Entries in arrival order, so eviction at the cap is O(1).
pub struct ResponseMap<R> {
    entries: Mutex<LinkedHashMap<Bytes, PendingResponse<R>, rustc_hash::FxBuildHasher>>,
    /// `_R_.<6 base62>.`, this map's own first token: every reply subject
    /// it hands out starts with it, so other servers of a cluster route
    /// the responses back here by one wildcard (`interest`).
    prefix: Bytes,
}

impl<R> Default for ResponseMap<R> {
    fn default() -> Self {
        let mut prefix = Vec::with_capacity(RESPONSE_PREFIX.len() + 7);
        prefix.extend_from_slice(RESPONSE_PREFIX);
        prefix.extend((0..6).map(|_| BASE62[fastrand::usize(..BASE62.len())]));
        prefix.push(b'.');
        ResponseMap {
            entries: Mutex::new(LinkedHashMap::default()),
            prefix: Bytes::from(prefix),
        }
    }
}

/// What the service import a request crossed says about its responses.
pub struct ResponseTerms<'a> {
    pub response_type: ResponseType,
    pub threshold: std::time::Duration,
    pub transform: Option<&'a Arc<TransformPlugin>>,
}

const BASE62: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl<R> ResponseMap<R> {
    /// The wildcard every reply subject of this map matches,
    /// `_R_.<prefix>.>`: the interest a cluster peer needs to send the
    /// responses back to this server.
    pub fn interest(&self) -> Bytes {
        Bytes::from([&self.prefix[..], b">"].concat())
    }

    fn reply_subject(&self) -> Bytes {
        let mut s = Vec::with_capacity(self.prefix.len() + 6);
        s.extend_from_slice(&self.prefix);
        s.extend((0..6).map(|_| BASE62[fastrand::usize(..BASE62.len())]));
        Bytes::from(s)
    }
}

impl<R: Clone> ResponseMap<R> {
    /// Registers a pending response to a request on `request` (the
    /// exporter's subject) that crossed an import with `terms`, and
    /// returns the reply subject to use in the exporter's namespace.
    pub fn register(
        &self,
        requester: R,
        reply: &[u8],
        terms: ResponseTerms<'_>,
        request: &[u8],
    ) -> Bytes {
        let mut entries = self.entries.lock();
        let subject = loop {
            let candidate = self.reply_subject();
            if !entries.contains_key(&candidate) {
                break candidate;
            }
        };
        let pending = PendingResponse {
            requester,
            reply: Bytes::copy_from_slice(reply),
            response_type: terms.response_type,
            expires: Instant::now() + terms.threshold,
            transform: terms.transform.map(|plugin| ResponseTransform {
                plugin: plugin.clone(),
                request: Bytes::copy_from_slice(request),
            }),
        };
        while entries.len() >= MAX_PENDING_RESPONSES {
            entries.pop_front();
        }
        entries.insert(subject.clone(), pending);
        subject
    }

    /// Looks up where a response on `subject` goes; a singleton entry is
    /// consumed, and an expired one is dropped.
    pub fn take(&self, subject: &[u8]) -> Option<Forward<R>> {
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
                transform: e.transform,
            });
        }
        Some(Forward {
            requester: entry.requester.clone(),
            reply: entry.reply.clone(),
            transform: entry.transform.clone(),
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

    pub fn is_empty(&self) -> bool {
        self.entries.lock().is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }
}
