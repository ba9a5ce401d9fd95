//! Tenants end to end with async-nats: logins of every kind, isolation,
//! stream and service imports, limits, system events and reload.

use crate::common;

use common::{TenantDir, next_msg, no_msg, user};
use futures::StreamExt;
use std::time::Duration;

const ACME: &str = r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
[[users]]
user = "bob"
password = "BCRYPT"
[[users]]
token = "acme-token"
[[users]]
nkey = "NKEY"
[limits]
max_connections = 5
max_subscriptions = 50
max_payload = 2048
[[imports]]
stream = { account = "globex", subject = "orders.>" }
prefix = "globex"
[[imports]]
service = { account = "globex", subject = "inventory.lookup" }
to = "stock.check"
[[imports]]
service = { account = "globex", subject = "prices.stream" }
to = "prices"
"#;

const GLOBEX: &str = r#"
name = "globex"
[[users]]
user = "gina"
password = "gina-pw"
[[exports]]
stream = "orders.>"
accounts = ["acme"]
[[exports]]
service = "inventory.lookup"
[[exports]]
service = "prices.stream"
response_type = "stream"
response_threshold = "300ms"
"#;

fn tenants() -> (TenantDir, nkeys::KeyPair) {
    let key = nkeys::KeyPair::new_user();
    let hash = bcrypt::hash("bob-pw", 4).expect("bcrypt");
    let acme = ACME
        .replace("BCRYPT", &hash)
        .replace("NKEY", &key.public_key());
    (TenantDir::new(&[("acme", &acme), ("globex", GLOBEX)]), key)
}

#[tokio::test]
async fn every_kind_of_user_logs_in_and_bad_credentials_fail() {
    let (dir, key) = tenants();
    let server = common::start_with(dir.config()).await;
    let url = server.client_url();

    let _alice = user(&server, "alice", "alice-pw").await;
    let _bob = user(&server, "bob", "bob-pw").await;
    let _token = async_nats::ConnectOptions::with_token("acme-token".into())
        .connect(&url)
        .await
        .expect("token user");
    let seed = key.seed().expect("seed");
    let _nkey = async_nats::ConnectOptions::with_nkey(seed)
        .connect(&url)
        .await
        .expect("nkey user");
    common::eventually("four acme logins", || {
        server.tenant_connections("acme") == 4
    })
    .await;

    for bad in [
        async_nats::ConnectOptions::with_user_and_password("alice".into(), "wrong".into()),
        async_nats::ConnectOptions::with_user_and_password("bob".into(), "alice-pw".into()),
        async_nats::ConnectOptions::with_token("nope".into()),
        async_nats::ConnectOptions::with_nkey(nkeys::KeyPair::new_user().seed().expect("seed")),
        async_nats::ConnectOptions::new(),
    ] {
        let err = bad
            .max_reconnects(0)
            .connect(&url)
            .await
            .expect_err("rejected");
        assert_eq!(
            err.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation,
            "{err}"
        );
    }
}

#[tokio::test]
async fn raw_wrong_password_gets_the_exact_error() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let mut raw = common::Raw::connect(&server).await;
    assert!(raw.info.contains("\"auth_required\":true"));
    assert!(
        raw.info.contains("\"nonce\":\""),
        "nkey users exist, so INFO carries a nonce"
    );
    let (answer, closed) = raw
        .exchange(b"CONNECT {\"user\":\"alice\",\"pass\":\"x\",\"verbose\":false}\r\nPING\r\n")
        .await;
    assert_eq!(answer, "-ERR 'Authorization Violation'\r\n");
    assert!(closed);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let alice = user(&server, "alice", "alice-pw").await;
    let gina = user(&server, "gina", "gina-pw").await;
    let mut acme_sub = alice.subscribe("shared.>").await.unwrap();
    let mut globex_sub = gina.subscribe("shared.>").await.unwrap();
    alice.flush().await.unwrap();
    gina.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() >= 4).await;
    alice.publish("shared.x", "from acme".into()).await.unwrap();
    gina.publish("shared.x", "from globex".into())
        .await
        .unwrap();
    alice.flush().await.unwrap();
    gina.flush().await.unwrap();
    assert_eq!(&next_msg(&mut acme_sub).await.payload[..], b"from acme");
    assert_eq!(&next_msg(&mut globex_sub).await.payload[..], b"from globex");
    no_msg(&mut acme_sub).await;
    no_msg(&mut globex_sub).await;
}

