//! The answer to `$SYS.REQ.SERVER.PING` and `$SYS.REQ.SERVER.PING.STATSZ`
//! (what `nats server list` and `nats server ping` send): one reply per
//! server, `{"server": {...}, "statsz": {...}}`, with nats-server 2.15's
//! keys. Every connection is a client here, so the client totals equal
//! the server's.

use super::observer::{Observer, ServerSummary};
use super::process::{cpu_percent, resident_memory};
use super::server_ref::ServerRef;
use super::time::rfc3339;
use serde::{Deserialize, Serialize};

/// nats-server's `EventFilterOptions`, which a statsz request may carry:
/// a server that does not match answers nothing. Names and hosts match
/// when they contain the given text (equal it with `exact`); this server
/// has no cluster, tags or JetStream domain, so asking for any leaves it
/// out.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filter {
    server_name: String,
    cluster: String,
    host: String,
    tags: Vec<String>,
    domain: String,
    exact: bool,
}

impl Filter {
    pub(super) fn excludes(&self, server: &ServerSummary) -> bool {
        let differs = |have: &str, want: &str| {
            !want.is_empty()
                && if self.exact {
                    have != want
                } else {
                    !have.contains(want)
                }
        };
        differs(&server.server_name, &self.server_name)
            || differs(&server.host, &self.host)
            || !self.cluster.is_empty()
            || !self.tags.is_empty()
            || !self.domain.is_empty()
    }
}

#[derive(Debug, Serialize)]
struct DataStats {
    msgs: u64,
    bytes: u64,
}

/// nats-server's `ServerStats`, one field per key.
#[derive(Debug, Serialize)]
struct Statsz {
    start: String,
    mem: u64,
    cores: usize,
    cpu: f64,
    connections: usize,
    total_connections: u64,
    active_accounts: usize,
    subscriptions: usize,
    sent: DataStats,
    sent_to_clients: DataStats,
    received: DataStats,
    received_from_clients: DataStats,
    slow_consumers: u64,
    /// Servers this one knows of, itself included.
    active_servers: usize,
    gomaxprocs: usize,
}

#[derive(Debug, Serialize)]
struct Envelope {
    server: ServerRef,
    statsz: Statsz,
}

pub(super) fn answer(observer: &dyn Observer) -> Vec<u8> {
    let stats = observer.stats();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let statsz = Statsz {
        start: rfc3339(observer.summary().start),
        mem: resident_memory().unwrap_or(0),
        cores,
        cpu: cpu_percent(),
        connections: observer.connection_count(),
        total_connections: stats.total_connections,
        active_accounts: observer
            .accounts()
            .iter()
            .filter(|a| a.connections > 0)
            .count(),
        subscriptions: observer.index_totals().subscriptions,
        sent: DataStats {
            msgs: stats.out_msgs,
            bytes: stats.out_bytes,
        },
        sent_to_clients: DataStats {
            msgs: stats.out_msgs,
            bytes: stats.out_bytes,
        },
        received: DataStats {
            msgs: stats.in_msgs,
            bytes: stats.in_bytes,
        },
        received_from_clients: DataStats {
            msgs: stats.in_msgs,
            bytes: stats.in_bytes,
        },
        slow_consumers: stats.slow_consumers,
        active_servers: 1,
        gomaxprocs: cores,
    };
    let envelope = Envelope {
        server: ServerRef::of(observer),
        statsz,
    };
    // Compact, as nats-server sends it over NATS.
    serde_json::to_vec(&envelope).unwrap_or_default()
}
