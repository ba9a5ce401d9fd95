//! Export transforms: what a tenant shares passes the export's transform
//! on its way to importers (stream messages, service responses), while the
//! tenant's own traffic is left as published.

use crate::common;

use common::plugins::{wasm, with_cache};
use common::{TenantDir, next_msg, user};
use futures::StreamExt;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// acme shares `customers.>` (stream) and `customers.get` (service), both
/// through a redaction of `email`; globex imports both.
fn tenants() -> TenantDir {
    let acme = format!(
        r#"
name = "acme"
[[users]]
user = "acme-user"
password = "pw"
[[plugins]]
name = "share-redact"
kind = "transform"
path = "{wasm}"
config = {{ subjects = "customers.>", fields = "email" }}
[[exports]]
stream = "customers.events.>"
transform = "share-redact"
[[exports]]
service = "customers.get"
transform = "share-redact"
"#,
        wasm = wasm("redact_json")
    );
    let globex = r#"
name = "globex"
[[users]]
user = "globex-user"
password = "pw"
[[imports]]
stream = { account = "acme", subject = "customers.events.>" }
prefix = "acme"
[[imports]]
service = { account = "acme", subject = "customers.get" }
to = "acme.customer"
"#;
    TenantDir::new(&[("acme", &acme), ("globex", globex)])
}

const RECORD: &str = r#"{"name":"ann","email":"ann@example.com"}"#;

fn json(payload: &[u8]) -> serde_json::Value {
    serde_json::from_slice(payload).expect("json payload")
}

#[tokio::test]
async fn a_stream_export_transform_redacts_what_importers_receive() {
    let dir = tenants();
    let server = common::start_with(with_cache(dir.config())).await;
    let acme = user(&server, "acme-user", "pw").await;
    let globex = user(&server, "globex-user", "pw").await;
    let mut own = acme.subscribe("customers.events.>").await.expect("sub");
    let mut first = globex
        .subscribe("acme.customers.events.>")
        .await
        .expect("sub");
    let mut second = globex.subscribe("acme.customers.>").await.expect("sub");
    acme.flush().await.expect("flush");
    globex.flush().await.expect("flush");

    acme.publish("customers.events.created", RECORD.into())
        .await
        .expect("pub");
    acme.flush().await.expect("flush");

    // The tenant's own subscriber sees the record as published.
    assert_eq!(next_msg(&mut own).await.payload, RECORD.as_bytes());
    for sub in [&mut first, &mut second] {
        let m = next_msg(sub).await;
        assert_eq!(m.subject.as_str(), "acme.customers.events.created");
        let v = json(&m.payload);
        assert_eq!(v["name"], "ann");
        assert_eq!(v["email"], "[REDACTED]");
    }
    let stats = server
        .plugin_stats(Some("acme"), "share-redact")
        .expect("export transform is reported");
    // Two importing subscriptions, one call: the result is shared.
    assert_eq!(stats.messages.load(Ordering::Relaxed), 1);
    assert_eq!(stats.modified.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_service_export_transform_redacts_responses_to_importers() {
    let dir = tenants();
    let server = common::start_with(with_cache(dir.config())).await;
    let acme = user(&server, "acme-user", "pw").await;
    let globex = user(&server, "globex-user", "pw").await;
    let mut requests = acme.subscribe("customers.get").await.expect("sub");
    acme.flush().await.expect("flush");
    let responder = acme.clone();
    tokio::spawn(async move {
        while let Some(req) = requests.next().await {
            if let Some(reply) = req.reply {
                responder
                    .publish(reply, RECORD.into())
                    .await
                    .expect("respond");
            }
        }
    });

    let imported = tokio::time::timeout(
        Duration::from_secs(5),
        globex.request("acme.customer", "ann".into()),
    )
    .await
    .expect("in time")
    .expect("imported request answered");
    let v = json(&imported.payload);
    assert_eq!(v["name"], "ann");
    assert_eq!(v["email"], "[REDACTED]");

    // The same service asked from inside acme answers unredacted.
    let local = tokio::time::timeout(
        Duration::from_secs(5),
        acme.request("customers.get", "ann".into()),
    )
    .await
    .expect("in time")
    .expect("local request answered");
    assert_eq!(local.payload, RECORD.as_bytes());
}
