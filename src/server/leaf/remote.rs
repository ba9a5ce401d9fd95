//! The leaf side: one task per `[[leafnodes.remotes]]` entry, which dials
//! the hub (its URLs in turn, then those the hub advertised), reads its
//! INFO, upgrades to TLS when asked, logs in with CONNECT and runs the
//! connection; when it ends, dials again after a back-off with jitter.

use super::conn::{Filters, LOOP_DELAY, LeafConn, Peer};
use super::handshake::run;
use crate::client::{ClientHandle, CloseReason};
use crate::config::{LeafRemote, RemoteUrl, parse_remote_url};
use crate::login::Session;
use crate::protocol::{Dialect, LeafConnect, Limits, PeerInfo};
use crate::server::peer_first::{First, read_first};
use crate::server::shared::Shared;
use crate::server::tls::connector;
use bytes::{BufMut, Bytes, BytesMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The longest pause between attempts.
const MAX_DELAY: Duration = Duration::from_secs(30);
/// A connection that lasted this long resets the back-off.
const STABLE: Duration = Duration::from_secs(10);
/// Time allowed to open the TCP connection and read the hub's INFO.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Most URLs kept from the hub's `leafnode_urls`.
const MAX_LEARNED_URLS: usize = 32;

/// Why one attempt to join the hub failed before it ran.
#[derive(Debug, Error)]
enum DialError {
    #[error("bad URL: {0}")]
    Url(String),
    #[error("connecting: {0}")]
    Connect(std::io::Error),
    #[error("timed out connecting")]
    Timeout,
    #[error("the hub refused: {0}")]
    Refused(String),
    #[error("not a leaf node port (no leafnode_urls in INFO)")]
    WrongPort,
    #[error("reading the hub's INFO: {0:?}")]
    Handshake(CloseReason),
    #[error("tls: {0}")]
    Tls(String),
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("local tenant {0:?} does not exist")]
    NoTenant(String),
}

/// What one attempt came to.
struct Ended {
    reason: CloseReason,
    looped: bool,
    learned: Vec<String>,
}

