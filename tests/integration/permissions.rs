//! Permissions, subject mappings and their reload, through the broker.

use crate::common;

use common::{Raw, TenantDir, next_msg, no_msg, user};
use std::time::Duration;

const SHOP: &str = r#"
name = "shop"

[[users]]
user = "clerk"
password = "clerk-pw"
[users.permissions]
publish = { allow = ["orders.>", "_INBOX.>"], deny = ["orders.*.secret"] }
subscribe = { allow = ["orders.>", "jobs.* workers", "_INBOX.>"], deny = ["orders.*.secret"] }

[[users]]
user = "responder"
password = "responder-pw"
[users.permissions]
publish = { allow = ["status"] }
subscribe = { allow = ["help.>"] }
allow_responses = { max = 1, ttl = "5s" }

[[users]]
user = "boss"
password = "boss-pw"

[[mappings]]
source = "legacy.*"
to = "orders.{{wildcard(1)}}"

[[mappings]]
source = "spread.*"
destinations = [{ subject = "part.{{partition(4,1)}}.{{wildcard(1)}}", weight = 100 }]
"#;

const CONNECT_CLERK: &[u8] =
    b"CONNECT {\"user\":\"clerk\",\"pass\":\"clerk-pw\",\"verbose\":false}\r\n";

async fn raw_clerk(server: &switchyard::Server) -> Raw {
    let mut raw = Raw::connect(server).await;
    let (answer, _) = raw.exchange(&[CONNECT_CLERK, b"PING\r\n"].concat()).await;
    assert_eq!(answer, "PONG\r\n");
    raw
}

#[tokio::test]
async fn publish_permissions_with_exact_errors() {
    let dir = TenantDir::new(&[("shop", SHOP)]);
    let server = common::start_with(dir.config()).await;
    let mut clerk = raw_clerk(&server).await;
    let (answer, closed) = clerk
        .exchange(b"SUB orders.> 1\r\nPUB orders.eu 2\r\nok\r\nPUB invoices.eu 2\r\nno\r\nPUB orders.eu.secret 2\r\nno\r\nPING\r\n")
        .await;
    assert_eq!(
        answer,
        "MSG orders.eu 1 2\r\nok\r\n\
         -ERR 'Permissions Violation for Publish to \"invoices.eu\"'\r\n\
         -ERR 'Permissions Violation for Publish to \"orders.eu.secret\"'\r\nPONG\r\n"
    );
    assert!(!closed, "permission errors keep the connection");
}

#[tokio::test]
async fn subscribe_permissions_with_exact_errors() {
    let dir = TenantDir::new(&[("shop", SHOP)]);
    let server = common::start_with(dir.config()).await;
    let mut clerk = raw_clerk(&server).await;
    let (answer, closed) = clerk
        .exchange(b"SUB invoices.> 1\r\nSUB jobs.a 2\r\nSUB jobs.a other 3\r\nSUB jobs.a workers 4\r\nPING\r\n")
        .await;
    assert_eq!(
        answer,
        "-ERR 'Permissions Violation for Subscription to \"invoices.>\"'\r\n\
         -ERR 'Permissions Violation for Subscription to \"jobs.a\"'\r\n\
         -ERR 'Permissions Violation for Subscription to \"jobs.a\" using queue \"other\"'\r\nPONG\r\n"
    );
    assert!(!closed);
}

#[tokio::test]
async fn wildcard_subscription_filters_denied_subjects_at_delivery() {
    let dir = TenantDir::new(&[("shop", SHOP)]);
    let server = common::start_with(dir.config()).await;
    let clerk = user(&server, "clerk", "clerk-pw").await;
    let boss = user(&server, "boss", "boss-pw").await;
    let mut all = clerk.subscribe("orders.>").await.unwrap();
    clerk.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() == 1).await;
    boss.publish("orders.eu.secret", "hidden".into())
        .await
        .unwrap();
    boss.publish("orders.eu.open", "visible".into())
        .await
        .unwrap();
    boss.flush().await.unwrap();
    assert_eq!(&next_msg(&mut all).await.payload[..], b"visible");
    no_msg(&mut all).await;
}

