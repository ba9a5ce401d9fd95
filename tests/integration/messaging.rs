//! Core messaging through the broker with the async-nats client.

use crate::common;

use async_nats::HeaderMap;
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

async fn next(sub: &mut async_nats::Subscriber) -> async_nats::Message {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("message in time")
        .expect("subscription open")
}

async fn nothing_more(sub: &mut async_nats::Subscriber) {
    let extra = tokio::time::timeout(Duration::from_millis(200), sub.next()).await;
    assert!(
        extra.is_err(),
        "unexpected extra message: {:?}",
        extra.ok().flatten().map(|m| m.subject)
    );
}

#[tokio::test]
async fn publish_subscribe_round_trip() {
    let server = common::start().await;
    let client = common::client(&server).await;
    let mut sub = client.subscribe("greet.joe").await.unwrap();
    client.flush().await.unwrap();
    client.publish("greet.joe", "hello".into()).await.unwrap();
    client
        .publish("greet.sue", "not for joe".into())
        .await
        .unwrap();
    let msg = next(&mut sub).await;
    assert_eq!(msg.subject.as_str(), "greet.joe");
    assert_eq!(&msg.payload[..], b"hello");
    nothing_more(&mut sub).await;
    assert_eq!(server.stats().in_msgs, 2);
    assert_eq!(server.stats().out_msgs, 1);
}

#[tokio::test]
async fn wildcards_match_by_token() {
    let server = common::start().await;
    let client = common::client(&server).await;
    let mut star = client.subscribe("orders.*.created").await.unwrap();
    let mut full = client.subscribe("orders.>").await.unwrap();
    client.flush().await.unwrap();
    for subject in [
        "orders.eu.created",
        "orders.eu.shipped",
        "orders.us.created",
        "orders",
        "orders.a.b.c",
    ] {
        client.publish(subject, subject.into()).await.unwrap();
    }
    client.flush().await.unwrap();
    assert_eq!(next(&mut star).await.subject.as_str(), "orders.eu.created");
    assert_eq!(next(&mut star).await.subject.as_str(), "orders.us.created");
    nothing_more(&mut star).await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next(&mut full).await.subject.to_string());
    }
    assert_eq!(
        got,
        [
            "orders.eu.created",
            "orders.eu.shipped",
            "orders.us.created",
            "orders.a.b.c"
        ]
    );
    nothing_more(&mut full).await;
}

#[tokio::test]
async fn queue_group_delivers_each_message_once_and_spreads_load() {
    let server = common::start().await;
    let publisher = common::client(&server).await;
    let mut members = Vec::new();
    for _ in 0..4 {
        let c = common::client(&server).await;
        let sub = c.queue_subscribe("work", "workers".into()).await.unwrap();
        c.flush().await.unwrap();
        members.push((c, sub));
    }
    // A plain subscriber on the same subject still gets every message.
    let mut plain = publisher.subscribe("work").await.unwrap();
    publisher.flush().await.unwrap();

    const N: usize = 400;
    for i in 0..N {
        publisher
            .publish("work", i.to_string().into())
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut per_member = Vec::new();
    let mut total = 0;
    while total < N {
        let mut progressed = false;
        per_member.clear();
        for (_, sub) in members.iter_mut() {
            let mut count = 0;
            while let Ok(Some(msg)) =
                tokio::time::timeout(Duration::from_millis(100), sub.next()).await
            {
                *seen
                    .entry(String::from_utf8_lossy(&msg.payload).into_owned())
                    .or_default() += 1;
                count += 1;
            }
            per_member.push(count);
            total += count;
            progressed |= count > 0;
        }
        assert!(progressed, "queue members stopped receiving at {total}/{N}");
    }
    assert_eq!(total, N, "each message to exactly one member");
    assert!(seen.values().all(|&c| c == 1), "no duplicates");
    assert_eq!(seen.len(), N);
    assert!(
        per_member.iter().all(|&c| c > 0) || total == N,
        "distribution {per_member:?}"
    );
    for _ in 0..N {
        next(&mut plain).await;
    }
    nothing_more(&mut plain).await;
}

#[tokio::test]
async fn queue_group_uses_every_member() {
    let server = common::start().await;
    let publisher = common::client(&server).await;
    let mut subs = Vec::new();
    for _ in 0..3 {
        subs.push(publisher.queue_subscribe("jobs", "q".into()).await.unwrap());
    }
    publisher.flush().await.unwrap();
    for _ in 0..300 {
        publisher.publish("jobs", "x".into()).await.unwrap();
    }
    publisher.flush().await.unwrap();
    let mut counts = Vec::new();
    for sub in subs.iter_mut() {
        let mut n = 0;
        while tokio::time::timeout(Duration::from_millis(150), sub.next())
            .await
            .is_ok()
        {
            n += 1;
        }
        counts.push(n);
    }
    assert_eq!(counts.iter().sum::<usize>(), 300);
    assert!(
        counts.iter().all(|&n| n >= 40),
        "random choice should reach every member: {counts:?}"
    );
}

#[tokio::test]
async fn request_reply() {
    let server = common::start().await;
    let responder = common::client(&server).await;
    let mut service = responder.subscribe("math.double").await.unwrap();
    responder.flush().await.unwrap();
    tokio::spawn(async move {
        while let Some(req) = service.next().await {
            let n: u64 = String::from_utf8_lossy(&req.payload).parse().unwrap_or(0);
            if let Some(reply) = req.reply {
                responder
                    .publish(reply, (n * 2).to_string().into())
                    .await
                    .unwrap();
            }
        }
    });
    let requester = common::client(&server).await;
    for n in [1u64, 21, 500] {
        let answer =
            tokio::time::timeout(WAIT, requester.request("math.double", n.to_string().into()))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&answer.payload),
            (n * 2).to_string()
        );
    }
}

