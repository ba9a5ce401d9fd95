//! Exports that require an activation token (`token_req`), in operator
//! mode: only importers holding a valid activation from the exporter get
//! the messages; a missing, forged, revoked or expired token skips that
//! import (the account itself still loads), as in nats-server.

use crate::common;

use common::auth::Workdir;
use common::operator::{Operator, creds_client, now};
use nkeys::KeyPair;
use std::time::Duration;
use switchyard::auth::jwt::{ActivationClaims, Export, ExportType, Import, encode};
use switchyard::{Server, ServerConfig};

fn private_orders() -> Export {
    Export {
        subject: "orders.>".into(),
        kind: Some(ExportType::Stream),
        token_req: true,
        ..Default::default()
    }
}

fn activation(
    signer: &KeyPair,
    importer: &KeyPair,
    edit: impl FnOnce(&mut ActivationClaims),
) -> String {
    let mut claims = ActivationClaims::new(importer.public_key(), "orders.>", ExportType::Stream);
    edit(&mut claims);
    encode(&claims, signer).expect("activation jwt")
}

fn import_orders(exporter: &KeyPair, token: String) -> Import {
    Import {
        subject: "orders.>".into(),
        account: exporter.public_key(),
        kind: Some(ExportType::Stream),
        token,
        ..Default::default()
    }
}

/// A user of `account` connected with a `.creds` file.
async fn login(
    op: &Operator,
    server: &Server,
    name: &str,
    account: &KeyPair,
) -> async_nats::Client {
    let (user, jwt) = op.user(account, |u| u.data.name = name.into());
    creds_client(server, &op.creds(name, &user, &jwt)).await
}

/// Publishes on `subject` until a message stops reaching `sub`, or fails
/// after `within`.
async fn stops_receiving(
    publisher: &async_nats::Client,
    sub: &mut async_nats::Subscriber,
    subject: &str,
    within: Duration,
) {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        publisher
            .publish(subject.to_string(), "probe".into())
            .await
            .unwrap();
        publisher.flush().await.unwrap();
        if tokio::time::timeout(Duration::from_millis(200), sub.next())
            .await
            .is_err()
        {
            return;
        }
    }
    panic!("{subject} still delivered after {within:?}");
}

#[tokio::test]
async fn only_importers_with_a_valid_activation_receive_a_private_stream() {
    let op = Operator::new();
    let exporter = KeyPair::new_account();
    op.write_account("EXP", &exporter, |a| a.nats.exports.push(private_orders()));
    let good = KeyPair::new_account();
    let token = activation(&exporter, &good, |_| {});
    op.write_account("GOOD", &good, |a| {
        a.nats.imports.push(import_orders(&exporter, token))
    });
    let missing = KeyPair::new_account();
    op.write_account("MISSING", &missing, |a| {
        a.nats.imports.push(import_orders(&exporter, String::new()))
    });
    let forged = KeyPair::new_account();
    let token = activation(&KeyPair::new_account(), &forged, |_| {});
    op.write_account("FORGED", &forged, |a| {
        a.nats.imports.push(import_orders(&exporter, token))
    });
    // A token made out to another account does not transfer.
    let borrowed = KeyPair::new_account();
    let token = activation(&exporter, &good, |_| {});
    op.write_account("BORROWED", &borrowed, |a| {
        a.nats.imports.push(import_orders(&exporter, token))
    });
    let server = common::start_with(op.config()).await;

    let publisher = login(&op, &server, "pub", &exporter).await;
    let mut subs = Vec::new();
    // Every account loaded: its users log in, whatever became of its import.
    for (name, account) in [
        ("good", &good),
        ("missing", &missing),
        ("forged", &forged),
        ("borrowed", &borrowed),
    ] {
        let client = login(&op, &server, name, account).await;
        let sub = client.subscribe("orders.>").await.unwrap();
        client.flush().await.unwrap();
        subs.push((client, sub));
    }
    // Four subscriptions and one shadow (GOOD's) in the exporter.
    common::eventually("subscribed", || server.subscriptions() == 5).await;
    publisher.publish("orders.1", "o1".into()).await.unwrap();
    publisher.flush().await.unwrap();
    assert_eq!(&common::next_msg(&mut subs[0].1).await.payload[..], b"o1");
    for (_, sub) in &mut subs[1..] {
        common::no_msg(sub).await;
    }

    // The exporter revokes GOOD's activation: the import stops.
    let (admin, admin_jwt) = op.user(&op.sys, |u| u.data.name = "admin".into());
    let admin = creds_client(&server, &op.creds("admin", &admin, &admin_jwt)).await;
    let revoked = op.account_jwt(&exporter, |a| {
        let mut export = private_orders();
        export.revocations.insert(good.public_key(), now());
        a.nats.exports.push(export);
    });
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", exporter.public_key());
    let reply = admin
        .request(subject, revoked.into())
        .await
        .expect("answer");
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    assert_eq!(answer["data"]["code"], 200, "{answer}");
    // Four subscriptions and the admin's reply inbox; the shadow is gone.
    common::eventually("shadow dropped", || server.subscriptions() == 5).await;
    publisher.publish("orders.2", "o2".into()).await.unwrap();
    publisher.flush().await.unwrap();
    common::no_msg(&mut subs[0].1).await;
}

