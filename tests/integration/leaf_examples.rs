//! The leaf node set-ups in docs/clustering.md (`docs/examples/leaf/`) run
//! as written: every Switchyard TOML loads with `ServerConfig::load`, and
//! each set-up starts (on free ports: 4222/4223/7422 in the files become
//! port 0, and leaves dial the hub's real leaf port) and carries messages
//! between clients of both sides; nats-server configurations are run by a
//! real nats-server with the same substitutions.

use crate::common::natsd::{NatsServer, binary};
use crate::common::{eventually, next_msg, no_msg, start_with, user};
use crate::leaf_nats::await_interest;
use async_nats::Client;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use switchyard::{Server, ServerConfig};

fn dir(set_up: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples/leaf")
        .join(set_up)
}

fn load(set_up: &str, file: &str) -> ServerConfig {
    let path = dir(set_up).join(file);
    ServerConfig::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_switchyard_example_loads() {
    let mut seen = 0;
    for set_up in ["sy-leaf-nats-hub", "nats-leaf-sy-hub", "sy-sy", "tenants"] {
        for entry in std::fs::read_dir(dir(set_up)).expect("example dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path.file_name().and_then(|n| n.to_str()).expect("name");
                let config = load(set_up, name);
                assert!(config.leafnodes.is_some(), "{}", path.display());
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 6, "the hub and leaf TOML files of four set-ups");
}

/// A Switchyard hub from `file`, on free ports.
async fn sy_hub(set_up: &str, file: &str) -> Server {
    let mut config = load(set_up, file);
    if let Some(leaf) = config.leafnodes.as_mut() {
        leaf.port = Some(0);
    }
    start_with(config).await
}

/// A Switchyard leaf from `file`, its remotes pointed at `hub` (the
/// example's 127.0.0.1:7422).
async fn sy_leaf(set_up: &str, file: &str, hub: &str) -> Server {
    let mut config = load(set_up, file);
    let remotes = config
        .leafnodes
        .as_mut()
        .map(|l| l.remotes.as_mut_slice())
        .unwrap_or_default();
    let n = remotes.len();
    for remote in remotes {
        for url in &mut remote.urls {
            *url = url.replace("127.0.0.1:7422", hub);
        }
    }
    let server = start_with(config).await;
    eventually("every remote connected", || server.leaf_count() == n).await;
    server
}

/// nats-server from `file`, with the same port substitutions.
fn nats(bin: &PathBuf, set_up: &str, file: &str, hub: Option<SocketAddr>) -> NatsServer {
    let path = dir(set_up).join(file);
    let mut text = std::fs::read_to_string(&path).expect("example config");
    for port in ["4222", "4223", "7422"] {
        text = text.replace(&format!("port: {port}"), "port: -1");
    }
    if let Some(hub) = hub {
        text = text.replace("127.0.0.1:7422", &hub.to_string());
    }
    NatsServer::start(bin, &format!("host: 127.0.0.1\n{text}"), &[])
}

fn leaf_port_of(nats: &NatsServer) -> String {
    nats.leaf.clone().expect("nats-server leaf port")
}

/// A message each way between `a` and `b`.
async fn both_ways(a: &Client, b: &Client) {
    for (from, to) in [(a, b), (b, a)] {
        let mut sub = to.subscribe("example.>").await.expect("sub");
        await_interest(from, to).await;
        from.publish("example.hello", "hi".into())
            .await
            .expect("pub");
        assert_eq!(&next_msg(&mut sub).await.payload[..], b"hi");
    }
}

#[tokio::test]
async fn switchyard_leaf_of_nats_server_hub_as_written() {
    let Some(bin) = binary() else { return };
    let hub = nats(&bin, "sy-leaf-nats-hub", "hub.conf", None);
    let leaf = sy_leaf("sy-leaf-nats-hub", "leaf.toml", &leaf_port_of(&hub)).await;
    both_ways(&hub.client().await, &crate::common::client(&leaf).await).await;
}

#[tokio::test]
async fn nats_server_leaf_of_switchyard_hub_as_written() {
    let Some(bin) = binary() else { return };
    let hub = sy_hub("nats-leaf-sy-hub", "hub.toml").await;
    let leaf = nats(&bin, "nats-leaf-sy-hub", "leaf.conf", hub.leaf_addr());
    eventually("leaf connected", || hub.leaf_count() == 1).await;
    both_ways(&crate::common::client(&hub).await, &leaf.client().await).await;
}

#[tokio::test]
async fn switchyard_leaf_of_switchyard_hub_as_written() {
    let hub = sy_hub("sy-sy", "hub.toml").await;
    let addr = hub.leaf_addr().expect("leaf port").to_string();
    let leaf = sy_leaf("sy-sy", "leaf.toml", &addr).await;
    both_ways(
        &crate::common::client(&hub).await,
        &crate::common::client(&leaf).await,
    )
    .await;
}

/// Each tenant's traffic crosses its own remote and reaches only its own
/// tenant (or account) on the hub; the deny lists hold.
async fn tenants_stay_apart(alice: &Client, gus: &Client, edge_alice: &Client, edge_gus: &Client) {
    both_ways(alice, edge_alice).await;
    both_ways(gus, edge_gus).await;
    // acme's message never reaches globex on either side.
    let mut gus_sub = gus.subscribe("orders.>").await.expect("sub");
    let mut edge_gus_sub = edge_gus.subscribe("orders.>").await.expect("sub");
    let mut alice_sub = alice.subscribe("orders.>").await.expect("sub");
    await_interest(gus, edge_gus).await;
    await_interest(edge_alice, alice).await;
    edge_alice
        .publish("orders.new", "acme only".into())
        .await
        .expect("pub");
    assert_eq!(&next_msg(&mut alice_sub).await.payload[..], b"acme only");
    no_msg(&mut gus_sub).await;
    no_msg(&mut edge_gus_sub).await;
    // deny_exports = ["local.>"]: stays at the edge.
    let mut local = alice.subscribe("local.x").await.expect("sub");
    await_interest(edge_alice, alice).await;
    edge_alice
        .publish("local.x", "edge".into())
        .await
        .expect("pub");
    edge_alice.flush().await.expect("flush");
    no_msg(&mut local).await;
}

#[tokio::test]
async fn tenants_one_remote_each_switchyard_hub_as_written() {
    let hub = sy_hub("tenants", "hub.toml").await;
    let addr = hub.leaf_addr().expect("leaf port").to_string();
    let leaf = sy_leaf("tenants", "leaf.toml", &addr).await;
    eventually("hub sees both", || hub.leaf_count() == 2).await;
    tenants_stay_apart(
        &user(&hub, "alice", "alice-pass").await,
        &user(&hub, "gus", "gus-pass").await,
        &user(&leaf, "edge-alice", "edge-alice-pass").await,
        &user(&leaf, "edge-gus", "edge-gus-pass").await,
    )
    .await;
}

#[tokio::test]
async fn tenants_one_remote_each_nats_server_hub_as_written() {
    let Some(bin) = binary() else { return };
    let hub = nats(&bin, "tenants", "hub.conf", None);
    let leaf = sy_leaf("tenants", "leaf.toml", &leaf_port_of(&hub)).await;
    let on_hub = |u: &'static str, p: &'static str| {
        async_nats::ConnectOptions::with_user_and_password(u.into(), p.into()).connect(&hub.url)
    };
    tenants_stay_apart(
        &on_hub("alice", "alice-pass").await.expect("alice"),
        &on_hub("gus", "gus-pass").await.expect("gus"),
        &user(&leaf, "edge-alice", "edge-alice-pass").await,
        &user(&leaf, "edge-gus", "edge-gus-pass").await,
    )
    .await;
}
