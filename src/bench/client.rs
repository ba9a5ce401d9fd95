//! Connecting and the INFO / CONNECT / PING / PONG handshake.

use super::endpoint::Endpoint;
use super::error::BenchError;
use super::scan::{Frame, Msg, Scanner};
use super::stream::Stream;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// What the server announced in INFO that the benchmark cares about.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerInfo {
    /// `server_name version`, for reports.
    pub describe: String,
    pub max_payload: Option<u64>,
    pub auth_required: bool,
    pub tls_required: bool,
    /// What to sign when logging in with `--creds`.
    pub nonce: Option<String>,
}

impl ServerInfo {
    fn parse(json: &[u8]) -> Self {
        let v: serde_json::Value = serde_json::from_slice(json).unwrap_or_default();
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        // nats-server names itself by its 56-character id unless configured
        // otherwise; a prefix of it is enough to tell servers apart.
        let (id, name) = (text("server_id"), text("server_name"));
        let name = if name.is_empty() || name == id {
            id.chars().take(8).collect()
        } else {
            name
        };
        let version = text("version");
        let describe = match (name.is_empty(), version.is_empty()) {
            (_, true) => name,
            (true, false) => format!("v{version}"),
            (false, false) => format!("{name} v{version}"),
        };
        ServerInfo {
            describe: if describe.is_empty() {
                "unknown server".into()
            } else {
                describe
            },
            max_payload: v.get("max_payload").and_then(|x| x.as_u64()),
            auth_required: v
                .get("auth_required")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
            tls_required: v
                .get("tls_required")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
            nonce: v.get("nonce").and_then(|x| x.as_str()).map(str::to_string),
        }
    }
}

/// An established connection. Each task owns one and both reads and writes
/// it: publishers only peek for control lines between batches, subscribers
/// only answer the occasional PING, so no split halves are needed.
pub(crate) struct Conn {
    pub stream: Stream,
    pub scanner: Scanner,
    pub info: ServerInfo,
    pub addr: String,
    /// Messages that arrived while waiting for a PONG (only an external
    /// publisher in `sub` mode can cause these).
    pub early_msgs: u64,
    buf: Vec<u8>,
}

