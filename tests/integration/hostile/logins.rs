//! Hostile-tenant attacks: logins.
//!
//! Password loops that would pin the async workers with bcrypt, operations
//! sent before CONNECT that would be buffered until the auth timeout, and
//! floods of logins from one address. Each test waits for the broker's
//! answer (PONG, `-ERR`, EOF), never for a fixed time.

use crate::common::{self, Raw, TenantDir};
use std::time::{Duration, Instant};
use switchyard::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VIOLATION: &str = "-ERR 'Authorization Violation'\r\n";
const BUSY: &str = "-ERR 'maximum connections exceeded'\r\n";
/// Far longer than any test waits for an answer, so an answer that comes
/// is not the auth timeout.
const AUTH_TIMEOUT: Duration = Duration::from_secs(20);
const WAIT: Duration = Duration::from_secs(5);

/// `acme` with a bcrypt user (`alice`, the attackers' target) and a plain
/// one (`watcher`, who measures). The bcrypt cost is the lowest at which
/// one check takes at least `check`: the tests' point is a thread kept
/// busy for a known time, and bcrypt's speed differs by an order of
/// magnitude between debug and release builds.
fn tenants(check: Duration) -> TenantDir {
    let mut cost = 4;
    let hash = loop {
        let started = Instant::now();
        let hash = bcrypt::hash("alice-pw", cost).expect("bcrypt");
        if started.elapsed() >= check || cost >= 14 {
            eprintln!("bcrypt cost {cost}: {:?} per check", started.elapsed());
            break hash;
        }
        cost += 1;
    };
    let acme = format!(
        r#"name = "acme"
users = [
  {{ user = "alice", password = "{hash}" }},
  {{ user = "watcher", password = "watcher-pw" }},
]
"#
    );
    TenantDir::new(&[("acme", &acme)])
}

async fn start(dir: &TenantDir, tweak: impl FnOnce(ServerConfig) -> ServerConfig) -> Server {
    common::start_with(tweak(ServerConfig {
        auth_timeout: AUTH_TIMEOUT,
        ..dir.config()
    }))
    .await
}

/// Reads until the server closes, for at most `WAIT`.
async fn answer_and_eof(raw: &mut Raw) -> (String, Duration) {
    let started = Instant::now();
    let (got, closed) = raw.read_for(WAIT).await;
    assert!(
        closed,
        "closed at once, got {:?}",
        String::from_utf8_lossy(&got)
    );
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

fn failures(server: &Server, reason: &str) -> u64 {
    server
        .observer()
        .auth_failures()
        .into_iter()
        .find(|(r, _)| *r == reason)
        .map_or(0, |(_, n)| n)
}

/// One attacker: connect, send a wrong password for the bcrypt user, wait
/// for the refusal and EOF, again, until `until`. Returns the attempts.
async fn wrong_passwords(addr: std::net::SocketAddr, until: Instant) -> u32 {
    let mut attempts = 0;
    let mut buf = vec![0u8; 4096];
    while Instant::now() < until {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            continue;
        };
        let connect = format!(
            "CONNECT {{\"verbose\":false,\"user\":\"alice\",\"pass\":\"guess-{attempts}\"}}\r\nPING\r\n"
        );
        if stream.write_all(connect.as_bytes()).await.is_err() {
            continue;
        }
        attempts += 1;
        // INFO, then the refusal, then EOF (or a reset).
        let deadline = tokio::time::Instant::from_std(until) + AUTH_TIMEOUT;
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            if n == 0 {
                break;
            }
        }
    }
    attempts
}

/// PING round trips through `client` until `until`, sorted.
async fn round_trips(client: &async_nats::Client, until: Instant) -> Vec<Duration> {
    let mut took = Vec::new();
    while Instant::now() < until {
        let sent = Instant::now();
        client.flush().await.expect("round trip");
        took.push(sent.elapsed());
    }
    took.sort();
    took
}

/// The `per_mille`th per-mille of sorted `took`.
fn quantile(took: &[Duration], per_mille: usize) -> Duration {
    took[(took.len() * per_mille / 1000).min(took.len() - 1)]
}

/// (a) 40 sockets loop wrong bcrypt passwords; a logged-in client's PING
/// round trips stay under 50 ms. Before the login pool, the checks ran on
/// the async workers and a PING waited behind them (up to 1.5 s).
///
/// The bound is on the 99.9th percentile of thousands of round trips, with
/// a looser one on the very worst: this 2-core machine is shared, and
/// without any attack at all its scheduling alone delayed the worst of
/// ~30,000 round trips by 5 to 66 ms (measured while writing this test).
/// With the checks on the async workers, every PING queued behind 20 ms
/// bcrypt checks, so the 99.9th percentile would be far over the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_loops_do_not_delay_a_logged_in_clients_ping() {
    // Each check holds the checking thread for 20 ms or more; with 40
    // loops waiting on it, it never idles during the attack.
    let dir = tenants(Duration::from_millis(20));
    let server = start(&dir, |c| c).await;
    let watcher = common::user(&server, "watcher", "watcher-pw").await;
    let quiet = round_trips(&watcher, Instant::now() + Duration::from_secs(1)).await;

    let attack = Duration::from_secs(3);
    let until = Instant::now() + attack;
    let attackers: Vec<_> = (0..40)
        .map(|_| tokio::spawn(wrong_passwords(server.local_addr(), until)))
        .collect();
    let took = round_trips(&watcher, until).await;
    let mut attempts = 0;
    for attacker in attackers {
        attempts += attacker.await.expect("attacker");
    }
    let checked = failures(&server, "credentials");
    let worst = took[took.len() - 1];
    eprintln!(
        "40 wrong-password loops for {attack:?}: {attempts} attempts, {checked} bcrypt checks \
         refused, {} refused unchecked (busy); {} PING round trips: median {:?}, p99 {:?}, \
         p99.9 {:?}, worst {worst:?} (without the attack: {} round trips, p99.9 {:?}, worst {:?})",
        failures(&server, "busy"),
        took.len(),
        quantile(&took, 500),
        quantile(&took, 990),
        quantile(&took, 999),
        quiet.len(),
        quantile(&quiet, 999),
        quiet[quiet.len() - 1],
    );
    assert!(
        checked >= 10,
        "the attack ran bcrypt checks all along ({checked} done)"
    );
    assert!(took.len() >= 1000, "many round trips ({})", took.len());
    assert!(
        quantile(&took, 999) < Duration::from_millis(50),
        "99.9% of PING round trips under 50 ms during the attack"
    );
    assert!(
        worst < Duration::from_millis(500),
        "worst PING round trip {worst:?} during the attack"
    );
}

