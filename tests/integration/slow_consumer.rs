//! A subscriber that stops reading is cut off; healthy ones keep receiving.

use crate::common;

use futures::StreamExt;
use std::time::Duration;
use switchyard::ServerConfig;

#[tokio::test]
async fn stalled_subscriber_is_cut_off_while_healthy_one_keeps_receiving() {
    let config = ServerConfig {
        max_pending: 1024 * 1024,
        max_payload: 64 * 1024,
        ..Default::default()
    };
    let server = common::start_with(config).await;

    // The stalled subscriber subscribes, then never reads again.
    let mut stalled = common::Raw::connect(&server).await;
    let (answer, _) = stalled
        .exchange(b"CONNECT {\"verbose\":false}\r\nSUB firehose 1\r\nPING\r\n")
        .await;
    assert_eq!(answer, "PONG\r\n");
    // 64 MiB is far more than the socket buffers plus max_pending can hold
    // for the stalled subscriber, while the healthy one reads as it arrives.
    let healthy = common::client(&server).await;
    let mut healthy_sub = healthy.subscribe("firehose").await.unwrap();
    healthy.flush().await.unwrap();

    let publisher = common::client(&server).await;
    let payload = bytes::Bytes::from(vec![b'x'; 32 * 1024]);
    const N: usize = 2000; // 64 MiB in total
    let reader = tokio::spawn(async move {
        let mut got = 0usize;
        while got < N {
            match tokio::time::timeout(Duration::from_secs(10), healthy_sub.next()).await {
                Ok(Some(_)) => got += 1,
                _ => break,
            }
        }
        got
    });
    for _ in 0..N {
        publisher
            .publish("firehose", payload.clone())
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();

    assert_eq!(
        reader.await.unwrap(),
        N,
        "the healthy subscriber got every message"
    );
    common::eventually("slow consumer counted", || {
        server.stats().slow_consumers == 1
    })
    .await;
    // On its way to max_pending the stalled subscriber's buffer passed its
    // high-water mark (3/4 of it, crossed in 32 KiB steps), which pauses
    // the publisher: /varz `stalled_clients`.
    assert!(
        server.stats().stalled_clients >= 1,
        "the publisher was paused"
    );
    // The stalled connection is closed by the server: draining it ends in EOF.
    let mut closed = false;
    for _ in 0..50 {
        let (_, eof) = stalled.read_for(Duration::from_millis(200)).await;
        if eof {
            closed = true;
            break;
        }
    }
    assert!(closed, "stalled subscriber was disconnected");
    common::eventually("slow consumer counted for its tenant", || {
        server
            .observer()
            .accounts()
            .iter()
            .any(|a| &*a.name == "$G" && a.slow_consumers == 1)
    })
    .await;
    assert_eq!(
        server.connections(),
        2,
        "publisher and healthy subscriber remain"
    );
}
