//! Operator mode: accounts and users defined by NATS JWTs, logins with
//! `.creds`, account updates on $SYS, revocation and expiry.

use crate::common;

use common::operator::{Operator, creds_client, now, raw_login};
use nkeys::KeyPair;
use std::time::Duration;
use switchyard::auth::jwt::{AccountClaims, Export, ExportType, encode, encode_at};

#[tokio::test]
async fn creds_user_publishes_and_subscribes() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |u| u.data.name = "alice".into());
    let path = op.creds("alice", &user, &jwt);
    let client = creds_client(&server, &path).await;
    let mut sub = client.subscribe("greet.*").await.unwrap();
    client.flush().await.unwrap();
    common::eventually("subscribed", || server.subscriptions() >= 1).await;
    client.publish("greet.jwt", "hello".into()).await.unwrap();
    assert_eq!(&common::next_msg(&mut sub).await.payload[..], b"hello");
    assert_eq!(server.tenant_connections(&op.app.public_key()), 1);
}

#[tokio::test]
async fn bad_jwts_are_refused() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    // Signed by an account the operator never signed.
    let stranger = KeyPair::new_account();
    let (user, jwt) = op.user(&stranger, |_| {});
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(answer, "-ERR 'Authorization Violation'\r\n");
    // Expired.
    let (user, jwt) = op.user(&op.app, |u| u.data.exp = now() - 10);
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(answer, "-ERR 'Authorization Violation'\r\n");
    // Right JWT, nonce signed by someone else.
    let (_, jwt) = op.user(&op.app, |_| {});
    let (_, answer) = raw_login(&server, &KeyPair::new_user(), &jwt).await;
    assert_eq!(answer, "-ERR 'Authorization Violation'\r\n");
    // JWT permissions are enforced.
    let (user, jwt) = op.user(&op.app, |u| {
        u.nats.limits.permissions.publish.deny = vec!["secret.>".into()]
    });
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, _) = raw.exchange(b"PUB secret.x 1\r\nx\r\nPING\r\n").await;
    assert_eq!(
        answer,
        "-ERR 'Permissions Violation for Publish to \"secret.x\"'\r\nPONG\r\n"
    );
}

