//! Three Switchyards joined by routes on loopback, checked with async-nats
//! clients: subjects and queue groups across nodes, request/reply,
//! tenants and their imports, interest removal, and a node that dies and
//! comes back.

use crate::common::{eventually, next_msg, no_msg, start_with};
use crate::leaf_nats::await_interest;
use async_nats::Client;
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;
use switchyard::config::{ClusterConfig, natsmap};
use switchyard::{Server, ServerConfig};

/// `config` with a route port on loopback in cluster `c1`, dialling
/// `seeds`.
pub fn clustered(config: ServerConfig, seeds: &[String]) -> ServerConfig {
    ServerConfig {
        cluster: Some(ClusterConfig {
            name: Some("c1".into()),
            host: Some("127.0.0.1".into()),
            port: 0,
            routes: seeds.to_vec(),
            ..config.cluster.clone().unwrap_or_default()
        }),
        ..config
    }
}

/// A configuration whose routes use TLS with `cert` and `key`, trusting
/// the CA in `ca_file`.
pub fn route_tls(
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    ca_file: std::path::PathBuf,
) -> ServerConfig {
    let mut tls = switchyard::config::TlsConfig::new(cert, key);
    tls.ca_file = Some(ca_file);
    ServerConfig {
        cluster: Some(ClusterConfig {
            tls: Some(tls),
            ..ClusterConfig::default()
        }),
        ..ServerConfig::default()
    }
}

/// `nats-route://` URL of `server`'s route port.
pub fn route_url(server: &Server) -> String {
    format!("nats-route://{}", server.route_addr().expect("route port"))
}

/// Three nodes made from `config`: the second and third dial the first
/// and learn of each other from it. Returns once the mesh is complete.
pub async fn three(config: ServerConfig) -> Vec<Server> {
    let first = start_with(clustered(config.clone(), &[])).await;
    let seed = [route_url(&first)];
    let second = start_with(clustered(config.clone(), &seed)).await;
    let third = start_with(clustered(config, &seed)).await;
    let nodes = vec![first, second, third];
    eventually("full mesh", || nodes.iter().all(|n| n.route_count() == 2)).await;
    nodes
}

/// Counts the payloads `members` receive until `expected` have arrived
/// and half a second passes without another (so duplicates show).
pub async fn tally(
    members: Vec<async_nats::Subscriber>,
    expected: usize,
) -> HashMap<String, usize> {
    let mut all = futures::stream::select_all(members);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut got = 0;
    loop {
        let wait = if got < expected { 10_000 } else { 500 };
        match tokio::time::timeout(Duration::from_millis(wait), all.next()).await {
            Ok(Some(msg)) => {
                *seen
                    .entry(String::from_utf8_lossy(&msg.payload).into_owned())
                    .or_default() += 1;
                got += 1;
            }
            _ => return seen,
        }
    }
}

/// Answers every request on `subject` with `answer`, from `client`'s
/// server; returns once the subscription is registered there.
pub async fn respond(client: &Client, subject: &'static str, answer: &'static str) {
    let mut requests = client.subscribe(subject).await.expect("sub");
    client.flush().await.expect("flush");
    let client = client.clone();
    tokio::spawn(async move {
        while let Some(msg) = requests.next().await {
            if let Some(reply) = msg.reply {
                let _ = client.publish(reply, answer.into()).await;
                let _ = client.flush().await;
            }
        }
    });
}

async fn connect(server: &Server) -> Client {
    async_nats::connect(server.client_url())
        .await
        .expect("client connects")
}

