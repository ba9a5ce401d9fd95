//! Large payloads (issue 17): a message of exactly `max_payload` bytes that
//! reaches the broker in many small pieces arrives intact at every
//! subscriber, and a subscriber that stops reading large messages is still
//! cut off at `max_pending` while the others keep receiving.

use crate::common;

use std::time::Duration;
use switchyard::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A payload whose every byte depends on its position, with CR LF pairs and
/// protocol keywords inside, so that a byte lost, repeated or taken for
/// framing shows up in a byte-for-byte comparison.
fn pattern(len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect();
    for (at, marker) in [
        (0, &b"\r\n"[..]),
        (len / 3, b"\r\nPUB x 1\r\n"),
        (len - 2, b"\r\n"),
    ] {
        p[at..at + marker.len()].copy_from_slice(marker);
    }
    p
}

/// Reads from a raw connection until `want` appears; the server's reply to
/// a PING is the event the tests synchronise on, never a pause.
async fn read_until(stream: &mut TcpStream, want: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want) {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("reply in time")
            .expect("read");
        assert!(n > 0, "server closed the connection; got so far: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// Logs a raw connection in with `setup` (SUB lines, say) and waits for the
/// PONG that proves the server has processed it.
async fn raw_login(server: &Server, setup: &[u8]) -> TcpStream {
    let raw = common::Raw::connect(server).await;
    let mut stream = raw.stream;
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let mut hello = b"CONNECT {\"verbose\":false}\r\n".to_vec();
    hello.extend_from_slice(setup);
    hello.extend_from_slice(b"PING\r\n");
    stream.write_all(&hello).await.expect("write");
    read_until(&mut stream, b"PONG\r\n").await;
    stream
}

/// `n` clients subscribed to `subject`, each flushed, so the server has
/// every subscription before anything is published.
async fn subscribers(
    server: &Server,
    subject: &'static str,
    n: usize,
) -> Vec<(async_nats::Client, async_nats::Subscriber)> {
    let mut subs = Vec::new();
    for _ in 0..n {
        let client = common::client(server).await;
        let sub = client.subscribe(subject).await.expect("subscribe");
        client.flush().await.expect("flush");
        subs.push((client, sub));
    }
    subs
}

#[tokio::test]
async fn max_payload_message_split_across_many_reads_arrives_intact_everywhere() {
    let server = common::start().await;
    let max = server.observer().summary().max_payload;
    let payload = pattern(max);

    let mut subs = subscribers(&server, "big", 3).await;

    // The frame goes out in pieces of varying, mostly small sizes (the
    // control line itself byte by byte), each its own segment with
    // TCP_NODELAY, so the broker reads it across many reads with every
    // kind of boundary: inside the control line, at the CR LF, inside the
    // payload, and between the payload and its trailing CR LF.
    let mut publisher = raw_login(&server, b"").await;
    let control = format!("PUB big {max}\r\n").into_bytes();
    let mut frame = control.clone();
    frame.extend_from_slice(&payload);
    // A small message right behind it: the parser must be back in step.
    frame.extend_from_slice(b"\r\nPUB big 5\r\nafter\r\nPING\r\n");
    let mut at = 0;
    let mut pieces = 0usize;
    while at < frame.len() {
        let size = if at < control.len() {
            1
        } else {
            [1, 7, 1460, 4093, 8192, 16_385][pieces % 6]
        };
        let end = (at + size).min(frame.len());
        publisher.write_all(&frame[at..end]).await.expect("write");
        // Give the broker's reader a chance to run between pieces.
        tokio::task::yield_now().await;
        at = end;
        pieces += 1;
    }
    read_until(&mut publisher, b"PONG\r\n").await;
    assert!(pieces > 100, "the frame went out in {pieces} writes");

    for (_client, sub) in &mut subs {
        let msg = common::next_msg(sub).await;
        assert_eq!(msg.subject.as_str(), "big");
        assert_eq!(msg.payload.len(), max, "whole payload delivered");
        if let Some(i) = (0..max).find(|&i| msg.payload[i] != payload[i]) {
            panic!("payload differs first at byte {i} of {max}");
        }
        let next = common::next_msg(sub).await;
        assert_eq!(&next.payload[..], b"after");
    }
}

#[tokio::test]
async fn slow_consumer_of_large_messages_is_cut_off_at_max_pending() {
    const MAX_PENDING: usize = 4 * 1024 * 1024;
    let config = ServerConfig {
        max_pending: MAX_PENDING,
        ..Default::default()
    };
    let server = common::start_with(config).await;
    let size = server.observer().summary().max_payload;

    // Subscribes, then never reads again.
    let stalled = raw_login(&server, b"SUB big 1\r\n").await;
    let stalled_peer = stalled.local_addr().expect("local addr");
    let healthy = common::client(&server).await;
    let mut healthy_sub = healthy.subscribe("big").await.expect("subscribe");
    healthy.flush().await.expect("flush");
    let publisher = common::client(&server).await;
    let payload = bytes::Bytes::from(pattern(size));

    // Publish until the stalled subscriber is cut off: whatever the socket
    // buffers absorb first, `max_pending` bounds what is queued after, so
    // this ends long before the cap unless the bound is broken.
    let cap = 256;
    let mut sent = 0;
    while server.stats().slow_consumers == 0 {
        assert!(sent < cap, "{cap} MiB published and no slow consumer yet");
        publisher
            .publish("big", payload.clone())
            .await
            .expect("publish");
        publisher.flush().await.expect("flush");
        sent += 1;
        // The healthy subscriber reads each message as it comes.
        let msg = common::next_msg(&mut healthy_sub).await;
        assert!(msg.payload == payload, "message {sent} intact");
    }
    // Cut off within a few messages of max_pending plus socket buffers.
    assert!(sent >= MAX_PENDING / size, "not cut off early: {sent}");

    // Others keep receiving after the cut-off.
    for _ in 0..4 {
        publisher
            .publish("big", payload.clone())
            .await
            .expect("publish");
        let msg = common::next_msg(&mut healthy_sub).await;
        assert!(msg.payload == payload, "intact after the cut-off");
    }

    // The stalled connection was closed by the server: draining what the
    // socket still holds ends in EOF.
    let mut stalled = stalled;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut buf))
            .await
            .expect("EOF in time")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
    }
    common::eventually("the stalled connection is listed as closed", || {
        server
            .observer()
            .closed_connections()
            .iter()
            .any(|c| c.peer == stalled_peer)
    })
    .await;
    let closed = server.observer().closed_connections();
    let reason = closed
        .iter()
        .find(|c| c.peer == stalled_peer)
        .and_then(|c| c.reason);
    assert_eq!(reason, Some("Slow Consumer (Pending Bytes)"));
    assert_eq!(server.stats().slow_consumers, 1);
    assert_eq!(
        server.connections(),
        2,
        "publisher and healthy subscriber remain"
    );
}

