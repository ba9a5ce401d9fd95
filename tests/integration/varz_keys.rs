//! `/varz` has nats-server 2.15.1's top-level keys (as its page lists
//! them with the default configuration), except the few Switchyard does
//! not count yet.

use crate::common;
use switchyard::ServerConfig;

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

/// Not counted by the server yet (docs/compatibility.md).
const NOT_YET: &[&str] = &[
    "cpu",
    "tls_timeout",
    "stale_connections",
    "stalled_clients",
    "stale_connection_stats",
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
        .filter(|k| varz.get(k).is_none() && !NOT_YET.contains(k))
        .collect();
    assert!(missing.is_empty(), "missing /varz keys: {missing:?}");
    assert_eq!(varz["in_client_msgs"], varz["in_msgs"]);
    assert_eq!(varz["jetstream"], serde_json::json!({}));
    assert_eq!(varz["slow_consumer_stats"]["routes"], 0);
    assert_eq!(varz["version"], "2.15.1");
    assert!(varz["switchyard_version"].is_string());
}
