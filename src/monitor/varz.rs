//! `/varz`: server identity, configured limits and running totals, with
//! nats-server's field names.

use super::json::to_json;
use super::observer::Observer;
use super::time::{rfc3339, since, uptime};
use crate::tenant::Traffic;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// nats-server's `/varz` document, one field per key: its size is
/// nats-server's.
#[derive(Debug, Serialize)]
pub struct Varz {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    /// Switchyard's own release; `version` is the nats-server release it matches.
    pub switchyard_version: &'static str,
    pub proto: i32,
    pub go: String,
    pub host: String,
    pub port: u16,
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    pub max_connections: usize,
    /// Nanoseconds, as Go marshals a `time.Duration`.
    pub ping_interval: u128,
    pub ping_max: u32,
    pub http_host: String,
    pub http_port: u16,
    /// Seconds.
    pub auth_timeout: f64,
    pub max_control_line: usize,
    pub max_payload: usize,
    pub max_pending: usize,
    /// Nanoseconds.
    pub write_deadline: u128,
    pub start: String,
    pub now: String,
    pub uptime: String,
    /// Resident memory, bytes.
    pub mem: u64,
    pub cores: usize,
    pub connections: usize,
    pub total_connections: u64,
    pub routes: u32,
    pub remotes: u32,
    /// Open leaf node connections, both ways.
    pub leafnodes: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub slow_consumers: u64,
    pub subscriptions: usize,
    pub http_req_stats: BTreeMap<String, u64>,
    pub config_load_time: String,
    pub system_account: String,
    #[serde(flatten)]
    pub compat: super::varz_compat::VarzCompat,
}

fn is_false(b: &bool) -> bool {
    !*b
}

pub fn build(observer: &dyn Observer) -> Varz {
    let s = observer.summary();
    let stats = observer.stats();
    let now = SystemTime::now();
    let leaf_traffic = observer
        .leaf_totals()
        .iter()
        .fold(Traffic::default(), |mut sum, l| {
            sum.add(l.traffic);
            sum
        });
    let mut peer_traffic = leaf_traffic;
    peer_traffic.add(observer.route_traffic());
    let routes = observer.routes(false).len();
    Varz {
        server_id: s.server_id,
        server_name: s.server_name,
        version: s.version,
        switchyard_version: env!("CARGO_PKG_VERSION"),
        proto: s.proto,
        go: concat!("switchyard-", env!("CARGO_PKG_VERSION")).to_string(),
        host: s.host,
        port: s.port,
        auth_required: s.auth_required,
        tls_required: s.tls_required,
        max_connections: s.max_connections,
        ping_interval: s.ping_interval.as_nanos(),
        ping_max: s.ping_max,
        http_host: s.http_host,
        http_port: s.http_port,
        auth_timeout: s.auth_timeout.as_secs_f64(),
        max_control_line: s.max_control_line,
        max_payload: s.max_payload,
        max_pending: s.max_pending,
        write_deadline: s.write_deadline.as_nanos(),
        start: rfc3339(s.start),
        now: rfc3339(now),
        uptime: uptime(since(now, s.start)),
        mem: super::process::resident_memory().unwrap_or(0),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        connections: observer.connection_count(),
        total_connections: stats.total_connections,
        routes: routes as u32,
        remotes: 0,
        leafnodes: observer.leaves(false).len(),
        in_msgs: stats.in_msgs,
        out_msgs: stats.out_msgs,
        in_bytes: stats.in_bytes,
        out_bytes: stats.out_bytes,
        slow_consumers: stats.slow_consumers,
        subscriptions: observer.index_totals().subscriptions,
        http_req_stats: observer.http_requests(),
        config_load_time: rfc3339(s.config_load_time),
        system_account: s.system_account,
        compat: super::varz_compat::VarzCompat::new(
            &stats,
            s.tls_timeout,
            &s.leaf,
            s.cluster.as_ref(),
            peer_traffic,
        ),
    }
}

pub fn render(observer: &dyn Observer) -> Vec<u8> {
    to_json(&build(observer))
}
