//! Plugins and leaf nodes: a message that arrives over a leaf from a
//! nats-server passes the receiving tenant's plugins as a client's does;
//! one from a Switchyard peer already passed its tenant's plugins where it
//! entered, and is not transformed again.

use crate::common::natsd::{NatsServer, binary};
use crate::common::plugins::{wasm, with_cache};
use crate::common::{TenantDir, eventually, next_msg, start_with, user};
use crate::leaf_nats::await_interest;
use std::sync::atomic::Ordering;
use switchyard::ServerConfig;
use switchyard::config::{LeafNodesConfig, LeafRemote};

fn acme() -> String {
    format!(
        r#"
name = "acme"
[[users]]
user = "acme-user"
password = "pw"
[[plugins]]
kind = "transform"
path = "{}"
config = {{ subjects = "users.>", fields = "password" }}
"#,
        wasm("redact_json")
    )
}

const SECRET: &str = r#"{"name":"ann","password":"hunter2"}"#;

fn redacted(payload: &[u8]) -> bool {
    let v: serde_json::Value = serde_json::from_slice(payload).expect("json");
    v["password"] == "[REDACTED]" && v["name"] == "ann"
}

fn hub_config(dir: &TenantDir) -> ServerConfig {
    with_cache(crate::leaf_nats::hub_port(dir.config()))
}

#[tokio::test]
async fn messages_from_a_nats_leaf_pass_the_hub_tenant_s_plugins() {
    let Some(bin) = binary() else { return };
    let dir = TenantDir::new(&[("acme", &acme())]);
    let hub = start_with(hub_config(&dir)).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://acme-user:pw@{addr}")),
        &[],
    );
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    let on_hub = user(&hub, "acme-user", "pw").await;
    let on_leaf = leaf.client().await;

    let mut at_hub = on_hub.subscribe("users.>").await.unwrap();
    await_interest(&on_leaf, &on_hub).await;
    on_leaf.publish("users.new", SECRET.into()).await.unwrap();
    assert!(
        redacted(&next_msg(&mut at_hub).await.payload),
        "redacted on the way in"
    );

    let mut at_leaf = on_leaf.subscribe("users.>").await.unwrap();
    await_interest(&on_hub, &on_leaf).await;
    on_hub.publish("users.old", SECRET.into()).await.unwrap();
    assert!(
        redacted(&next_msg(&mut at_leaf).await.payload),
        "redacted where it entered"
    );
    let stats = hub
        .plugin_stats(Some("acme"), "redact_json")
        .expect("stats");
    // Once each: the leaf's message on entry, the hub client's on entry
    // (the first copy at_hub got of it is the same transformed message).
    assert_eq!(stats.modified.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_message_between_switchyards_is_transformed_once() {
    let dir = TenantDir::new(&[("acme", &acme())]);
    let hub = start_with(hub_config(&dir)).await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf_dir = TenantDir::new(&[("acme", &acme())]);
    let leaf = start_with(with_cache(ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            remotes: vec![LeafRemote {
                tenant: Some("acme".into()),
                ..LeafRemote::new(&format!("nats-leaf://acme-user:pw@{addr}"))
            }],
            ..LeafNodesConfig::default()
        }),
        ..leaf_dir.config()
    }))
    .await;
    eventually("leaf joined", || hub.leaf_count() == 1).await;
    let on_hub = user(&hub, "acme-user", "pw").await;
    let on_leaf = user(&leaf, "acme-user", "pw").await;
    let mut at_hub = on_hub.subscribe("users.>").await.unwrap();
    await_interest(&on_leaf, &on_hub).await;
    on_leaf.publish("users.new", SECRET.into()).await.unwrap();
    assert!(redacted(&next_msg(&mut at_hub).await.payload));
    let on = |s: &switchyard::Server| {
        s.plugin_stats(Some("acme"), "redact_json")
            .expect("stats")
            .messages
            .load(Ordering::Relaxed)
    };
    assert_eq!(on(&leaf), 1, "transformed where it entered");
    assert_eq!(on(&hub), 0, "not transformed again at the hub");
}