#[tokio::test]
async fn stream_import_with_prefix() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let alice = user(&server, "alice", "alice-pw").await;
    let gina = user(&server, "gina", "gina-pw").await;
    let mut all = alice.subscribe("globex.orders.>").await.unwrap();
    let mut eu = alice.subscribe("globex.orders.eu").await.unwrap();
    let mut wide = alice.subscribe(">").await.unwrap();
    alice.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    gina.publish("orders.eu", "o1".into()).await.unwrap();
    gina.publish("orders.us", "o2".into()).await.unwrap();
    gina.publish("invoices.eu", "not exported".into())
        .await
        .unwrap();
    gina.flush().await.unwrap();
    let m = next_msg(&mut all).await;
    assert_eq!(
        (m.subject.as_str(), &m.payload[..]),
        ("globex.orders.eu", &b"o1"[..])
    );
    assert_eq!(
        next_msg(&mut all).await.subject.as_str(),
        "globex.orders.us"
    );
    assert_eq!(next_msg(&mut eu).await.subject.as_str(), "globex.orders.eu");
    no_msg(&mut eu).await;
    assert_eq!(
        next_msg(&mut wide).await.subject.as_str(),
        "globex.orders.eu"
    );
    assert_eq!(
        next_msg(&mut wide).await.subject.as_str(),
        "globex.orders.us"
    );
    no_msg(&mut wide).await;
}

#[tokio::test]
async fn service_import_request_reply() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let gina = user(&server, "gina", "gina-pw").await;
    let mut service = gina.subscribe("inventory.lookup").await.unwrap();
    gina.flush().await.unwrap();
    tokio::spawn(async move {
        while let Some(req) = service.next().await {
            let info = req
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Request-Info"))
                .map(|v| v.to_string())
                .unwrap_or_default();
            let reply = req.reply.clone().expect("reply subject");
            assert!(
                reply.as_str().starts_with("_R_."),
                "reply is rewritten: {reply}"
            );
            let body = format!("{}|{}", String::from_utf8_lossy(&req.payload), info);
            gina.publish(reply, body.into()).await.unwrap();
        }
    });
    let alice = user(&server, "alice", "alice-pw").await;
    common::eventually("service subscribed", || server.subscriptions() >= 3).await;
    let answer = alice
        .request("stock.check", "widget".into())
        .await
        .expect("answer");
    let text = String::from_utf8_lossy(&answer.payload).into_owned();
    assert!(text.starts_with("widget|"), "{text}");
    assert!(
        text.contains(r#""acc":"acme""#),
        "Nats-Request-Info names the requester: {text}"
    );
    common::eventually("singleton response forgotten", || {
        server.pending_responses("globex") == 0
    })
    .await;
}

#[tokio::test]
async fn service_import_no_responders_and_cleanup() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let alice = user(&server, "alice", "alice-pw").await;
    let err = alice
        .request("stock.check", "anyone?".into())
        .await
        .expect_err("nobody serves it");
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
    assert_eq!(server.pending_responses("globex"), 0, "cleaned up at once");
}

