//! The cluster set-ups in docs/clustering.md (`docs/examples/cluster/`)
//! run as written: every Switchyard TOML loads with `ServerConfig::load`,
//! and each set-up forms its full mesh on free ports (the fixed ports in
//! the files become 0, and seeds name the real route port); the
//! nats-server configuration is run by a real nats-server with the same
//! substitutions.

use crate::cluster::route_url;
use crate::common::natsd::{NatsServer, binary};
use crate::common::{eventually, next_msg};
use crate::leaf_nats::await_interest;
use std::path::{Path, PathBuf};
use switchyard::{Server, ServerConfig};

fn file(set_up: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples/cluster")
        .join(set_up)
        .join(name)
}

/// `name` of `set_up`, loaded, on free ports, dialling `seed` instead of
/// the file's seed (keeping its credentials).
async fn start(set_up: &str, name: &str, seed: Option<&Server>) -> Server {
    let path = file(set_up, name);
    let mut config =
        ServerConfig::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    config.port = 0;
    config.http_port = config.http_port.map(|_| 0);
    let cluster = config.cluster.as_mut().expect("[cluster]");
    cluster.port = 0;
    if let Some(seed) = seed {
        let real = route_url(seed).replace("nats-route://", "");
        for r in cluster.routes.iter_mut() {
            *r = r.replace("127.0.0.1:6222", &real);
        }
    }
    Server::start(config).await.expect("starts")
}

#[tokio::test]
async fn the_three_node_example_forms_a_cluster() {
    let n1 = start("three", "n1.toml", None).await;
    let n2 = start("three", "n2.toml", Some(&n1)).await;
    let n3 = start("three", "n3.toml", Some(&n1)).await;
    let nodes = [&n1, &n2, &n3];
    eventually("full mesh", || nodes.iter().all(|n| n.route_count() == 2)).await;
    let a = async_nats::connect(n2.client_url()).await.expect("client");
    let b = async_nats::connect(n3.client_url()).await.expect("client");
    let mut sub = b.subscribe("hello").await.expect("sub");
    await_interest(&a, &b).await;
    a.publish("hello", "world".into()).await.expect("pub");
    a.flush().await.expect("flush");
    assert_eq!(next_msg(&mut sub).await.payload, "world");
}

#[tokio::test]
async fn the_mixed_example_meshes_with_nats_server() {
    let Some(bin) = binary() else { return };
    let sy1 = start("mixed", "sy1.toml", None).await;
    let sy2 = start("mixed", "sy2.toml", Some(&sy1)).await;
    let text = std::fs::read_to_string(file("mixed", "nats.conf")).expect("nats.conf");
    let real = route_url(&sy1).replace("nats-route://", "");
    let text = text
        .replace("port: 4224", "port: -1")
        .replace("127.0.0.1:6224", "127.0.0.1:-1")
        .replace("127.0.0.1:6222", &real);
    let nats = NatsServer::start(&bin, &text, &[]);
    eventually("full mesh", || {
        sy1.route_count() == 2 && sy2.route_count() == 2
    })
    .await;
    let a = async_nats::connect(sy2.client_url()).await.expect("client");
    let b = nats.client().await;
    let mut sub = b.subscribe("hello").await.expect("sub");
    await_interest(&a, &b).await;
    a.publish("hello", "mixed".into()).await.expect("pub");
    a.flush().await.expect("flush");
    assert_eq!(next_msg(&mut sub).await.payload, "mixed");
}
