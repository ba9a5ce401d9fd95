//! What monitoring reads of the broker, and the one trait it reads it
//! through. The server implements `Observer`; monitoring never names the
//! server, so it sits below it and the server may call into it (to serve
//! HTTP and answer `$SYS.REQ.SERVER.*`) without a cycle.

use super::plugins::{PluginMetrics, PluginSummary};
use crate::subject::IndexStats;
use crate::tenant::Traffic;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A read-only view of a running broker. Everything is gathered on
/// request, off the message path.
pub trait Observer: Send + Sync + 'static {
    fn summary(&self) -> ServerSummary;
    fn stats(&self) -> StatsSnapshot;
    /// Failed logins by reason label.
    fn auth_failures(&self) -> Vec<(&'static str, u64)>;
    /// The next sequence number for a system-account answer.
    fn next_seq(&self) -> u64;
    /// Counts a monitoring request to `path` (known paths only).
    fn count_http_request(&self, path: &str);
    fn http_requests(&self) -> BTreeMap<String, u64>;
    fn connection_count(&self) -> usize;
    fn has_account(&self, name: &str) -> bool;
    fn subscriptions(&self) -> Vec<SubSnapshot>;
    fn index_totals(&self) -> IndexTotals;
    fn connections(&self, with_subjects: bool) -> Vec<ConnSnapshot>;
    fn closed_connections(&self) -> Vec<ConnSnapshot>;
    fn accounts(&self) -> Vec<AccountSnapshot>;
    /// The plugins attached to `tenant`, for `/accountz?acc=tenant`.
    fn tenant_plugins(&self, tenant: &str) -> Vec<PluginSummary>;
    /// Counters of every loaded plugin, for `/metrics`.
    fn plugin_metrics(&self) -> Vec<PluginMetrics>;
    /// Whether lame-duck mode has stopped the server accepting clients.
    fn in_lame_duck(&self) -> bool;
    /// Live leaf node connections, both ways, by cid; `with_subjects`
    /// fills `subjects`.
    fn leaves(&self, with_subjects: bool) -> Vec<LeafSnapshot>;
    /// Per tenant: open leaf connections, and the traffic of every leaf
    /// connection since start (closed ones included), by tenant name.
    fn leaf_totals(&self) -> Vec<LeafTotalsSnapshot>;
    /// Live cluster routes, in cid order; `with_subjects` lists the
    /// interest each peer holds here.
    fn routes(&self, with_subjects: bool) -> Vec<RouteSnapshot>;
    /// Traffic of every route since start, closed ones included.
    fn route_traffic(&self) -> Traffic;
}

/// A plain snapshot of `ServerStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub slow_consumers: u64,
    pub total_connections: u64,
    pub cache_hits: u64,
    pub max_fanout: u64,
    /// Connections closed for not answering PINGs.
    pub stale_connections: u64,
    /// Times a publisher was paused for a destination to drain.
    pub stalled_clients: u64,
}

/// Identity and configured limits of the server.
/// One field per identity or limit `/varz` reports.
#[derive(Debug, Clone)]
pub struct ServerSummary {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    pub proto: i32,
    pub host: String,
    pub port: u16,
    pub max_connections: usize,
    pub ping_interval: Duration,
    pub ping_max: u32,
    pub auth_timeout: Duration,
    /// The TLS handshake timeout (nats-server's default without TLS).
    pub tls_timeout: Duration,
    pub write_deadline: Duration,
    pub max_control_line: usize,
    pub max_payload: usize,
    pub max_pending: usize,
    pub auth_required: bool,
    pub tls_required: bool,
    pub http_host: String,
    pub http_port: u16,
    pub start: SystemTime,
    pub config_load_time: SystemTime,
    pub system_account: String,
    /// Leaf node settings, for `/varz`'s `leaf` block.
    pub leaf: LeafSettings,
    /// `[cluster]`, for `/varz`'s `cluster` block; `None` outside a cluster.
    pub cluster: Option<ClusterSettings>,
}

/// The `[cluster]` section as `/varz` reports it.
#[derive(Debug, Clone, Default)]
pub struct ClusterSettings {
    pub name: String,
    pub host: String,
    /// The bound route port.
    pub port: u16,
    /// The seed routes, without credentials.
    pub urls: Vec<String>,
    pub auth_timeout: Duration,
    pub tls_timeout: Duration,
    pub tls_required: bool,
}