#[tokio::test]
async fn streamed_responses_until_the_threshold() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let gina = user(&server, "gina", "gina-pw").await;
    let mut service = gina.subscribe("prices.stream").await.unwrap();
    gina.flush().await.unwrap();
    let responder = tokio::spawn(async move {
        let req = service.next().await.expect("request");
        let reply = req.reply.expect("reply");
        for i in 0..3 {
            gina.publish(reply.clone(), format!("tick {i}").into())
                .await
                .unwrap();
        }
        gina.flush().await.unwrap();
        // After the 300 ms threshold the route back is gone.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        gina.publish(reply, "too late".into()).await.unwrap();
        gina.flush().await.unwrap();
    });
    let alice = user(&server, "alice", "alice-pw").await;
    let mut inbox = alice.subscribe("my.inbox").await.unwrap();
    alice.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() >= 4).await;
    alice
        .publish_with_reply("prices", "my.inbox", "quote".into())
        .await
        .unwrap();
    alice.flush().await.unwrap();
    for i in 0..3 {
        assert_eq!(
            String::from_utf8_lossy(&next_msg(&mut inbox).await.payload),
            format!("tick {i}")
        );
    }
    responder.await.unwrap();
    no_msg(&mut inbox).await;
    assert_eq!(
        server.pending_responses("globex"),
        0,
        "expired entry removed"
    );
}

#[tokio::test]
async fn account_limits() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    // max_payload 2048 for acme, advertised after login is not possible in
    // NATS; the server enforces it.
    let mut raw = common::Raw::connect(&server).await;
    let big = format!(
        "CONNECT {{\"user\":\"alice\",\"pass\":\"alice-pw\",\"verbose\":false}}\r\nPUB x 2049\r\n{}\r\n",
        "a".repeat(2049)
    );
    let (answer, closed) = raw.exchange(big.as_bytes()).await;
    assert_eq!(answer, "-ERR 'Maximum Payload Violation'\r\n");
    assert!(closed);

    let mut raw = common::Raw::connect(&server).await;
    let mut subs =
        String::from("CONNECT {\"user\":\"alice\",\"pass\":\"alice-pw\",\"verbose\":false}\r\n");
    for i in 0..51 {
        subs.push_str(&format!("SUB s.{i} {i}\r\n"));
    }
    subs.push_str("PING\r\n");
    let (answer, closed) = raw.exchange(subs.as_bytes()).await;
    assert_eq!(answer, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
    assert!(!closed);
    drop(raw);

    let mut keep = Vec::new();
    for _ in 0..5 {
        keep.push(user(&server, "alice", "alice-pw").await);
    }
    common::eventually("five acme connections", || {
        server.tenant_connections("acme") == 5
    })
    .await;
    let mut raw = common::Raw::connect(&server).await;
    let (answer, closed) = raw
        .exchange(
            b"CONNECT {\"user\":\"alice\",\"pass\":\"alice-pw\",\"verbose\":false}\r\nPING\r\n",
        )
        .await;
    assert_eq!(
        answer,
        "-ERR 'maximum account active connections exceeded'\r\n"
    );
    assert!(closed);
    // Another tenant is not affected.
    user(&server, "gina", "gina-pw").await;
}

#[tokio::test]
async fn system_account_sees_connect_and_disconnect_events() {
    let ops = r#"
name = "ops"
[[users]]
user = "admin"
password = "admin-pw"
"#;
    let (dir, _) = tenants();
    dir.write("ops", ops);
    let config = switchyard::ServerConfig {
        system_account: Some("ops".into()),
        ..dir.config()
    };
    let server = common::start_with(config).await;
    let admin = user(&server, "admin", "admin-pw").await;
    let mut events = admin.subscribe("$SYS.ACCOUNT.*.*").await.unwrap();
    admin.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() >= 3).await;
    let alice =
        async_nats::ConnectOptions::with_user_and_password("alice".into(), "alice-pw".into())
            .name("event-test")
            .connect(server.client_url())
            .await
            .unwrap();
    let connect = next_msg(&mut events).await;
    assert_eq!(connect.subject.as_str(), "$SYS.ACCOUNT.acme.CONNECT");
    let json: serde_json::Value = serde_json::from_slice(&connect.payload).unwrap();
    assert_eq!(json["type"], "io.nats.server.advisory.v1.client_connect");
    assert_eq!(json["client"]["acc"], "acme");
    assert_eq!(json["client"]["user"], "alice");
    assert_eq!(json["client"]["name"], "event-test");
    alice.publish("x", "1".into()).await.unwrap();
    alice.flush().await.unwrap();
    drop(alice);
    let disconnect = next_msg(&mut events).await;
    assert_eq!(disconnect.subject.as_str(), "$SYS.ACCOUNT.acme.DISCONNECT");
    let json: serde_json::Value = serde_json::from_slice(&disconnect.payload).unwrap();
    assert_eq!(json["type"], "io.nats.server.advisory.v1.client_disconnect");
    assert_eq!(json["reason"], "Client Closed");
    assert_eq!(json["received"]["msgs"], 1);
}