#[tokio::test]
async fn expiring_jwt_disconnects_with_the_nats_error() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |u| u.data.exp = now() + 2);
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (rest, closed) = raw.read_for(Duration::from_secs(5)).await;
    assert!(
        String::from_utf8_lossy(&rest).ends_with("-ERR 'User Authentication Expired'\r\n"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(closed);
}

#[tokio::test]
async fn claims_update_revokes_a_live_user() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |_| {});
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");

    let (admin, admin_jwt) = op.user(&op.sys, |u| u.data.name = "admin".into());
    let admin = creds_client(&server, &op.creds("admin", &admin, &admin_jwt)).await;
    let revoked = op.account_jwt(&op.app, |a| {
        a.nats.revocations.insert(user.public_key(), now() + 1);
    });
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", op.app.public_key());
    let reply = admin
        .request(subject, revoked.into())
        .await
        .expect("answer");
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    assert_eq!(answer["data"]["code"], 200, "{answer}");
    assert_eq!(answer["data"]["account"], op.app.public_key());

    let (rest, closed) = raw.read_for(Duration::from_secs(3)).await;
    assert!(
        String::from_utf8_lossy(&rest).contains("-ERR 'User Authentication Revoked'\r\n"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(closed);

    // An update not signed by the operator is refused.
    let forged = encode(
        &AccountClaims::new(op.app.public_key()),
        &KeyPair::new_operator(),
    )
    .expect("jwt");
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", op.app.public_key());
    let reply = admin.request(subject, forged.into()).await.expect("answer");
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    assert!(
        answer["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("not the trusted operator")),
        "{answer}"
    );
}

#[tokio::test]
async fn claims_lookup_answers_with_the_account_jwt() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (admin, admin_jwt) = op.user(&op.sys, |u| u.data.name = "admin".into());
    let admin = creds_client(&server, &op.creds("admin", &admin, &admin_jwt)).await;
    let lookup = |id: String| {
        let admin = admin.clone();
        async move {
            let subject = format!("$SYS.REQ.ACCOUNT.{id}.CLAIMS.LOOKUP");
            let reply = admin.request(subject, "".into()).await.expect("answer");
            String::from_utf8(reply.payload.to_vec()).expect("utf8")
        }
    };
    let on_disk = std::fs::read_to_string(op.dir.path().join("accounts/APP/account.jwt"))
        .expect("account jwt");
    // The JWT itself, as nats-server's resolver answers.
    assert_eq!(lookup(op.app.public_key()).await, on_disk);
    // Unknown accounts get an empty answer.
    assert_eq!(lookup(KeyPair::new_account().public_key()).await, "");

    // After an update, the new JWT.
    let updated = op.account_jwt(&op.app, |a| a.nats.limits.conn = 7);
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", op.app.public_key());
    admin
        .request(subject, updated.clone().into())
        .await
        .expect("answer");
    assert_eq!(lookup(op.app.public_key()).await, updated);

    // Only the system account is answered: elsewhere it is an ordinary
    // subject with no responders.
    let (user, jwt) = op.user(&op.app, |_| {});
    let app = creds_client(&server, &op.creds("app", &user, &jwt)).await;
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.LOOKUP", op.app.public_key());
    assert!(app.request(subject, "".into()).await.is_err());
}

/// Sends `token` as a claims update for APP and returns the JSON answer.
async fn update_app(admin: &async_nats::Client, op: &Operator, token: String) -> serde_json::Value {
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", op.app.public_key());
    let reply = admin.request(subject, token.into()).await.expect("answer");
    serde_json::from_slice(&reply.payload).expect("json")
}

#[tokio::test]
async fn claims_update_refuses_a_replayed_older_jwt_and_writes_nothing_unchecked() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (admin, admin_jwt) = op.user(&op.sys, |u| u.data.name = "admin".into());
    let admin = creds_client(&server, &op.creds("admin", &admin, &admin_jwt)).await;
    let stored = op.dir.path().join("accounts/APP/account.jwt");
    let in_force = std::fs::read_to_string(&stored).expect("account jwt");

    // A JWT the operator really signed, an hour before the one in force:
    // replaying it would undo whatever the later one changed.
    let mut claims = AccountClaims::new(op.app.public_key());
    claims.nats.limits.conn = 7;
    let older = encode_at(&claims, &op.operator, now() - 3600).expect("jwt");
    let answer = update_app(&admin, &op, older).await;
    assert_eq!(answer["error"]["code"], 400, "{answer}");
    let description = answer["error"]["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("jwt update resulted in error - JWT issued at")
            && description.contains("older than the one in force"),
        "{answer}"
    );
    assert_eq!(std::fs::read_to_string(&stored).expect("read"), in_force);

    // Signed and newer, but the tenancy it makes is invalid (an export of
    // an invalid subject): refused before anything is written.
    let mut claims = AccountClaims::new(op.app.public_key());
    claims.nats.exports = vec![Export {
        subject: "orders..eu".into(),
        kind: Some(ExportType::Stream),
        ..Default::default()
    }];
    let invalid = encode(&claims, &op.operator).expect("jwt");
    let answer = update_app(&admin, &op, invalid).await;
    assert_eq!(answer["error"]["code"], 400, "{answer}");
    assert!(
        answer["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("`orders..eu` is not a valid subject")),
        "{answer}"
    );
    assert_eq!(std::fs::read_to_string(&stored).expect("read"), in_force);

    // A newer valid one is stored and applied.
    let newer = op.account_jwt(&op.app, |a| a.nats.limits.conn = 7);
    let answer = update_app(&admin, &op, newer.clone()).await;
    assert_eq!(answer["data"]["code"], 200, "{answer}");
    assert_eq!(std::fs::read_to_string(&stored).expect("read"), newer);
}
