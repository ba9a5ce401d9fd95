//! A hostile leaf node, spoken to in raw protocol: its interest is capped
//! (`leafnodes.max_subscriptions`), malformed operations close it with
//! the nats-server error, and a client on the leaf port is told it is on
//! the wrong port.

use crate::common::{eventually, start_with};
use std::time::Duration;
use switchyard::config::LeafNodesConfig;
use switchyard::{Server, ServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn hub(max_subscriptions: usize) -> Server {
    start_with(ServerConfig {
        leafnodes: Some(LeafNodesConfig {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            max_subscriptions,
            ..LeafNodesConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await
}

/// A raw leaf connection that has read the hub's INFO.
async fn raw_leaf(server: &Server) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(server.leaf_addr().expect("leaf port"))
        .await
        .expect("connect");
    let mut rd = BufReader::new(stream);
    let mut info = String::new();
    rd.read_line(&mut info).await.expect("INFO");
    assert!(
        info.starts_with("INFO ") && info.contains("leafnode_urls"),
        "{info}"
    );
    rd
}

/// Reads lines until one contains `text`, skipping the hub's own `LS+`.
async fn read_until(rd: &mut BufReader<TcpStream>, text: &str) -> String {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut line = String::new();
            if rd.read_line(&mut line).await.expect("read") == 0 {
                return String::new();
            }
            if line.contains(text) {
                return line;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {text:?} in time"))
}

#[tokio::test]
async fn a_leaf_s_interest_is_capped() {
    let server = hub(100).await;
    let mut leaf = raw_leaf(&server).await;
    let mut flood = String::from("CONNECT {\"name\":\"hostile\"}\r\n");
    for i in 0..1_000 {
        flood.push_str(&format!("LS+ flood.{i}\r\n"));
    }
    flood.push_str("PING\r\n");
    leaf.get_mut().write_all(flood.as_bytes()).await.unwrap();
    let err = read_until(&mut leaf, "-ERR").await;
    assert_eq!(err.trim_end(), "-ERR 'maximum subscriptions exceeded'");
    read_until(&mut leaf, "PONG").await;
    // The hub holds at most the cap, whatever was sent.
    eventually("leaf interest counted", || server.subscriptions() > 0).await;
    assert!(
        server.subscriptions() <= 100,
        "{} held",
        server.subscriptions()
    );
}

#[tokio::test]
async fn malformed_leaf_operations_close_with_the_nats_server_error() {
    let server = hub(100).await;
    for (bad, expect) in [
        ("LS+ a b\r\n", None),
        ("LMSG a ? r 1\r\nx\r\n", None),
        ("XYZ\r\n", Some("-ERR 'Unknown Protocol Operation'")),
        (
            "LMSG a 99999999\r\n",
            Some("-ERR 'Maximum Payload Violation'"),
        ),
    ] {
        let mut leaf = raw_leaf(&server).await;
        let input = format!("CONNECT {{\"name\":\"hostile\"}}\r\nPING\r\n{bad}");
        leaf.get_mut().write_all(input.as_bytes()).await.unwrap();
        read_until(&mut leaf, "PONG").await;
        let mut rest = String::new();
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let mut line = String::new();
                if leaf.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                rest.push_str(&line);
            }
        })
        .await;
        assert!(end.is_ok(), "{bad:?}: connection not closed");
        if let Some(expect) = expect {
            assert!(rest.contains(expect), "{bad:?}: {rest}");
        }
    }
    eventually("hostile leaves gone", || server.leaf_count() == 0).await;
}

#[tokio::test]
async fn a_client_on_the_leaf_port_is_told_it_is_on_the_wrong_port() {
    let server = hub(100).await;
    let mut leaf = raw_leaf(&server).await;
    leaf.get_mut()
        .write_all(b"CONNECT {\"lang\":\"rust\",\"verbose\":false}\r\n")
        .await
        .unwrap();
    let err = read_until(&mut leaf, "-ERR").await;
    assert_eq!(
        err.trim_end(),
        "-ERR 'attempted to connect to leaf node port'"
    );
}
