//! Leaf nodes against a real nats-server 2.15, both ways: Switchyard as a
//! leaf of a nats-server hub, and nats-server as a leaf of a Switchyard
//! hub, checked with async-nats clients on both sides.

use crate::common::natsd::{NatsServer, binary};
use crate::common::{eventually, next_msg, no_msg, start_with};
use async_nats::Client;
use futures::StreamExt;
use std::time::Duration;
use switchyard::config::{LeafNodesConfig, LeafRemote};
use switchyard::{Server, ServerConfig};

/// Waits until interest `subscriber` registered before this call has
/// reached `publisher`'s server: a probe subscription made after it is
/// announced after it, so once a probe arrives the earlier one has too.
pub async fn await_interest(publisher: &Client, subscriber: &Client) {
    let subject = format!("probe.{}", fastrand::u64(..));
    let mut probe = subscriber
        .subscribe(subject.clone())
        .await
        .expect("probe sub");
    subscriber.flush().await.expect("flush");
    for _ in 0..100 {
        publisher
            .publish(subject.clone(), "probe".into())
            .await
            .expect("probe pub");
        publisher.flush().await.expect("flush");
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(50), probe.next()).await {
            return;
        }
    }
    panic!("interest never crossed the leaf connection");
}

/// Traffic both ways between a client of each side.
pub async fn crosses(a: &async_nats::Client, b: &async_nats::Client) {
    let mut on_b = b.subscribe("secure.>").await.unwrap();
    await_interest(a, b).await;
    a.publish("secure.1", "sealed".into()).await.unwrap();
    assert_eq!(&next_msg(&mut on_b).await.payload[..], b"sealed");
    let mut on_a = a.subscribe("back").await.unwrap();
    await_interest(b, a).await;
    b.publish("back", "ok".into()).await.unwrap();
    assert_eq!(&next_msg(&mut on_a).await.payload[..], b"ok");
}

/// A Switchyard that joins `hub_leaf` (host:port) as a leaf.
pub async fn switchyard_leaf_of(hub_leaf: &str) -> Server {
    let config = ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            remotes: vec![LeafRemote::new(&format!("nats-leaf://{hub_leaf}"))],
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    };
    let server = start_with(config).await;
    eventually("leaf connected", || server.leaf_count() == 1).await;
    server
}

/// `config` with a leaf node port on loopback, picked by the kernel.
pub fn hub_port(config: ServerConfig) -> ServerConfig {
    ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            ..config.leafnodes.clone().unwrap_or_default()
        }),
        ..config
    }
}

/// A nats-server config: clients on a free port, one leaf remote to `url`.
pub fn nats_leaf_config(url: &str) -> String {
    format!("host: 127.0.0.1\nport: -1\nleafnodes {{ remotes = [ {{ url: \"{url}\" }} ] }}\n")
}

/// A Switchyard with a leaf node port.
pub async fn switchyard_hub() -> Server {
    let config = hub_port(ServerConfig::default());
    start_with(config).await
}

fn nats_hub(bin: &std::path::PathBuf) -> NatsServer {
    NatsServer::start(
        bin,
        "host: 127.0.0.1\nport: -1\nleafnodes { host: 127.0.0.1, port: -1 }\n",
        &[],
    )
}

fn nats_leaf_of(bin: &std::path::PathBuf, hub: &Server) -> NatsServer {
    let addr = hub.leaf_addr().expect("hub has a leaf port");
    NatsServer::start(bin, &nats_leaf_config(&format!("nats-leaf://{addr}")), &[])
}

/// Pub/sub with wildcards, both directions, between clients of `a` and `b`.
async fn pubsub_both_ways(a: &Client, b: &Client) {
    let mut on_b = b.subscribe("orders.>").await.unwrap();
    await_interest(a, b).await;
    a.publish("orders.new.1", "hello".into()).await.unwrap();
    let m = next_msg(&mut on_b).await;
    assert_eq!(
        (m.subject.as_str(), &m.payload[..]),
        ("orders.new.1", &b"hello"[..])
    );

    let mut on_a = a.subscribe("events.*").await.unwrap();
    await_interest(b, a).await;
    b.publish("events.x", "back".into()).await.unwrap();
    let m = next_msg(&mut on_a).await;
    assert_eq!(
        (m.subject.as_str(), &m.payload[..]),
        ("events.x", &b"back"[..])
    );
    // Not matched by the wildcard: nothing arrives.
    b.publish("events.x.y", "no".into()).await.unwrap();
    no_msg(&mut on_a).await;
}

