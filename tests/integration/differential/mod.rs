//! Differential test against nats-server 2.15.1: random, seeded scripts of
//! `SUB` (plain and queue), `UNSUB` (with and without max), `PUB` and
//! `HPUB` over a small subject alphabet (wildcards, invalid subjects,
//! reused sids, replies, headers), sent to both servers by three raw
//! connections of two accounts (one user with permissions, one account
//! importing the other's stream), and every frame each connection
//! receives compared.
//!
//! Both servers start from the same nats-server configuration file
//! (Switchyard through `config::natsmap`). After each operation every
//! connection is synchronised with `PING`/`PONG`, so the frames one
//! operation causes form one segment per connection; within a segment the
//! frames are compared as a multiset (deliveries of one message to several
//! subscriptions of a connection come in no set order). Queue groups pick
//! a member at random, so queue deliveries (sids 10-12) are compared by
//! count over all connections instead.
//!
//! Reproducible: `DIFF_SEED` (default 15) and `DIFF_ROUNDS` (default 200,
//! about ten seconds) choose the scripts; a failure names the seed, the
//! round and the script. Long runs: `DIFF_SEED=3 DIFF_ROUNDS=2000 cargo
//! test --test integration differential`. Differences that are intended
//! are listed in docs/compatibility.md and kept out of the generator
//! (`script`).

mod script;

use crate::common;
use common::nats_server::{NatsServer, bin_or_skip};
use script::{Op, Script};
use std::net::SocketAddr;
use std::time::Duration;
use switchyard::config::natsmap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONFIG: &str = r#"
listen: 127.0.0.1:-1
http: 127.0.0.1:-1
accounts {
  A {
    users [
      { user: u0, password: pw,
        permissions: { publish: { deny: ["b.>"] }, subscribe: { allow: ["a.>", "b.*", "c", "_INBOX.>"] } } }
      { user: u1, password: pw }
    ]
    exports [ { stream: "a.>" } ]
  }
  B {
    users [ { user: u2, password: pw } ]
    imports [ { stream: { account: A, subject: "a.>" } } ]
  }
}
"#;

/// How each of the three connections logs in: user, pedantic, verbose.
const LOGINS: [(&str, bool, bool); 3] = [
    ("u0", true, false),
    ("u1", false, false),
    ("u2", false, true),
];

/// The first connection of the importing account `B`.
const IMPORTER: usize = 2;

/// Sids at or above this are queue subscriptions (see `script`).
pub const FIRST_QUEUE_SID: u32 = 10;

const WAIT: Duration = Duration::from_secs(5);

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One protocol frame as received, in a comparable text form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Frame {
    /// A delivery to a plain subscription: the whole frame.
    Msg(String),
    /// A delivery to a queue subscription, the sid left out.
    Queued(String),
    /// `-ERR ...`, `+OK`.
    Control(String),
    /// The server closed the connection.
    Closed,
}

