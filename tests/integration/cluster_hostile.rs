//! A route port facing a hostile peer: a client on the wrong port, the
//! wrong cluster or credentials, a flood of interest past
//! `cluster.max_subscriptions`, and malformed operations. Each gets
//! nats-server's answer and the server carries on.

use crate::cluster::clustered;
use crate::common::{eventually, start_with};
use std::time::Duration;
use switchyard::config::ClusterConfig;
use switchyard::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connects to `server`'s route port, sends `lines`, and returns what
/// comes back until the server closes or `wait` passes, and whether it
/// closed.
async fn exchange(server: &Server, lines: &[u8], wait: Duration) -> (String, bool) {
    let addr = server.route_addr().expect("route port");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(lines).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let until = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into(), false),
        }
    }
}

const HELLO: &str = "CONNECT {\"name\":\"NPEER\",\"cluster\":\"c1\",\"headers\":true}\r\nINFO {\"server_id\":\"NPEER\",\"server_name\":\"peer\",\"cluster\":\"c1\",\"headers\":true}\r\n";

#[tokio::test]
async fn wrong_port_cluster_and_credentials_are_refused_with_nats_errors() {
    let config = ServerConfig {
        cluster: Some(ClusterConfig {
            user: Some("ruser".into()),
            password: Some("rpass".into()),
            ..ClusterConfig::default()
        }),
        ..ServerConfig::default()
    };
    let server = start_with(clustered(config, &[])).await;
    let wait = Duration::from_secs(3);
    let (said, closed) = exchange(&server, b"CONNECT {\"lang\":\"rust\"}\r\n", wait).await;
    assert!(
        said.contains("-ERR 'attempted to connect to route port'") && closed,
        "{said}"
    );
    let (said, closed) = exchange(
        &server,
        b"CONNECT {\"name\":\"N\",\"cluster\":\"other\",\"user\":\"ruser\",\"pass\":\"rpass\"}\r\n",
        wait,
    )
    .await;
    assert!(
        said.contains("-ERR 'Rejecting connection, cluster name \"other\" does not match \"c1\"'")
            && closed,
        "{said}"
    );
    let (said, closed) = exchange(&server, HELLO.as_bytes(), wait).await;
    assert!(
        said.contains("-ERR 'Authorization Violation'") && closed,
        "{said}"
    );
    let (said, closed) = exchange(&server, b"INFO {\"server_id\":\"N\"}\r\n", wait).await;
    assert!(
        said.contains("-ERR 'Authorization Violation'") && closed,
        "{said}"
    );
    assert_eq!(server.route_count(), 0);
}

#[tokio::test]
async fn a_flood_of_interest_stops_at_max_subscriptions() {
    let config = ServerConfig {
        cluster: Some(ClusterConfig {
            max_subscriptions: 50,
            ..ClusterConfig::default()
        }),
        ..ServerConfig::default()
    };
    let server = start_with(clustered(config, &[])).await;
    let mut lines = HELLO.to_string();
    for i in 0..5_000 {
        lines.push_str(&format!("RS+ $G flood.{i}\r\n"));
    }
    lines.push_str("PING\r\n");
    let addr = server.route_addr().expect("route port");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(lines.as_bytes()).await.expect("write");
    // The PONG comes after every RS+ was read.
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !String::from_utf8_lossy(&got).contains("PONG") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("answer")
            .expect("read");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(server.route_count(), 1);
    assert_eq!(server.subscriptions(), 50, "interest capped");
}

#[tokio::test]
async fn malformed_route_operations_close_the_route_and_nothing_else() {
    let server = start_with(clustered(ServerConfig::default(), &[])).await;
    let wait = Duration::from_secs(3);
    for bad in [
        "RS+\r\n",
        "RS+ $G a b c d\r\n",
        "RMSG $G subj notanumber\r\nxx\r\n",
        "RMSG $G subj 2\r\nxxxx\r\n",
        "LS+ $G foo\r\n",
        "RMSG $G subj + r 1\r\nx\r\n",
    ] {
        let input = format!("{HELLO}{bad}");
        let (_, closed) = exchange(&server, input.as_bytes(), wait).await;
        assert!(closed, "{bad:?} closed the route");
        eventually("route gone", || server.route_count() == 0).await;
    }
    // Messages for accounts that do not exist are dropped.
    let input = format!("{HELLO}RMSG NOPE subj 1\r\nx\r\nPING\r\n");
    let (said, closed) = exchange(&server, input.as_bytes(), Duration::from_millis(500)).await;
    assert!(said.contains("PONG") && !closed, "{said}");
    let client = crate::common::client(&server).await;
    client
        .flush()
        .await
        .expect("the server still serves clients");
}

#[tokio::test]
async fn half_open_route_handshakes_count_against_max_connections() {
    let config = ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    };
    let server = start_with(clustered(config, &[])).await;
    let addr = server.route_addr().expect("route port");
    // Two peers that connect and say nothing hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("INFO in time")
            .expect("read");
        assert!(buf[..n].starts_with(b"INFO "), "a place gets INFO");
        held.push(s);
    }
    // A third is closed without a word.
    let (said, closed) = exchange(&server, b"", Duration::from_secs(5)).await;
    assert!(said.is_empty() && closed, "{said}");
    drop(held);
}