#[tokio::test]
async fn wildcards_reach_subscribers_on_every_node_once() {
    let nodes = three(ServerConfig::default()).await;
    let (a, b, c) = (
        connect(&nodes[0]).await,
        connect(&nodes[1]).await,
        connect(&nodes[2]).await,
    );
    let mut star = b.subscribe("orders.*").await.expect("sub");
    let mut full = c.subscribe("orders.>").await.expect("sub");
    // Two entries on one node that both match: still one copy each.
    let mut twice = c.subscribe("orders.new").await.expect("sub");
    await_interest(&a, &b).await;
    await_interest(&a, &c).await;
    a.publish("orders.new", "o1".into()).await.expect("pub");
    a.publish("orders.eu.new", "o2".into()).await.expect("pub");
    a.flush().await.expect("flush");
    assert_eq!(next_msg(&mut star).await.payload, "o1");
    assert_eq!(next_msg(&mut full).await.payload, "o1");
    assert_eq!(next_msg(&mut full).await.payload, "o2");
    assert_eq!(next_msg(&mut twice).await.payload, "o1");
    no_msg(&mut star).await;
    no_msg(&mut full).await;
    no_msg(&mut twice).await;
}

#[tokio::test]
async fn a_queue_group_spread_over_the_cluster_gets_each_message_once() {
    let nodes = three(ServerConfig::default()).await;
    let publisher = connect(&nodes[0]).await;
    let mut members = Vec::new();
    let mut clients = Vec::new();
    for node in &nodes {
        let c = connect(node).await;
        members.push(
            c.queue_subscribe("work", "workers".into())
                .await
                .expect("qsub"),
        );
        await_interest(&publisher, &c).await;
        clients.push(c);
    }
    // A plain subscriber beside the group gets every message, once.
    let watcher = connect(&nodes[1]).await;
    let mut all = watcher.subscribe("work").await.expect("sub");
    await_interest(&publisher, &watcher).await;
    let n = 300;
    for i in 0..n {
        publisher
            .publish("work", i.to_string().into())
            .await
            .expect("pub");
    }
    publisher.flush().await.expect("flush");
    let seen = tally(members, n).await;
    assert_eq!(seen.len(), n, "every message reached the group");
    assert!(seen.values().all(|&k| k == 1), "each exactly once");
    for i in 0..n {
        assert_eq!(next_msg(&mut all).await.payload, i.to_string());
    }
    no_msg(&mut all).await;
}

#[tokio::test]
async fn requests_cross_nodes_and_no_responders_is_cluster_wide() {
    let nodes = three(ServerConfig::default()).await;
    let requester = connect(&nodes[0]).await;
    let responder = connect(&nodes[2]).await;
    respond(&responder, "svc.time", "noon").await;
    await_interest(&requester, &responder).await;
    let answer = requester
        .request("svc.time", "?".into())
        .await
        .expect("answer across the cluster");
    assert_eq!(answer.payload, "noon");
    let err = requester
        .request("svc.nobody", "?".into())
        .await
        .expect_err("no responders");
    assert_eq!(
        err.kind(),
        async_nats::client::RequestErrorKind::NoResponders
    );
}

#[tokio::test]
async fn unsubscribing_withdraws_interest_from_the_other_nodes() {
    let nodes = three(ServerConfig::default()).await;
    let before = nodes[0].subscriptions();
    let b = connect(&nodes[1]).await;
    let sub = b.subscribe("gone.soon").await.expect("sub");
    b.flush().await.expect("flush");
    eventually("interest arrives", || nodes[0].subscriptions() > before).await;
    drop(sub);
    b.flush().await.expect("flush");
    eventually("interest withdrawn", || nodes[0].subscriptions() == before).await;
}

const TENANTS: &str = r#"
accounts {
  ACME {
    users [ { user: acme, password: pw } ]
    exports [ { stream: "prices.>" }, { service: "quote" } ]
  }
  GLOBEX {
    users [ { user: globex, password: pw } ]
    imports [
      { stream: { account: ACME, subject: "prices.>" } }
      { service: { account: ACME, subject: "quote" } }
    ]
  }
}
"#;

/// The tenants of a nats-server file (`TENANTS`), as a Switchyard config.
pub fn tenants_config(text: &str) -> (tempfile::TempDir, ServerConfig) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.conf");
    std::fs::write(&path, text).expect("write config");
    let t = natsmap::load(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, t.config)
}

async fn login(server: &Server, user: &str) -> Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), "pw".into())
        .connect(server.client_url())
        .await
        .expect("login")
}