#[tokio::test]
async fn an_import_stops_when_its_activation_expires() {
    let op = Operator::new();
    let exporter = KeyPair::new_account();
    op.write_account("EXP", &exporter, |a| a.nats.exports.push(private_orders()));
    let importer = KeyPair::new_account();
    let token = activation(&exporter, &importer, |a| a.data.exp = now() + 2);
    op.write_account("IMP", &importer, |a| {
        a.nats.imports.push(import_orders(&exporter, token))
    });
    let server = common::start_with(op.config()).await;
    let publisher = login(&op, &server, "pub", &exporter).await;
    let client = login(&op, &server, "sub", &importer).await;
    let mut sub = client.subscribe("orders.>").await.unwrap();
    client.flush().await.unwrap();
    common::eventually("shadowed", || server.subscriptions() == 2).await;
    publisher.publish("orders.1", "o1".into()).await.unwrap();
    publisher.flush().await.unwrap();
    assert_eq!(&common::next_msg(&mut sub).await.payload[..], b"o1");
    stops_receiving(&publisher, &mut sub, "orders.2", Duration::from_secs(8)).await;
    assert_eq!(server.subscriptions(), 1);
}

#[tokio::test]
async fn the_cli_marks_exports_private_and_issues_activations() {
    let w = Workdir::new();
    w.ok("init", &["--operator", "ours"]);
    w.ok(
        "add-account",
        &["acme", "--export-stream-private", "orders.>"],
    );
    // An importer in the same directory gets an activation embedded.
    w.ok("add-account", &["beta", "--import-stream", "acme:orders.>"]);
    let beta = w.store().load_account("beta").expect("beta").1;
    assert!(!beta.nats.imports[0].token.is_empty());
    let acme = w.store().load_account("acme").expect("acme").1;
    assert!(acme.nats.exports[0].token_req);

    // An activation for an account key from elsewhere, printed for its owner.
    let outsider = KeyPair::new_account();
    let token = w.ok(
        "add-activation",
        &[
            "--account",
            "acme",
            "--subject",
            "orders.eu",
            "--target-account",
            &outsider.public_key(),
            "--expires",
            "1h",
        ],
    );
    let decoded = switchyard::auth::jwt::decode(token.trim()).expect("valid activation");
    let act: ActivationClaims = decoded.into_claims().expect("activation claims");
    assert_eq!(act.data.sub, outsider.public_key());
    assert_eq!(act.data.iss, acme.data.sub);
    assert_eq!(act.nats.import_subject, "orders.eu");
    assert!(act.data.exp > now());
    let err = w.fails(
        "add-activation",
        &[
            "--account",
            "acme",
            "--subject",
            "billing.>",
            "--target-account",
            "beta",
        ],
    );
    assert!(err.contains("has no export covering `billing.>`"), "{err}");

    w.ok(
        "add-user",
        &["--account", "acme", "alice", "--out", "alice.creds"],
    );
    w.ok(
        "add-user",
        &["--account", "beta", "bea", "--out", "bea.creds"],
    );
    let server = common::start_with(ServerConfig {
        operator_dir: Some(w.ops()),
        ..ServerConfig::default()
    })
    .await;
    let alice = creds_client(&server, &w.path("alice.creds")).await;
    let bea = creds_client(&server, &w.path("bea.creds")).await;
    let mut orders = bea.subscribe("orders.>").await.unwrap();
    bea.flush().await.unwrap();
    common::eventually("shadowed", || server.subscriptions() == 2).await;
    alice.publish("orders.1", "o1".into()).await.unwrap();
    alice.flush().await.unwrap();
    assert_eq!(&common::next_msg(&mut orders).await.payload[..], b"o1");
}
