//! nats-server's `cluster { }` block onto `[cluster]`: the route port
//! (`listen`, `host`, `port`), `name`, `routes`, `authorization` (user and
//! password; nats-server refuses tokens here too), `tls`, `advertise`,
//! `no_advertise` and `connect_retries`. Route pooling, compression and
//! pinned accounts are reported and ignored: Switchyard runs one
//! uncompressed route per peer carrying every account, which nats-server
//! peers accept.

use super::NatsTranslation;
use super::read::Issues;
use super::server::{host_port, port, set, tls};
use crate::config::ClusterConfig;
use crate::config::natsconf::Value;

/// Maps the block; problems go to `issues`.
pub(super) fn apply(v: &Value, path: &str, out: &mut NatsTranslation, issues: &mut Issues) {
    let Some(map) = issues.map(v, path) else {
        return;
    };
    let mut cluster = ClusterConfig::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "name" => cluster.name = issues.string(v, &p),
            "listen" => {
                if let Some((host, port)) = host_port(v, &p, issues) {
                    cluster.host = host;
                    cluster.port = port;
                }
            }
            "host" | "net" => cluster.host = issues.string(v, &p),
            "port" => {
                if let Some(port) = port(v, &p, issues) {
                    cluster.port = port;
                }
            }
            "routes" => cluster.routes = issues.strings(v, &p),
            "tls" => cluster.tls = tls(v, &p, issues),
            "advertise" | "cluster_advertise" => cluster.advertise = issues.string(v, &p),
            "no_advertise" => set(&mut cluster.no_advertise, issues.boolean(v, &p)),
            "connect_retries" => {
                if let Some(n) = issues.count(v, &p) {
                    cluster.connect_retries = n;
                }
            }
            "authorization" => authorization(v, &p, &mut cluster, issues),
            "pool_size" | "compression" | "accounts" => issues.ignore(
                &entry.key_pos,
                &p,
                "Switchyard runs one uncompressed route per peer carrying every account",
            ),
            "permissions" | "ping_interval" | "ping_max" | "write_deadline" | "connect_backoff" => {
                issues.ignore(&entry.key_pos, &p, "not supported for routes")
            }
            _ => issues.unknown(entry, &p),
        }
    }
    out.config.cluster = Some(cluster);
}

fn authorization(v: &Value, path: &str, cluster: &mut ClusterConfig, issues: &mut Issues) {
    let Some(map) = issues.map(v, path) else {
        return;
    };
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "user" | "username" => cluster.user = issues.string(v, &p),
            "password" | "pass" => cluster.password = issues.string(v, &p),
            "token" => issues.error(
                &entry.key_pos,
                &p,
                "Cluster authorization does not support tokens",
            ),
            "timeout" => issues.ignore(&entry.key_pos, &p, "the server's auth_timeout applies"),
            _ => issues.unknown(entry, &p),
        }
    }
}
