//! Shared harness: a broker on an ephemeral port, and a raw-TCP client for
//! checking exact protocol bytes.
#![allow(dead_code)] // Not every helper is used by every build of the suite.

pub mod auth;
pub mod logs;
pub mod nats_server;
pub mod natsd;
pub mod operator;
pub mod pki;
pub mod plugins;

use std::time::Duration;
use switchyard::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts a broker on 127.0.0.1 with a free port.
pub async fn start() -> Server {
    start_with(ServerConfig::default()).await
}

/// Starts a broker with `config`, forcing loopback and a free port.
pub async fn start_with(config: ServerConfig) -> Server {
    try_start_with(config).await.expect("server starts")
}

/// As `start_with`, returning the error of a refused configuration.
pub async fn try_start_with(
    config: ServerConfig,
) -> Result<Server, switchyard::server::ServerError> {
    let config = ServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        ..config
    };
    Server::start(config).await
}

pub async fn client(server: &Server) -> async_nats::Client {
    async_nats::connect(server.client_url())
        .await
        .expect("client connects")
}

/// A plain TCP connection speaking raw protocol, for exact-bytes tests.
pub struct Raw {
    pub stream: TcpStream,
    /// The INFO line the server sent on connect.
    pub info: String,
}

impl Raw {
    pub async fn connect(server: &Server) -> Raw {
        let mut stream = TcpStream::connect(server.local_addr())
            .await
            .expect("tcp connect");
        let mut info = Vec::new();
        let mut byte = [0u8; 1];
        while !info.ends_with(b"\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
                .await
                .expect("INFO in time")
                .expect("read");
            assert_eq!(n, 1, "server closed before INFO");
            info.push(byte[0]);
        }
        Raw {
            stream,
            info: String::from_utf8(info).expect("utf8 INFO"),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Reads until `want` bytes have arrived, the peer closes, or `wait` passes.
    /// Returns the bytes and whether the connection was closed by the server.
    pub async fn read_for(&mut self, wait: Duration) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => return (out, false),
                Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Sends `input` and returns everything answered within a short window.
    pub async fn exchange(&mut self, input: &[u8]) -> (String, bool) {
        self.send(input).await;
        let (bytes, closed) = self.read_for(Duration::from_millis(300)).await;
        (String::from_utf8_lossy(&bytes).into_owned(), closed)
    }
}

/// Waits until `cond` holds, polling; panics with `what` after 5 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A directory of tenant files for one test; removed when dropped.
pub struct TenantDir {
    pub dir: tempfile::TempDir,
}

impl TenantDir {
    pub fn new(files: &[(&str, &str)]) -> TenantDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = TenantDir { dir };
        for (name, body) in files {
            t.write(name, body);
        }
        t
    }

    pub fn write(&self, name: &str, body: &str) {
        std::fs::write(self.dir.path().join(format!("{name}.toml")), body)
            .expect("write tenant file");
    }

    pub fn remove(&self, name: &str) {
        std::fs::remove_file(self.dir.path().join(format!("{name}.toml")))
            .expect("remove tenant file");
    }

    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            tenants: Some(self.dir.path().to_path_buf()),
            ..ServerConfig::default()
        }
    }
}

/// Connects with a user name and password.
pub async fn user(server: &Server, user: &str, pass: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), pass.into())
        .connect(server.client_url())
        .await
        .unwrap_or_else(|e| panic!("{user} connects: {e}"))
}

/// Waits for the next message on `sub`, failing after 5 s.
pub async fn next_msg(sub: &mut async_nats::Subscriber) -> async_nats::Message {
    use futures::StreamExt;
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("message in time")
        .expect("subscription open")
}

/// Asserts that nothing arrives on `sub` for 200 ms.
pub async fn no_msg(sub: &mut async_nats::Subscriber) {
    use futures::StreamExt;
    if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
        panic!("unexpected message on {}", m.subject);
    }
}

#[derive(clap::Parser)]
struct BenchCli {
    #[command(flatten)]
    args: switchyard::bench::BenchArgs,
}

/// Runs `switchyard bench` with `argv` (as after `bench` on the command
/// line) in this process.
pub async fn bench(
    argv: &[&str],
) -> Result<switchyard::bench::BenchReport, switchyard::bench::BenchError> {
    use clap::Parser;
    let cli = BenchCli::try_parse_from(std::iter::once("bench").chain(argv.iter().copied()))
        .map_err(|e| switchyard::bench::BenchError::Args(e.to_string()))?;
    switchyard::bench::run(&cli.args).await
}
