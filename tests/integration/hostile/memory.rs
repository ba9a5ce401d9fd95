//! Hostile-tenant attacks on memory: replies provoked and never read,
//! responders that never answer, requests that pile up pending responses.
//! Bounds are asserted through the broker's own counters, not RSS.

use crate::common;

use common::{Raw, TenantDir};
use std::time::Duration;
use switchyard::ServerConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

const MAX_PENDING: usize = 256 * 1024;

/// A raw connection logged in as `user` (password `pw`) with one
/// subscription to `subject` (sid 1), synchronised on its PONG.
async fn subscribed(server: &switchyard::Server, user: &str, subject: &str) -> Raw {
    let mut raw = Raw::connect(server).await;
    let login = format!(
        "CONNECT {{\"user\":\"{user}\",\"pass\":\"pw\",\"verbose\":false}}\r\nSUB {subject} 1\r\nPING\r\n"
    );
    let (answer, _) = raw.exchange(login.as_bytes()).await;
    assert_eq!(answer, "PONG\r\n", "{user} logs in and subscribes");
    raw
}

/// Sends `input` (which ends in PING) and returns everything answered up
/// to the PONG.
async fn until_pong(raw: &mut Raw, input: &[u8]) -> String {
    raw.send(input).await;
    let mut answer = String::new();
    while !answer.ends_with("PONG\r\n") {
        let (more, closed) = raw.read_for(Duration::from_secs(5)).await;
        assert!(!closed && !more.is_empty(), "no PONG: {answer}");
        answer.push_str(&String::from_utf8_lossy(&more));
    }
    answer
}

/// Connects with a small receive buffer, so the kernel holds little of what
/// the broker sends and the broker's own queue fills quickly.
async fn small_window(server: &switchyard::Server) -> tokio::net::TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .connect(server.local_addr())
        .await
        .expect("tcp connect")
}

/// 20 clients publish with a broker-owned `_R_.` reply (each PUB earns a
/// 60-byte `-ERR`) and never read. Every byte queued for them counts
/// against `max_pending`: each is cut off as a slow consumer, and no
/// queue ever holds more than `max_pending`.
#[tokio::test]
async fn provoked_errors_that_are_never_read_count_against_max_pending() {
    const CLIENTS: usize = 20;
    let config = ServerConfig {
        max_pending: MAX_PENDING,
        max_payload: 64 * 1024,
        // Only max_pending may end them, not a blocked write.
        write_deadline: Duration::from_secs(120),
        ..Default::default()
    };
    let server = common::start_with(config).await;
    let mut attackers = Vec::new();
    for _ in 0..CLIENTS {
        let mut stream = small_window(&server).await;
        attackers.push(tokio::spawn(async move {
            stream
                .write_all(b"CONNECT {\"verbose\":false}\r\n")
                .await
                .expect("connect");
            let chunk = b"PUB x _R_.aaaaaa.bbbbbb 0\r\n\r\n".repeat(1000);
            // Bounded: far more than the kernel buffers and max_pending
            // hold; the broker closes the socket long before.
            for _ in 0..2_000 {
                if stream.write_all(&chunk).await.is_err() {
                    return true;
                }
            }
            false
        }));
    }
    let observer = server.observer();
    let mut worst = 0;
    for _ in 0..3_000 {
        for c in observer.connections(false) {
            worst = worst.max(c.pending_bytes);
        }
        if server.stats().slow_consumers as usize == CLIENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        server.stats().slow_consumers as usize,
        CLIENTS,
        "every non-reading client is cut off"
    );
    assert!(
        worst <= MAX_PENDING,
        "a queue held {worst} bytes, over max_pending {MAX_PENDING}"
    );
    for a in attackers {
        assert!(
            a.await.expect("attacker task"),
            "the broker closed the socket"
        );
    }
    common::eventually("attackers gone", || server.connections() == 0).await;
}

const RESPONDER: &str = r#"
name = "svc"
[[users]]
user = "requester"
password = "pw"
[[users]]
user = "responder"
password = "pw"
[users.permissions]
publish = { allow = ["status"] }
subscribe = { allow = ["work"] }
allow_responses = { max = 1, ttl = "1m" }
"#;

/// A responder with `allow_responses` that never answers is sent 40,000
/// requests: its reply permits stay capped (oldest dropped first), and
/// the newest request can still be answered.
#[tokio::test]
async fn reply_permits_of_a_silent_responder_stay_capped() {
    const REQUESTS: usize = 40_000;
    let dir = TenantDir::new(&[("svc", RESPONDER)]);
    let server = common::start_with(dir.config()).await;
    let mut responder = subscribed(&server, "responder", "work").await;
    let mut requester = subscribed(&server, "requester", "inbox.>").await;

    let mut requests = Vec::new();
    for i in 0..REQUESTS {
        requests.extend_from_slice(format!("PUB work inbox.{i} 0\r\n\r\n").as_bytes());
    }
    requests.extend_from_slice(b"PING\r\n");
    requester.send(&requests).await;
    // Drain the responder until every request has arrived.
    let mut seen = Vec::new();
    let needle = format!("inbox.{} 0\r\n", REQUESTS - 1);
    while !String::from_utf8_lossy(&seen).contains(&needle) {
        let (bytes, closed) = responder.read_for(Duration::from_millis(500)).await;
        assert!(!closed && !bytes.is_empty(), "requests stopped arriving");
        seen.extend_from_slice(&bytes);
        // Keep only the tail: the needle is at the end.
        if seen.len() > 1 << 16 {
            seen.drain(..seen.len() - 1024);
        }
    }
    let newest = format!("PUB inbox.{} 2\r\nok\r\nPING\r\n", REQUESTS - 1);
    let (answer, _) = responder.exchange(newest.as_bytes()).await;
    assert_eq!(answer, "PONG\r\n", "the newest request may be answered");
    let (answer, _) = responder.exchange(b"PUB inbox.0 2\r\nno\r\nPING\r\n").await;
    assert!(
        answer.starts_with("-ERR 'Permissions Violation for Publish to \"inbox.0\"'"),
        "the oldest permit was dropped at the cap: {answer}"
    );
}

