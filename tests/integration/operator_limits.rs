//! Account and user limits from JWTs, in operator mode: connections,
//! subscriptions and payload at run time with nats-server's errors; the
//! number of imports and exports and wildcard exports when the account
//! JWT is loaded.

use crate::common;

use common::operator::{Operator, creds_client, raw_login};
use std::time::Duration;
use switchyard::auth::jwt::{AccountClaims, Export, ExportType, Import};
use switchyard::{Server, ServerConfig};

#[tokio::test]
async fn account_connection_limit() {
    let op = Operator::new();
    op.write_account("APP", &op.app, |a| a.nats.limits.conn = 1);
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |_| {});
    let first = creds_client(&server, &op.creds("first", &user, &jwt)).await;
    first.flush().await.unwrap();
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(
        answer,
        "-ERR 'maximum account active connections exceeded'\r\n"
    );
}

#[tokio::test]
async fn account_and_user_subscription_limits() {
    let op = Operator::new();
    op.write_account("APP", &op.app, |a| a.nats.limits.subs = 2);
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |_| {});
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, closed) = raw
        .exchange(b"SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")
        .await;
    assert_eq!(answer, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
    assert!(!closed, "the connection stays open, as in nats-server");

    // A user's own, smaller limit applies.
    let (user, jwt) = op.user(&op.app, |u| u.nats.limits.subs = 1);
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, _) = raw.exchange(b"SUB a 1\r\nSUB b 2\r\nPING\r\n").await;
    assert_eq!(answer, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
}

#[tokio::test]
async fn account_and_user_payload_limits() {
    let op = Operator::new();
    op.write_account("APP", &op.app, |a| a.nats.limits.payload = 16);
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |_| {});
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, _) = raw
        .exchange(b"PUB a 16\r\n0123456789abcdef\r\nPING\r\n")
        .await;
    assert_eq!(answer, "PONG\r\n");
    let (answer, closed) = raw.exchange(b"PUB a 17\r\n0123456789abcdefg\r\n").await;
    assert_eq!(answer, "-ERR 'Maximum Payload Violation'\r\n");
    assert!(closed);

    let (user, jwt) = op.user(&op.app, |u| u.nats.limits.payload = 8);
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, closed) = raw.exchange(b"PUB a 9\r\n012345678\r\n").await;
    assert_eq!(answer, "-ERR 'Maximum Payload Violation'\r\n");
    assert!(closed);
}

/// nats-server takes a JWT limit of 0 literally: none allowed (-1 is
/// unlimited). An account with `conn` 0 refuses every login, a user with
/// `subs` 0 is told and closed at once, and `payload` 0 admits only empty
/// messages.
#[tokio::test]
async fn jwt_limits_of_zero_allow_none() {
    let op = Operator::new();
    op.write_account("APP", &op.app, |a| a.nats.limits.conn = 0);
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |_| {});
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(
        answer,
        "-ERR 'maximum account active connections exceeded'\r\n"
    );
    drop(server);

    op.write_account("APP", &op.app, |a| a.nats.limits.payload = 0);
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |u| u.nats.limits.subs = 0);
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(answer, "-ERR 'maximum subscriptions exceeded'\r\n");
    let (rest, closed) = raw.read_for(Duration::from_secs(2)).await;
    assert!(
        closed && rest.is_empty(),
        "still open, or then sent {rest:?}"
    );

    let (user, jwt) = op.user(&op.app, |_| {});
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, _) = raw.exchange(b"SUB a 1\r\nPUB a 0\r\n\r\nPING\r\n").await;
    assert_eq!(answer, "MSG a 1 0\r\n\r\nPONG\r\n");
    let (answer, closed) = raw.exchange(b"PUB a 1\r\nx\r\n").await;
    assert_eq!(answer, "-ERR 'Maximum Payload Violation'\r\n");
    assert!(closed);
}

/// A claims update that lowers the subscription limit below what a live
/// connection holds ends that connection with nats-server's error; one
/// within the new limit stays.
#[tokio::test]
async fn lowered_subscription_limit_closes_connections_over_it() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (user, jwt) = op.user(&op.app, |_| {});
    let (mut many, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, _) = many
        .exchange(b"SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")
        .await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (mut few, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (answer, _) = few.exchange(b"SUB a 1\r\nPING\r\n").await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");

    let (admin, admin_jwt) = op.user(&op.sys, |_| {});
    let admin = creds_client(&server, &op.creds("admin", &admin, &admin_jwt)).await;
    let token = op.account_jwt(&op.app, |a| a.nats.limits.subs = 2);
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", op.app.public_key());
    let reply = admin.request(subject, token.into()).await.expect("answer");
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    assert_eq!(answer["data"]["code"], 200, "{answer}");

    let (answer, closed) = many.read_for(Duration::from_secs(2)).await;
    assert_eq!(answer, b"-ERR 'maximum subscriptions exceeded'\r\n");
    assert!(closed);
    let (answer, closed) = few.exchange(b"PING\r\n").await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    assert!(!closed);
}

async fn start_error(op: &Operator) -> String {
    match Server::start(ServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        ..op.config()
    })
    .await
    {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

fn export(subject: &str) -> Export {
    Export {
        subject: subject.into(),
        kind: Some(ExportType::Stream),
        ..Default::default()
    }
}

#[tokio::test]
async fn import_export_and_wildcard_limits_refuse_the_account_jwt() {
    let op = Operator::new();
    op.write_account("APP", &op.app, |a| {
        a.nats.limits.exports = 1;
        a.nats.exports = vec![export("a"), export("b")];
    });
    let err = start_error(&op).await;
    assert!(
        err.contains(
            "APP/account.jwt: the account contains more exports than allowed by the operator"
        ),
        "{err}"
    );

    op.write_account("APP", &op.app, |a| {
        a.nats.limits.exports = 5;
        a.nats.limits.wildcard_exports = false;
        a.nats.exports = vec![export("orders.>")];
    });
    let err = start_error(&op).await;
    assert!(
        err.contains("the account contains wildcard exports that are not allowed by the operator"),
        "{err}"
    );

    op.write_account("APP", &op.app, |a| {
        a.nats.limits.imports = 0;
        a.nats.imports = vec![Import {
            subject: "x".into(),
            account: op.sys.public_key(),
            kind: Some(ExportType::Stream),
            ..Default::default()
        }];
    });
    let err = start_error(&op).await;
    assert!(
        err.contains("the account contains more imports than allowed by the operator"),
        "{err}"
    );

    // Within the limits it loads, and a claims update past them is refused.
    op.write_account("APP", &op.app, |a| {
        a.nats.limits.exports = 1;
        a.nats.limits.wildcard_exports = false;
        a.nats.exports = vec![export("orders.eu")];
    });
    let server = common::start_with(op.config()).await;
    let (admin, admin_jwt) = op.user(&op.sys, |_| {});
    let admin = creds_client(&server, &op.creds("admin", &admin, &admin_jwt)).await;
    let mut too_many = AccountClaims::new(op.app.public_key());
    too_many.nats.limits.exports = 1;
    too_many.nats.exports = vec![export("a"), export("b")];
    let token = switchyard::auth::jwt::encode(&too_many, &op.operator).expect("jwt");
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", op.app.public_key());
    let reply = admin.request(subject, token.into()).await.expect("answer");
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    assert_eq!(answer["error"]["code"], 400, "{answer}");
    assert!(
        answer["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("more exports than allowed")),
        "{answer}"
    );
}
