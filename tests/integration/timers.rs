//! Time- and limit-driven behaviour: authentication (and its timeout),
//! server pings and stale connections, the connection limit, and draining
//! on graceful shutdown.

use crate::common;

use common::Raw;
use futures::StreamExt;
use std::time::{Duration, Instant};
use switchyard::ServerConfig;
use switchyard::config::Authorization;

const WAIT: Duration = Duration::from_secs(5);

fn token_config() -> ServerConfig {
    ServerConfig {
        authorization: Some(Authorization {
            token: Some("s3cret".into()),
            ..Default::default()
        }),
        auth_timeout: Duration::from_millis(200),
        ..Default::default()
    }
}

fn user_config() -> ServerConfig {
    ServerConfig {
        authorization: Some(Authorization {
            user: Some("alice".into()),
            password: Some("wonderland".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Publishes through `client` to itself and checks the message arrives.
async fn round_trip(client: &async_nats::Client) {
    let mut sub = client.subscribe("auth.check").await.unwrap();
    client.flush().await.unwrap();
    client
        .publish("auth.check", "payload".into())
        .await
        .unwrap();
    let msg = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("message in time")
        .expect("subscription open");
    assert_eq!(msg.subject.as_str(), "auth.check");
    assert_eq!(&msg.payload[..], b"payload");
}

// ---- authentication ---------------------------------------------------------

#[tokio::test]
async fn client_that_never_connects_times_out() {
    let server = common::start_with(token_config()).await;
    let started = Instant::now();
    let mut raw = Raw::connect(&server).await;
    assert!(raw.info.contains("\"auth_required\":true"), "{}", raw.info);
    let (got, closed) = raw.read_for(WAIT).await;
    let elapsed = started.elapsed();
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR 'Authentication Timeout'\r\n"
    );
    assert!(closed, "connection should be closed after the timeout");
    assert!(
        elapsed >= Duration::from_millis(180),
        "timed out too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "timed out too late: {elapsed:?}"
    );
}

#[tokio::test]
async fn wrong_token_is_an_authorization_violation() {
    let server = common::start_with(token_config()).await;
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw
        .exchange(b"CONNECT {\"verbose\":false,\"auth_token\":\"guess\"}\r\nPING\r\n")
        .await;
    assert_eq!(got, "-ERR 'Authorization Violation'\r\n");
    assert!(closed, "connection should be closed");
}

#[tokio::test]
async fn missing_token_is_an_authorization_violation() {
    let server = common::start_with(token_config()).await;
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw
        .exchange(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .await;
    assert_eq!(got, "-ERR 'Authorization Violation'\r\n");
    assert!(closed, "connection should be closed");
}

#[tokio::test]
async fn right_token_connects_and_messages_flow() {
    let server = common::start_with(token_config()).await;
    let client = tokio::time::timeout(
        WAIT,
        async_nats::ConnectOptions::with_token("s3cret".into()).connect(server.client_url()),
    )
    .await
    .expect("connect in time")
    .expect("token accepted");
    round_trip(&client).await;
    // Well past the auth timeout, the authenticated client is still served.
    tokio::time::sleep(Duration::from_millis(300)).await;
    round_trip(&client).await;
}

#[tokio::test]
async fn right_token_raw_connect_is_accepted() {
    let server = common::start_with(token_config()).await;
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw
        .exchange(b"CONNECT {\"verbose\":false,\"auth_token\":\"s3cret\"}\r\nPING\r\n")
        .await;
    assert_eq!(got, "PONG\r\n");
    assert!(!closed);
}

#[tokio::test]
async fn operation_before_connect_with_auth_is_a_violation() {
    let server = common::start_with(token_config()).await;
    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw.exchange(b"PING\r\n").await;
    assert_eq!(got, "-ERR 'Authorization Violation'\r\n");
    assert!(closed, "connection should be closed");
}

#[tokio::test]
async fn user_and_password_connects_and_messages_flow() {
    let server = common::start_with(user_config()).await;
    let client = tokio::time::timeout(
        WAIT,
        async_nats::ConnectOptions::with_user_and_password("alice".into(), "wonderland".into())
            .connect(server.client_url()),
    )
    .await
    .expect("connect in time")
    .expect("credentials accepted");
    round_trip(&client).await;
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let server = common::start_with(user_config()).await;
    let result = tokio::time::timeout(
        WAIT,
        async_nats::ConnectOptions::with_user_and_password("alice".into(), "guess".into())
            .connect(server.client_url()),
    )
    .await
    .expect("connect attempt finishes in time");
    assert!(result.is_err(), "wrong password was accepted");

    let mut raw = Raw::connect(&server).await;
    let (got, closed) = raw
        .exchange(b"CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"guess\"}\r\nPING\r\n")
        .await;
    assert_eq!(got, "-ERR 'Authorization Violation'\r\n");
    assert!(closed, "connection should be closed");
}

// ---- server pings -----------------------------------------------------------

fn ping_config() -> ServerConfig {
    ServerConfig {
        ping_interval: Duration::from_millis(100),
        ping_max: 2,
        ..Default::default()
    }
}

#[tokio::test]
async fn unanswered_pings_close_the_connection_as_stale() {
    let server = common::start_with(ping_config()).await;
    let mut raw = Raw::connect(&server).await;
    raw.send(b"CONNECT {\"verbose\":false}\r\n").await;
    let (got, closed) = raw.read_for(WAIT).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n"
    );
    assert!(closed, "stale connection should be closed");
    // Counted once, for /varz `stale_connections`.
    common::eventually("stale connection counted", || {
        server.stats().stale_connections == 1
    })
    .await;
}

#[tokio::test]
async fn answered_pings_keep_the_connection_open() {
    let server = common::start_with(ping_config()).await;
    let mut raw = Raw::connect(&server).await;
    raw.send(b"CONNECT {\"verbose\":false}\r\n").await;
    let mut pings = 0;
    let mut pending = Vec::new();
    let until = Instant::now() + Duration::from_millis(700);
    while Instant::now() < until {
        let (got, closed) = raw.read_for(Duration::from_millis(20)).await;
        assert!(!closed, "closed after {pings} answered pings");
        pending.extend_from_slice(&got);
        while let Some(rest) = pending.strip_prefix(b"PING\r\n") {
            pending = rest.to_vec();
            pings += 1;
            raw.send(b"PONG\r\n").await;
        }
        assert!(
            b"PING\r\n".starts_with(&pending),
            "unexpected bytes: {:?}",
            String::from_utf8_lossy(&pending)
        );
    }
    assert!(pings >= 3, "only {pings} pings in 700 ms");
    // Still served: our own PING gets a PONG (server PINGs may interleave).
    raw.send(b"PING\r\n").await;
    let (got, closed) = raw.read_for(Duration::from_millis(150)).await;
    let got = String::from_utf8_lossy(&got);
    assert!(!closed, "closed; got {got:?}");
    assert!(got.contains("PONG\r\n"), "no PONG in {got:?}");
    assert!(!got.contains("-ERR"), "error in {got:?}");
}

// ---- connection limit -------------------------------------------------------

#[tokio::test]
async fn connection_over_the_limit_is_refused() {
    let server = common::start_with(ServerConfig {
        max_connections: 1,
        ..Default::default()
    })
    .await;
    let mut first = Raw::connect(&server).await;
    let (got, closed) = first
        .exchange(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .await;
    assert_eq!((got.as_str(), closed), ("PONG\r\n", false));

    let mut second = Raw::connect(&server).await;
    assert!(second.info.starts_with("INFO {"), "{:?}", second.info);
    let (got, closed) = second.read_for(WAIT).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR 'maximum connections exceeded'\r\n"
    );
    assert!(closed, "second connection should be closed");

    // The first connection is unaffected.
    let (got, closed) = first.exchange(b"PING\r\n").await;
    assert_eq!((got.as_str(), closed), ("PONG\r\n", false));

    // Once it leaves, there is room again.
    drop(first);
    drop(second);
    common::eventually("connections to close", || server.connections() == 0).await;
    let mut third = Raw::connect(&server).await;
    let (got, closed) = third
        .exchange(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .await;
    assert_eq!((got.as_str(), closed), ("PONG\r\n", false));
}

// ---- graceful shutdown ------------------------------------------------------

#[tokio::test]
async fn shutdown_delivers_queued_messages_before_closing() {
    const COUNT: usize = 500;
    let server = common::start().await;
    let mut sub = Raw::connect(&server).await;
    let (got, _) = sub
        .exchange(b"CONNECT {\"verbose\":false}\r\nSUB drain 1\r\nPING\r\n")
        .await;
    assert_eq!(got, "PONG\r\n");

    let mut publisher = Raw::connect(&server).await;
    let payload = "x".repeat(1000);
    let mut batch = String::from("CONNECT {\"verbose\":false}\r\n");
    for i in 0..COUNT {
        let body = format!("{i:04}{payload}");
        batch.push_str(&format!("PUB drain {}\r\n{body}\r\n", body.len()));
    }
    batch.push_str("PING\r\n");
    publisher.send(batch.as_bytes()).await;
    // The PONG proves the server has taken every PUB off the wire.
    let mut pong = Vec::new();
    while !pong.ends_with(b"PONG\r\n") {
        let (got, closed) = publisher.read_for(Duration::from_millis(50)).await;
        pong.extend_from_slice(&got);
        assert!(
            !closed,
            "publisher closed: {:?}",
            String::from_utf8_lossy(&pong)
        );
    }
    assert_eq!(pong, b"PONG\r\n");

    let reader = tokio::spawn(async move { sub.read_for(Duration::from_secs(10)).await });
    server.shutdown().await;
    let (got, closed) = reader.await.unwrap();
    assert!(closed, "subscriber should see EOF after shutdown");

    let mut want = String::new();
    for i in 0..COUNT {
        let body = format!("{i:04}{payload}");
        want.push_str(&format!("MSG drain 1 {}\r\n{body}\r\n", body.len()));
    }
    let got = String::from_utf8_lossy(&got);
    assert_eq!(
        got.matches("MSG drain 1 ").count(),
        COUNT,
        "messages delivered before EOF"
    );
    assert!(
        got == want,
        "delivered bytes differ from what was published"
    );
}

/// Durations that overflow the clock when a timer is armed with them
/// (`Instant::now() + ping_interval` panicked in the connection's task on
/// the first connection) are configuration errors naming the key, and the
/// server does not start.
#[tokio::test]
async fn absurd_durations_are_config_errors_naming_the_key() {
    let huge = Duration::from_secs(u64::MAX / 2);
    let cases: [(&str, ServerConfig); 4] = [
        (
            "ping_interval",
            ServerConfig {
                ping_interval: huge,
                ..Default::default()
            },
        ),
        (
            "auth_timeout",
            ServerConfig {
                auth_timeout: huge,
                ..token_config()
            },
        ),
        (
            "write_deadline",
            ServerConfig {
                write_deadline: huge,
                ..Default::default()
            },
        ),
        (
            "lame_duck_duration",
            ServerConfig {
                lame_duck_duration: huge,
                ..Default::default()
            },
        ),
    ];
    for (key, config) in cases {
        match common::try_start_with(config).await {
            Ok(_) => panic!("{key}: the server started"),
            Err(e) => assert!(
                e.to_string()
                    .contains(&format!("{key}: must be at most 365 days")),
                "{key}: {e}"
            ),
        }
    }
    // The same value written in a file is refused while parsing.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("switchyard.toml");
    std::fs::write(&path, "ping_interval = \"99999999999999999999999s\"\n").expect("write");
    let err = ServerConfig::load(&path).expect_err("refused").to_string();
    assert!(
        err.contains("ping_interval") && err.contains("invalid duration"),
        "{err}"
    );
}