#[tokio::test]
async fn allow_responses_lets_a_responder_answer_once() {
    let dir = TenantDir::new(&[("shop", SHOP)]);
    let server = common::start_with(dir.config()).await;
    let mut responder = Raw::connect(&server).await;
    let (answer, _) = responder
        .exchange(b"CONNECT {\"user\":\"responder\",\"pass\":\"responder-pw\",\"verbose\":false}\r\nSUB help.me 1\r\nPING\r\n")
        .await;
    assert_eq!(answer, "PONG\r\n");
    let boss = user(&server, "boss", "boss-pw").await;
    let mut inbox = boss.subscribe("boss.inbox").await.unwrap();
    boss.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() == 2).await;
    boss.publish_with_reply("help.me", "boss.inbox", "?".into())
        .await
        .unwrap();
    boss.flush().await.unwrap();
    let (got, _) = responder.read_for(Duration::from_millis(300)).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "MSG help.me 1 boss.inbox 1\r\n?\r\n"
    );
    let (answer, _) = responder
        .exchange(b"PUB boss.inbox 3\r\nyes\r\nPUB boss.inbox 5\r\nagain\r\nPING\r\n")
        .await;
    assert_eq!(
        answer,
        "-ERR 'Permissions Violation for Publish to \"boss.inbox\"'\r\nPONG\r\n"
    );
    assert_eq!(&next_msg(&mut inbox).await.payload[..], b"yes");
    no_msg(&mut inbox).await;
}

#[tokio::test]
async fn mappings_rewrite_published_subjects() {
    let dir = TenantDir::new(&[("shop", SHOP)]);
    let server = common::start_with(dir.config()).await;
    let boss = user(&server, "boss", "boss-pw").await;
    let mut orders = boss.subscribe("orders.*").await.unwrap();
    let mut parts = boss.subscribe("part.*.*").await.unwrap();
    boss.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() == 2).await;
    boss.publish("legacy.eu", "old".into()).await.unwrap();
    for key in ["customer1", "customer2", "customer1"] {
        boss.publish(format!("spread.{key}"), key.into())
            .await
            .unwrap();
    }
    boss.flush().await.unwrap();
    assert_eq!(next_msg(&mut orders).await.subject.as_str(), "orders.eu");
    let a = next_msg(&mut parts).await.subject.to_string();
    let _b = next_msg(&mut parts).await;
    let c = next_msg(&mut parts).await.subject.to_string();
    assert!(a.starts_with("part.") && a.ends_with(".customer1"), "{a}");
    assert_eq!(a, c, "the same key always lands in the same partition");
}

#[tokio::test]
async fn reload_shrinking_permissions_drops_denied_subscriptions() {
    let dir = TenantDir::new(&[("shop", SHOP)]);
    let server = common::start_with(dir.config()).await;
    let mut clerk = raw_clerk(&server).await;
    let (answer, _) = clerk
        .exchange(b"SUB orders.eu 1\r\nSUB _INBOX.x 2\r\nPING\r\n")
        .await;
    assert_eq!(answer, "PONG\r\n");
    dir.write(
        "shop",
        &SHOP.replacen(
            r#"subscribe = { allow = ["orders.>", "#,
            r#"subscribe = { allow = ["#,
            1,
        ),
    );
    server.reload().await.expect("reload");
    let (answer, closed) = clerk.read_for(Duration::from_millis(300)).await;
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "-ERR 'Permissions Violation for Subscription to \"orders.eu\"'\r\n"
    );
    assert!(!closed, "the connection stays; only the subscription goes");
    let (answer, _) = clerk
        .exchange(b"PUB orders.eu 1\r\nx\r\nPUB _INBOX.x 1\r\ny\r\nPING\r\n")
        .await;
    assert_eq!(answer, "MSG _INBOX.x 2 1\r\ny\r\nPONG\r\n");
}