const IMPORTER: &str = r#"
name = "client"
[[users]]
user = "client"
password = "pw"
[[imports]]
service = { account = "svc", subject = "work" }
"#;

const EXPORTER: &str = r#"
name = "svc"
[[users]]
user = "service"
password = "pw"
[[exports]]
service = "work"
response_threshold = "10m"
"#;

/// A service that never answers, flooded with requests through a service
/// import: the exporter's pending responses stop at their cap.
#[tokio::test]
async fn pending_responses_of_a_silent_service_stay_capped() {
    const CAP: usize = 50_000;
    let dir = TenantDir::new(&[("svc", EXPORTER), ("client", IMPORTER)]);
    let server = common::start_with(dir.config()).await;
    let mut service = subscribed(&server, "service", "work").await;
    // The service reads (so it is no slow consumer) but never answers.
    let drain = tokio::spawn(async move {
        loop {
            let (_, closed) = service.read_for(Duration::from_secs(30)).await;
            if closed {
                break;
            }
        }
    });
    let mut client = Raw::connect(&server).await;
    let mut requests =
        b"CONNECT {\"user\":\"client\",\"pass\":\"pw\",\"verbose\":false}\r\n".to_vec();
    for i in 0..CAP + 5_000 {
        requests.extend_from_slice(format!("PUB work inbox.{i} 0\r\n\r\n").as_bytes());
    }
    requests.extend_from_slice(b"PING\r\n");
    until_pong(&mut client, &requests).await;
    assert_eq!(server.pending_responses("svc"), CAP);
    drain.abort();
}

/// 500 subscriptions of 1,900-token subjects (each under the control-line
/// limit) cost the broker nothing: subjects over `max_subject_tokens` are
/// refused with nats-server's error, and one at the limit is accepted.
#[tokio::test]
async fn subjects_past_the_token_limit_are_refused() {
    let server = common::start().await;
    let mut raw = Raw::connect(&server).await;
    let long = vec!["a"; 1_900].join(".");
    let mut subs = b"CONNECT {\"verbose\":false}\r\n".to_vec();
    for sid in 0..500 {
        subs.extend_from_slice(format!("SUB {long}.{sid} {sid}\r\n").as_bytes());
    }
    subs.extend_from_slice(b"PING\r\n");
    let answer = until_pong(&mut raw, &subs).await;
    assert_eq!(answer.matches("-ERR 'Invalid Subject'\r\n").count(), 500);
    assert_eq!(server.subscriptions(), 0);

    let at_limit = vec!["b"; switchyard::config::DEFAULT_MAX_SUBJECT_TOKENS].join(".");
    let (answer, _) = raw
        .exchange(format!("SUB {at_limit} 9999\r\nPING\r\n").as_bytes())
        .await;
    assert_eq!(answer, "PONG\r\n");
    assert_eq!(server.subscriptions(), 1);
}

/// A tenant's subscriptions are charged against its memory budget: past
/// it a SUB is refused, other tenants are unaffected, and what an UNSUB
/// frees can be used again.
#[tokio::test]
async fn subscription_memory_counts_toward_the_tenant_limit() {
    let small = r#"
name = "small"
[[users]]
user = "small"
password = "pw"
[limits]
max_subscription_bytes = 20000
"#;
    let other = r#"
name = "other"
[[users]]
user = "other"
password = "pw"
"#;
    let dir = TenantDir::new(&[("small", small), ("other", other)]);
    let server = common::start_with(dir.config()).await;
    let mut raw = Raw::connect(&server).await;
    let mut subs = b"CONNECT {\"user\":\"small\",\"pass\":\"pw\",\"verbose\":false}\r\n".to_vec();
    for sid in 0..100 {
        subs.extend_from_slice(format!("SUB orders.eu.{sid} {sid}\r\n").as_bytes());
    }
    subs.extend_from_slice(b"PING\r\n");
    let (answer, closed) = raw.exchange(&subs).await;
    assert!(!closed, "the connection stays open");
    let refused = answer
        .matches("-ERR 'maximum subscriptions exceeded'\r\n")
        .count();
    let accepted = 100 - refused;
    // Each costs ~1.5 KB at its upper bound (three tokens).
    assert!(
        (5..=20).contains(&accepted),
        "{accepted} accepted of a 20,000-byte budget: {answer}"
    );
    assert_eq!(server.subscriptions(), accepted);

    // Another tenant is not charged for `small`'s subscriptions.
    let _other = subscribed(&server, "other", "orders.eu.1").await;
    assert_eq!(server.subscriptions(), accepted + 1);

    // Freed budget is reusable (by a subject of the same size).
    let (answer, _) = raw
        .exchange(b"UNSUB 0\r\nSUB orders.eu.a 500\r\nPING\r\n")
        .await;
    assert_eq!(answer, "PONG\r\n");
    assert_eq!(server.subscriptions(), accepted + 1);
}