/// Keeps this server joined to `remote`'s hub until shutdown.
pub(in crate::server) async fn run_remote(server: Arc<Shared>, remote: LeafRemote) {
    let mut shutdown = server.shutdown.subscribe();
    let mut urls = remote.urls.clone();
    let mut next = 0usize;
    let mut delay = remote.reconnect_delay;
    loop {
        let url = urls[next % urls.len()].clone();
        next += 1;
        let started = Instant::now();
        let pause = match join(&server, &remote, &url).await {
            Ok(ended) => {
                tracing::info!(url = %url, reason = ?ended.reason, "leaf node connection to hub ended");
                for u in ended.learned {
                    if !urls.contains(&u) && urls.len() < remote.urls.len() + MAX_LEARNED_URLS {
                        urls.push(u);
                    }
                }
                if started.elapsed() >= STABLE {
                    delay = remote.reconnect_delay;
                }
                if ended.looped { LOOP_DELAY } else { delay }
            }
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "leaf node could not join hub");
                delay
            }
        };
        // Lame duck closed this connection on the way out; do not redial.
        if server.lame_duck.load(Ordering::Acquire) {
            return;
        }
        delay = (delay * 2).min(MAX_DELAY);
        // Jitter: up to a quarter more, so leaves of a restarted hub do
        // not all dial in the same instant.
        let jitter = pause.mul_f64(fastrand::f64() / 4.0);
        tokio::select! {
            _ = tokio::time::sleep(pause + jitter) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// One attempt: dial, handshake, run until the connection ends.
async fn join(server: &Arc<Shared>, remote: &LeafRemote, url: &str) -> Result<Ended, DialError> {
    let parsed = parse_remote_url(url).map_err(DialError::Url)?;
    let account = match &remote.tenant {
        None => server.global.clone(),
        Some(name) => server
            .tenancy()
            .accounts
            .get(name.as_str())
            .cloned()
            .ok_or_else(|| DialError::NoTenant(name.clone()))?,
    };
    let mut tcp = tokio::time::timeout(
        DIAL_TIMEOUT,
        TcpStream::connect((parsed.host.as_str(), parsed.port)),
    )
    .await
    .map_err(|_| DialError::Timeout)?
    .map_err(DialError::Connect)?;
    let _ = tcp.set_nodelay(true);
    let tls_first = remote.tls.as_ref().is_some_and(|t| t.handshake_first);
    if tls_first {
        let tls = upgrade(tcp, remote, &parsed).await?;
        let (mut rd, wr) = tokio::io::split(tls);
        let (info, buf) = read_info(server, &mut rd).await?;
        return Ok(login(server, remote, &parsed, account, info, buf, rd, wr).await);
    }
    let (info, buf) = read_info(server, &mut tcp).await?;
    if info.tls_required || parsed.tls || remote.tls.is_some() {
        let tls = upgrade(tcp, remote, &parsed).await?;
        let (rd, wr) = tokio::io::split(tls);
        return Ok(login(server, remote, &parsed, account, info, buf, rd, wr).await);
    }
    let (rd, wr) = tcp.into_split();
    Ok(login(server, remote, &parsed, account, info, buf, rd, wr).await)
}

async fn upgrade(
    tcp: TcpStream,
    remote: &LeafRemote,
    url: &RemoteUrl,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, DialError> {
    let settings = remote.tls.clone().unwrap_or_default();
    let connector = connector(&settings).map_err(|e| DialError::Tls(e.to_string()))?;
    let name = settings
        .server_name
        .clone()
        .unwrap_or_else(|| url.host.clone());
    let name = rustls_pki_types::ServerName::try_from(name)
        .map_err(|e| DialError::Tls(format!("server name: {e}")))?;
    tokio::time::timeout(DIAL_TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| DialError::Timeout)?
        .map_err(|e| DialError::Tls(e.to_string()))
}

/// Reads the hub's INFO; what follows it stays in the returned buffer.
async fn read_info<R: AsyncRead + Unpin>(
    server: &Shared,
    rd: &mut R,
) -> Result<(PeerInfo, BytesMut), DialError> {
    let limits = Limits {
        max_control_line: server.config.max_control_line,
        max_payload: server.config.max_payload,
    };
    let mut buf = BytesMut::with_capacity(4096);
    let info = match read_first(rd, &mut buf, &limits, Dialect::Leaf, DIAL_TIMEOUT).await {
        Ok(First::Info(json)) => serde_json::from_slice::<PeerInfo>(&json)
            .map_err(|_| DialError::Handshake(CloseReason::ProtocolViolation))?,
        Ok(First::Err(text)) => return Err(DialError::Refused(text)),
        Ok(First::Connect(_)) => return Err(DialError::Handshake(CloseReason::ProtocolViolation)),
        Err(reason) => return Err(DialError::Handshake(reason)),
    };
    if info.leafnode_urls.is_none() {
        return Err(DialError::WrongPort);
    }
    Ok((info, buf))
}

/// Sends CONNECT and runs the connection.
#[allow(clippy::too_many_arguments)]
async fn login<R, W>(
    server: &Arc<Shared>,
    remote: &LeafRemote,
    url: &RemoteUrl,
    account: Arc<crate::tenant::Account>,
    info: PeerInfo,
    buf: BytesMut,
    rd: R,
    wr: W,
) -> Ended
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let learned = info
        .leafnode_urls
        .clone()
        .unwrap_or_default()
        .into_iter()
        .take(MAX_LEARNED_URLS)
        .map(|hp| format!("nats-leaf://{hp}"))
        .collect();
    let connect = match connect_for(server, remote, url, &info, &account.name) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %DialError::Credentials(e), "leaf node remote cannot log in");
            return Ended {
                reason: CloseReason::AuthViolation,
                looped: false,
                learned,
            };
        }
    };
    let id = server.next_id.fetch_add(1, Ordering::Relaxed);
    // The hub's address as dialled, for `/leafz` (unspecified for a host name).
    let peer_addr =
        std::net::SocketAddr::new(url.host.parse().unwrap_or([0, 0, 0, 0].into()), url.port);
    let handle = Arc::new(ClientHandle::new(
        id,
        server.config.max_pending,
        peer_addr,
        account.name.clone(),
    ));
    handle.control(|b| {
        b.put_slice(b"CONNECT ");
        if serde_json::to_writer(b.writer(), &connect).is_err() {
            b.put_slice(b"{}");
        }
        b.put_slice(b"\r\n");
    });
    let session = Session::unbound(account, server.config.max_payload);
    let peer = Peer {
        name: if info.server_name.is_empty() {
            info.server_id.clone()
        } else {
            info.server_name.clone()
        },
        headers: info.headers,
        switchyard: info.switchyard_version.is_some(),
    };
    let filters = Filters {
        deny_in: remote
            .deny_imports
            .iter()
            .map(|s| Bytes::from(s.clone()))
            .collect(),
        deny_out: remote
            .deny_exports
            .iter()
            .map(|s| Bytes::from(s.clone()))
            .collect(),
    };
    let conn = LeafConn::new(handle, server.clone(), session, peer, filters, buf);
    let (reason, looped) = run(conn, rd, wr, true).await;
    Ended {
        reason,
        looped,
        learned,
    }
}

/// The CONNECT for the hub: this server's identity and the remote's
/// credentials, the nonce signed where a key is configured.
fn connect_for(
    server: &Shared,
    remote: &LeafRemote,
    url: &RemoteUrl,
    info: &PeerInfo,
    account: &str,
) -> Result<LeafConnect, String> {
    let mut c = LeafConnect {
        version: Some(server.info.version.clone()),
        server_id: Some(server.info.server_id.clone()),
        name: Some(server.info.server_name.clone()),
        headers: true,
        remote_account: Some(account.to_string()),
        switchyard_version: server.info.switchyard_version.clone(),
        ..LeafConnect::default()
    };
    let nonce = info.nonce.as_deref().unwrap_or_default().as_bytes();
    let sign = |seed: &str| -> Result<(String, String), String> {
        let kp = nkeys::KeyPair::from_seed(seed).map_err(|e| e.to_string())?;
        let sig = kp.sign(nonce).map_err(|e| e.to_string())?;
        Ok((kp.public_key(), data_encoding::BASE64URL_NOPAD.encode(&sig)))
    };
    if let Some(path) = &remote.credentials {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (jwt, seed) =
            crate::auth::jwt::parse_creds(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let (_, sig) = sign(&seed)?;
        c.jwt = Some(jwt);
        c.sig = Some(sig);
    } else if let Some(seed) = &remote.nkey {
        let (public, sig) = sign(seed)?;
        c.nkey = Some(public);
        c.sig = Some(sig);
    }
    let user = url.user.clone().or_else(|| remote.user.clone());
    let password = url.password.clone().or_else(|| remote.password.clone());
    match (user, password) {
        (Some(u), Some(p)) => {
            c.user = Some(u);
            c.pass = Some(p);
        }
        // A URL with only a user part carries a token, as in nats-server.
        (Some(token), None) => c.auth_token = Some(token),
        _ => {}
    }
    if let Some(token) = &remote.token {
        c.auth_token = Some(token.clone());
    }
    Ok(c)
}
