//! A per-connection cache of match results.
//!
//! Each publishing connection owns one, so the hot path takes no lock and
//! touches no shared map: a hit costs one atomic load (the index generation)
//! and one hash lookup. Any change to the index bumps its generation, which
//! empties every cache on its next use.

use super::index::{MatchResult, SubscriptionIndex};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Entries kept before the cache is emptied; bounds memory for publishers
/// that use many distinct subjects.
const MAX_ENTRIES: usize = 1024;

pub struct MatchCache<T> {
    generation: u64,
    /// Subject to position in `results`; positions keep the hit path to a
    /// single hash lookup.
    entries: FxHashMap<Box<[u8]>, usize>,
    results: Vec<Arc<MatchResult<T>>>,
    /// Lookups answered from the cache since the last `take_hits`; a plain
    /// field, so counting costs nothing shared.
    hits: u64,
}

impl<T: Clone> Default for MatchCache<T> {
    fn default() -> Self {
        MatchCache {
            generation: 0,
            entries: FxHashMap::default(),
            results: Vec::new(),
            hits: 0,
        }
    }
}

impl<T: Clone> MatchCache<T> {
    /// The match for `subject` in `index`, computed on a miss.
    pub fn lookup(&mut self, index: &SubscriptionIndex<T>, subject: &[u8]) -> &Arc<MatchResult<T>> {
        let current = index.generation();
        if current != self.generation {
            self.clear();
            self.generation = current;
        }
        let at = match self.entries.get(subject) {
            Some(&at) => {
                self.hits += 1;
                at
            }
            None => {
                if self.results.len() >= MAX_ENTRIES {
                    self.clear();
                }
                self.results.push(Arc::new(index.match_subject(subject)));
                self.entries.insert(subject.into(), self.results.len() - 1);
                self.results.len() - 1
            }
        };
        &self.results[at]
    }

    /// Hits since the last call, for batched publication into shared counters.
    pub fn take_hits(&mut self) -> u64 {
        std::mem::take(&mut self.hits)
    }

    /// Subjects currently cached.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.results.clear();
    }
}