#[tokio::test]
async fn tenants_stay_apart_and_imports_cross_nodes() {
    let (_dir, config) = tenants_config(TENANTS);
    let nodes = three(config).await;
    let acme = login(&nodes[0], "acme").await;
    let globex = login(&nodes[1], "globex").await;
    let globex_peer = login(&nodes[2], "globex").await;

    // The same subject in another tenant reaches nobody.
    let mut private = globex.subscribe("secret").await.expect("sub");
    await_interest(&globex_peer, &globex).await;
    acme.publish("secret", "x".into()).await.expect("pub");
    acme.flush().await.expect("flush");
    no_msg(&mut private).await;

    // A stream import: published by ACME on node 1, received in GLOBEX
    // on node 2.
    let mut prices = globex.subscribe("prices.>").await.expect("sub");
    globex.flush().await.expect("flush");
    let mut seen = false;
    for _ in 0..100 {
        acme.publish("prices.eur", "1.1".into()).await.expect("pub");
        acme.flush().await.expect("flush");
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(50), prices.next()).await {
            assert_eq!(m.subject.as_str(), "prices.eur");
            seen = true;
            break;
        }
    }
    assert!(seen, "the stream import crossed the cluster");

    // A service import: asked in GLOBEX on node 3, answered in ACME on
    // node 1.
    respond(&acme, "quote", "42").await;
    acme.flush().await.expect("flush");
    let mut answer = None;
    for _ in 0..50 {
        match tokio::time::timeout(
            Duration::from_secs(1),
            globex_peer.request("quote", "?".into()),
        )
        .await
        {
            Ok(Ok(m)) => {
                answer = Some(m);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    assert_eq!(answer.expect("service answered").payload, "42");
}

#[tokio::test]
async fn clients_learn_every_node_and_a_restarted_node_rejoins_without_duplicates() {
    let nodes = three(ServerConfig::default()).await;
    let client = connect(&nodes[0]).await;
    // The INFO of a node lists all three client URLs.
    let urls = |c: &Client| c.server_info().connect_urls.clone();
    eventually("connect_urls", || urls(&client).len() == 3).await;

    // A client that knows only the third node: it learns the others from
    // its INFO and fails over to one of them when the third goes.
    let roaming = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(nodes[2].client_url())
        .await
        .expect("client");
    let mut roam = roaming.subscribe("roam").await.expect("sub");
    roaming.flush().await.expect("flush");

    let mut nodes = nodes;
    let third = nodes.pop().expect("three");
    let (client_addr, route_addr) = (third.local_addr(), third.route_addr().expect("route"));
    third.shutdown().await;
    let mut failed_over = false;
    for _ in 0..100 {
        client.publish("roam", "here".into()).await.expect("pub");
        client.flush().await.expect("flush");
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), roam.next()).await {
            failed_over = true;
            break;
        }
    }
    assert!(failed_over, "the client failed over through connect_urls");
    eventually("routes to the dead node gone", || {
        nodes.iter().all(|n| n.route_count() == 1)
    })
    .await;
    // The node comes back on its ports, dialling the first.
    let config = ServerConfig {
        host: "127.0.0.1".into(),
        port: client_addr.port(),
        cluster: Some(ClusterConfig {
            name: Some("c1".into()),
            host: Some("127.0.0.1".into()),
            port: route_addr.port(),
            routes: vec![route_url(&nodes[0])],
            ..ClusterConfig::default()
        }),
        ..ServerConfig::default()
    };
    let back = Server::start(config).await.expect("restart");
    nodes.push(back);
    eventually("mesh again", || nodes.iter().all(|n| n.route_count() == 2)).await;

    let subscriber = connect(&nodes[2]).await;
    let mut sub = subscriber.subscribe("after.restart").await.expect("sub");
    await_interest(&client, &subscriber).await;
    for i in 0..50 {
        client
            .publish("after.restart", i.to_string().into())
            .await
            .expect("pub");
    }
    client.flush().await.expect("flush");
    for i in 0..50 {
        assert_eq!(next_msg(&mut sub).await.payload, i.to_string());
    }
    no_msg(&mut sub).await;
}

