//! Runtime accounts (tenants): each owns one subscription index, which is
//! the isolation boundary, plus the rules a reload may replace (limits,
//! imports). Messages cross accounts only through imports.
//!
//! The account, its imports and the subscriptions its index holds refer to
//! one another (an import names its exporter's account; a shadow
//! subscription names its import), so they live in one file.

use super::interest::{InterestWatcher, Watchers};
use super::responses::{ResponseMap, ResponseTerms};
use crate::client::ClientHandle;
use crate::config::tenant::ResponseType;
use crate::plugin::{TenantPlugins, TransformPlugin};
use crate::subject::{MappingTable, SubjectRewrite, SubscriptionIndex};
use bytes::Bytes;
use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// nats-server's name for the account of a server without accounts.
pub const GLOBAL_ACCOUNT: &str = "$G";
/// The built-in system account, used when no tenant is named as system account.
pub const SYSTEM_ACCOUNT: &str = "$SYS";

pub struct Account {
    pub name: Arc<str>,
    pub index: SubscriptionIndex<Arc<Subscription>>,
    rules: RwLock<Arc<AccountRules>>,
    /// Open connections bound to this account.
    pub connections: AtomicUsize,
    /// Replies owed to requesters of this account's exported services.
    pub responses: ResponseMap<Arc<Account>>,
    pub traffic: AccountTraffic,
    /// What the account's live subscriptions are charged, in bytes (see
    /// `subject::footprint`), against `AccountRules::max_subscription_bytes`.
    pub subscription_bytes: AtomicUsize,
    /// Leaf connections that relay this account's interest to their peers.
    pub watchers: Watchers<Subscription>,
    /// `$LDS.<random>`: announced on every leaf connection of the account;
    /// hearing it back from a peer means the leaf topology has a loop.
    loop_subject: std::sync::OnceLock<Bytes>,
}

/// Message and byte totals of connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
}

impl Traffic {
    /// The live totals of one connection: inbound as published by its last
    /// batch, outbound as counted by its buffer.
    pub fn of(client: &ClientHandle) -> Traffic {
        let (out_msgs, out_bytes) = client.outbound.totals();
        Traffic {
            in_msgs: client.counters.in_msgs.load(Ordering::Relaxed),
            in_bytes: client.counters.in_bytes.load(Ordering::Relaxed),
            out_msgs,
            out_bytes,
        }
    }

    pub fn add(&mut self, other: Traffic) {
        self.in_msgs += other.in_msgs;
        self.in_bytes += other.in_bytes;
        self.out_msgs += other.out_msgs;
        self.out_bytes += other.out_bytes;
    }
}

/// Per-tenant counters for monitoring. Live connections keep their own
/// counts (nothing per message here); a closing connection moves its totals
/// into `retired`, and a reader adds the live ones while holding that lock,
/// so a total never counts a connection twice or drops one.
///
/// Lock order: `retired` before any connection's outbound lock, and never
/// while holding the server's client map.
#[derive(Debug, Default)]
pub struct AccountTraffic {
    pub retired: parking_lot::Mutex<Traffic>,
    pub total_connections: AtomicU64,
    pub slow_consumers: AtomicU64,
}

impl AccountTraffic {
    /// Moves a closed connection's totals into the account's. Call after
    /// its outbound buffer is closed, so nothing more is counted for it.
    pub fn retire(&self, client: &ClientHandle) {
        let mut retired = self.retired.lock();
        retired.add(Traffic::of(client));
        client.retired.store(true, Ordering::Release);
    }

    /// Adds `client` to a total taken under `retired` unless it has retired.
    pub fn add_live(total: &mut Traffic, client: &ClientHandle) {
        if !client.retired.load(Ordering::Acquire) {
            total.add(Traffic::of(client));
        }
    }
}

/// Subscription memory a tenant may use unless its limits say otherwise:
/// ~170,000 subscriptions of three-token subjects at their upper bound.
pub const DEFAULT_MAX_SUBSCRIPTION_BYTES: usize = 256 * 1024 * 1024;

/// What a reload may change about an account. Connections keep an `Arc`
/// snapshot, so the message path never takes this lock.
#[derive(Default)]
pub struct AccountRules {
    pub max_connections: Option<usize>,
    pub max_subscriptions: Option<usize>,
    pub max_payload: Option<usize>,
    /// `None`: [`DEFAULT_MAX_SUBSCRIPTION_BYTES`].
    pub max_subscription_bytes: Option<usize>,
    pub stream_imports: Vec<Arc<StreamImport>>,
    pub service_imports: Vec<Arc<ServiceImport>>,
    /// Subject mappings applied to what this account's clients publish.
    pub mappings: MappingTable,
    /// WebAssembly transforms and routing policies; `None` when the tenant
    /// has none, which is all the message path checks.
    pub plugins: Option<Arc<TenantPlugins>>,
    /// The index entries that stand for the service imports.
    service_subs: Vec<Arc<Subscription>>,
}

