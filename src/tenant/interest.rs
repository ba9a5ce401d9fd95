//! Who else must know what an account's index holds: the connections to
//! other servers (leaf nodes and routes), which tell their peer about the
//! account's subscriptions (a leaf all but its own, a route only those of
//! this server).
//!
//! The account calls its watchers while it inserts or removes, holding the
//! watcher list's read lock; a watcher that joins takes the write lock to
//! read the index, so it sees every subscription exactly once: in its
//! first snapshot or as a change.

use parking_lot::RwLock;
use std::sync::Arc;

/// Told of every change to an account's subscriptions (`S`: generic so
/// this sits below the account model that holds it).
pub trait InterestWatcher<S>: Send + Sync {
    /// `delta` is +1 for `sub` added, -1 for `sub` removed.
    fn interest_changed(&self, sub: &S, delta: i32);
}

/// An account's watchers. Empty for almost every account, and then a
/// change costs one uncontended read lock.
pub struct Watchers<S> {
    pub(super) list: RwLock<Vec<Arc<dyn InterestWatcher<S>>>>,
}

impl<S> Default for Watchers<S> {
    fn default() -> Self {
        Watchers {
            list: RwLock::new(Vec::new()),
        }
    }
}

impl<S> Watchers<S> {
    pub fn len(&self) -> usize {
        self.list.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops telling `watcher`.
    pub fn remove(&self, watcher: &Arc<dyn InterestWatcher<S>>) {
        self.list.write().retain(|w| !Arc::ptr_eq(w, watcher));
    }
}