#[tokio::test]
async fn reload_adds_and_removes_users_and_tenants() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let gina = user(&server, "gina", "gina-pw").await;
    let alice = user(&server, "alice", "alice-pw").await;
    let mut alice_sub = alice.subscribe("still.here").await.unwrap();
    alice.flush().await.unwrap();

    // Add a user to globex and drop the acme tenant's import of orders.
    dir.write(
        "globex",
        &format!("{GLOBEX}\n[[users]]\nuser = \"gus\"\npassword = \"gus-pw\"\n"),
    );
    server.reload().await.expect("reload");
    user(&server, "gus", "gus-pw").await;
    // Unaffected connections keep working.
    alice.publish("still.here", "yes".into()).await.unwrap();
    assert_eq!(&next_msg(&mut alice_sub).await.payload[..], b"yes");

    // Remove gina: her connection is closed.
    dir.write(
        "globex",
        &GLOBEX.replace(
            "user = \"gina\"\npassword = \"gina-pw\"",
            "user = \"gus\"\npassword = \"gus-pw\"",
        ),
    );
    server.reload().await.expect("reload");
    common::eventually("gina disconnected", || {
        gina.connection_state() != async_nats::connection::State::Connected
    })
    .await;

    // A broken reload changes nothing.
    dir.write("globex", "name = \"globex\"\nbogus = 1\n");
    assert!(server.reload().await.is_err());
    user(&server, "alice", "alice-pw").await;
}

#[tokio::test]
async fn no_auth_user_binds_clients_without_credentials() {
    let (dir, _) = tenants();
    let config = switchyard::ServerConfig {
        no_auth_user: Some("gina".into()),
        ..dir.config()
    };
    let server = common::start_with(config).await;
    let anonymous = common::client(&server).await;
    let mut sub = anonymous.subscribe("who").await.unwrap();
    anonymous.flush().await.unwrap();
    common::eventually("bound to globex", || {
        server.tenant_connections("globex") == 1
    })
    .await;
    let gina = user(&server, "gina", "gina-pw").await;
    gina.publish("who", "same tenant".into()).await.unwrap();
    gina.flush().await.unwrap();
    assert_eq!(&next_msg(&mut sub).await.payload[..], b"same tenant");
    // Wrong credentials never fall back to the no-auth user.
    let err = async_nats::ConnectOptions::with_user_and_password("gina".into(), "bad".into())
        .connect(server.client_url())
        .await
        .expect_err("rejected");
    assert_eq!(
        err.kind(),
        async_nats::ConnectErrorKind::AuthorizationViolation
    );
}

#[tokio::test]
async fn stream_import_with_to_rewrites_wildcards() {
    let importer = r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
[[imports]]
stream = { account = "globex", subject = "orders.*.>" }
to = "incoming.*.globex.>"
"#;
    let dir = TenantDir::new(&[("acme", importer), ("globex", GLOBEX)]);
    let server = common::start_with(dir.config()).await;
    let alice = user(&server, "alice", "alice-pw").await;
    let gina = user(&server, "gina", "gina-pw").await;
    let mut sub = alice.subscribe("incoming.>").await.unwrap();
    alice.flush().await.unwrap();
    common::eventually("shadowed", || server.subscriptions() >= 2).await;
    gina.publish("orders.eu.book.42", "x".into()).await.unwrap();
    gina.flush().await.unwrap();
    assert_eq!(
        next_msg(&mut sub).await.subject.as_str(),
        "incoming.eu.globex.book.42"
    );
}