#[tokio::test]
async fn routes_show_in_routez_varz_and_metrics() {
    let config = ServerConfig {
        http_port: Some(0),
        ..ServerConfig::default()
    };
    let nodes = three(config).await;
    let http = nodes[0].http_addr().expect("monitoring").to_string();
    let b = connect(&nodes[1]).await;
    let _sub = b.subscribe("watched.subject").await.expect("sub");
    b.flush().await.expect("flush");
    eventually("interest arrives", || nodes[0].subscriptions() > 0).await;

    let routez = crate::leaf_monitor::get_json(http.clone(), "/routez?subs=1").await;
    assert_eq!(routez["num_routes"], 2, "{routez}");
    let routes = routez["routes"].as_array().expect("routes");
    for key in [
        "rid",
        "remote_id",
        "remote_name",
        "did_solicit",
        "is_configured",
        "ip",
        "port",
        "start",
        "last_activity",
        "rtt",
        "uptime",
        "idle",
        "pending_size",
        "in_msgs",
        "out_msgs",
        "in_bytes",
        "out_bytes",
        "subscriptions",
    ] {
        assert!(routes[0].get(key).is_some(), "{key} missing from {routez}");
    }
    let listed: Vec<&str> = routes
        .iter()
        .flat_map(|r| r["subscriptions_list"].as_array().into_iter().flatten())
        .filter_map(|s| s.as_str())
        .collect();
    assert!(
        listed.contains(&"$G watched.subject"),
        "the peer's interest is listed: {listed:?}"
    );

    let varz = crate::leaf_monitor::get_json(http.clone(), "/varz").await;
    assert_eq!(varz["routes"], 2);
    assert_eq!(varz["cluster"]["name"], "c1");
    assert_eq!(
        varz["cluster"]["cluster_port"],
        nodes[0].route_addr().expect("route").port()
    );
    let metrics = crate::leaf_monitor::get(http, "/metrics").await;
    assert!(
        metrics.lines().any(|l| l == "switchyard_routes 2"),
        "{metrics}"
    );
}

const WITH_SYSTEM: &str = r#"
accounts {
  SYS { users [ { user: admin, password: pw } ] }
  APP { users [ { user: app, password: pw } ] }
}
system_account: SYS
"#;

#[tokio::test]
async fn account_connect_and_disconnect_events_are_seen_cluster_wide() {
    let (_dir, config) = tenants_config(WITH_SYSTEM);
    let nodes = three(config).await;
    let admin = login(&nodes[2], "admin").await;
    let mut events = admin.subscribe("$SYS.ACCOUNT.APP.*").await.expect("sub");
    let peer_admin = login(&nodes[0], "admin").await;
    await_interest(&peer_admin, &admin).await;
    let app = login(&nodes[0], "app").await;
    app.flush().await.expect("flush");
    let connect = next_msg(&mut events).await;
    assert_eq!(connect.subject.as_str(), "$SYS.ACCOUNT.APP.CONNECT");
    drop(app);
    let disconnect = next_msg(&mut events).await;
    assert_eq!(disconnect.subject.as_str(), "$SYS.ACCOUNT.APP.DISCONNECT");
}