/// Connects, reads INFO, sends CONNECT followed by `setup` (e.g. SUB lines)
/// and a PING, and returns once the PONG proves the server processed them.
pub(crate) async fn connect(
    ep: &Endpoint,
    setup: &[u8],
    wait: Duration,
) -> Result<Conn, BenchError> {
    let stream = match timeout(wait, TcpStream::connect(&ep.addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => {
            return Err(BenchError::Connect {
                addr: ep.addr.clone(),
                source,
            });
        }
        Err(_) => return Err(timed_out(wait, format!("connecting to {}", ep.addr))),
    };
    // Request/reply latency would otherwise include Nagle delays.
    stream
        .set_nodelay(true)
        .map_err(|source| io_err(&ep.addr, "setting TCP_NODELAY", source))?;
    let mut conn = Conn {
        stream: Stream::Plain(stream),
        scanner: Scanner::new(),
        info: ServerInfo::default(),
        addr: ep.addr.clone(),
        early_msgs: 0,
        buf: vec![0; 16 * 1024],
    };
    let mut info = None;
    while info.is_none() {
        let n = conn.read_some(wait, "waiting for INFO").await?;
        let mut unexpected = None;
        let fed = conn.scanner.feed(&conn.buf[..n], |f| match f {
            Frame::Info(json) if info.is_none() => info = Some(ServerInfo::parse(json)),
            Frame::Err(e) => unexpected = Some(String::from_utf8_lossy(e).into_owned()),
            _ => {}
        });
        fed.map_err(|e| protocol(&conn.addr, e.to_string()))?;
        if let Some(message) = unexpected {
            return Err(BenchError::Server {
                addr: conn.addr,
                message,
                hint: "",
            });
        }
    }
    conn.info = info.unwrap_or_default();
    if let Some(tls) = &ep.tls {
        conn = conn.upgrade(tls, wait).await?;
    } else if conn.info.tls_required {
        return Err(BenchError::Server {
            addr: conn.addr,
            message: "the server requires TLS".into(),
            hint: " (use --tls-ca with the CA that signed its certificate)",
        });
    }
    let mut hello = ep
        .connect_line(conn.info.nonce.as_deref())
        .map_err(|message| protocol(&conn.addr, message))?;
    hello.extend_from_slice(setup);
    conn.ping_with(&hello, wait).await.map_err(|e| match e {
        BenchError::Server { addr, message, .. } if conn.info.auth_required => {
            let hint = if !ep.has_credentials() {
                " (the server requires authentication: use --user/--password, --token or --creds)"
            } else {
                ""
            };
            BenchError::Server {
                addr,
                message,
                hint,
            }
        }
        other => other,
    })?;
    Ok(conn)
}

impl Conn {
    /// Performs the TLS handshake over the plain connection that carried INFO.
    async fn upgrade(
        self,
        tls: &super::stream::TlsClient,
        wait: Duration,
    ) -> Result<Conn, BenchError> {
        let Stream::Plain(tcp) = self.stream else {
            return Ok(self);
        };
        let stream = match timeout(wait, tls.upgrade(tcp)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => return Err(io_err(&self.addr, "TLS handshake", source)),
            Err(_) => return Err(timed_out(wait, format!("TLS handshake with {}", self.addr))),
        };
        Ok(Conn {
            stream: Stream::Tls(Box::new(stream)),
            ..self
        })
    }

    /// Sends `before` and a PING, then reads until the PONG, answering PINGs
    /// and counting any messages that overtake it.
    pub(crate) async fn ping_with(
        &mut self,
        before: &[u8],
        wait: Duration,
    ) -> Result<(), BenchError> {
        let mut out = Vec::with_capacity(before.len() + 6);
        out.extend_from_slice(before);
        out.extend_from_slice(b"PING\r\n");
        self.write(&out, wait, "sending PING").await?;
        loop {
            let n = self.read_some(wait, "waiting for PONG").await?;
            let mut msgs = 0;
            let (pings, pong) = self.absorb(n, |_| msgs += 1)?;
            self.early_msgs += msgs;
            self.pong(pings, wait).await?;
            if pong {
                return Ok(());
            }
        }
    }

    /// Handles whatever the server already sent without waiting for more:
    /// a publisher that only writes would otherwise miss PINGs (and be cut
    /// off as stale on a long run) and learn about a -ERR only as a broken pipe.
    pub(crate) async fn poll_control(&mut self, wait: Duration) -> Result<(), BenchError> {
        loop {
            let n = match self.stream.try_read(&mut self.buf) {
                Ok(0) => return Err(closed(&self.addr, "publishing")),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(io_err(&self.addr, "publishing", e)),
            };
            let mut msgs = 0;
            let (pings, _) = self.absorb(n, |_| msgs += 1)?;
            self.early_msgs += msgs;
            self.pong(pings, wait).await?;
        }
    }

    /// Waits for a message on `probe` (subscribed as sid 2), then
    /// unsubscribes it and waits for the PONG after the UNSUB: the server
    /// delivers nothing on the probe after that, so no probe is counted as a
    /// benchmark message. Probes overtaken by the PONG are dropped.
    pub(crate) async fn await_probe(
        &mut self,
        probe: &[u8],
        wait: Duration,
    ) -> Result<(), BenchError> {
        loop {
            let n = self.read_some(wait, "waiting for a probe").await?;
            let mut seen = false;
            let (pings, _) = self.absorb(n, |m| seen |= m.subject() == probe)?;
            self.pong(pings, wait).await?;
            if seen {
                break;
            }
        }
        self.write(b"UNSUB 2\r\nPING\r\n", wait, "unsubscribing the probe")
            .await?;
        loop {
            let n = self.read_some(wait, "waiting for PONG").await?;
            let (pings, pong) = self.absorb(n, |_| {})?;
            self.pong(pings, wait).await?;
            if pong {
                return Ok(());
            }
        }
    }

    /// Answers `pings` server PINGs.
    pub(crate) async fn pong(&mut self, pings: usize, wait: Duration) -> Result<(), BenchError> {
        if pings > 0 {
            let out = b"PONG\r\n".repeat(pings);
            self.write(&out, wait, "answering PING").await?;
        }
        Ok(())
    }

    pub(crate) async fn write(
        &mut self,
        data: &[u8],
        wait: Duration,
        what: &str,
    ) -> Result<(), BenchError> {
        match timeout(wait, self.stream.write_all(data)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(io_err(&self.addr, what, source)),
            Err(_) => Err(timed_out(wait, format!("{what} to {}", self.addr))),
        }
    }

    /// Reads once and passes every complete message to `on`, answering PINGs
    /// and turning -ERR into an error.
    pub(crate) async fn read_msgs<F>(
        &mut self,
        wait: Duration,
        what: &str,
        on: F,
    ) -> Result<(), BenchError>
    where
        F: FnMut(Msg<'_>),
    {
        let n = self.read_some(wait, what).await?;
        let (pings, _) = self.absorb(n, on)?;
        self.pong(pings, wait).await
    }

    /// Scans the first `n` bytes of the read buffer; returns the PINGs to
    /// answer and whether a PONG came.
    fn absorb<F>(&mut self, n: usize, mut on: F) -> Result<(usize, bool), BenchError>
    where
        F: FnMut(Msg<'_>),
    {
        let (mut pings, mut pong, mut err) = (0, false, None);
        let fed = self.scanner.feed(&self.buf[..n], |f| match f {
            Frame::Msg(m) => on(m),
            Frame::Ping => pings += 1,
            Frame::Pong => pong = true,
            Frame::Err(e) => err = Some(String::from_utf8_lossy(e).into_owned()),
            Frame::Ok | Frame::Info(_) => {}
        });
        fed.map_err(|e| protocol(&self.addr, e.to_string()))?;
        match err {
            Some(message) => Err(BenchError::Server {
                addr: self.addr.clone(),
                message,
                hint: "",
            }),
            None => Ok((pings, pong)),
        }
    }

    async fn read_some(&mut self, wait: Duration, what: &str) -> Result<usize, BenchError> {
        match timeout(wait, self.stream.read(&mut self.buf)).await {
            Ok(Ok(0)) => Err(closed(&self.addr, what)),
            Ok(Ok(n)) => Ok(n),
            Ok(Err(source)) => Err(io_err(&self.addr, what, source)),
            Err(_) => Err(timed_out(wait, format!("{what} from {}", self.addr))),
        }
    }
}

pub(crate) fn io_err(addr: &str, what: &str, source: std::io::Error) -> BenchError {
    BenchError::Io {
        context: format!("{what} ({addr})"),
        source,
    }
}

fn closed(addr: &str, what: &str) -> BenchError {
    let eof = std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "connection closed by the server",
    );
    io_err(addr, what, eof)
}

pub(crate) fn protocol(addr: &str, message: String) -> BenchError {
    BenchError::Protocol {
        addr: addr.to_string(),
        message,
    }
}

pub(crate) fn timed_out(wait: Duration, what: String) -> BenchError {
    BenchError::Timeout {
        what,
        secs: wait.as_secs(),
    }
}