#[tokio::test]
async fn reload_removing_a_tenant_disconnects_its_clients() {
    let (dir, _) = tenants();
    let server = common::start_with(dir.config()).await;
    let gina = user(&server, "gina", "gina-pw").await;
    let alice = user(&server, "alice", "alice-pw").await;
    common::eventually("both logged in", || {
        server.tenant_connections("globex") == 1
    })
    .await;
    // acme imports from globex, so drop acme's imports along with globex.
    dir.remove("globex");
    dir.write(
        "acme",
        "name = \"acme\"\n[[users]]\nuser = \"alice\"\npassword = \"alice-pw\"\n",
    );
    server.reload().await.expect("reload");
    common::eventually("gina disconnected", || {
        gina.connection_state() != async_nats::connection::State::Connected
    })
    .await;
    alice.flush().await.expect("alice unaffected");
    assert_eq!(
        alice.connection_state(),
        async_nats::connection::State::Connected
    );
}

/// Regression: an importer's queue subscription must not join the
/// exporter's own queue group of the same name.
#[tokio::test]
async fn queue_groups_do_not_merge_across_a_stream_import() {
    let importer = r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
[[imports]]
stream = { account = "globex", subject = "orders.>" }
"#;
    let dir = TenantDir::new(&[("acme", importer), ("globex", GLOBEX)]);
    let server = common::start_with(dir.config()).await;
    let alice = user(&server, "alice", "alice-pw").await;
    let gina = user(&server, "gina", "gina-pw").await;
    let mut acme_q = alice.queue_subscribe("orders.>", "q".into()).await.unwrap();
    let mut globex_q = gina.queue_subscribe("orders.>", "q".into()).await.unwrap();
    alice.flush().await.unwrap();
    gina.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() >= 3).await;
    for i in 0..20 {
        gina.publish(format!("orders.{i}"), "x".into())
            .await
            .unwrap();
    }
    gina.flush().await.unwrap();
    // Each tenant's group gets every message once.
    for _ in 0..20 {
        next_msg(&mut acme_q).await;
        next_msg(&mut globex_q).await;
    }
    no_msg(&mut acme_q).await;
    no_msg(&mut globex_q).await;
}

/// A reload that lowers `max_subscriptions` below what a connection holds
/// closes it with nats-server's error; a connection within the new limit,
/// and the held subscriptions' deliveries to it, carry on.
#[tokio::test]
async fn reload_lowering_max_subscriptions_closes_connections_over_it() {
    let tenant = "name = \"solo\"\n[[users]]\nuser = \"sam\"\npassword = \"sam-pw\"\n";
    let dir = TenantDir::new(&[("solo", tenant)]);
    let server = common::start_with(dir.config()).await;
    let login = b"CONNECT {\"user\":\"sam\",\"pass\":\"sam-pw\",\"verbose\":false}\r\n";
    let mut many = common::Raw::connect(&server).await;
    many.send(login).await;
    let (answer, _) = many
        .exchange(b"SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")
        .await;
    assert_eq!(answer, "PONG\r\n");
    let mut few = common::Raw::connect(&server).await;
    few.send(login).await;
    let (answer, _) = few.exchange(b"SUB a 1\r\nPING\r\n").await;
    assert_eq!(answer, "PONG\r\n");

    dir.write(
        "solo",
        &format!("{tenant}[limits]\nmax_subscriptions = 2\n"),
    );
    server.reload().await.expect("reload");
    let (answer, closed) = many.read_for(Duration::from_secs(2)).await;
    assert_eq!(answer, b"-ERR 'maximum subscriptions exceeded'\r\n");
    assert!(closed);
    let (answer, closed) = few.exchange(b"PUB a 2\r\nhi\r\nPING\r\n").await;
    assert_eq!(answer, "MSG a 1 2\r\nhi\r\nPONG\r\n");
    assert!(!closed);
}
