//! What the server knows of its cluster: the live routes (one per peer
//! server, by the peer's server id), the peers' client URLs (for clients'
//! `connect_urls`), the route URLs being dialled, and the traffic of
//! routes that have closed.

use crate::client::ClientHandle;
use crate::tenant::Traffic;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::SystemTime;

/// Most route URLs dialled at once (seeds and learnt peers). A peer can
/// gossip servers; this bounds what it can make us dial.
pub(in crate::server) const MAX_KNOWN_ROUTES: usize = 256;

/// Most client URLs kept of one peer: a server's list is its own few
/// addresses, more is not a server's.
pub(in crate::server) const MAX_PEER_CLIENT_URLS: usize = 16;

/// One live route.
pub(in crate::server) struct RouteEntry {
    pub handle: Arc<ClientHandle>,
    pub remote_id: String,
    pub remote_name: String,
    /// This server dialled it.
    pub solicited: bool,
    /// Dialled because it is in `cluster.routes`.
    pub configured: bool,
    /// The peer's interest entries held here, over all accounts.
    pub subscriptions: AtomicUsize,
    pub started: SystemTime,
    /// The peer announced lame duck mode.
    pub lame_duck: AtomicBool,
    /// It was registered (it may since have been replaced by a duplicate):
    /// its traffic is counted once it ends.
    pub listed: AtomicBool,
}

/// The cluster as this server sees it.
#[derive(Default)]
pub(in crate::server) struct ClusterState {
    /// Live routes, by the peer's server id: one per peer.
    pub routes: parking_lot::Mutex<FxHashMap<String, Arc<RouteEntry>>>,
    /// Each peer's client URLs (`host:port`), by server id.
    pub client_urls: parking_lot::Mutex<FxHashMap<String, Vec<String>>>,
    /// Route URLs a task is dialling (or keeping connected).
    pub dialling: parking_lot::Mutex<FxHashSet<String>>,
    /// Traffic of closed routes, so counters never go back.
    pub retired: parking_lot::Mutex<Traffic>,
    /// Accepted connections still introducing themselves.
    pub pending: AtomicUsize,
    /// Route URLs peers told of, waiting for the dialler (`dial::learner`);
    /// at most `MAX_KNOWN_ROUTES`.
    pub learnt: parking_lot::Mutex<std::collections::VecDeque<String>>,
    pub learnt_wake: tokio::sync::Notify,
}

/// Why a route was not registered.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::server) enum Refusal {
    /// The peer is this server.
    ToSelf,
    /// A route to the peer already exists; the newer one goes.
    Duplicate,
}

impl ClusterState {
    /// Registers a route to `entry.remote_id`. When there is one already,
    /// the two servers must keep the same connection of the two, or each
    /// would close the one the other kept: between Switchyards, the one
    /// dialled by the server with the smaller id stays (returned as
    /// `Ok(Some(old))` when it replaces the registered one, which the
    /// caller closes); with a nats-server peer, the first one stays, as
    /// nats-server keeps it.
    pub fn register(
        &self,
        own_id: &str,
        entry: Arc<RouteEntry>,
        tiebreak: bool,
    ) -> Result<Option<Arc<RouteEntry>>, Refusal> {
        if entry.remote_id == own_id {
            return Err(Refusal::ToSelf);
        }
        let mut routes = self.routes.lock();
        let Some(old) = routes.get(&entry.remote_id) else {
            entry.listed.store(true, Ordering::Relaxed);
            routes.insert(entry.remote_id.clone(), entry);
            return Ok(None);
        };
        let dialled_by_us = |e: &RouteEntry| e.solicited;
        // The connection dialled by the smaller id stays.
        let we_dial = own_id < entry.remote_id.as_str();
        if !tiebreak || dialled_by_us(old) == we_dial || dialled_by_us(&entry) != we_dial {
            return Err(Refusal::Duplicate);
        }
        let old = old.clone();
        entry.listed.store(true, Ordering::Relaxed);
        routes.insert(entry.remote_id.clone(), entry);
        Ok(Some(old))
    }

    /// Removes the route `entry` (if it is still the registered one) and
    /// keeps its traffic (also of one a duplicate replaced); returns
    /// whether it was the registered one.
    pub fn retire(&self, entry: &Arc<RouteEntry>) -> bool {
        let mut routes = self.routes.lock();
        let registered = routes
            .get(&entry.remote_id)
            .is_some_and(|e| Arc::ptr_eq(e, entry));
        if entry.listed.swap(false, Ordering::Relaxed) {
            self.retired.lock().add(Traffic::of(&entry.handle));
        }
        if registered {
            routes.remove(&entry.remote_id);
            self.client_urls.lock().remove(&entry.remote_id);
        }
        registered
    }