/// A burst of large and small messages, with and without headers, sent in
/// one write (so large frames arrive whole inside one read as well as
/// split across reads), reaches every subscriber complete and in order:
/// shared payloads and copied ones interleave correctly in each queue.
#[tokio::test]
async fn mixed_burst_of_shared_and_copied_payloads_arrives_in_order() {
    let server = common::start().await;
    let mut subs = subscribers(&server, "mix", 3).await;
    let mut publisher = common::Raw::connect(&server).await.stream;
    publisher
        .write_all(b"CONNECT {\"verbose\":false,\"headers\":true}\r\nPING\r\n")
        .await
        .expect("write");
    read_until(&mut publisher, b"PONG\r\n").await;
    // Below, at and above the sharing threshold (16 KiB), beyond one read
    // buffer (64 KiB), tiny ones in between.
    let sizes = [
        3, 16_384, 100, 20_000, 65_536, 16_383, 70_000, 1, 300_000, 40_000,
    ];
    let header = b"NATS/1.0\r\nK: v\r\n\r\n";
    let mut burst = Vec::new();
    let mut sent = Vec::new();
    for round in 0..3 {
        for (i, &size) in sizes.iter().enumerate() {
            let mut payload = pattern(size.max(64));
            payload.truncate(size);
            let with_header = (i + round) % 3 == 0;
            if with_header {
                burst.extend_from_slice(
                    format!("HPUB mix {} {}\r\n", header.len(), header.len() + size).as_bytes(),
                );
                burst.extend_from_slice(header);
            } else {
                burst.extend_from_slice(format!("PUB mix {size}\r\n").as_bytes());
            }
            burst.extend_from_slice(&payload);
            burst.extend_from_slice(b"\r\n");
            sent.push((payload, with_header));
        }
    }
    burst.extend_from_slice(b"PING\r\n");
    publisher.write_all(&burst).await.expect("write");
    read_until(&mut publisher, b"PONG\r\n").await;

    for (_client, sub) in &mut subs {
        for (n, (payload, with_header)) in sent.iter().enumerate() {
            let msg = common::next_msg(sub).await;
            assert_eq!(msg.payload.len(), payload.len(), "message {n}: length");
            assert!(msg.payload == payload[..], "message {n}: content");
            let value = msg
                .headers
                .as_ref()
                .and_then(|h| h.get("K"))
                .map(|v| v.as_str().to_string());
            assert_eq!(value.is_some(), *with_header, "message {n}: headers");
        }
    }
}