/// A stream imported from `exporter`: messages on `source` there appear
/// here on `local` (rewritten by prefix or `to`).
pub struct StreamImport {
    pub exporter: Arc<Account>,
    pub source: Bytes,
    pub local: Bytes,
    pub rewrite: SubjectRewrite,
    /// The export's transform: what crosses passes it first.
    pub transform: Option<Arc<TransformPlugin>>,
}

/// A service imported from `exporter`: requests published here on `local`
/// go to `source` there, and the responses come back.
pub struct ServiceImport {
    pub exporter: Arc<Account>,
    pub local: Bytes,
    pub rewrite: SubjectRewrite,
    pub response_type: ResponseType,
    pub threshold: Duration,
    /// The export's transform, applied to the responses.
    pub transform: Option<Arc<TransformPlugin>>,
}

impl ServiceImport {
    /// What a response to a request that crossed this import is owed.
    pub fn response_terms(&self) -> ResponseTerms<'_> {
        ResponseTerms {
            response_type: self.response_type,
            threshold: self.threshold,
            transform: self.transform.as_ref(),
        }
    }
}

impl StreamImport {
    /// The filter to place in the exporter's index for an importer's
    /// subscription to `filter` (which overlaps `local`): narrowed when the
    /// prefix can be stripped, else the whole import.
    pub fn exporter_filter(&self, filter: &[u8]) -> Bytes {
        if let Some(prefix) = self.rewrite.as_prefix() {
            let stripped = filter
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(b"."));
            if let Some(inner) = stripped
                && crate::subject::is_subset_match(inner, &self.source)
            {
                return Bytes::copy_from_slice(inner);
            }
        }
        self.source.clone()
    }
}

impl Account {
    pub fn new(name: &str) -> Arc<Account> {
        Arc::new(Account {
            name: name.into(),
            index: SubscriptionIndex::new(),
            rules: RwLock::new(Arc::new(AccountRules::default())),
            connections: AtomicUsize::new(0),
            responses: ResponseMap::default(),
            traffic: AccountTraffic::default(),
            subscription_bytes: AtomicUsize::new(0),
            watchers: Watchers::default(),
            loop_subject: std::sync::OnceLock::new(),
        })
    }

    /// This account's leaf loop-detection subject (nats-server's `$LDS.`
    /// prefix and a random id), made on first use.
    pub fn loop_subject(&self) -> &Bytes {
        self.loop_subject.get_or_init(|| {
            let id: String = (0..22).map(|_| fastrand::alphanumeric()).collect();
            Bytes::from(format!("$LDS.{id}"))
        })
    }

    /// Adds `sub` to the index and tells the watchers.
    pub fn insert_sub(&self, sub: &Arc<Subscription>) {
        let watchers = self.watchers.list.read();
        self.index
            .insert(&sub.subject, sub.queue.as_ref(), sub.clone());
        for w in watchers.iter() {
            w.interest_changed(sub, 1);
        }
    }

    /// Removes `sub` from the index (if it is still there) and tells the
    /// watchers. Returns whether it was there.
    pub fn remove_sub(&self, sub: &Arc<Subscription>) -> bool {
        let watchers = self.watchers.list.read();
        let removed = self
            .index
            .remove(&sub.subject, sub.queue.as_ref(), |s| Arc::ptr_eq(s, sub));
        if removed {
            for w in watchers.iter() {
                w.interest_changed(sub, -1);
            }
        }
        removed
    }

    /// Starts telling `watcher` of changes; returns what the index holds
    /// now, which it has not been told of.
    pub fn watch(&self, watcher: Arc<dyn InterestWatcher<Subscription>>) -> Vec<Arc<Subscription>> {
        let mut list = self.watchers.list.write();
        list.push(watcher);
        self.index.values()
    }

    pub fn rules(&self) -> Arc<AccountRules> {
        self.rules.read().clone()
    }

    /// Replaces the rules, moving the service-import entries of the index
    /// from the old imports to the new ones.
    pub fn set_rules(self: &Arc<Self>, mut rules: AccountRules) {
        for import in &rules.service_imports {
            let sub = Arc::new(Subscription::new(
                Target::Service(import.clone()),
                Bytes::new(),
                import.local.clone(),
                None,
            ));
            self.insert_sub(&sub);
            rules.service_subs.push(sub);
        }
        let old = std::mem::replace(&mut *self.rules.write(), Arc::new(rules));
        for sub in &old.service_subs {
            self.remove_sub(sub);
        }
    }

    /// Drops the rules (and with them the references to other accounts).
    pub fn clear_rules(self: &Arc<Self>) {
        self.set_rules(AccountRules::default());
    }
}

impl AccountRules {
    pub fn with_limits(
        max_connections: Option<usize>,
        max_subscriptions: Option<usize>,
        max_payload: Option<usize>,
    ) -> Self {
        AccountRules {
            max_connections,
            max_subscriptions,
            max_payload,
            ..AccountRules::default()
        }
    }
}

