//! The subscription index: a trie of subject tokens with a `*` and a `>`
//! branch at every level, like nats-server's sublist.
//!
//! Readers take a shared lock only on a cache miss (see `MatchCache`); every
//! insert or removal bumps a generation counter so caches know to drop what
//! they hold.

use super::tokens;
use bytes::Bytes;
use parking_lot::RwLock;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Everything a subject matched: plain subscribers each get a copy; each
/// queue group gets one copy, delivered to one of its members.
#[derive(Debug)]
pub struct MatchResult<T> {
    pub plain: Vec<T>,
    pub groups: Vec<(Bytes, Vec<T>)>,
}

impl<T> MatchResult<T> {
    fn empty() -> Self {
        MatchResult {
            plain: Vec::new(),
            groups: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.groups.is_empty()
    }
}

struct Node<T> {
    next: Option<Box<Level<T>>>,
    plain: Vec<T>,
    groups: Vec<(Bytes, Vec<T>)>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node {
            next: None,
            plain: Vec::new(),
            groups: Vec::new(),
        }
    }
}

impl<T> Node<T> {
    fn is_empty(&self) -> bool {
        self.plain.is_empty()
            && self.groups.is_empty()
            && self.next.as_ref().is_none_or(|l| l.is_empty())
    }
}

struct Level<T> {
    literal: FxHashMap<Box<[u8]>, Node<T>>,
    star: Option<Box<Node<T>>>,
    full: Option<Box<Node<T>>>,
}

impl<T> Default for Level<T> {
    fn default() -> Self {
        Level {
            literal: FxHashMap::default(),
            star: None,
            full: None,
        }
    }
}

impl<T> Level<T> {
    fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.star.is_none() && self.full.is_none()
    }
}

/// Trie bytes one new token level costs at most: the boxed level, a hash
/// table of four buckets holding the node, and the token itself (measured
/// on x86-64: ~370 bytes plus allocator overhead).
pub const NODE_BYTES: usize = 400;

/// Bytes a subscription entry costs beside its trie levels: the shared
/// record, its sid, subject and queue copies, and the owner's table entry.
pub const ENTRY_BYTES: usize = 256;

/// An upper bound of the memory one subscription on `subject` (in `queue`)
/// adds to an index, when none of its levels are shared with another.
/// Tenants are charged this against their subscription memory limit.
pub fn footprint(subject: &[u8], queue: Option<&[u8]>) -> usize {
    let tokens = subject.iter().filter(|&&b| b == b'.').count() + 1;
    ENTRY_BYTES + 2 * subject.len() + queue.map_or(0, <[u8]>::len) + tokens * NODE_BYTES
}

/// A subscription index over values of type `T` (cheap to clone, e.g. `Arc`).
pub struct SubscriptionIndex<T> {
    root: RwLock<Level<T>>,
    generation: AtomicU64,
    count: AtomicUsize,
    /// For monitoring (`/subsz`); bumped under the write lock or next to a
    /// trie walk, never on a cache hit.
    inserts: AtomicU64,
    removes: AtomicU64,
    matches: AtomicU64,
}

/// Lifetime counts of one index, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub inserts: u64,
    pub removes: u64,
    /// Trie walks (cache misses and uncached matches).
    pub matches: u64,
}

impl<T: Clone> Default for SubscriptionIndex<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> SubscriptionIndex<T> {
    pub fn new() -> Self {
        SubscriptionIndex {
            root: RwLock::new(Level::default()),
            generation: AtomicU64::new(1),
            count: AtomicUsize::new(0),
            inserts: AtomicU64::new(0),
            removes: AtomicU64::new(0),
            matches: AtomicU64::new(0),
        }
    }

