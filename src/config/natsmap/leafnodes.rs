//! nats-server's `leafnodes { }` block: the leaf node port (`listen`,
//! `host`, `port`, `tls`) and `remotes`, onto `[leafnodes]`.

use super::NatsTranslation;
use super::read::Issues;
use super::server::{file, host_port, port, set, tls};
use crate::config::natsconf::{Map, Pos, Value};
use crate::config::{LeafNodesConfig, LeafRemote, RemoteTls};

/// Maps the block; problems go to `issues`.
pub(super) fn apply(v: &Value, path: &str, out: &mut NatsTranslation, issues: &mut Issues) {
    let Some(map) = issues.map(v, path) else {
        return;
    };
    let mut leaf = LeafNodesConfig::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "listen" => {
                if let Some((host, port)) = host_port(v, &p, issues) {
                    leaf.host = host;
                    leaf.port = Some(port);
                }
            }
            "host" => leaf.host = issues.string(v, &p),
            "port" => leaf.port = port(v, &p, issues),
            "tls" => leaf.tls = tls(v, &p, issues),
            "remotes" => {
                for (remote, rp) in issues.maps(v, &p) {
                    if let Some(r) = map_remote(remote, &rp, &v.pos, issues) {
                        leaf.remotes.push(r);
                    }
                }
            }
            "advertise"
            | "no_advertise"
            | "compression"
            | "reconnect"
            | "min_version"
            | "isolate_leafnode_interest"
            | "authorization" => issues.ignore(
                &entry.key_pos,
                &p,
                "not supported for leaf nodes yet (leaves log in as tenant users)",
            ),
            _ => issues.unknown(entry, &p),
        }
    }
    out.config.leafnodes = Some(leaf);
}

fn map_remote(map: &Map, path: &str, pos: &Pos, issues: &mut Issues) -> Option<LeafRemote> {
    let mut urls = Vec::new();
    let mut remote = LeafRemote::new("nats-leaf://unset");
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "url" | "urls" => urls.extend(issues.strings(v, &p)),
            "account" | "local" => {
                // The file's `$SYS` is the tenant `SYS` (see accounts).
                remote.tenant = issues.string(v, &p).map(|a| match a.as_str() {
                    "$SYS" => "SYS".to_string(),
                    _ => a,
                });
            }
            "credentials" | "creds" => remote.credentials = file(v, &p, issues),
            "nkey" => remote.nkey = issues.string(v, &p),
            "deny_imports" | "deny_import" => remote.deny_imports = issues.strings(v, &p),
            "deny_exports" | "deny_export" => remote.deny_exports = issues.strings(v, &p),
            "reconnect_delay" | "connect_delay" => {
                set(&mut remote.reconnect_delay, issues.duration(v, &p))
            }
            "tls" => remote.tls = remote_tls(v, &p, issues),
            "hub"
            | "ws_compression"
            | "ws_no_masking"
            | "compression"
            | "first_info_timeout"
            | "disable_discovery"
            | "jetstream_cluster_migrate"
            | "request_isolation"
            | "local_isolation"
            | "proxy" => issues.ignore(
                &entry.key_pos,
                &p,
                "not supported for leaf node remotes yet",
            ),
            _ => issues.unknown(entry, &p),
        }
    }
    if urls.is_empty() {
        issues.error(pos, path, "a remote needs url or urls");
        return None;
    }
    remote.urls = urls;
    Some(remote)
}

fn remote_tls(v: &Value, path: &str, issues: &mut Issues) -> Option<RemoteTls> {
    let map = issues.map(v, path)?;
    let mut tls = RemoteTls::default();
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "ca_file" => tls.ca_file = file(v, &p, issues),
            "cert_file" => tls.cert_file = file(v, &p, issues),
            "key_file" => tls.key_file = file(v, &p, issues),
            "handshake_first" | "first" => set(&mut tls.handshake_first, issues.boolean(v, &p)),
            "server_name" => tls.server_name = issues.string(v, &p),
            "timeout" | "cipher_suites" | "curve_preferences" | "min_version" => issues.ignore(
                &entry.key_pos,
                &p,
                "Switchyard uses rustls' defaults and its own timeouts",
            ),
            _ => issues.error(&entry.key_pos, &p, "not supported by Switchyard"),
        }
    }
    Some(tls)
}