/// A raw client connection that splits what it reads into frames.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Conn {
    async fn open(addr: SocketAddr, user: &str, pedantic: bool, verbose: bool) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        // One small write per operation: without this, Nagle and delayed
        // ACKs cost tens of milliseconds a step.
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            closed: false,
        };
        let connect = format!(
            "CONNECT {{\"verbose\":{verbose},\"pedantic\":{pedantic},\"headers\":true,\"protocol\":1,\"echo\":true,\"user\":\"{user}\",\"pass\":\"pw\"}}\r\n"
        );
        conn.send(connect.as_bytes()).await;
        let frames = conn.sync().await;
        assert!(
            !frames.contains(&Frame::Closed),
            "{user} logs in: {frames:?}"
        );
        conn
    }

    async fn send(&mut self, bytes: &[u8]) {
        if !self.closed && self.stream.write_all(bytes).await.is_err() {
            self.closed = true;
        }
    }

    /// Sends `PING` and returns every frame up to its `PONG` (INFO and
    /// the server's own PINGs left out), or up to the server's close.
    async fn sync(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        if self.closed {
            return frames;
        }
        self.send(b"PING\r\n").await;
        loop {
            match self.next_frame().await {
                None => {
                    self.closed = true;
                    frames.push(Frame::Closed);
                    return frames;
                }
                Some(line) if line == "PONG" => return frames,
                // Server PINGs come on their own timers (nats-server's
                // first one about a second in): not a reply to anything.
                Some(line) if line.starts_with("INFO ") || line == "PING" => {}
                Some(line) => frames.push(classify(line)),
            }
        }
    }

    /// The next frame: a control line, or a whole MSG/HMSG with its
    /// payload. `None` when the server closed or went quiet for `WAIT`.
    async fn next_frame(&mut self) -> Option<String> {
        loop {
            if let Some(frame) = take_frame(&mut self.buf) {
                return Some(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }
}

/// Takes one complete frame off the front of `buf`.
fn take_frame(buf: &mut Vec<u8>) -> Option<String> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = String::from_utf8_lossy(&buf[..end]).into_owned();
    let args: Vec<&str> = line.split(' ').collect();
    let body = match args[0] {
        "MSG" => args.last()?.parse::<usize>().ok()?,
        "HMSG" => args.last()?.parse::<usize>().ok()?,
        _ => {
            buf.drain(..end + 2);
            return Some(line);
        }
    };
    let total = end + 2 + body + 2;
    if buf.len() < total {
        return None;
    }
    let frame = String::from_utf8_lossy(&buf[..total - 2]).into_owned();
    buf.drain(..total);
    Some(frame)
}

fn classify(frame: String) -> Frame {
    let mut parts = frame.splitn(4, ' ');
    let (op, subject, sid) = (parts.next(), parts.next(), parts.next());
    match (op, sid.and_then(|s| s.parse::<u32>().ok())) {
        (Some("MSG" | "HMSG"), Some(sid)) if sid >= FIRST_QUEUE_SID => {
            let rest = parts.next().unwrap_or_default();
            Frame::Queued(format!(
                "{} {} Q {rest}",
                op.unwrap_or_default(),
                subject.unwrap_or_default()
            ))
        }
        (Some("MSG" | "HMSG"), _) => Frame::Msg(frame),
        _ => Frame::Control(frame),
    }
}

/// What one operation made each connection receive: plain frames per
/// connection (sorted), queue deliveries over all connections (sorted).
#[derive(Debug, PartialEq, Eq)]
struct Segment {
    per_conn: Vec<Vec<Frame>>,
    queued: Vec<Frame>,
}

/// Runs `script` against the server at `addr`: one segment per operation.
async fn run(addr: SocketAddr, script: &Script) -> Vec<Segment> {
    let mut conns = Vec::new();
    for (user, pedantic, verbose) in LOGINS {
        conns.push(Conn::open(addr, user, pedantic, verbose).await);
    }
    let mut segments = Vec::new();
    for (who, op) in &script.ops {
        conns[*who].send(&op.encode()).await;
        let mut per_conn = vec![Vec::new(); conns.len()];
        let mut queued = Vec::new();
        // The acting connection first: its PONG means the server has
        // delivered what the operation causes to every other connection's
        // outbound buffer, ahead of their PONGs.
        let order = std::iter::once(*who).chain((0..conns.len()).filter(|i| i != who));
        for i in order {
            for frame in conns[i].sync().await {
                match frame {
                    Frame::Queued(_) => queued.push(frame),
                    f => per_conn[i].push(f),
                }
            }
        }
        for frames in &mut per_conn {
            frames.sort();
        }
        queued.sort();
        segments.push(Segment { per_conn, queued });
    }
    segments
}

/// Waits until the server has no client connections left, so a round's
/// queue subscriptions cannot take the next round's messages.
async fn drained(count: impl AsyncFn() -> usize) {
    for _ in 0..500 {
        if count().await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("connections of the previous round still open");
}

async fn nats_server_connections(http: SocketAddr) -> usize {
    let url = format!("http://{http}/varz");
    tokio::task::spawn_blocking(move || {
        let body = ureq::get(&url)
            .call()
            .expect("GET /varz")
            .body_mut()
            .read_to_string()
            .expect("body");
        let varz: serde_json::Value = serde_json::from_str(&body).expect("varz JSON");
        varz["connections"].as_u64().unwrap_or(0) as usize
    })
    .await
    .expect("join")
}

#[tokio::test]
async fn random_scripts_get_the_frames_nats_server_sends() {
    let Some(bin) = bin_or_skip() else {
        return;
    };
    let seed = env_u64("DIFF_SEED", 15);
    let rounds = env_u64("DIFF_ROUNDS", 200);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.conf");
    std::fs::write(&path, CONFIG).expect("write config");
    let reference = NatsServer::start(&bin, &path);
    let reference_addr: SocketAddr = reference
        .url
        .trim_start_matches("nats://")
        .parse()
        .expect("nats-server address");
    let reference_http = reference.http.expect("nats-server monitor");
    let translation = natsmap::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let server = switchyard::Server::start(translation.config)
        .await
        .expect("server starts");

    let mut rng = fastrand::Rng::with_seed(seed);
    for round in 0..rounds {
        let script = Script::random(&mut rng, LOGINS.len(), IMPORTER);
        drained(async || nats_server_connections(reference_http).await).await;
        let want = run(reference_addr, &script).await;
        drained(async || server.connections()).await;
        let got = run(server.local_addr(), &script).await;
        for (step, (w, g)) in want.iter().zip(&got).enumerate() {
            if w != g {
                panic!(
                    "DIFF_SEED={seed} round {round}, step {step} ({:?} by connection {}):\n\
                     nats-server: {w:?}\nSwitchyard:  {g:?}\nscript:\n{}",
                    script.ops[step].1,
                    script.ops[step].0,
                    script.listing(step)
                );
            }
        }
    }
}

impl Op {
    fn encode(&self) -> Vec<u8> {
        match self {
            Op::Sub {
                subject,
                queue,
                sid,
            } => match queue {
                Some(q) => format!("SUB {subject} {q} {sid}\r\n").into_bytes(),
                None => format!("SUB {subject} {sid}\r\n").into_bytes(),
            },
            Op::Unsub { sid, max } => match max {
                Some(max) => format!("UNSUB {sid} {max}\r\n").into_bytes(),
                None => format!("UNSUB {sid}\r\n").into_bytes(),
            },
            Op::Pub {
                subject,
                reply,
                header,
                payload,
            } => {
                let reply = reply.as_deref().map_or(String::new(), |r| format!(" {r}"));
                match header {
                    Some(h) => {
                        let head = format!("NATS/1.0\r\nK: {h}\r\n\r\n");
                        let total = head.len() + payload.len();
                        format!(
                            "HPUB {subject}{reply} {} {total}\r\n{head}{payload}\r\n",
                            head.len()
                        )
                        .into_bytes()
                    }
                    None => format!("PUB {subject}{reply} {}\r\n{payload}\r\n", payload.len())
                        .into_bytes(),
                }
            }
        }
    }
}
