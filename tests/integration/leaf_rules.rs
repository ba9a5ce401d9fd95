//! What may cross a leaf connection: a remote's `deny_imports` and
//! `deny_exports`, and on the hub the permissions of the user the leaf
//! logged in as; tested with a real nats-server on the other side.

use crate::common::natsd::{NatsServer, binary};
use crate::common::{TenantDir, eventually, next_msg, no_msg, start_with, user};
use crate::leaf_nats::await_interest;
use switchyard::ServerConfig;
use switchyard::config::{LeafNodesConfig, LeafRemote};

#[tokio::test]
async fn deny_imports_and_exports_filter_a_remote() {
    let Some(bin) = binary() else { return };
    let hub = NatsServer::start(
        &bin,
        "host: 127.0.0.1\nport: -1\nleafnodes { host: 127.0.0.1, port: -1 }\n",
        &[],
    );
    let remote = LeafRemote {
        deny_imports: vec!["secret.>".into()],
        deny_exports: vec!["private.>".into()],
        ..LeafRemote::new(&format!(
            "nats-leaf://{}",
            hub.leaf.as_deref().expect("leaf port")
        ))
    };
    let leaf = start_with(ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            remotes: vec![remote],
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    eventually("leaf joined", || leaf.leaf_count() == 1).await;
    let on_hub = hub.client().await;
    let on_leaf = crate::common::client(&leaf).await;

    // Imports: the leaf never asks for secret.>, and drops it if sent.
    let mut secret = on_leaf.subscribe("secret.x").await.unwrap();
    let mut open = on_leaf.subscribe("open.x").await.unwrap();
    await_interest(&on_hub, &on_leaf).await;
    on_hub.publish("secret.x", "no".into()).await.unwrap();
    on_hub.publish("open.x", "yes".into()).await.unwrap();
    assert_eq!(&next_msg(&mut open).await.payload[..], b"yes");
    no_msg(&mut secret).await;

    // Exports: the hub's interest in private.> is ignored.
    let mut private = on_hub.subscribe("private.>").await.unwrap();
    let mut public = on_hub.subscribe("public.>").await.unwrap();
    await_interest(&on_leaf, &on_hub).await;
    on_leaf.publish("private.a", "no".into()).await.unwrap();
    on_leaf.publish("public.a", "yes".into()).await.unwrap();
    assert_eq!(&next_msg(&mut public).await.payload[..], b"yes");
    no_msg(&mut private).await;
}

const EDGE: &str = r#"
name = "edge"
[[users]]
user = "leaf"
password = "leaf-pw"
[users.permissions]
publish = { allow = ["up.>"] }
subscribe = { allow = ["down.>", "_INBOX.>", "probe.>"] }
[[users]]
user = "app"
password = "app-pw"
"#;

#[tokio::test]
async fn a_leaf_user_s_permissions_bound_what_crosses_into_the_hub() {
    let Some(bin) = binary() else { return };
    let dir = TenantDir::new(&[("edge", EDGE)]);
    let hub = start_with(crate::leaf_nats::hub_port(dir.config())).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://leaf:leaf-pw@{addr}")),
        &[],
    );
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    let app = user(&hub, "app", "app-pw").await;
    let on_leaf = leaf.client().await;

    // Subscribe permission: what the hub sends down.
    let mut down = on_leaf.subscribe("down.1").await.unwrap();
    let mut sideways = on_leaf.subscribe("sideways.1").await.unwrap();
    await_interest(&app, &on_leaf).await;
    app.publish("sideways.1", "no".into()).await.unwrap();
    app.publish("down.1", "yes".into()).await.unwrap();
    assert_eq!(&next_msg(&mut down).await.payload[..], b"yes");
    no_msg(&mut sideways).await;

    // Publish permission: what the leaf may send up.
    let mut all = app.subscribe(">").await.unwrap();
    app.flush().await.unwrap();
    // `>` reaches the leaf only as far as its permissions allow; wait for
    // the probe path (probe.> is allowed) to be sure the interest is there.
    let mut probe = on_leaf.subscribe("probe.ready").await.unwrap();
    await_interest(&app, &on_leaf).await;
    drop(probe.unsubscribe().await);
    for _ in 0..100 {
        on_leaf.publish("up.ping", "p".into()).await.unwrap();
        on_leaf.flush().await.unwrap();
        if let Ok(Some(m)) = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            futures::StreamExt::next(&mut all),
        )
        .await
            && m.subject.as_str() == "up.ping"
        {
            break;
        }
    }
    on_leaf.publish("elsewhere", "no".into()).await.unwrap();
    on_leaf.publish("up.x", "yes".into()).await.unwrap();
    on_leaf.flush().await.unwrap();
    loop {
        let m = next_msg(&mut all).await;
        assert_ne!(m.subject.as_str(), "elsewhere", "denied publish crossed");
        if m.subject.as_str() == "up.x" {
            break;
        }
    }
}

/// A reload that removes the user a leaf logged in as disconnects the
/// leaf, as it does a client; one that keeps it leaves it connected.
#[tokio::test]
async fn a_reload_re_checks_a_leaf_s_login() {
    let Some(bin) = binary() else { return };
    let dir = TenantDir::new(&[("edge", EDGE)]);
    let hub = start_with(crate::leaf_nats::hub_port(dir.config())).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let _leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://leaf:leaf-pw@{addr}")),
        &[],
    );
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    hub.reload().await.expect("reload with the same files");
    // Still there after a reload that changed nothing.
    let app = user(&hub, "app", "app-pw").await;
    app.flush().await.unwrap();
    assert_eq!(hub.leaf_count(), 1);
    dir.write("edge", &EDGE.replace("user = \"leaf\"", "user = \"other\""));
    hub.reload().await.expect("reload without the leaf user");
    eventually("leaf disconnected", || hub.leaf_count() == 0).await;
}