/// The `[leafnodes]` section as `/varz` reports it.
#[derive(Debug, Clone, Default)]
pub struct LeafSettings {
    /// The leaf node port's interface and bound port, when this is a hub.
    pub listen: Option<(String, u16)>,
    pub auth_timeout: Duration,
    pub tls_timeout: Duration,
    pub tls_required: bool,
    pub tls_verify: bool,
    pub remotes: Vec<LeafRemoteSettings>,
}

/// One `[[leafnodes.remotes]]` entry.
#[derive(Debug, Clone, Default)]
pub struct LeafRemoteSettings {
    pub local_account: String,
    /// `host:port` of each URL, without credentials.
    pub urls: Vec<String>,
    pub deny_imports: Vec<String>,
    pub deny_exports: Vec<String>,
}

/// One live leaf node connection.
/// One field per value `/leafz` reports of a leaf.
#[derive(Debug, Clone)]
pub struct LeafSnapshot {
    pub cid: u64,
    /// The peer's server name.
    pub name: String,
    /// This server dialled the peer (it is a leaf of the peer's hub).
    pub is_spoke: bool,
    pub account: Arc<str>,
    pub peer: SocketAddr,
    pub rtt: Option<Duration>,
    pub traffic: Traffic,
    /// Interest entries the peer holds here.
    pub subscriptions: usize,
    /// Their subjects, when asked for.
    pub subjects: Vec<String>,
}

/// One live route. One field per value `/routez` reports of a route.
#[derive(Debug, Clone)]
pub struct RouteSnapshot {
    pub cid: u64,
    pub remote_id: String,
    pub remote_name: String,
    pub solicited: bool,
    pub configured: bool,
    pub peer: SocketAddr,
    pub started: SystemTime,
    pub last_activity: SystemTime,
    pub rtt: Option<Duration>,
    pub pending: usize,
    pub traffic: Traffic,
    pub subscriptions: usize,
    /// `account subject [queue]` of each, when asked for.
    pub subjects: Vec<String>,
}

/// Leaf connections of one tenant, for `/metrics`.
#[derive(Debug, Clone)]
pub struct LeafTotalsSnapshot {
    pub tenant: Arc<str>,
    pub connections: usize,
    pub traffic: Traffic,
}

/// One live client connection.
/// One field per value `/connz` reports of a connection.
#[derive(Debug, Clone)]
pub struct ConnSnapshot {
    pub cid: u64,
    pub peer: SocketAddr,
    pub start: SystemTime,
    pub last_activity: SystemTime,
    pub rtt: Option<Duration>,
    pub pending_bytes: usize,
    pub traffic: Traffic,
    pub subscriptions: usize,
    /// Subjects of its subscriptions, when asked for.
    pub subjects: Vec<String>,
    pub name: Option<String>,
    pub lang: Option<String>,
    pub version: Option<String>,
    pub account: Arc<str>,
    pub user: Option<String>,
    /// When it closed, for a closed connection.
    pub stop: Option<SystemTime>,
    /// Why it closed, in nats-server's words, for a closed connection.
    pub reason: Option<&'static str>,
}

/// One client subscription.
#[derive(Debug, Clone)]
pub struct SubSnapshot {
    pub account: Arc<str>,
    pub subject: String,
    pub queue: Option<String>,
    pub sid: String,
    pub cid: u64,
}

/// One tenant (account).
/// One field per value `/accountz` and `/metrics` report of a tenant.
#[derive(Debug, Clone)]
pub struct AccountSnapshot {
    pub name: Arc<str>,
    pub is_system: bool,
    pub connections: usize,
    pub total_connections: u64,
    /// Client subscriptions (not import entries).
    pub subscriptions: usize,
    pub traffic: Traffic,
    pub slow_consumers: u64,
    pub max_connections: Option<usize>,
    pub max_subscriptions: Option<usize>,
    pub max_payload: Option<usize>,
    pub mappings: usize,
    pub imports: Vec<ImportSummary>,
    pub exports: Vec<ExportSummary>,
}

#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// `stream` or `service`.
    pub kind: &'static str,
    pub account: String,
    pub subject: String,
    pub local_subject: String,
}

#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub kind: &'static str,
    pub subject: String,
    /// Tenants allowed to import; empty means all.
    pub accounts: Vec<String>,
    pub response_type: Option<&'static str>,
}

/// Subscription index totals over every account.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexTotals {
    /// Client subscriptions.
    pub subscriptions: usize,
    pub index: IndexStats,
    /// Subjects held in connections' match caches.
    pub cached: usize,
}
