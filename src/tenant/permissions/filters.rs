//! Sets of subject filters, the building block of the permission lists.

use crate::subject::tokens::{TokenizedFilter, split};
use crate::subject::{is_subset_match, matches};
use rustc_hash::FxHashSet;

/// Filters split by kind: literal entries answer with one hash lookup,
/// wildcard entries are tried in turn (permission lists are short).
#[derive(Debug, Clone, Default)]
pub(super) struct FilterSet {
    literals: FxHashSet<Box<[u8]>>,
    wildcards: Vec<(Box<[u8]>, TokenizedFilter)>,
}

impl FilterSet {
    pub(super) fn insert(&mut self, filter: &[u8]) {
        if has_wildcard(filter) {
            if !self.wildcards.iter().any(|(w, _)| **w == *filter) {
                self.wildcards
                    .push((filter.into(), TokenizedFilter::new(filter)));
            }
        } else {
            self.literals.insert(filter.into());
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.literals.is_empty() && self.wildcards.is_empty()
    }

    /// Does any filter match `subject`? A wildcard `subject` (a SUB) has
    /// its wildcards taken as plain tokens, as nats-server's sublist does:
    /// only filters that cover them match.
    pub(super) fn matches(&self, subject: &[u8]) -> bool {
        if self.wildcards.is_empty() {
            return !self.literals.is_empty() && self.literals.contains(subject);
        }
        self.matches_split(subject, split(subject).as_slice())
    }

    /// `matches` for a subject already split into `toks`, so that several
    /// sets can share one split.
    pub(super) fn matches_split(&self, subject: &[u8], toks: &[&[u8]]) -> bool {
        if !self.literals.is_empty() && self.literals.contains(subject) {
            return true;
        }
        self.wildcards.iter().any(|(_, f)| f.matches_tokens(toks))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.literals
            .iter()
            .map(|f| &**f)
            .chain(self.wildcards.iter().map(|(f, _)| &**f))
    }
}

/// Subscribe entries: plain ones apply to every subscription, queue-scoped
/// ones (`"subject queue"`) only to subscriptions in a matching group.
#[derive(Debug, Clone, Default)]
pub(super) struct QueueRules {
    pub(super) plain: FilterSet,
    pub(super) queued: Vec<QueueEntry>,
}

#[derive(Debug, Clone)]
pub(super) struct QueueEntry {
    pub(super) filter: Box<[u8]>,
    /// A queue name, or a pattern of names (`v1.*`).
    pub(super) queue: Box<[u8]>,
}

impl QueueRules {
    pub(super) fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.queued.is_empty()
    }

    /// The queue names of the queue-scoped entries that match `subject`.
    pub(super) fn queues_for<'a>(&'a self, subject: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
        self.queued
            .iter()
            .filter(move |e| matches(&e.filter, subject))
            .map(|e| &*e.queue)
    }
}

/// nats-server's `queueMatches`: a queue name in a permission may itself be
/// a pattern (`v1.*`), but is first compared literally since `*` and `>`
/// are valid queue names too.
pub(super) fn queue_matches(queue: &[u8], pattern: &[u8]) -> bool {
    queue == pattern || (has_wildcard(pattern) && is_subset_match(queue, pattern))
}

pub(super) fn has_wildcard(subject: &[u8]) -> bool {
    subject
        .split(|&b| b == b'.')
        .any(|t| t == b"*" || t == b">")
}