/// Request/reply both ways, with headers, and no-responders.
async fn request_reply_both_ways(a: &Client, b: &Client) {
    for (requester, responder) in [(a, b), (b, a)] {
        let subject = format!("svc.{}", fastrand::u32(..));
        let mut svc = responder.subscribe(subject.clone()).await.unwrap();
        await_interest(requester, responder).await;
        let responder = responder.clone();
        let serve = tokio::spawn(async move {
            let req = svc.next().await.expect("request");
            let got = req
                .headers
                .as_ref()
                .and_then(|h| h.get("X-Trace"))
                .map(|v| v.to_string());
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("X-Seen", got.unwrap_or_default().as_str());
            responder
                .publish_with_headers(req.reply.expect("reply subject"), headers, "pong".into())
                .await
                .unwrap();
            responder.flush().await.unwrap();
        });
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("X-Trace", "t-1");
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            requester.request_with_headers(subject, headers, "ping".into()),
        )
        .await
        .expect("reply in time")
        .expect("reply");
        assert_eq!(&reply.payload[..], b"pong");
        let seen = reply
            .headers
            .as_ref()
            .and_then(|h| h.get("X-Seen"))
            .map(|v| v.to_string());
        assert_eq!(seen.as_deref(), Some("t-1"), "headers crossed both ways");
        serve.await.unwrap();
    }
    let err = a
        .request("nobody.home", "x".into())
        .await
        .expect_err("no responders");
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
}

/// A queue group with members on both sides gets each message once.
async fn queue_group_once(a: &Client, b: &Client) {
    let mut qa = a.queue_subscribe("jobs", "workers".into()).await.unwrap();
    let mut qb = b.queue_subscribe("jobs", "workers".into()).await.unwrap();
    await_interest(a, b).await;
    await_interest(b, a).await;
    const N: usize = 200;
    for i in 0..N {
        let from = if i % 2 == 0 { a } else { b };
        from.publish("jobs", format!("{i}").into()).await.unwrap();
    }
    a.flush().await.unwrap();
    b.flush().await.unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut count = 0;
    while count < N {
        let m = tokio::select! {
            Some(m) = qa.next() => m,
            Some(m) = qb.next() => m,
            _ = tokio::time::sleep(Duration::from_secs(5)) => panic!("only {count} of {N} arrived"),
        };
        assert!(
            seen.insert(m.payload.clone()),
            "delivered twice: {:?}",
            m.payload
        );
        count += 1;
    }
    // Nothing more: each message went to exactly one member.
    no_msg(&mut qa).await;
    no_msg(&mut qb).await;
}

#[tokio::test]
async fn switchyard_leaf_of_nats_server_hub() {
    let Some(bin) = binary() else { return };
    let hub = nats_hub(&bin);
    let leaf = switchyard_leaf_of(hub.leaf.as_deref().expect("leaf port")).await;
    let on_hub = hub.client().await;
    let on_leaf = crate::common::client(&leaf).await;
    pubsub_both_ways(&on_hub, &on_leaf).await;
    request_reply_both_ways(&on_hub, &on_leaf).await;
    queue_group_once(&on_hub, &on_leaf).await;
}

#[tokio::test]
async fn nats_server_leaf_of_switchyard_hub() {
    let Some(bin) = binary() else { return };
    let hub = switchyard_hub().await;
    let leaf = nats_leaf_of(&bin, &hub);
    eventually("leaf connected", || hub.leaf_count() == 1).await;
    let on_hub = crate::common::client(&hub).await;
    let on_leaf = leaf.client().await;
    pubsub_both_ways(&on_hub, &on_leaf).await;
    request_reply_both_ways(&on_hub, &on_leaf).await;
    queue_group_once(&on_hub, &on_leaf).await;
}

#[tokio::test]
async fn switchyard_leaf_of_switchyard_hub() {
    let hub = switchyard_hub().await;
    let addr = hub.leaf_addr().expect("leaf port").to_string();
    let leaf = switchyard_leaf_of(&addr).await;
    eventually("hub sees the leaf", || hub.leaf_count() == 1).await;
    let on_hub = crate::common::client(&hub).await;
    let on_leaf = crate::common::client(&leaf).await;
    pubsub_both_ways(&on_hub, &on_leaf).await;
    request_reply_both_ways(&on_hub, &on_leaf).await;
    queue_group_once(&on_hub, &on_leaf).await;
}

/// A Switchyard hub whose remote dials a nats-server that is itself a
/// leaf of that hub: the loop is detected with nats-server's `$LDS.`
/// subjects and refused, and a message crosses at most once.
#[tokio::test]
async fn a_leaf_loop_is_detected_and_refused() {
    let Some(bin) = binary() else { return };
    // The nats-server's leaf port must be known before either starts: a
    // port the kernel just handed out and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            remotes: vec![LeafRemote::new(&format!("nats-leaf://127.0.0.1:{port}"))],
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    };
    let switchyard = start_with(config).await;
    let hub_port = switchyard.leaf_addr().expect("leaf port").port();
    let nats = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ host: 127.0.0.1, port: {port}\n  \
             remotes = [ {{ url: \"nats-leaf://127.0.0.1:{hub_port}\" }} ] }}\n"
        ),
        &[],
    );
    let line = nats.wait_log("Loop detected").await;
    assert!(
        line.contains("Loop detected for leafnode account="),
        "{line}"
    );
    // Whatever link is left, one message arrives at most once.
    let on_switchyard = crate::common::client(&switchyard).await;
    let mut sub = on_switchyard.subscribe("storm").await.unwrap();
    on_switchyard.flush().await.unwrap();
    let on_nats = nats.client().await;
    on_nats.publish("storm", "once".into()).await.unwrap();
    on_nats.flush().await.unwrap();
    let mut got = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        got += 1;
    }
    assert!(got <= 1, "{got} copies of one message");
}