    /// Queues `url`, which a peer told of, for the dialler.
    pub fn learn(&self, url: String) {
        let mut learnt = self.learnt.lock();
        if learnt.len() < MAX_KNOWN_ROUTES && !learnt.contains(&url) {
            learnt.push_back(url);
            self.learnt_wake.notify_one();
        }
    }

    /// Records `peer`'s client URLs (at most `MAX_PEER_CLIENT_URLS`; none
    /// forgets them); returns whether they changed.
    pub fn set_client_urls(&self, peer: &str, urls: Vec<String>) -> bool {
        let urls: Vec<String> = urls.into_iter().take(MAX_PEER_CLIENT_URLS).collect();
        let mut all = self.client_urls.lock();
        match all.get(peer) {
            Some(old) if *old == urls => false,
            None if urls.is_empty() => false,
            _ if urls.is_empty() => all.remove(peer).is_some(),
            _ => {
                all.insert(peer.to_string(), urls);
                true
            }
        }
    }

    pub fn is_connected(&self, server_id: &str) -> bool {
        self.routes.lock().contains_key(server_id)
    }

    pub fn live(&self) -> Vec<Arc<RouteEntry>> {
        self.routes.lock().values().cloned().collect()
    }

    /// The peers' client URLs, without those of peers in lame duck mode.
    pub fn peer_client_urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .client_urls
            .lock()
            .values()
            .flatten()
            .cloned()
            .collect();
        urls.sort();
        urls.dedup();
        urls
    }

    /// Traffic of every route since start: the closed ones' and the live.
    pub fn traffic(&self) -> Traffic {
        // The lock order of `retire`: routes, then retired.
        let routes = self.routes.lock();
        let mut total = *self.retired.lock();
        for entry in routes.values() {
            total.add(Traffic::of(&entry.handle));
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(remote: &str, solicited: bool) -> Arc<RouteEntry> {
        let addr = "127.0.0.1:1".parse().expect("addr");
        Arc::new(RouteEntry {
            handle: Arc::new(ClientHandle::new(1, 1 << 20, addr, "$G".into())),
            remote_id: remote.to_string(),
            remote_name: remote.to_string(),
            solicited,
            configured: false,
            subscriptions: AtomicUsize::new(0),
            started: SystemTime::now(),
            lame_duck: AtomicBool::new(false),
            listed: AtomicBool::new(false),
        })
    }

    #[test]
    fn one_route_per_peer_and_both_ends_keep_the_same_one() {
        let state = ClusterState::default();
        assert_eq!(
            state.register("NB", entry("NB", true), true).err(),
            Some(Refusal::ToSelf)
        );
        // We are NB, the peer NA: the connection NA dialled (accepted
        // here) is the one both keep.
        let dialled = entry("NA", true);
        assert!(matches!(
            state.register("NB", dialled.clone(), true),
            Ok(None)
        ));
        let accepted = entry("NA", false);
        let replaced = state
            .register("NB", accepted.clone(), true)
            .expect("the accepted one wins");
        assert!(replaced.is_some_and(|r| Arc::ptr_eq(&r, &dialled)));
        assert_eq!(
            state.register("NB", entry("NA", true), true).err(),
            Some(Refusal::Duplicate)
        );
        // Without the tiebreak (a nats-server peer) the first one stays.
        let plain = ClusterState::default();
        assert!(plain.register("NB", entry("NC", true), false).is_ok());
        assert_eq!(
            plain.register("NB", entry("NC", false), false).err(),
            Some(Refusal::Duplicate)
        );
        // The replaced route's traffic is kept once it ends; only the
        // registered one unlists the peer.
        assert!(!state.retire(&dialled));
        assert!(state.is_connected("NA"));
        assert!(state.retire(&accepted));
        assert!(!state.is_connected("NA"));
        assert!(!dialled.listed.load(Ordering::Relaxed));
    }

    #[test]
    fn a_peers_client_urls_are_bounded() {
        let state = ClusterState::default();
        let flood: Vec<String> = (0..10_000).map(|i| format!("10.0.0.1:{i}")).collect();
        assert!(state.set_client_urls("NA", flood.clone()));
        assert_eq!(state.peer_client_urls().len(), MAX_PEER_CLIENT_URLS);
        assert!(!state.set_client_urls("NA", flood), "unchanged");
        assert!(state.set_client_urls("NA", Vec::new()));
        assert!(state.peer_client_urls().is_empty());
        assert!(!state.set_client_urls("NB", Vec::new()));
    }

    #[test]
    fn learnt_routes_are_bounded() {
        let state = ClusterState::default();
        for i in 0..MAX_KNOWN_ROUTES + 10 {
            state.learn(format!("nats-route://10.0.0.{}:{i}/", i % 250));
        }
        state.learn("nats-route://10.0.0.0:0/".to_string());
        assert_eq!(state.learnt.lock().len(), MAX_KNOWN_ROUTES);
    }
}
