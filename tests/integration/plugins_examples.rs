//! The example plugins doing their jobs through the broker, with async-nats:
//! JSON redaction, per-client rate limits, content-based routing and API-key
//! logins.

use crate::common;

use common::plugins::{sha256_hex, wasm, with_cache};
use common::{TenantDir, eventually, next_msg, no_msg, user};
use std::time::Duration;
use switchyard::Server;

async fn start(dir: &TenantDir) -> Server {
    common::start_with(with_cache(dir.config())).await
}

fn tenant(name: &str, plugins: &str) -> String {
    format!("name = \"{name}\"\n[[users]]\nuser = \"{name}-user\"\npassword = \"pw\"\n{plugins}")
}

#[tokio::test]
async fn redact_json_hides_configured_fields_only_on_its_subjects() {
    let plugins = format!(
        r#"
[[plugins]]
kind = "transform"
path = "{}"
config = {{ subjects = "users.>", fields = "password,card.number" }}
"#,
        wasm("redact_json")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut users = client.subscribe("users.>").await.expect("sub");
    let mut other = client.subscribe("audit").await.expect("sub");
    client.flush().await.expect("flush");

    let secret = r#"{"name":"ann","password":"hunter2","card":{"number":"4111","exp":"12/30"}}"#;
    client
        .publish("users.new", secret.into())
        .await
        .expect("pub");
    client.publish("audit", secret.into()).await.expect("pub");
    client.flush().await.expect("flush");

    let redacted: serde_json::Value =
        serde_json::from_slice(&next_msg(&mut users).await.payload).expect("json");
    assert_eq!(redacted["name"], "ann");
    assert_eq!(redacted["password"], "[REDACTED]");
    assert_eq!(redacted["card"]["number"], "[REDACTED]");
    assert_eq!(redacted["card"]["exp"], "12/30");
    // Not a subject the plugin registered: delivered untouched.
    assert_eq!(next_msg(&mut other).await.payload, secret.as_bytes());
    let stats = server
        .plugin_stats(Some("acme"), "redact_json")
        .expect("stats");
    assert_eq!(stats.messages.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(stats.modified.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[tokio::test]
async fn transformed_and_plain_messages_keep_publish_order() {
    let plugins = format!(
        "[[plugins]]\nkind = \"transform\"\npath = \"{}\"\nsubjects = [\"t.>\"]\n",
        wasm("noop_transform")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut all = client.subscribe(">").await.expect("sub");
    client.flush().await.expect("flush");
    for i in 0..500u32 {
        let subject = if i % 3 == 0 { "plain" } else { "t.x" };
        client
            .publish(subject, i.to_string().into())
            .await
            .expect("pub");
    }
    client.flush().await.expect("flush");
    for i in 0..500u32 {
        let m = next_msg(&mut all).await;
        assert_eq!(
            m.payload,
            i.to_string().as_bytes(),
            "message {i} out of order"
        );
    }
}

#[tokio::test]
async fn rate_limit_denies_a_publisher_past_its_window() {
    let plugins = format!(
        r#"
[[plugins]]
kind = "routing"
path = "{}"
config = {{ limit = "5", window_ms = "60000", subjects = "metrics.>" }}
"#,
        wasm("rate_limit")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let publisher = user(&server, "acme-user", "pw").await;
    let other = user(&server, "acme-user", "pw").await;
    let watcher = user(&server, "acme-user", "pw").await;
    let mut sub = watcher.subscribe("metrics.>").await.expect("sub");
    watcher.flush().await.expect("flush");

    for i in 0..8 {
        publisher
            .publish("metrics.cpu", format!("{i}").into())
            .await
            .expect("pub");
    }
    publisher.flush().await.expect("flush");
    for i in 0..5 {
        assert_eq!(next_msg(&mut sub).await.payload, format!("{i}").as_bytes());
    }
    no_msg(&mut sub).await;
    // A request past the limit learns why.
    let answer = publisher
        .request("metrics.cpu", "9".into())
        .await
        .expect("an answer, not a timeout");
    assert_eq!(
        answer.status,
        Some(async_nats::StatusCode::from_u16(403).expect("code"))
    );
    assert_eq!(answer.description.as_deref(), Some("rate limit exceeded"));
    // Another client has its own budget.
    other.publish("metrics.cpu", "x".into()).await.expect("pub");
    other.flush().await.expect("flush");
    assert_eq!(next_msg(&mut sub).await.payload, "x".as_bytes());
    let stats = server
        .plugin_stats(Some("acme"), "rate_limit")
        .expect("stats");
    eventually("denials counted", || {
        stats.rejected.load(std::sync::atomic::Ordering::Relaxed) == 4
    })
    .await;
}

#[tokio::test]
async fn content_router_routes_by_header_and_by_json_field() {
    let plugins = format!(
        r#"
[[plugins]]
name = "by-header"
kind = "routing"
path = "{0}"
config = {{ subjects = "orders.new", header = "X-Region", target = "orders.{{value}}.new" }}
[[plugins]]
name = "by-field"
kind = "routing"
path = "{0}"
config = {{ subjects = "payments.new", field = "region", target = "payments.{{value}}", default = "payments.unrouted" }}
"#,
        wasm("content_router")
    );
    let dir = TenantDir::new(&[("acme", &tenant("acme", &plugins))]);
    let server = start(&dir).await;
    let client = user(&server, "acme-user", "pw").await;
    let mut eu = client.subscribe("orders.eu.new").await.expect("sub");
    let mut plain = client.subscribe("orders.new").await.expect("sub");
    let mut pay_us = client.subscribe("payments.us").await.expect("sub");
    let mut unrouted = client.subscribe("payments.unrouted").await.expect("sub");
    client.flush().await.expect("flush");

    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Region", "eu");
    client
        .publish_with_headers("orders.new", headers, "o1".into())
        .await
        .expect("pub");
    // No header: allowed on its own subject.
    client
        .publish("orders.new", "o2".into())
        .await
        .expect("pub");
    client
        .publish("payments.new", r#"{"region":"us","amount":5}"#.into())
        .await
        .expect("pub");
    client
        .publish("payments.new", r#"{"amount":7}"#.into())
        .await
        .expect("pub");
    client.flush().await.expect("flush");

    assert_eq!(next_msg(&mut eu).await.payload, "o1".as_bytes());
    assert_eq!(next_msg(&mut plain).await.payload, "o2".as_bytes());
    assert_eq!(
        next_msg(&mut pay_us).await.payload,
        r#"{"region":"us","amount":5}"#.as_bytes()
    );
    assert_eq!(
        next_msg(&mut unrouted).await.payload,
        r#"{"amount":7}"#.as_bytes()
    );
    no_msg(&mut plain).await;
    let _ = server;
}

#[tokio::test]
async fn api_key_auth_binds_keys_to_tenants_with_their_permissions() {
    let dir = TenantDir::new(&[
        ("acme", &tenant("acme", "")),
        ("globex", &tenant("globex", "")),
    ]);
    let mut config = with_cache(dir.config());
    let good = "acme-key-123";
    let toml = format!(
        r#"
[[auth_plugins]]
kind = "auth"
path = "{}"
tenants = ["acme"]
config = {{ "key.{}" = "tenant=acme;user=svc;pub=orders.>;sub=orders.>,_INBOX.>", "key.{}" = "tenant=globex;user=intruder" }}
"#,
        wasm("api_key_auth"),
        sha256_hex(good),
        sha256_hex("globex-key")
    );
    let extra: switchyard::ServerConfig = toml::from_str(&toml).expect("config");
    config.auth_plugins = extra.auth_plugins;
    let server = common::start_with(config).await;

    let svc = async_nats::ConnectOptions::with_token(good.into())
        .connect(server.client_url())
        .await
        .expect("api key accepted");
    let acme = user(&server, "acme-user", "pw").await;
    let mut orders = acme.subscribe("orders.>").await.expect("sub");
    acme.flush().await.expect("flush");
    svc.publish("orders.1", "from svc".into())
        .await
        .expect("pub");
    svc.flush().await.expect("flush");
    assert_eq!(next_msg(&mut orders).await.payload, "from svc".as_bytes());
    eventually("svc bound to acme", || {
        server.tenant_connections("acme") == 2
    })
    .await;

    // The grant's permissions are enforced natively.
    let (tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let limited = async_nats::ConnectOptions::with_token(good.into())
        .event_callback(move |e| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(e.to_string());
            }
        })
        .connect(server.client_url())
        .await
        .expect("api key accepted");
    limited
        .publish("billing.x", "no".into())
        .await
        .expect("pub");
    limited.flush().await.expect("flush");
    let violation = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = errors.recv().await {
            if event.to_lowercase().contains("permissions violation") {
                return event;
            }
        }
        String::new()
    })
    .await
    .expect("a permissions violation in time");
    assert!(violation.contains("billing.x"), "{violation}");

    // Unknown key, and a key granting a tenant the plugin may not bind.
    for key in ["wrong-key", "globex-key"] {
        let refused = async_nats::ConnectOptions::with_token(key.into())
            .max_reconnects(Some(1))
            .connect(server.client_url())
            .await;
        assert!(refused.is_err(), "{key} must be refused");
    }
    assert_eq!(server.tenant_connections("globex"), 0);
}

#[tokio::test]
async fn the_example_configuration_loads_its_plugins() {
    common::plugins::wasm_dir();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = switchyard::ServerConfig::load(&root.join("switchyard.toml"))
        .expect("switchyard.toml loads");
    let server = common::start_with(with_cache(config)).await;
    let loaded: Vec<(Option<String>, String)> = server
        .plugins()
        .into_iter()
        .map(|p| (p.tenant, p.name))
        .collect();
    assert_eq!(
        loaded,
        [
            (None, "api_key_auth".to_string()),
            (Some("acme".to_string()), "redact_json".to_string()),
            (Some("acme".to_string()), "share-redact".to_string()),
            (Some("globex".to_string()), "shipment-router".to_string()),
            (Some("globex".to_string()), "telemetry-limit".to_string()),
        ]
    );
    // The demo API key from tenants/README.md logs in to initech.
    let reporter = async_nats::ConnectOptions::with_token("initech-reporter-demo-key".into())
        .connect(server.client_url())
        .await
        .expect("demo API key accepted");
    let dashboard = async_nats::ConnectOptions::with_token("initech-dashboard-demo-token".into())
        .connect(server.client_url())
        .await
        .expect("dashboard token accepted");
    let mut reports = dashboard.subscribe("reports.>").await.expect("sub");
    dashboard.flush().await.expect("flush");
    reporter
        .publish("reports.daily", "42".into())
        .await
        .expect("pub");
    reporter.flush().await.expect("flush");
    assert_eq!(next_msg(&mut reports).await.payload, "42".as_bytes());

    // acme's customer records reach initech through the export, with the
    // tenant's own redaction (password) and the export's (email) applied.
    let mut customers = dashboard
        .subscribe("feeds.acme.customers.>")
        .await
        .expect("sub");
    dashboard.flush().await.expect("flush");
    let alice = user(&server, "alice", "alice-demo-pass").await;
    let record = r#"{"name":"ann","email":"ann@example.com","password":"hunter2"}"#;
    alice
        .publish("customers.created", record.into())
        .await
        .expect("pub");
    alice.flush().await.expect("flush");
    let m = next_msg(&mut customers).await;
    assert_eq!(m.subject.as_str(), "feeds.acme.customers.created");
    let v: serde_json::Value = serde_json::from_slice(&m.payload).expect("json");
    assert_eq!(v["name"], "ann");
    assert_eq!(v["email"], "[REDACTED]");
    assert_eq!(v["password"], "[REDACTED]");

    // docs/monitoring.md: the ops admin asks every server for acme's
    // connections (`nats --user admin --password ops-demo-pass request
    // '$SYS.REQ.SERVER.PING.CONNZ' '{"acc":"acme"}'`).
    let admin = user(&server, "admin", "ops-demo-pass").await;
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        admin.request("$SYS.REQ.SERVER.PING.CONNZ", r#"{"acc":"acme"}"#.into()),
    )
    .await
    .expect("answer in time")
    .expect("the documented request is answered");
    let v: serde_json::Value = serde_json::from_slice(&answer.payload).expect("json");
    let conns = v["data"]["connections"].as_array().expect("connections");
    assert!(!conns.is_empty(), "alice is connected to acme: {v}");
    assert!(conns.iter().all(|c| c["account"] == "acme"), "{v}");
}