    /// Changes whenever the index changes; caches compare it to decide validity.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Number of stored subscriptions.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> IndexStats {
        IndexStats {
            inserts: self.inserts.load(Ordering::Relaxed),
            removes: self.removes.load(Ordering::Relaxed),
            matches: self.matches.load(Ordering::Relaxed),
        }
    }

    /// Every stored value, cloned out so the lock is held only for the walk.
    /// For monitoring; not for the message path.
    pub fn values(&self) -> Vec<T> {
        let root = self.root.read();
        let mut out = Vec::with_capacity(self.len());
        collect_all(&root, &mut out);
        out
    }

    /// Adds `value` under a valid `subject`, in `queue` if given.
    pub fn insert(&self, subject: &[u8], queue: Option<&Bytes>, value: T) {
        let mut root = self.root.write();
        let node = node_for(&mut root, subject);
        match queue {
            None => node.plain.push(value),
            Some(q) => match node.groups.iter_mut().find(|(name, _)| name == q) {
                Some((_, members)) => members.push(value),
                None => node.groups.push((q.clone(), vec![value])),
            },
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.inserts.fetch_add(1, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes the first value under `subject`/`queue` for which `is_it` holds.
    /// Returns whether something was removed.
    pub fn remove(
        &self,
        subject: &[u8],
        queue: Option<&Bytes>,
        is_it: impl Fn(&T) -> bool,
    ) -> bool {
        let mut root = self.root.write();
        let removed = remove_from(&mut root, subject, queue, &is_it);
        if removed {
            self.count.fetch_sub(1, Ordering::Relaxed);
            self.removes.fetch_add(1, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        removed
    }

    /// Computes the match for a literal subject. Prefer `MatchCache::lookup`.
    ///
    /// A subject with an empty token (`.a`, `a..b`, `a.`, ``) matches
    /// nothing, as in nats-server's sublist: such a publish is answered
    /// `-ERR 'Invalid Publish Subject'` in pedantic mode and delivered to
    /// nobody in any mode.
    pub fn match_subject(&self, subject: &[u8]) -> MatchResult<T> {
        self.matches.fetch_add(1, Ordering::Relaxed);
        let mut out = MatchResult::empty();
        let toks = tokens::split(subject);
        if toks.as_slice().iter().any(|t| t.is_empty()) {
            return out;
        }
        let root = self.root.read();
        collect(&root, toks.as_slice(), &mut out);
        out
    }
}

fn collect_all<T: Clone>(level: &Level<T>, out: &mut Vec<T>) {
    let nodes = level
        .literal
        .values()
        .chain(level.star.as_deref())
        .chain(level.full.as_deref());
    for node in nodes {
        out.extend(node.plain.iter().cloned());
        for (_, members) in &node.groups {
            out.extend(members.iter().cloned());
        }
        if let Some(next) = &node.next {
            collect_all(next, out);
        }
    }
}

fn node_for<'a, T>(mut level: &'a mut Level<T>, subject: &[u8]) -> &'a mut Node<T> {
    let mut tokens = subject.split(|&b| b == b'.').peekable();
    loop {
        let token = tokens.next().unwrap_or_default();
        let node: &mut Node<T> = match token {
            b"*" => level.star.get_or_insert_with(Box::default),
            b">" => level.full.get_or_insert_with(Box::default),
            t => level.literal.entry(t.into()).or_default(),
        };
        if tokens.peek().is_none() {
            return node;
        }
        level = node.next.get_or_insert_with(Box::default);
    }
}

fn remove_from<T>(
    level: &mut Level<T>,
    subject: &[u8],
    queue: Option<&Bytes>,
    is_it: &impl Fn(&T) -> bool,
) -> bool {
    let (token, rest) = match memchr::memchr(b'.', subject) {
        Some(i) => (&subject[..i], Some(&subject[i + 1..])),
        None => (subject, None),
    };
    let slot: Option<&mut Node<T>> = match token {
        b"*" => level.star.as_deref_mut(),
        b">" => level.full.as_deref_mut(),
        t => level.literal.get_mut(t),
    };
    let Some(node) = slot else { return false };
    let removed = match rest {
        Some(rest) => node
            .next
            .as_deref_mut()
            .is_some_and(|next| remove_from(next, rest, queue, is_it)),
        None => remove_value(node, queue, is_it),
    };
    if removed && node.is_empty() {
        // Prune so that a churn of unique subjects does not grow the trie forever.
        match token {
            b"*" => level.star = None,
            b">" => level.full = None,
            t => {
                level.literal.remove(t);
            }
        }
    } else if removed && node.next.as_ref().is_some_and(|l| l.is_empty()) {
        node.next = None;
    }
    removed
}

fn remove_value<T>(node: &mut Node<T>, queue: Option<&Bytes>, is_it: &impl Fn(&T) -> bool) -> bool {
    let list = match queue {
        None => &mut node.plain,
        Some(q) => match node.groups.iter_mut().find(|(name, _)| name == q) {
            Some((_, members)) => members,
            None => return false,
        },
    };
    let Some(pos) = list.iter().position(is_it) else {
        return false;
    };
    list.swap_remove(pos);
    if queue.is_some() {
        node.groups.retain(|(_, members)| !members.is_empty());
    }
    true
}

fn collect<T: Clone>(level: &Level<T>, tokens: &[&[u8]], out: &mut MatchResult<T>) {
    let Some((first, rest)) = tokens.split_first() else {
        return;
    };
    if let Some(full) = &level.full {
        add(full, out);
    }
    if let Some(star) = &level.star {
        descend(star, rest, out);
    }
    if let Some(node) = level.literal.get(*first) {
        descend(node, rest, out);
    }
}

fn descend<T: Clone>(node: &Node<T>, rest: &[&[u8]], out: &mut MatchResult<T>) {
    if rest.is_empty() {
        add(node, out);
    } else if let Some(next) = &node.next {
        collect(next, rest, out);
    }
}

fn add<T: Clone>(node: &Node<T>, out: &mut MatchResult<T>) {
    out.plain.extend(node.plain.iter().cloned());
    for (name, members) in &node.groups {
        // The same queue name under different filters is still one group.
        match out.groups.iter_mut().find(|(n, _)| n == name) {
            Some((_, existing)) => existing.extend(members.iter().cloned()),
            None => out.groups.push((name.clone(), members.clone())),
        }
    }
}

#[cfg(test)]
mod tests;
