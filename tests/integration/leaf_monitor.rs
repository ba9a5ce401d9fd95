//! Leaf connections in monitoring: `/leafz` with nats-server's keys (checked
//! against a real nats-server's own `/leafz` on the other end of the same
//! connection), `/varz`'s `leafnodes` and `leaf` block, the leaf families in
//! `/metrics`, and lame duck closing leaves after every client.

use crate::common::natsd::{NatsServer, binary};
use crate::common::{eventually, next_msg, start_with};
use crate::leaf_nats::await_interest;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use switchyard::config::{LeafNodesConfig, LeafRemote};
use switchyard::{Server, ServerConfig};

/// GETs `http://{addr}{path}` and returns the body.
pub async fn get(addr: String, path: &str) -> String {
    let url = format!("http://{addr}{path}");
    tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .body_mut()
            .read_to_string()
            .expect("body")
    })
    .await
    .expect("request task")
}

pub async fn get_json(addr: String, path: &str) -> Value {
    let body = get(addr, path).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn http_of(server: &Server) -> String {
    server.http_addr().expect("monitoring on").to_string()
}

/// A Switchyard with monitoring and a leaf node port.
async fn monitored_hub() -> Server {
    start_with(ServerConfig {
        http_port: Some(0),
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await
}

/// A Switchyard with monitoring that joins `hub` (host:port) as a leaf.
async fn monitored_leaf_of(hub: &str) -> Server {
    let server = start_with(ServerConfig {
        http_port: Some(0),
        leafnodes: Some(LeafNodesConfig {
            remotes: vec![LeafRemote::new(&format!("nats-leaf://{hub}"))],
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    eventually("leaf connected", || server.leaf_count() == 1).await;
    server
}

/// Keys nats-server has that Switchyard leaves out on purpose: leaf
/// connections are never compressed (nats-server omits the key when it
/// is empty, so tools cope).
const LEAF_KEYS_LEFT_OUT: &[&str] = &["compression"];

/// `ours` has every key `theirs` has, save the documented exceptions, and
/// no key `theirs` lacks.
fn same_keys(what: &str, ours: &Value, theirs: &Value, left_out: &[&str]) {
    let ours = keys(ours);
    let theirs: BTreeSet<String> = keys(theirs)
        .into_iter()
        .filter(|k| !left_out.contains(&k.as_str()))
        .collect();
    assert_eq!(ours, theirs, "{what}: key sets differ");
}

/// Publishes three messages from `from` to a subscriber on `to`, across
/// the leaf, and waits for them.
async fn cross(from: &async_nats::Client, to: &async_nats::Client) {
    let mut sub = to.subscribe("metered.>").await.expect("sub");
    await_interest(from, to).await;
    for i in 0..3 {
        from.publish(format!("metered.{i}"), "12345".into())
            .await
            .expect("pub");
    }
    from.flush().await.expect("flush");
    for _ in 0..3 {
        next_msg(&mut sub).await;
    }
}

#[tokio::test]
async fn leafz_of_a_switchyard_leaf_matches_its_nats_server_hub() {
    let Some(bin) = binary() else { return };
    let hub = NatsServer::start(
        &bin,
        "host: 127.0.0.1\nport: -1\nhttp: \"127.0.0.1:-1\"\nleafnodes { host: 127.0.0.1, port: -1 }\n",
        &[],
    );
    let leaf = monitored_leaf_of(hub.leaf.as_deref().expect("leaf port")).await;
    let on_hub = hub.client().await;
    let on_leaf = crate::common::client(&leaf).await;
    let _interest = on_hub.subscribe("orders.>").await.expect("sub");
    cross(&on_leaf, &on_hub).await;

    let hub_http = hub.http.clone().expect("nats-server monitoring");
    let ours = get_json(http_of(&leaf), "/leafz?subs=1").await;
    let theirs = get_json(hub_http.clone(), "/leafz?subs=1").await;
    same_keys("/leafz", &ours, &theirs, &[]);
    assert_eq!(ours["leafnodes"], 1);
    let (o, t) = (&ours["leafs"][0], &theirs["leafs"][0]);
    same_keys("/leafz leafs[0]", o, t, LEAF_KEYS_LEFT_OUT);
    // The two ends of one connection, each from its own side.
    assert_eq!(o["is_spoke"], true);
    assert_eq!(t["is_spoke"], false);
    assert_eq!(o["account"], "$G");
    assert_eq!(o["name"], theirs["server_id"], "named after the hub");
    assert_eq!(t["name"], ours["server_id"], "the hub names the leaf");
    assert_eq!(
        o["port"].as_u64(),
        hub.leaf
            .as_deref()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
    );
    let subjects: Vec<&str> = o["subscriptions_list"]
        .as_array()
        .expect("subscriptions_list with subs=1")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(subjects.contains(&"orders.>"), "hub interest: {subjects:?}");
    assert_eq!(o["subscriptions"].as_u64(), Some(subjects.len() as u64));
    // What our leaf sent is what the hub received (the probe messages of
    // `await_interest` included), counted on both sides.
    eventually_json(hub_http, "/leafz", |t| {
        t["leafs"][0]["in_msgs"] == o["out_msgs"] && t["leafs"][0]["in_bytes"] == o["out_bytes"]
    })
    .await;
    assert!(o["out_msgs"].as_u64() >= Some(3));
    // Without subs=1 there is no list.
    let plain = get_json(http_of(&leaf), "/leafz").await;
    assert!(plain["leafs"][0].get("subscriptions_list").is_none());
    // The round trip of the first PING is there without asking twice.
    assert_ne!(o["rtt"], "0s");
}

/// Polls `path` until `ok` holds of it (counters are published per read
/// batch, so the peer's numbers settle a moment after ours).
async fn eventually_json(addr: String, path: &str, ok: impl Fn(&Value) -> bool) {
    for _ in 0..100 {
        if ok(&get_json(addr.clone(), path).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path} never settled: {}", get(addr, path).await);
}

#[tokio::test]
async fn leafz_and_varz_of_a_switchyard_hub_match_its_nats_server_leaf() {
    let Some(bin) = binary() else { return };
    let hub = monitored_hub().await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nhttp: \"127.0.0.1:-1\"\nleafnodes {{ remotes = [ {{ url: \"nats-leaf://{addr}\" }} ] }}\n"
        ),
        &[],
    );
    eventually("leaf connected", || hub.leaf_count() == 1).await;
    let on_hub = crate::common::client(&hub).await;
    let on_leaf = leaf.client().await;
    let _interest = on_leaf.subscribe("orders.>").await.expect("sub");
    cross(&on_hub, &on_leaf).await;

    let leaf_http = leaf.http.clone().expect("nats-server monitoring");
    let ours = get_json(http_of(&hub), "/leafz?subs=1").await;
    let theirs = get_json(leaf_http.clone(), "/leafz?subs=1").await;
    same_keys("/leafz", &ours, &theirs, &[]);
    let (o, t) = (&ours["leafs"][0], &theirs["leafs"][0]);
    same_keys("/leafz leafs[0]", o, t, LEAF_KEYS_LEFT_OUT);
    assert_eq!(
        (o["is_spoke"].clone(), t["is_spoke"].clone()),
        (false.into(), true.into())
    );
    assert_eq!(o["ip"], "127.0.0.1");
    let subjects: Vec<&str> = o["subscriptions_list"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        subjects.contains(&"orders.>"),
        "leaf interest: {subjects:?}"
    );
    assert!(o["out_msgs"].as_u64() >= Some(3));
    eventually_json(leaf_http.clone(), "/leafz", |t| {
        t["leafs"][0]["in_msgs"] == o["out_msgs"]
    })
    .await;
    // `acc` keeps one tenant's; an unknown one is refused as by /connz.
    let only = get_json(http_of(&hub), "/leafz?acc=%24G").await;
    assert_eq!(only["leafnodes"], 1);

    // /varz: the count, and the `leaf` block with nats-server's keys for a
    // hub (nats-server's leaf has no hub port, so compare with a nats hub's
    // page in the other test; here the values).
    let varz = get_json(http_of(&hub), "/varz").await;
    assert_eq!(varz["leafnodes"], 1);
    assert_eq!(varz["leaf"]["host"], "127.0.0.1");
    assert_eq!(varz["leaf"]["port"].as_u64(), Some(u64::from(addr.port())));
    assert_eq!(varz["leaf"]["auth_timeout"], 2.0);
    assert_eq!(varz["leaf"]["tls_timeout"], 2.0);
    assert!(varz["leaf"].get("remotes").is_none());
    let their_varz = get_json(leaf_http, "/varz").await;
    assert_eq!(their_varz["leafnodes"], 1);
}

#[tokio::test]
async fn varz_leaf_block_has_nats_server_keys_both_roles() {
    let Some(bin) = binary() else { return };
    // nats-server as a hub and as a leaf of it: the reference pages.
    let nats_hub = NatsServer::start(
        &bin,
        "host: 127.0.0.1\nport: -1\nhttp: \"127.0.0.1:-1\"\nleafnodes { host: 127.0.0.1, port: -1 }\n",
        &[],
    );
    let hub_leaf = nats_hub.leaf.clone().expect("leaf port");
    let nats_leaf = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nhttp: \"127.0.0.1:-1\"\nleafnodes {{ remotes = [ {{ url: \"nats-leaf://{hub_leaf}\", deny_imports: [\"secret.>\"] }} ] }}\n"
        ),
        &[],
    );
    // Switchyard in the same two roles.
    let sy_hub = monitored_hub().await;
    let sy_leaf = start_with(ServerConfig {
        http_port: Some(0),
        leafnodes: Some(LeafNodesConfig {
            remotes: vec![LeafRemote {
                deny_imports: vec!["secret.>".into()],
                ..LeafRemote::new(&format!("nats-leaf://user:pw@{hub_leaf}"))
            }],
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    eventually("leaf connected", || sy_leaf.leaf_count() == 1).await;

    let theirs = get_json(nats_hub.http.clone().expect("http"), "/varz").await;
    let ours = get_json(http_of(&sy_hub), "/varz").await;
    same_keys("/varz leaf (hub)", &ours["leaf"], &theirs["leaf"], &[]);

    let theirs = get_json(nats_leaf.http.clone().expect("http"), "/varz").await;
    let ours = get_json(http_of(&sy_leaf), "/varz").await;
    same_keys("/varz leaf (leaf)", &ours["leaf"], &theirs["leaf"], &[]);
    let (o, t) = (&ours["leaf"]["remotes"][0], &theirs["leaf"]["remotes"][0]);
    same_keys("/varz leaf.remotes[0]", o, t, &[]);
    assert_eq!(o, t, "same remote, same description (no credentials shown)");
    assert_eq!(ours["leafnodes"], 1);

    // Without [leafnodes] the block is empty, as nats-server's.
    let plain = start_with(ServerConfig {
        http_port: Some(0),
        ..ServerConfig::default()
    })
    .await;
    let varz = get_json(http_of(&plain), "/varz").await;
    assert_eq!(varz["leaf"], serde_json::json!({}));
    assert_eq!(varz["leafnodes"], 0);
}

/// The value of the sample `name{tenant="$G"}` in a metrics page.
fn sample(page: &str, name: &str) -> Option<u64> {
    let prefix = format!("{name}{{tenant=\"$G\"}} ");
    page.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_leaf_traffic_and_keep_it_after_the_leaf_closes() {
    let hub = monitored_hub().await;
    let leaf = monitored_leaf_of(&hub.leaf_addr().expect("leaf port").to_string()).await;
    eventually("hub sees the leaf", || hub.leaf_count() == 1).await;
    let on_hub = crate::common::client(&hub).await;
    let on_leaf = crate::common::client(&leaf).await;
    cross(&on_hub, &on_leaf).await;

    let page = get(http_of(&hub), "/metrics").await;
    for family in [
        "switchyard_leaf_connections gauge",
        "switchyard_leaf_in_msgs_total counter",
        "switchyard_leaf_in_bytes_total counter",
        "switchyard_leaf_out_msgs_total counter",
        "switchyard_leaf_out_bytes_total counter",
    ] {
        assert!(page.contains(&format!("# TYPE {family}")), "{family}");
    }
    assert_eq!(sample(&page, "switchyard_leaf_connections"), Some(1));
    let out = sample(&page, "switchyard_leaf_out_msgs_total").expect("out msgs");
    let out_bytes = sample(&page, "switchyard_leaf_out_bytes_total").expect("out bytes");
    assert!(out >= 3 && out_bytes >= 15, "{page}");
    // nats-server's client totals leave out what crossed leaf connections.
    let varz = get_json(http_of(&hub), "/varz").await;
    assert_eq!(varz["leafnodes"], 1);
    let field = |k: &str| varz[k].as_u64().unwrap_or_else(|| panic!("{k}"));
    assert_eq!(field("out_msgs") - field("out_client_msgs"), out);
    assert_eq!(field("out_bytes") - field("out_client_bytes"), out_bytes);

    leaf.shutdown().await;
    eventually("hub saw the leaf go", || hub.leaf_count() == 0).await;
    let page = get(http_of(&hub), "/metrics").await;
    assert_eq!(sample(&page, "switchyard_leaf_connections"), Some(0));
    assert_eq!(
        sample(&page, "switchyard_leaf_out_msgs_total"),
        Some(out),
        "a counter never goes back"
    );
    assert_eq!(
        sample(&page, "switchyard_leaf_out_bytes_total"),
        Some(out_bytes)
    );
    let leafz = get_json(http_of(&hub), "/leafz").await;
    assert_eq!(leafz["leafnodes"], 0);
    assert_eq!(leafz["leafs"], serde_json::json!([]));
}

/// Lame duck closes the clients one by one and the leaf connections only
/// after the last: while a client is left, the leaf still carries its
/// traffic.
#[tokio::test]
async fn lame_duck_closes_leaves_after_every_client() {
    let grace = Duration::from_millis(200);
    let hub = start_with(ServerConfig {
        // Two clients over 2 s: at least half a second between the closes.
        lame_duck_grace_period: grace,
        lame_duck_duration: grace + Duration::from_secs(2),
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    let leaf = monitored_leaf_of(&hub.leaf_addr().expect("leaf port").to_string()).await;
    eventually("hub sees the leaf", || hub.leaf_count() == 1).await;
    let on_leaf = crate::common::client(&leaf).await;
    let (a, mut a_closed) = closing_client(&hub).await;
    let (b, mut b_closed) = closing_client(&hub).await;
    let mut on_a = a.subscribe("to.a").await.expect("sub");
    let mut on_b = b.subscribe("to.b").await.expect("sub");
    await_interest(&on_leaf, &a).await;
    await_interest(&on_leaf, &b).await;

    let watch = async {
        // Whichever client goes first, the other is still there, and so
        // is the leaf: a message from the leaf side reaches it.
        let (sub, subject, rest) = tokio::select! {
            _ = a_closed.recv() => (&mut on_b, "to.b", &mut b_closed),
            _ = b_closed.recv() => (&mut on_a, "to.a", &mut a_closed),
        };
        assert_eq!(hub.leaf_count(), 1, "leaf closed before the last client");
        on_leaf
            .publish(subject, "still here".into())
            .await
            .expect("pub");
        on_leaf.flush().await.expect("flush");
        let m = next_msg(sub).await;
        assert_eq!(&m.payload[..], b"still here");
        tokio::time::timeout(Duration::from_secs(10), rest.recv())
            .await
            .expect("last client closed");
    };
    tokio::join!(hub.lame_duck(), watch);
    // lame_duck returns once the leaves are closed too, and none came back.
    assert_eq!(hub.connections(), 0);
    assert_eq!(hub.leaf_count(), 0);
    eventually("the leaf saw its hub go", || leaf.leaf_count() == 0).await;
    hub.shutdown().await;
}

/// A client and a channel that yields once its connection is lost.
async fn closing_client(
    server: &Server,
) -> (async_nats::Client, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if matches!(event, async_nats::Event::Disconnected) {
                    let _ = tx.send(());
                }
            }
        })
        .connect(server.client_url())
        .await
        .expect("client connects");
    (client, rx)
}