#[tokio::test]
async fn routes_run_over_tls() {
    use crate::common::pki::{Ca, PemDir};
    let ca = Ca::new("route test CA");
    let pem = PemDir::new();
    let (cert, key) = pem.pair("node", &ca.peer());
    let ca_file = pem.write("ca.pem", &ca.pem);
    let nodes = three(route_tls(cert, key, ca_file.clone())).await;
    let a = connect(&nodes[0]).await;
    let c = connect(&nodes[2]).await;
    let mut sub = c.subscribe("secret.route").await.expect("sub");
    await_interest(&a, &c).await;
    a.publish("secret.route", "sealed".into())
        .await
        .expect("pub");
    a.flush().await.expect("flush");
    assert_eq!(next_msg(&mut sub).await.payload, "sealed");
    // A peer without TLS is not let in, nor one that trusts this CA but
    // presents a certificate from another (routes verify both ways).
    let plain = start_with(clustered(ServerConfig::default(), &[route_url(&nodes[0])])).await;
    let other = Ca::new("another CA");
    let (cert, key) = pem.pair("stranger", &other.peer());
    let stranger = start_with(clustered(
        route_tls(cert, key, ca_file),
        &[route_url(&nodes[0])],
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(plain.route_count(), 0, "a plaintext peer never joins");
    assert_eq!(
        stranger.route_count(),
        0,
        "an unknown certificate never joins"
    );
    assert!(nodes.iter().all(|n| n.route_count() == 2));
}

#[tokio::test]
async fn a_node_in_lame_duck_mode_is_no_longer_offered_to_clients() {
    let nodes = three(ServerConfig::default()).await;
    // async-nats does not keep later INFOs; read them off the wire.
    let mut raw = crate::common::Raw::connect(&nodes[0]).await;
    let leaving = nodes[2].client_url().replace("nats://", "");
    assert!(raw.info.contains(&leaving), "{}", raw.info);
    let (said, _) = raw
        .exchange(b"CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n")
        .await;
    assert!(said.contains("PONG"), "{said}");
    nodes[2].lame_duck().await;
    let mut seen = String::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < until {
        let (bytes, _) = raw.read_for(Duration::from_millis(200)).await;
        seen.push_str(&String::from_utf8_lossy(&bytes));
        if let Some(line) = seen.lines().rev().find(|l| l.starts_with("INFO ")) {
            let info: serde_json::Value =
                serde_json::from_str(&line["INFO ".len()..]).expect("INFO json");
            let urls = info["connect_urls"].as_array().expect("connect_urls");
            assert_eq!(urls.len(), 2, "{line}");
            assert!(!line.contains(&leaving), "{line}");
            return;
        }
    }
    panic!("no INFO without the lame duck: {seen}");
}

/// Nodes listening on every interface (`0.0.0.0`, nats-server's default)
/// offer clients the addresses another machine could dial, never
/// `0.0.0.0`, and every one of them reaches the cluster; the nodes still
/// find each other through gossip.
#[tokio::test]
async fn nodes_on_every_interface_offer_clients_addresses_they_can_dial() {
    let wildcard = |seeds: &[String]| {
        let mut config = clustered(ServerConfig::default(), seeds);
        config.host = "0.0.0.0".into();
        config.port = 0;
        if let Some(cluster) = config.cluster.as_mut() {
            cluster.host = Some("0.0.0.0".into());
        }
        config
    };
    let first = Server::start(wildcard(&[])).await.expect("first starts");
    let seed = [format!(
        "nats-route://127.0.0.1:{}",
        first.route_addr().expect("route port").port()
    )];
    let second = Server::start(wildcard(&seed)).await.expect("second starts");
    let third = Server::start(wildcard(&seed)).await.expect("third starts");
    let nodes = [first, second, third];
    eventually("full mesh through gossip", || {
        nodes.iter().all(|n| n.route_count() == 2)
    })
    .await;

    let client = async_nats::connect(nodes[0].client_url())
        .await
        .expect("client connects");
    let urls = |c: &Client| c.server_info().connect_urls.clone();
    eventually("every node's URLs", || {
        let urls = urls(&client);
        nodes.iter().all(|n| {
            urls.iter()
                .any(|u| u.ends_with(&format!(":{}", n.local_addr().port())))
        })
    })
    .await;
    let urls = urls(&client);
    // Loopback only on a machine with no other IPv4 address.
    let networked = if_addrs::get_if_addrs().expect("interfaces").iter().any(
        |i| matches!(i.ip(), std::net::IpAddr::V4(v4) if !v4.is_loopback() && !v4.is_link_local()),
    );
    if networked {
        assert!(urls.iter().all(|u| !u.starts_with("127.")), "{urls:?}");
    }
    let mut sub = client.subscribe("where").await.expect("subscribe");
    client.flush().await.expect("flush");
    for url in &urls {
        assert!(
            !url.starts_with("0.0.0.0") && !url.starts_with("[::]"),
            "{urls:?}"
        );
        // Each advertised address reaches a node of this cluster.
        let other = async_nats::connect(url.as_str())
            .await
            .unwrap_or_else(|e| panic!("{url} from {urls:?}: {e}"));
        other
            .publish("where", url.clone().into())
            .await
            .expect("publish");
        other.flush().await.expect("flush");
        let msg = next_msg(&mut sub).await;
        assert_eq!(msg.payload, url.as_bytes());
    }
}

const BASE_TENANT: &str = "name = \"base\"\n[[users]]\nuser = \"base\"\npassword = \"pw\"\n";
const LATE_TENANT: &str = "name = \"late\"\n[[users]]\nuser = \"late\"\npassword = \"pw\"\n";

/// Servers reload one at a time: interest a peer sends in an account this
/// server does not have yet is held, and applied when a reload adds the
/// account here, so messages flow at once (not only after the route forms
/// again, as with nats-server).
#[tokio::test]
async fn interest_in_an_account_a_later_reload_adds_is_kept() {
    let dir_a = crate::common::TenantDir::new(&[("base", BASE_TENANT)]);
    let dir_b = crate::common::TenantDir::new(&[("base", BASE_TENANT)]);
    let a = start_with(clustered(dir_a.config(), &[])).await;
    let b = start_with(clustered(dir_b.config(), &[route_url(&a)])).await;
    eventually("route", || a.route_count() == 1 && b.route_count() == 1).await;

    dir_b.write("late", LATE_TENANT);
    b.reload().await.expect("b reloads");
    let on_b = login(&b, "late").await;
    let mut sub = on_b.subscribe("news").await.expect("subscribe");
    on_b.flush().await.expect("flush");
    // The RS+ reaches a before a knows the account; a PING round trip on
    // the route's far side shows it has been read.
    let base_a = login(&a, "base").await;
    let base_b = login(&b, "base").await;
    await_interest(&base_a, &base_b).await;

    dir_a.write("late", LATE_TENANT);
    a.reload().await.expect("a reloads");
    // The reload reaches the route's task a moment later; nothing else
    // would ever carry b's interest (b sends it once).
    let on_a = login(&a, "late").await;
    for _ in 0..100 {
        on_a.publish("news", "fresh".into()).await.expect("publish");
        on_a.flush().await.expect("flush");
        if let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(50), sub.next()).await {
            assert_eq!(&msg.payload[..], b"fresh");
            return;
        }
    }
    panic!("b's interest in the new account never took effect on a");
}

/// Operator mode over routes: accounts are named by their public keys on
/// the wire, a user of one account on each node exchanges messages, and
/// another account on the same subjects hears nothing.
#[tokio::test]
async fn operator_mode_accounts_cross_routes() {
    use crate::common::operator::{Operator, creds_client};
    let op = Operator::new();
    let nodes = three(op.config()).await;
    let (alice, alice_jwt) = op.user(&op.app, |u| u.data.name = "alice".into());
    let (bob, bob_jwt) = op.user(&op.app, |u| u.data.name = "bob".into());
    let alice = creds_client(&nodes[0], &op.creds("alice", &alice, &alice_jwt)).await;
    let bob = creds_client(&nodes[2], &op.creds("bob", &bob, &bob_jwt)).await;
    let (admin, admin_jwt) = op.user(&op.sys, |u| u.data.name = "admin".into());
    let admin = creds_client(&nodes[2], &op.creds("admin", &admin, &admin_jwt)).await;

    let mut on_bob = bob.subscribe("orders.>").await.expect("sub");
    let mut on_admin = admin.subscribe("orders.>").await.expect("sub");
    admin.flush().await.expect("flush");
    await_interest(&alice, &bob).await;
    alice.publish("orders.1", "one".into()).await.expect("pub");
    alice.flush().await.expect("flush");
    assert_eq!(&next_msg(&mut on_bob).await.payload[..], b"one");
    no_msg(&mut on_admin).await;

    let mut on_alice = alice.subscribe("replies").await.expect("sub");
    await_interest(&bob, &alice).await;
    bob.publish("replies", "back".into()).await.expect("pub");
    assert_eq!(&next_msg(&mut on_alice).await.payload[..], b"back");
}
