//! Lame-duck mode: clients are told with an INFO carrying `"ldm":true`,
//! no new client is accepted, and after the grace period the existing
//! clients are closed, spread over the lame-duck duration.

use crate::common;

use async_nats::Event;
use std::time::Duration;
use switchyard::{Server, ServerConfig};
use tokio::sync::mpsc;
use tokio::time::Instant;

const GRACE: Duration = Duration::from_millis(800);

async fn watched_client(server: &Server) -> (async_nats::Client, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .connect(server.client_url())
        .await
        .expect("client connects");
    (client, rx)
}

/// Waits for an event matching `want`, skipping others; fails after 10 s.
async fn wait_for(events: &mut mpsc::UnboundedReceiver<Event>, want: fn(&Event) -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.recv().await {
            if want(&event) {
                return;
            }
        }
        panic!("event stream ended");
    })
    .await
    .expect("event in time");
}

#[tokio::test]
async fn lame_duck_announces_then_closes_every_client() {
    let server = common::start_with(ServerConfig {
        lame_duck_grace_period: GRACE,
        lame_duck_duration: GRACE * 2,
        ..ServerConfig::default()
    })
    .await;
    let (a, mut a_events) = watched_client(&server).await;
    let (b, mut b_events) = watched_client(&server).await;
    a.flush().await.expect("flush");
    b.flush().await.expect("flush");
    assert_eq!(server.connections(), 2);

    let started = Instant::now();
    let observe = async {
        wait_for(&mut a_events, |e| matches!(e, Event::LameDuckMode)).await;
        wait_for(&mut b_events, |e| matches!(e, Event::LameDuckMode)).await;
        // Told, not yet closed, and the listener is gone.
        assert!(
            started.elapsed() < GRACE,
            "ldm INFO sent before the grace period"
        );
        assert_eq!(
            server.connections(),
            2,
            "clients stay during the grace period"
        );
        let refused = tokio::net::TcpStream::connect(server.local_addr()).await;
        assert!(refused.is_err(), "no new connections in lame-duck mode");

        wait_for(&mut a_events, |e| matches!(e, Event::Disconnected)).await;
        wait_for(&mut b_events, |e| matches!(e, Event::Disconnected)).await;
    };
    tokio::join!(server.lame_duck(), observe);
    assert!(
        started.elapsed() >= GRACE,
        "closing waits for the grace period"
    );
    assert_eq!(server.connections(), 0);
    assert_eq!(server.stats().total_connections, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn lame_duck_info_carries_ldm_for_protocol_1_clients() {
    let server = common::start_with(ServerConfig {
        lame_duck_grace_period: Duration::from_millis(300),
        lame_duck_duration: Duration::from_millis(600),
        ..ServerConfig::default()
    })
    .await;
    let mut raw = common::Raw::connect(&server).await;
    raw.send(b"CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n")
        .await;
    let (pong, _) = raw.read_for(Duration::from_millis(300)).await;
    assert!(String::from_utf8_lossy(&pong).starts_with("PONG\r\n"));
    let mut old = common::Raw::connect(&server).await;
    old.send(b"CONNECT {\"verbose\":false,\"protocol\":0}\r\nPING\r\n")
        .await;
    let _ = old.read_for(Duration::from_millis(300)).await;

    let read_both = async {
        let new = raw.read_for(Duration::from_secs(5)).await;
        let old = old.read_for(Duration::from_secs(5)).await;
        (new, old)
    };
    let (_, ((new_bytes, new_closed), (old_bytes, old_closed))) =
        tokio::join!(server.lame_duck(), read_both);
    let text = String::from_utf8_lossy(&new_bytes);
    assert!(
        text.starts_with("INFO {") && text.contains(r#""ldm":true"#),
        "{text}"
    );
    assert!(new_closed && old_closed, "both closed");
    assert!(old_bytes.is_empty(), "protocol 0 clients get no async INFO");
    server.shutdown().await;
}

#[test]
fn grace_period_must_be_shorter_than_duration() {
    let config = ServerConfig {
        lame_duck_grace_period: Duration::from_secs(10),
        lame_duck_duration: Duration::from_secs(5),
        ..ServerConfig::default()
    };
    let errs = config.validate().expect_err("rejected");
    assert!(errs[0].contains("lame_duck_grace_period"), "{errs:?}");
}
