//! Leaf nodes over TLS and with `.creds` (operator mode), against a real
//! nats-server 2.15 both ways.

use crate::common::auth::Workdir;
use crate::common::natsd::{NatsServer, binary};
use crate::common::pki::{Ca, PemDir};
use crate::common::{eventually, start_with};
use crate::leaf_nats::crosses;
use switchyard::config::{LeafNodesConfig, LeafRemote, RemoteTls, TlsConfig};
use switchyard::{Server, ServerConfig};

#[tokio::test]
async fn switchyard_leaf_joins_a_nats_hub_over_tls() {
    let Some(bin) = binary() else { return };
    let ca = Ca::new("leaf test CA");
    let pem = PemDir::new();
    let (cert, key) = pem.pair("hub", &ca.server());
    let ca_file = pem.write("ca.pem", &ca.pem);
    let hub = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ host: 127.0.0.1, port: -1\n  \
             tls {{ cert_file: \"{}\", key_file: \"{}\" }}\n}}\n",
            cert.display(),
            key.display()
        ),
        &[],
    );
    let remote = LeafRemote {
        tls: Some(RemoteTls {
            ca_file: Some(ca_file),
            ..RemoteTls::default()
        }),
        ..LeafRemote::new(&format!(
            "tls://{}",
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
    eventually("leaf joined over TLS", || leaf.leaf_count() == 1).await;
    crosses(&hub.client().await, &crate::common::client(&leaf).await).await;
}

#[tokio::test]
async fn nats_leaf_joins_a_switchyard_hub_over_tls() {
    let Some(bin) = binary() else { return };
    let ca = Ca::new("leaf test CA");
    let pem = PemDir::new();
    let (cert, key) = pem.pair("hub", &ca.server());
    let ca_file = pem.write("ca.pem", &ca.pem);
    let hub = start_with(ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            tls: Some(TlsConfig::new(cert, key)),
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ remotes = [ {{ url: \"tls://{addr}\"\n  \
             tls {{ ca_file: \"{}\" }} }} ] }}\n",
            ca_file.display()
        ),
        &[],
    );
    eventually("nats leaf joined over TLS", || hub.leaf_count() == 1).await;
    crosses(&crate::common::client(&hub).await, &leaf.client().await).await;
}

/// An operator with account `acme` and a leaf user `edge` in it.
fn operator() -> Workdir {
    let w = Workdir::new();
    w.ok("init", &["--operator", "leafop"]);
    w.ok("add-account", &["acme"]);
    w.ok(
        "add-user",
        &["--account", "acme", "edge", "--out", "edge.creds"],
    );
    w.ok(
        "add-user",
        &["--account", "acme", "app", "--out", "app.creds"],
    );
    w
}

async fn creds_client(url: &str, creds: &std::path::Path) -> async_nats::Client {
    async_nats::ConnectOptions::with_credentials_file(creds)
        .await
        .expect("creds readable")
        .connect(url)
        .await
        .expect("connects with creds")
}

#[tokio::test]
async fn switchyard_leaf_logs_in_to_an_operator_mode_nats_hub_with_creds() {
    let Some(bin) = binary() else { return };
    let w = operator();
    let store = w.store();
    let preload: String = store
        .list_accounts()
        .expect("accounts")
        .iter()
        .map(|(name, token)| format!("  {}: \"{token}\"\n", w.account_key(name)))
        .collect();
    let hub = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ host: 127.0.0.1, port: -1 }}\n\
             operator: \"{}\"\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n{preload}}}\n",
            store.operator_jwt_path().display(),
            w.account_key("SYS"),
        ),
        &[],
    );
    let remote = LeafRemote {
        credentials: Some(w.path("edge.creds")),
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
    eventually("leaf logged in with creds", || leaf.leaf_count() == 1).await;
    let on_hub = creds_client(&hub.url, &w.path("app.creds")).await;
    crosses(&on_hub, &crate::common::client(&leaf).await).await;
}

#[tokio::test]
async fn nats_leaf_logs_in_to_an_operator_mode_switchyard_hub_with_creds() {
    let Some(bin) = binary() else { return };
    let w = operator();
    let hub: Server = start_with(ServerConfig {
        operator_dir: Some(w.ops()),
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    let addr = hub.leaf_addr().expect("leaf port");
    let leaf = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ remotes = [ {{ url: \"nats-leaf://{addr}\", credentials: \"{}\" }} ] }}\n",
            w.path("edge.creds").display()
        ),
        &[],
    );
    eventually("nats leaf logged in with creds", || hub.leaf_count() == 1).await;
    let on_hub = creds_client(&hub.client_url(), &w.path("app.creds")).await;
    crosses(&on_hub, &leaf.client().await).await;
}

/// A remote that logs in with an nkey seed: the hub's nonce is signed,
/// and nats-server puts the leaf in the nkey user's account.
#[tokio::test]
async fn switchyard_leaf_logs_in_to_a_nats_hub_with_an_nkey() {
    let Some(bin) = binary() else { return };
    let key = nkeys::KeyPair::new_user();
    let hub = NatsServer::start(
        &bin,
        &format!(
            "host: 127.0.0.1\nport: -1\nleafnodes {{ host: 127.0.0.1, port: -1 }}\n\
             accounts {{\n  A {{ users = [ {{ nkey: {} }}, {{ user: app, password: app }} ] }}\n}}\n",
            key.public_key()
        ),
        &[],
    );
    let remote = LeafRemote {
        nkey: Some(key.seed().expect("seed")),
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
    eventually("leaf logged in with an nkey", || leaf.leaf_count() == 1).await;
    let on_hub = async_nats::ConnectOptions::with_user_and_password("app".into(), "app".into())
        .connect(&hub.url)
        .await
        .expect("app connects");
    crosses(&on_hub, &crate::common::client(&leaf).await).await;
}

/// A nats-server leaf whose URL carries a token logs in to a Switchyard
/// hub that requires that token; a wrong token is refused.
#[tokio::test]
async fn nats_leaf_logs_in_to_a_switchyard_hub_with_a_token() {
    let Some(bin) = binary() else { return };
    let hub: Server = start_with(ServerConfig {
        authorization: Some(switchyard::config::Authorization {
            user: None,
            password: None,
            token: Some("s3cr3t".into()),
        }),
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    let addr = hub.leaf_addr().expect("leaf port");
    let wrong = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://nope@{addr}")),
        &[],
    );
    wrong.wait_log("Authorization Violation").await;
    assert_eq!(hub.leaf_count(), 0);
    drop(wrong);
    let leaf = NatsServer::start(
        &bin,
        &crate::leaf_nats::nats_leaf_config(&format!("nats-leaf://s3cr3t@{addr}")),
        &[],
    );
    eventually("leaf logged in with the token", || hub.leaf_count() == 1).await;
    let on_hub = async_nats::ConnectOptions::with_token("s3cr3t".into())
        .connect(hub.client_url())
        .await
        .expect("client connects with the token");
    crosses(&on_hub, &leaf.client().await).await;
}