#[tokio::test]
async fn no_responders_fails_fast() {
    let server = common::start().await;
    let client = common::client(&server).await;
    let started = std::time::Instant::now();
    let err = client
        .request("nobody.home", "ping".into())
        .await
        .expect_err("no one answers");
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered by the server, not a timeout"
    );
}

#[tokio::test]
async fn headers_round_trip() {
    let server = common::start().await;
    let client = common::client(&server).await;
    let mut sub = client.subscribe("with.headers").await.unwrap();
    client.flush().await.unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("Trace-Id", "abc-123");
    headers.append("Multi", "one");
    headers.append("Multi", "two");
    client
        .publish_with_headers("with.headers", headers, "body".into())
        .await
        .unwrap();
    let msg = next(&mut sub).await;
    let got = msg.headers.expect("headers delivered");
    assert_eq!(got.get("Trace-Id").map(|v| v.as_str()), Some("abc-123"));
    let multi: Vec<&str> = got.get_all("Multi").map(|v| v.as_str()).collect();
    assert_eq!(multi, ["one", "two"]);
    assert_eq!(&msg.payload[..], b"body");
}

#[tokio::test]
async fn unsubscribe_after_max_messages() {
    let server = common::start().await;
    let client = common::client(&server).await;
    let mut sub = client.subscribe("limited").await.unwrap();
    sub.unsubscribe_after(3).await.unwrap();
    client.flush().await.unwrap();
    for i in 0..10 {
        client
            .publish("limited", i.to_string().into())
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    let mut got = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        got.push(String::from_utf8_lossy(&msg.payload).into_owned());
    }
    assert_eq!(got, ["0", "1", "2"]);
    common::eventually("subscription removed from the index", || {
        server.subscriptions() == 0
    })
    .await;
}

#[tokio::test]
async fn explicit_unsubscribe_stops_delivery() {
    let server = common::start().await;
    let client = common::client(&server).await;
    let mut sub = client.subscribe("temp").await.unwrap();
    // async-nats' flush does not wait for the server, so poll instead.
    common::eventually("subscribed", || server.subscriptions() == 1).await;
    sub.unsubscribe().await.unwrap();
    client.flush().await.unwrap();
    common::eventually("unsubscribed", || server.subscriptions() == 0).await;
    client.publish("temp", "late".into()).await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(server.stats().out_msgs, 0);
}

#[tokio::test]
async fn echo_off_skips_own_messages() {
    let server = common::start().await;
    let quiet = async_nats::ConnectOptions::new()
        .no_echo()
        .connect(server.client_url())
        .await
        .unwrap();
    let other = common::client(&server).await;
    let mut own = quiet.subscribe("chat").await.unwrap();
    quiet.flush().await.unwrap();
    quiet.publish("chat", "from me".into()).await.unwrap();
    quiet.flush().await.unwrap();
    other.publish("chat", "from other".into()).await.unwrap();
    other.flush().await.unwrap();
    let msg = next(&mut own).await;
    assert_eq!(&msg.payload[..], b"from other");
    nothing_more(&mut own).await;
}

#[tokio::test]
async fn echo_off_queue_group_moves_to_the_next_member() {
    let server = common::start().await;
    let quiet = async_nats::ConnectOptions::new()
        .no_echo()
        .connect(server.client_url())
        .await
        .unwrap();
    let other = common::client(&server).await;
    let mut mine = quiet.queue_subscribe("q.work", "g".into()).await.unwrap();
    let mut theirs = other.queue_subscribe("q.work", "g".into()).await.unwrap();
    quiet.flush().await.unwrap();
    other.flush().await.unwrap();
    for _ in 0..20 {
        quiet.publish("q.work", "job".into()).await.unwrap();
    }
    quiet.flush().await.unwrap();
    for _ in 0..20 {
        next(&mut theirs).await;
    }
    nothing_more(&mut mine).await;
}

#[tokio::test]
async fn max_payload_is_advertised_and_enforced() {
    let config = switchyard::ServerConfig {
        max_payload: 1024,
        ..Default::default()
    };
    let server = common::start_with(config).await;
    let client = common::client(&server).await;
    assert_eq!(client.server_info().max_payload, 1024);
    client
        .publish("big", vec![0u8; 1024].into())
        .await
        .expect("at the limit is fine");
    let err = client
        .publish("big", vec![0u8; 1025].into())
        .await
        .expect_err("over the limit");
    assert_eq!(
        err.kind(),
        async_nats::client::PublishErrorKind::MaxPayloadExceeded
    );
}

#[tokio::test]
async fn many_subscribers_fan_out() {
    let server = common::start().await;
    let publisher = common::client(&server).await;
    let mut subs = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..8 {
        let c = common::client(&server).await;
        subs.push(c.subscribe("fan").await.unwrap());
        c.flush().await.unwrap();
        clients.push(c);
    }
    for i in 0..50 {
        publisher
            .publish("fan", i.to_string().into())
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    for sub in subs.iter_mut() {
        for i in 0..50 {
            assert_eq!(
                String::from_utf8_lossy(&next(sub).await.payload),
                i.to_string(),
                "in order"
            );
        }
    }
    assert_eq!(server.stats().out_msgs, 400);
}
