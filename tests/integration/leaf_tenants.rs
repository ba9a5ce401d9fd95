//! Leaf nodes with tenants, interest removal and reconnects, against a
//! real nats-server 2.15: each tenant crosses only through its own remote,
//! `LS-` follows unsubscribes and disconnects, and a restarted hub gets
//! the interest again once, with traffic resuming.

use crate::common::natsd::{NatsServer, binary};
use crate::common::{TenantDir, eventually, next_msg, no_msg, start_with, user};
use crate::leaf_nats::await_interest;
use futures::StreamExt;
use std::time::Duration;
use switchyard::ServerConfig;
use switchyard::config::{LeafNodesConfig, LeafRemote};

const ACME: &str = r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
"#;

const GLOBEX: &str = r#"
name = "globex"
[[users]]
user = "gina"
password = "gina-pw"
"#;

const HUB_ACCOUNTS: &str = "accounts {\n  A { users = [ { user: a, password: a } ] }\n  B { users = [ { user: b, password: b } ] }\n}\n";

async fn nats_user(server: &NatsServer, user: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), user.into())
        .connect(&server.url)
        .await
        .expect("connects to nats-server")
}

fn remote(url: String, tenant: &str) -> LeafRemote {
    LeafRemote {
        tenant: Some(tenant.into()),
        ..LeafRemote::new(&url)
    }
}

#[tokio::test]
async fn each_tenant_crosses_a_nats_hub_only_through_its_own_remote() {
    let Some(bin) = binary() else { return };
    let hub = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ host: 127.0.0.1, port: -1 }}\n{HUB_ACCOUNTS}"
        ),
        &[],
    );
    let hub_leaf = hub.leaf.clone().expect("leaf port");
    let dir = TenantDir::new(&[("acme", ACME), ("globex", GLOBEX)]);
    let config = ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            remotes: vec![
                remote(format!("nats-leaf://a:a@{hub_leaf}"), "acme"),
                remote(format!("nats-leaf://b:b@{hub_leaf}"), "globex"),
            ],
            ..LeafNodesConfig::default()
        }),
        ..dir.config()
    };
    let leaf = start_with(config).await;
    eventually("both remotes joined", || leaf.leaf_count() == 2).await;
    isolation(
        &nats_user(&hub, "a").await,
        &nats_user(&hub, "b").await,
        &user(&leaf, "alice", "alice-pw").await,
        &user(&leaf, "gina", "gina-pw").await,
    )
    .await;
}