/// (b) `PUB a 1000000` and payload bytes before CONNECT: refused on the
/// first byte, not buffered until the auth timeout.
#[tokio::test]
async fn huge_pub_before_connect_is_refused_at_once() {
    let dir = tenants(Duration::ZERO);
    let server = start(&dir, |c| c).await;
    for with_payload in [false, true] {
        let mut raw = Raw::connect(&server).await;
        let mut input = b"PUB a 1000000\r\n".to_vec();
        if with_payload {
            input.extend(std::iter::repeat_n(b'x', 64 * 1024));
        }
        raw.send(&input).await;
        let (got, took) = answer_and_eof(&mut raw).await;
        assert_eq!(got, VIOLATION, "payload sent: {with_payload}");
        assert!(took < Duration::from_secs(2), "answered in {took:?}");
    }
}

/// (c) PING, SUB, a complete PUB, and even a lone incomplete byte are
/// refused at once when CONNECT has not come first.
#[tokio::test]
async fn anything_but_connect_first_is_refused_at_once() {
    let dir = tenants(Duration::ZERO);
    let server = start(&dir, |c| c).await;
    let inputs: [&[u8]; 5] = [
        b"PING\r\n",
        b"SUB a 1\r\n",
        b"PUB a 5\r\nhello\r\n",
        b"P",
        b"\r\n",
    ];
    for input in inputs {
        let mut raw = Raw::connect(&server).await;
        raw.send(input).await;
        let (got, took) = answer_and_eof(&mut raw).await;
        let shown = String::from_utf8_lossy(input);
        assert_eq!(got, VIOLATION, "after {shown:?}");
        assert!(
            took < Duration::from_secs(2),
            "{shown:?}: answered in {took:?}"
        );
    }
    // CONNECT first still logs in, whatever follows it in the same write.
    let mut raw = Raw::connect(&server).await;
    raw.send(
        b"CONNECT {\"verbose\":false,\"user\":\"watcher\",\"pass\":\"watcher-pw\"}\r\nPING\r\n",
    )
    .await;
    assert_eq!(read_line(&mut raw).await, "PONG\r\n");
}

/// The next line the server sends, failing after `WAIT`.
async fn read_line(raw: &mut Raw) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        let n = tokio::time::timeout(WAIT, raw.stream.read(&mut byte))
            .await
            .expect("answer in time")
            .expect("read");
        assert_eq!(n, 1, "closed after {:?}", String::from_utf8_lossy(&line));
        line.push(byte[0]);
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// (d) Sockets from one address that never finish their CONNECT take no
/// place in the login queue, so a fresh login still gets in; complete
/// CONNECTs beyond `max_pending_logins_per_ip` are refused with
/// `maximum connections exceeded` at once, the first ones checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_from_one_address_are_capped() {
    // One check takes 300 ms or more, far longer than sending ten CONNECTs.
    let dir = tenants(Duration::from_millis(300));
    let server = start(&dir, |c| ServerConfig {
        max_pending_logins_per_ip: 2,
        ..c
    })
    .await;

    let mut stalled = Vec::new();
    for _ in 0..100 {
        let mut raw = Raw::connect(&server).await;
        raw.send(b"CONNECT {\"user\":\"alice\",\"pass\":\"").await;
        stalled.push(raw);
    }
    let fresh = tokio::time::timeout(WAIT, common::user(&server, "watcher", "watcher-pw"))
        .await
        .expect("a fresh login is not held up by stalled CONNECTs");
    fresh.flush().await.expect("round trip");

    let mut sockets = Vec::new();
    for _ in 0..10 {
        sockets.push(Raw::connect(&server).await);
    }
    for raw in &mut sockets {
        raw.send(b"CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"guess\"}\r\n")
            .await;
    }
    let mut refused = 0;
    let mut checked = 0;
    for raw in &mut sockets {
        let (got, _) = answer_and_eof(raw).await;
        match got.as_str() {
            BUSY => refused += 1,
            VIOLATION => checked += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(
        (checked, refused),
        (2, 8),
        "two checked (the cap), the rest refused"
    );
    assert_eq!(failures(&server, "busy"), 8);
    // The stalled sockets are still waiting, unharmed and uncounted.
    assert_eq!(failures(&server, "timeout"), 0);
    drop(stalled);
}
