//! Credentials issued by `switchyard auth` work against our own broker in
//! operator mode, with async-nats and with nats-py, and revoking a user
//! through the CLI plus a reload disconnects it.

use crate::common;

use common::auth::Workdir;
use futures::StreamExt;
use std::time::Duration;
use switchyard::ServerConfig;

#[tokio::test]
async fn cli_issued_creds_work_with_our_broker() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "ours"]);
    w.ok("add-account", &["acme", "--export-stream", "orders.>"]);
    w.ok("add-account", &["beta", "--import-stream", "acme:orders.>"]);
    w.ok(
        "add-user",
        &["--account", "acme", "alice", "--out", "alice.creds"],
    );
    w.ok(
        "add-user",
        &[
            "--account",
            "beta",
            "bea",
            "--deny-pub",
            "forbidden",
            "--out",
            "bea.creds",
        ],
    );

    let config = ServerConfig {
        operator_dir: Some(w.ops()),
        ..ServerConfig::default()
    };
    let server = common::start_with(config).await;
    let connect = |creds: &'static str| {
        let path = w.path(creds);
        let url = server.client_url();
        async move {
            async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .expect("creds file")
                .connect(url)
                .await
        }
    };
    let alice = connect("alice.creds").await.expect("alice logs in");
    let bea = connect("bea.creds").await.expect("bea logs in");
    // The stream import from acme reaches beta.
    let mut orders = bea.subscribe("orders.>").await.unwrap();
    bea.flush().await.unwrap();
    common::eventually("shadowed", || server.subscriptions() >= 2).await;
    alice.publish("orders.1", "o1".into()).await.unwrap();
    alice.flush().await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), orders.next())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(&got.payload[..], b"o1");

    // Revoke alice with the CLI and reload: her connection is closed.
    w.ok("revoke-user", &["--account", "acme", "alice"]);
    // Revocation applies to JWTs issued at or before the revocation time,
    // which has one-second resolution.
    server.reload().await.expect("reload");
    common::eventually("alice disconnected", || {
        alice.connection_state() != async_nats::connection::State::Connected
    })
    .await;
    assert!(
        connect("alice.creds").await.is_err(),
        "revoked user cannot log in again"
    );
}