/// A stream of payloads of 1-25 KiB, which grows the publisher's reads to
/// 256 KiB (so its frames above 16 KiB are copied, not shared in place),
/// then small messages, which shrink the reads back, then 4 KiB ones again, all in one write: every subscriber gets each message
/// intact and in order across the read-size changes.
#[tokio::test]
async fn payload_heavy_stream_through_read_size_changes_arrives_in_order() {
    let server = common::start().await;
    let mut subs = subscribers(&server, "heavy", 2).await;
    let mut publisher = raw_login(&server, b"").await;
    let size_of = |n: usize| match n {
        0..600 => 1024 + (n * 37) % 24_000,
        600..1600 => n % 24,
        _ => 4096,
    };
    let mut burst = Vec::new();
    let mut sent = Vec::new();
    for n in 0..2000 {
        // The sequence number leads, so a message out of place is named.
        let mut payload = format!("{n:06}").into_bytes();
        payload.extend_from_slice(&pattern(size_of(n).max(64)));
        payload.truncate(size_of(n).max(6));
        burst.extend_from_slice(format!("PUB heavy {}\r\n", payload.len()).as_bytes());
        burst.extend_from_slice(&payload);
        burst.extend_from_slice(b"\r\n");
        sent.push(payload);
    }
    burst.extend_from_slice(b"PING\r\n");
    publisher.write_all(&burst).await.expect("write");
    read_until(&mut publisher, b"PONG\r\n").await;

    for (_client, sub) in &mut subs {
        for (n, payload) in sent.iter().enumerate() {
            let msg = common::next_msg(sub).await;
            assert!(msg.payload == payload[..], "message {n}: content");
        }
    }
}

/// A large payload is shared with the subscribers on the publisher's node
/// and copied onto the route to another node: both get it intact, with its
/// headers, and the buffer it was read into is reused for the next ones
/// only after both have written it (the content check of every round shows
/// a buffer handed back too early).
#[tokio::test]
async fn large_payloads_reach_local_subscribers_and_route_peers_intact() {
    let nodes = crate::cluster::three(ServerConfig::default()).await;
    let publisher = async_nats::connect(nodes[0].client_url())
        .await
        .expect("connect");
    let local = async_nats::connect(nodes[0].client_url())
        .await
        .expect("connect");
    let remote = async_nats::connect(nodes[1].client_url())
        .await
        .expect("connect");
    let mut here = local.subscribe("big").await.expect("sub");
    let mut there = remote.subscribe("big").await.expect("sub");
    local.flush().await.expect("flush");
    crate::leaf_nats::await_interest(&publisher, &remote).await;
    let sizes = [20_000, 300_000, 1_000_000, 65_536, 1_048_576 - 64];
    for (round, &size) in sizes.iter().enumerate() {
        let mut payload = pattern(size);
        payload[size / 2] = round as u8;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Round", round.to_string().as_str());
        publisher
            .publish_with_headers("big", headers, payload.clone().into())
            .await
            .expect("publish");
        publisher.flush().await.expect("flush");
        for (node, sub) in [("local", &mut here), ("remote", &mut there)] {
            let msg = common::next_msg(sub).await;
            assert!(msg.payload == payload[..], "{node}, round {round}: content");
            let round_header = msg.headers.as_ref().and_then(|h| h.get("Round"));
            assert_eq!(
                round_header.map(|v| v.as_str().to_string()),
                Some(round.to_string()),
                "{node}, round {round}: headers"
            );
        }
    }
}
