//! The `/varz` keys nats-server 2.15 has and Switchyard's own fields do
//! not, so that tools reading nats-server's page find every key: blocks
//! for features Switchyard lacks are empty (as nats-server's are when the
//! feature is off), client totals are the server totals less what crossed
//! leaf connections, counts of
//! things that cannot happen here (routes', gateways' and leaf nodes' slow
//! consumers, disk waits without JetStream) are zero. The `leaf` block is
//! nats-server's `LeafNodeOptsVarz`.
//!

use super::observer::{ClusterSettings, LeafSettings, StatsSnapshot};
use crate::tenant::Traffic;
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
    pub cluster: ClusterVarz,
    pub gateway: Empty,
    pub leaf: LeafVarz,
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

/// nats-server's `ClusterOptsVarz`: every key is `omitempty`, so a server
/// outside a cluster shows `{}`.
#[derive(Debug, Default, Serialize)]
pub struct ClusterVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
    #[serde(skip_serializing_if = "is_zero_port")]
    pub cluster_port: u16,
    /// Seconds.
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub auth_timeout: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Seconds.
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub tls_timeout: f64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_required: bool,
}

fn is_zero_port(p: &u16) -> bool {
    *p == 0
}

impl ClusterVarz {
    fn new(c: Option<&ClusterSettings>) -> ClusterVarz {
        let Some(c) = c else {
            return ClusterVarz::default();
        };
        ClusterVarz {
            name: c.name.clone(),
            addr: c.host.clone(),
            cluster_port: c.port,
            auth_timeout: c.auth_timeout.as_secs_f64(),
            urls: c.urls.clone(),
            tls_timeout: c.tls_timeout.as_secs_f64(),
            tls_required: c.tls_required,
        }
    }
}

/// nats-server's `LeafNodeOptsVarz`: every key is `omitempty`, so a
/// server without `[leafnodes]` shows `{}`, a leaf without a hub port only
/// `remotes`.
#[derive(Debug, Default, Serialize)]
pub struct LeafVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub port: u16,
    /// Seconds.
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub auth_timeout: f64,
    /// Seconds.
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub tls_timeout: f64,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remotes: Vec<RemoteLeafVarz>,
}

/// nats-server's `RemoteLeafOptsVarz`.
#[derive(Debug, Default, Serialize)]
pub struct RemoteLeafVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_account: String,
    /// `host:port` only: credentials in a URL are never shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<DenyRules>,
}

/// nats-server's `DenyRules`.
#[derive(Debug, Default, Serialize)]
pub struct DenyRules {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl LeafVarz {
    pub fn new(s: &LeafSettings) -> LeafVarz {
        let (host, port) = s.listen.clone().unwrap_or_default();
        // nats-server fills the timeouts only for a hub port.
        let hub = s.listen.is_some();
        LeafVarz {
            host,
            port,
            auth_timeout: if hub {
                s.auth_timeout.as_secs_f64()
            } else {
                0.0
            },
            tls_timeout: if hub {
                s.tls_timeout.as_secs_f64()
            } else {
                0.0
            },
            tls_required: s.tls_required,
            tls_verify: s.tls_verify,
            remotes: s
                .remotes
                .iter()
                .map(|r| RemoteLeafVarz {
                    local_account: r.local_account.clone(),
                    urls: r.urls.clone(),
                    deny: (!r.deny_imports.is_empty() || !r.deny_exports.is_empty()).then(|| {
                        DenyRules {
                            exports: r.deny_exports.clone(),
                            imports: r.deny_imports.clone(),
                        }
                    }),
                })
                .collect(),
        }
    }
}

impl VarzCompat {
    /// `leaf_traffic` is what crossed leaf connections and routes, which
    /// nats-server leaves out of its `*_client_*` totals.
    pub fn new(
        stats: &StatsSnapshot,
        tls_timeout: Duration,
        leaf: &LeafSettings,
        cluster: Option<&ClusterSettings>,
        leaf_traffic: Traffic,
    ) -> VarzCompat {
        VarzCompat {
            // Threads that can run at once, the nearest thing to GOMAXPROCS.
            gomaxprocs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            in_client_msgs: stats.in_msgs.saturating_sub(leaf_traffic.in_msgs),
            in_client_bytes: stats.in_bytes.saturating_sub(leaf_traffic.in_bytes),
            out_client_msgs: stats.out_msgs.saturating_sub(leaf_traffic.out_msgs),
            out_client_bytes: stats.out_bytes.saturating_sub(leaf_traffic.out_bytes),
            leaf: LeafVarz::new(leaf),
            cluster: ClusterVarz::new(cluster),
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