#[tokio::test]
async fn each_nats_leaf_account_binds_to_its_own_switchyard_tenant() {
    let Some(bin) = binary() else { return };
    let dir = TenantDir::new(&[("acme", ACME), ("globex", GLOBEX)]);
    let config = crate::leaf_nats::hub_port(dir.config());
    let hub = start_with(config).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\n{HUB_ACCOUNTS}leafnodes {{ remotes = [\n  \
             {{ url: \"nats-leaf://alice:alice-pw@{addr}\", account: A }}\n  \
             {{ url: \"nats-leaf://gina:gina-pw@{addr}\", account: B }}\n] }}\n"
        ),
        &[],
    );
    eventually("both leaf accounts joined", || hub.leaf_count() == 2).await;
    isolation(
        &user(&hub, "alice", "alice-pw").await,
        &user(&hub, "gina", "gina-pw").await,
        &nats_user(&leaf, "a").await,
        &nats_user(&leaf, "b").await,
    )
    .await;
}

/// `a1` and `a2` share an account across the leaf, as do `b1` and `b2`;
/// nothing crosses from one pair to the other.
async fn isolation(
    a1: &async_nats::Client,
    b1: &async_nats::Client,
    a2: &async_nats::Client,
    b2: &async_nats::Client,
) {
    let mut on_a2 = a2.subscribe("shared.>").await.unwrap();
    let mut on_b2 = b2.subscribe("shared.>").await.unwrap();
    await_interest(a1, a2).await;
    await_interest(b1, b2).await;
    a1.publish("shared.x", "for-a".into()).await.unwrap();
    b1.publish("shared.x", "for-b".into()).await.unwrap();
    assert_eq!(&next_msg(&mut on_a2).await.payload[..], b"for-a");
    assert_eq!(&next_msg(&mut on_b2).await.payload[..], b"for-b");
    no_msg(&mut on_a2).await;
    no_msg(&mut on_b2).await;

    let mut on_a1 = a1.subscribe("back.*").await.unwrap();
    let mut on_b1 = b1.subscribe("back.*").await.unwrap();
    await_interest(a2, a1).await;
    await_interest(b2, b1).await;
    b2.publish("back.1", "from-b".into()).await.unwrap();
    b2.flush().await.unwrap();
    assert_eq!(&next_msg(&mut on_b1).await.payload[..], b"from-b");
    no_msg(&mut on_a1).await;
}

#[tokio::test]
async fn unsubscribe_and_disconnect_withdraw_interest_from_the_hub() {
    let Some(bin) = binary() else { return };
    let hub = crate::leaf_nats::switchyard_hub().await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://{addr}")),
        &[],
    );
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    let on_hub = crate::common::client(&hub).await;
    let before = {
        // The leaf's own entries (its loop-detection subject and the like).
        let probe = leaf.client().await;
        await_interest(&on_hub, &probe).await;
        drop(probe);
        hub.subscriptions()
    };
    let on_leaf = leaf.client().await;
    let sub = on_leaf.subscribe("gone.*").await.unwrap();
    await_interest(&on_hub, &on_leaf).await;
    assert!(hub.subscriptions() > before);
    drop(sub);
    on_leaf.flush().await.unwrap();
    // The probe of `await_interest` stays subscribed; `gone.*` must go.
    let with_probe = before + 1;
    eventually("LS- after unsubscribe", || {
        hub.subscriptions() <= with_probe
    })
    .await;
    let _again = on_leaf.subscribe("gone.*").await.unwrap();
    await_interest(&on_hub, &on_leaf).await;
    drop(_again);
    drop(on_leaf);
    eventually("LS- after the client left", || {
        hub.subscriptions() <= before
    })
    .await;
}

#[tokio::test]
async fn a_restarted_nats_hub_gets_the_interest_again_once() {
    let Some(bin) = binary() else { return };
    let config = |port: &str| {
        format!("host: 127.0.0.1\nport: -1\nleafnodes {{ host: 127.0.0.1, port: {port} }}\n")
    };
    let hub = NatsServer::start(&bin, &config("-1"), &[]);
    let hub_leaf = hub.leaf.clone().expect("leaf port");
    let port = hub_leaf.rsplit(':').next().unwrap().to_string();
    let leaf = crate::leaf_nats::switchyard_leaf_of(&hub_leaf).await;
    let on_leaf = crate::common::client(&leaf).await;
    let mut sub = on_leaf.subscribe("after.restart").await.unwrap();
    on_leaf.flush().await.unwrap();
    drop(hub);
    eventually("leaf noticed the hub is gone", || leaf.leaf_count() == 0).await;
    let hub = NatsServer::start(&bin, &config(&port), &[]);
    tokio::time::timeout(Duration::from_secs(10), async {
        while leaf.leaf_count() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("leaf rejoined the restarted hub");
    let on_hub = hub.client().await;
    await_interest(&on_hub, &on_leaf).await;
    for i in 0..50 {
        on_hub
            .publish("after.restart", format!("{i}").into())
            .await
            .unwrap();
    }
    on_hub.flush().await.unwrap();
    for i in 0..50 {
        let m = next_msg(&mut sub).await;
        assert_eq!(m.payload, format!("{i}").as_bytes(), "once each, in order");
    }
    no_msg(&mut sub).await;
}

const IMPORTER: &str = r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
[[imports]]
stream = { account = "globex", subject = "orders.>" }
prefix = "globex"
[[imports]]
service = { account = "globex", subject = "inventory.lookup" }
to = "stock.check"
"#;

const EXPORTER: &str = r#"
name = "globex"
[[users]]
user = "gina"
password = "gina-pw"
[[exports]]
stream = "orders.>"
[[exports]]
service = "inventory.lookup"
"#;

/// What acme imports on a Switchyard hub is reachable from acme's nats
/// leaf: its stream import delivers to leaf subscribers, and a request
/// from the leaf crosses the service import and is answered.
#[tokio::test]
async fn imports_reach_across_a_leaf() {
    let Some(bin) = binary() else { return };
    let dir = TenantDir::new(&[("acme", IMPORTER), ("globex", EXPORTER)]);
    let hub = start_with(crate::leaf_nats::hub_port(dir.config())).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://alice:alice-pw@{addr}")),
        &[],
    );
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    let gina = user(&hub, "gina", "gina-pw").await;
    let alice = user(&hub, "alice", "alice-pw").await;
    let on_leaf = leaf.client().await;

    let mut orders = on_leaf.subscribe("globex.orders.>").await.unwrap();
    await_interest(&alice, &on_leaf).await;
    gina.publish("orders.eu.1", "order".into()).await.unwrap();
    let m = next_msg(&mut orders).await;
    assert_eq!(m.subject.as_str(), "globex.orders.eu.1");

    let mut lookups = gina.subscribe("inventory.lookup").await.unwrap();
    gina.flush().await.unwrap();
    let responder = gina.clone();
    tokio::spawn(async move {
        while let Some(req) = lookups.next().await {
            if let Some(reply) = req.reply {
                let _ = responder.publish(reply, "in stock".into()).await;
                let _ = responder.flush().await;
            }
        }
    });
    // The service import's subject is acme interest the leaf hears of.
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match on_leaf.request("stock.check", "widget".into()).await {
                Ok(m) => break m,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("answered across the leaf");
    assert_eq!(&answer.payload[..], b"in stock");
}

#[tokio::test]
async fn a_nats_leaf_rejoins_a_restarted_switchyard_hub() {
    let Some(bin) = binary() else { return };
    let config = |port: u16| ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(port),
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    };
    let hub = start_with(config(0)).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://{addr}")),
        &[],
    );
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    let on_leaf = leaf.client().await;
    let mut sub = on_leaf.subscribe("after.restart").await.unwrap();
    on_leaf.flush().await.unwrap();
    hub.shutdown().await;
    let hub = start_with(config(addr.port())).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while hub.leaf_count() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("nats leaf rejoined the restarted hub");
    let on_hub = crate::common::client(&hub).await;
    await_interest(&on_hub, &on_leaf).await;
    for i in 0..50 {
        on_hub
            .publish("after.restart", format!("{i}").into())
            .await
            .unwrap();
    }
    on_hub.flush().await.unwrap();
    for i in 0..50 {
        let m = next_msg(&mut sub).await;
        assert_eq!(m.payload, format!("{i}").as_bytes(), "once each, in order");
    }
    no_msg(&mut sub).await;
}
