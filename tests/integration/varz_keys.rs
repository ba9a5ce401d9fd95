//! `/varz` has nats-server 2.15.1's top-level keys (as its page lists
//! them with the default configuration), and `/varz` and `/connz` have the
//! keys a live nats-server's pages have, for the same configuration file.

use crate::common;
use common::nats_server::{NatsServer, bin_or_skip};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use switchyard::ServerConfig;
use switchyard::config::natsmap;

/// nats-server 2.15.1's `/varz` keys, read from its page.
const NATS_VARZ_KEYS: &[&str] = &[
    "server_id",
    "server_name",
    "version",
    "proto",
    "git_commit",
    "go",
    "host",
    "port",
    "max_connections",
    "ping_interval",
    "ping_max",
    "http_host",
    "http_port",
    "http_base_path",
    "https_port",
    "auth_timeout",
    "max_control_line",
    "max_payload",
    "max_pending",
    "cluster",
    "gateway",
    "leaf",
    "mqtt",
    "websocket",
    "jetstream",
    "tls_timeout",
    "write_deadline",
    "start",
    "now",
    "uptime",
    "mem",
    "cores",
    "gomaxprocs",
    "cpu",
    "connections",
    "total_connections",
    "routes",
    "remotes",
    "leafnodes",
    "in_msgs",
    "in_bytes",
    "in_client_msgs",
    "in_client_bytes",
    "out_msgs",
    "out_bytes",
    "out_client_msgs",
    "out_client_bytes",
    "slow_consumers",
    "stale_connections",
    "stalled_clients",
    "subscriptions",
    "http_req_stats",
    "config_load_time",
    "config_digest",
    "feature_flags",
    "system_account",
    "slow_consumer_stats",
    "stale_connection_stats",
    "disk_io_wait_stats",
];

#[tokio::test]
async fn varz_has_nats_server_keys() {
    let server = common::start_with(ServerConfig {
        http_port: Some(0),
        ..ServerConfig::default()
    })
    .await;
    let client = common::client(&server).await;
    client.publish("a", "xy".into()).await.unwrap();
    client.flush().await.unwrap();
    let addr = server.http_addr().expect("monitoring on");
    let body = tokio::task::spawn_blocking(move || {
        ureq::get(&format!("http://{addr}/varz"))
            .call()
            .expect("GET /varz")
            .body_mut()
            .read_to_string()
            .expect("body")
    })
    .await
    .unwrap();
    let varz: serde_json::Value = serde_json::from_str(&body).unwrap();
    let missing: Vec<&str> = NATS_VARZ_KEYS
        .iter()
        .copied()
        .filter(|k| varz.get(k).is_none())
        .collect();
    assert!(missing.is_empty(), "missing /varz keys: {missing:?}");
    assert_eq!(varz["in_client_msgs"], varz["in_msgs"]);
    assert_eq!(varz["jetstream"], serde_json::json!({}));
    assert_eq!(varz["slow_consumer_stats"]["routes"], 0);
    assert_eq!(varz["version"], "2.15.1");
    assert!(varz["switchyard_version"].is_string());
    assert!(varz["cpu"].as_f64().is_some_and(|c| c >= 0.0));
    assert_eq!(varz["tls_timeout"], 2.0);
    assert_eq!(varz["stale_connections"], 0);
    assert_eq!(varz["stale_connection_stats"]["clients"], 0);
    assert_eq!(varz["stalled_clients"], 0);
}

async fn get(addr: SocketAddr, path: &str) -> Value {
    let url = format!("http://{addr}{path}");
    let body = tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .body_mut()
            .read_to_string()
            .expect("body")
    })
    .await
    .unwrap();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// `/varz` and a `/connz` entry from nats-server and from Switchyard,
/// started from the same file with one async-nats client each: every key
/// nats-server's pages have, Switchyard's have (`rtt` included: both
/// take the INFO-to-CONNECT time as the first estimate).
#[tokio::test]
async fn varz_and_connz_have_a_live_nats_servers_keys() {
    let Some(bin) = bin_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.conf");
    std::fs::write(&path, "listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\n").expect("write");
    let reference = NatsServer::start(&bin, &path);
    let translation = natsmap::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let server = switchyard::Server::start(translation.config)
        .await
        .expect("server starts");
    let ours = format!("nats://{}", server.local_addr());
    let pages = [
        (
            reference.url.clone(),
            reference.http.expect("nats-server monitor"),
        ),
        (ours, server.http_addr().expect("monitoring on")),
    ];
    let mut seen = Vec::new();
    for (url, http) in pages {
        let client = async_nats::connect(&url).await.expect("connect");
        client.flush().await.expect("flush");
        let varz = get(http, "/varz").await;
        let connz = get(http, "/connz").await;
        seen.push((varz, connz, client));
    }
    let (want, got) = (&seen[0], &seen[1]);
    let missing: Vec<String> = keys(&want.0).difference(&keys(&got.0)).cloned().collect();
    assert!(missing.is_empty(), "/varz lacks {missing:?}");
    let missing: Vec<String> = keys(&want.1).difference(&keys(&got.1)).cloned().collect();
    assert!(missing.is_empty(), "/connz lacks {missing:?}");
    let entry = |v: &Value| keys(&v["connections"][0]);
    let missing: Vec<String> = entry(&want.1).difference(&entry(&got.1)).cloned().collect();
    assert!(
        missing.is_empty(),
        "/connz entries lack {missing:?}\nnats-server: {}\nSwitchyard: {}",
        want.1["connections"][0],
        got.1["connections"][0]
    );
    assert!(got.1["connections"][0]["rtt"].is_string());
}
