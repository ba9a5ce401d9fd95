//! Who else must know what an account's index holds: the connections to
//! other servers (leaf nodes), which tell their peer about every
//! subscription of the account except their own.
//!
//! The account calls its watchers while it inserts or removes, holding the
//! watcher list's read lock; a watcher that joins takes the write lock to
//! read the index, so it sees every subscription exactly once: in its
//! first snapshot or as a change.

use parking_lot::RwLock;
use std::sync::Arc;

/// Told of every change to an account's subscriptions.
pub trait InterestWatcher: Send + Sync {
    /// `delta` is +1 for a new subscription, -1 for a removed one; `owner`
    /// is the id of the connection that holds it (0: the account's own,
    /// such as a service import).
    fn interest_changed(&self, subject: &[u8], queue: Option<&[u8]>, delta: i32, owner: u64);
}

/// An account's watchers. Empty for almost every account, and then a
/// change costs one uncontended read lock.
#[derive(Default)]
pub struct Watchers {
    pub(super) list: RwLock<Vec<Arc<dyn InterestWatcher>>>,
}

impl Watchers {
    pub fn len(&self) -> usize {
        self.list.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops telling `watcher`.
    pub fn remove(&self, watcher: &Arc<dyn InterestWatcher>) {
        self.list.write().retain(|w| !Arc::ptr_eq(w, watcher));
    }
}