/// Where a matched subscription sends a message.
pub enum Target {
    /// A client connection's subscription.
    Client(Arc<ClientHandle>),
    /// Interest a leaf node peer announced (`LS+`): messages go to that
    /// leaf connection as `LMSG`.
    Leaf(Arc<ClientHandle>),
    /// Interest a cluster peer announced (`RS+`): messages go to that
    /// route as `RMSG`, never to another route after it.
    Route(Arc<ClientHandle>),
    /// A service import: the message continues into the exporting account.
    Service(Arc<ServiceImport>),
}

/// One entry of a subscription index: a client's SUB, a stream-import
/// shadow of one in another account, or a service import.
pub struct Subscription {
    pub target: Target,
    pub sid: Bytes,
    pub subject: Bytes,
    pub queue: Option<Bytes>,
    /// Set on the copy of a subscription placed in an exporter's index for
    /// a stream import.
    pub shadow: Option<Shadow>,
    /// Set when the subscription overlaps a subscribe deny entry, so each
    /// delivery checks the subscriber's permissions.
    pub needs_filter: AtomicBool,
    /// Auto-unsubscribe limit; 0 means none.
    max: AtomicU64,
    delivered: AtomicU64,
}

/// How a stream-import shadow maps messages back to its subscriber.
pub struct Shadow {
    pub import: Arc<StreamImport>,
    /// The subscription the client made, in its own namespace; it also
    /// holds the auto-unsubscribe count.
    pub origin: Arc<Subscription>,
}

/// Whether a delivery may go ahead, and whether it was the last one allowed.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Yes,
    Last,
    No,
}

impl Subscription {
    pub fn new(target: Target, sid: Bytes, subject: Bytes, queue: Option<Bytes>) -> Self {
        Subscription {
            target,
            sid,
            subject,
            queue,
            shadow: None,
            needs_filter: AtomicBool::new(false),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// A copy of `origin` for the exporter's index, on the exporter's
    /// `filter`. Its queue group is keyed by the importing account too, so
    /// it never joins the exporter's own group of the same name (queue
    /// names cannot contain spaces, so the key cannot collide).
    pub fn shadow(
        origin: &Arc<Subscription>,
        import: Arc<StreamImport>,
        filter: Bytes,
        importer: &str,
    ) -> Self {
        let target = match &origin.target {
            Target::Client(c) => Target::Client(c.clone()),
            Target::Leaf(c) => Target::Leaf(c.clone()),
            Target::Route(c) => Target::Route(c.clone()),
            Target::Service(s) => Target::Service(s.clone()),
        };
        Subscription {
            target,
            sid: origin.sid.clone(),
            subject: filter,
            queue: origin
                .queue
                .as_ref()
                .map(|q| Bytes::from([&q[..], b" ", importer.as_bytes()].concat())),
            shadow: Some(Shadow {
                import,
                origin: origin.clone(),
            }),
            needs_filter: AtomicBool::new(origin.needs_filter.load(Ordering::Relaxed)),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// Removes a stream-import shadow from the exporter's index it lives in
    /// (nothing for other subscriptions).
    pub fn remove_shadow(self: &Arc<Self>) {
        if let Some(sh) = &self.shadow {
            sh.import.exporter.remove_sub(self);
        }
    }

    /// The id of the connection this subscription delivers to; 0 for a
    /// service import.
    pub fn owner(&self) -> u64 {
        match &self.target {
            Target::Client(c) | Target::Leaf(c) | Target::Route(c) => c.id,
            Target::Service(_) => 0,
        }
    }

    /// The queue group as its subscriber named it (a shadow's group in the
    /// exporter's index also carries the importer's name).
    pub fn own_queue(&self) -> Option<&bytes::Bytes> {
        match &self.shadow {
            Some(sh) => sh.origin.queue.as_ref(),
            None => self.queue.as_ref(),
        }
    }

    /// Claims one delivery against the auto-unsubscribe limit (a shadow
    /// counts against its origin).
    pub fn admit(&self) -> Admit {
        if let Some(shadow) = &self.shadow {
            return shadow.origin.admit();
        }
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 {
            // Counted without a limit too: an `UNSUB sid max` later
            // compares with every delivery so far, as nats-server's
            // `sub.nm` does (`UNSUB 1 1` after one message removes now).
            self.delivered.fetch_add(1, Ordering::Relaxed);
            return Admit::Yes;
        }
        let n = self.delivered.fetch_add(1, Ordering::AcqRel) + 1;
        match n.cmp(&max) {
            std::cmp::Ordering::Less => Admit::Yes,
            std::cmp::Ordering::Equal => Admit::Last,
            std::cmp::Ordering::Greater => Admit::No,
        }
    }

    /// Sets the auto-unsubscribe limit; true if it is already reached.
    pub fn set_max(&self, max: u64) -> bool {
        self.max.store(max, Ordering::Release);
        self.delivered.load(Ordering::Acquire) >= max
    }

    pub fn is_expired(&self) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        max != 0 && self.delivered.load(Ordering::Relaxed) >= max
    }
}
