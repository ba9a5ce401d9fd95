//! What monitoring sees of leaf connections: one `LeafEntry` per live
//! connection (listed in the server's `leaves`), and `LeafTotals`, the
//! traffic of the ones that have closed, so that `/metrics` counters only
//! ever grow.

use crate::client::ClientHandle;
use crate::tenant::Traffic;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// One live leaf connection, listed in the server's `leaves`.
pub(in crate::server) struct LeafEntry {
    pub handle: Arc<ClientHandle>,
    /// The peer's server name.
    pub name: String,
    pub account: Arc<str>,
    /// This server dialled it (it is our hub); otherwise the peer dialled us.
    pub solicited: bool,
    /// The peer's interest entries held here.
    pub subscriptions: AtomicUsize,
}

impl LeafEntry {
    pub fn new(
        handle: Arc<ClientHandle>,
        name: String,
        account: Arc<str>,
        solicited: bool,
    ) -> Arc<LeafEntry> {
        Arc::new(LeafEntry {
            handle,
            name,
            account,
            solicited,
            subscriptions: AtomicUsize::new(0),
        })
    }
}

/// Traffic of closed leaf connections, by local tenant. One entry per
/// tenant a leaf connection was ever bound to: tenants come from the
/// configuration, never from a peer, so the map is as small as the tenancy.
#[derive(Default)]
pub(in crate::server) struct LeafTotals {
    retired: parking_lot::Mutex<BTreeMap<Arc<str>, Traffic>>,
}

impl LeafTotals {
    /// Moves `entry`'s totals here and runs `unlist` (which removes it from
    /// the live list) under the same lock `sum` takes, so a reader counts
    /// the connection exactly once, live or retired.
    pub fn retire(&self, entry: &LeafEntry, unlist: impl FnOnce()) {
        let mut retired = self.retired.lock();
        retired
            .entry(entry.account.clone())
            .or_default()
            .add(Traffic::of(&entry.handle));
        unlist();
    }

    /// Per tenant: open leaf connections and the traffic of every leaf
    /// connection since start. `live` lists the open ones; it is called
    /// under the lock `retire` takes.
    pub fn sum(
        &self,
        live: impl FnOnce() -> Vec<Arc<LeafEntry>>,
    ) -> BTreeMap<Arc<str>, (usize, Traffic)> {
        let retired = self.retired.lock();
        let mut out: BTreeMap<Arc<str>, (usize, Traffic)> = retired
            .iter()
            .map(|(name, t)| (name.clone(), (0, *t)))
            .collect();
        for entry in live() {
            let (open, total) = out.entry(entry.account.clone()).or_default();
            *open += 1;
            total.add(Traffic::of(&entry.handle));
        }
        out
    }
}
