//! The `/varz` keys nats-server 2.15 has and Switchyard's own fields do
//! not, so that tools reading nats-server's page find every key: blocks
//! for features Switchyard lacks are empty (as nats-server's are when the
//! feature is off), client totals equal the server totals (every
//! connection is a client), counts of things that cannot happen here
//! (routes', gateways' and leaf nodes' slow consumers, disk waits without
//! JetStream) are zero.
//!

use super::observer::StatsSnapshot;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// An empty JSON object: a feature block whose feature is off.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

#[derive(Debug, Default, Serialize)]
pub struct KindCounts {
    pub clients: u64,
    pub routes: u64,
    pub gateways: u64,
    pub leafs: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct DiskWaits {
    pub waiters: u64,
    pub waits: u64,
    pub wait_time: u64,
    pub max_wait_time: u64,
}

/// The rest of nats-server's `/varz` keys, one field each.
#[derive(Debug, Default, Serialize)]
pub struct VarzCompat {
    pub git_commit: &'static str,
    pub http_base_path: &'static str,
    pub https_port: u16,
    pub cluster: Empty,
    pub gateway: Empty,
    pub leaf: Empty,
    pub mqtt: Empty,
    pub websocket: Empty,
    pub jetstream: Empty,
    pub gomaxprocs: usize,
    pub in_client_msgs: u64,
    pub in_client_bytes: u64,
    pub out_client_msgs: u64,
    pub out_client_bytes: u64,
    pub config_digest: &'static str,
    pub feature_flags: BTreeMap<String, bool>,
    pub slow_consumer_stats: KindCounts,
    pub disk_io_wait_stats: DiskWaits,
    /// Percent of one core, over the last second or more.
    pub cpu: f64,
    /// Seconds.
    pub tls_timeout: f64,
    pub stale_connections: u64,
    pub stale_connection_stats: KindCounts,
    pub stalled_clients: u64,
}

impl VarzCompat {
    pub fn new(stats: &StatsSnapshot, tls_timeout: Duration) -> VarzCompat {
        VarzCompat {
            // Threads that can run at once, the nearest thing to GOMAXPROCS.
            gomaxprocs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            in_client_msgs: stats.in_msgs,
            in_client_bytes: stats.in_bytes,
            out_client_msgs: stats.out_msgs,
            out_client_bytes: stats.out_bytes,
            slow_consumer_stats: KindCounts {
                clients: stats.slow_consumers,
                ..KindCounts::default()
            },
            cpu: super::process::cpu_percent(),
            tls_timeout: tls_timeout.as_secs_f64(),
            stale_connections: stats.stale_connections,
            stale_connection_stats: KindCounts {
                clients: stats.stale_connections,
                ..KindCounts::default()
            },
            stalled_clients: stats.stalled_clients,
            ..VarzCompat::default()
        }
    }
}
