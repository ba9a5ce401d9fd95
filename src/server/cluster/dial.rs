//! The dialling side: one task per seed route (`cluster.routes`), kept
//! connected for the server's life, and one per server a peer tells of
//! (gossip), tried `1 + connect_retries` times. A task does not dial while
//! a route to its server exists (whoever dialled it); a seed that turns
//! out to be this server is dropped.

use super::handshake::run;
use super::info::{info_line, limits, route_info};
use super::state::MAX_KNOWN_ROUTES;
use crate::client::{ClientHandle, CloseReason};
use crate::config::{RemoteTls, RouteUrl, parse_route_url};
use crate::protocol::{Dialect, RouteConnect, RouteInfo};
use crate::server::peer_first::{First, read_first};
use crate::server::shared::Shared;
use crate::server::tls::connector;
use bytes::{BufMut, BytesMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Time to open the TCP connection and read the peer's INFO.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between attempts (nats-server's `DEFAULT_ROUTE_CONNECT`).
const RETRY: Duration = Duration::from_secs(1);

/// How one attempt ended.
enum Attempt {
    /// The route ran, and ended for this reason.
    Ran(CloseReason),
    /// The URL is this server's own route port.
    ToSelf,
    /// A route to that server exists already.
    Duplicate,
    /// Nothing ran: unreachable, refused, or not a route port.
    Failed(String),
}

/// `host:port` of a route URL, the key of the URLs being dialled.
fn dial_key(url: &RouteUrl) -> String {
    format!("{}:{}", url.host, url.port)
}

/// Keeps a seed route connected until shutdown.
pub(in crate::server) async fn run_seed(server: Arc<Shared>, url: String) {
    let Ok(parsed) = parse_route_url(&url) else {
        return;
    };
    server.cluster.dialling.lock().insert(dial_key(&parsed));
    let mut shutdown = server.shutdown.subscribe();
    let mut peer_id: Option<String> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let connected = peer_id
            .as_deref()
            .is_some_and(|id| server.cluster.is_connected(id));
        if !connected {
            match attempt(&server, &parsed, Some(&url), &mut peer_id).await {
                Attempt::ToSelf => {
                    tracing::debug!(%url, "seed route is this server");
                    return;
                }
                Attempt::Failed(why) => tracing::debug!(%url, %why, "route attempt failed"),
                Attempt::Ran(reason) => tracing::debug!(%url, ?reason, "route ended"),
                Attempt::Duplicate => {}
            }
        }
        let jitter = Duration::from_millis(fastrand::u64(0..100));
        tokio::select! {
            _ = tokio::time::sleep(RETRY + jitter) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Dials the servers peers tell of (`ClusterState::learn`), until
/// shutdown.
pub(in crate::server) async fn learner(server: Arc<Shared>) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let next = server.cluster.learnt.lock().pop_front();
        match next {
            Some(url) => learn(&server, url),
            None => tokio::select! {
                _ = server.cluster.learnt_wake.notified() => {}
                _ = shutdown.changed() => return,
            },
        }
    }
}

/// Dials a server a peer told of, unless it is being dialled already.
fn learn(server: &Arc<Shared>, url: String) {
    let Ok(parsed) = parse_route_url(&url) else {
        return;
    };
    {
        let mut dialling = server.cluster.dialling.lock();
        if dialling.len() >= MAX_KNOWN_ROUTES || !dialling.insert(dial_key(&parsed)) {
            return;
        }
    }
    let server = server.clone();
    tokio::spawn(async move {
        let tries = 1 + server
            .config
            .cluster
            .as_ref()
            .map_or(0, |c| c.connect_retries);
        let mut peer_id = None;
        let mut left = tries;
        while left > 0 && !*server.shutdown.borrow() {
            left -= 1;
            match attempt(&server, &parsed, None, &mut peer_id).await {
                Attempt::Ran(_) => left = tries,
                Attempt::ToSelf | Attempt::Duplicate => break,
                Attempt::Failed(why) => {
                    tracing::debug!(%url, %why, "gossiped route attempt failed")
                }
            }
            tokio::time::sleep(RETRY).await;
        }
        server.cluster.dialling.lock().remove(&dial_key(&parsed));
    });
}

/// One attempt: dial, introduce, run until the route ends.
async fn attempt(
    server: &Arc<Shared>,
    url: &RouteUrl,
    seed: Option<&str>,
    peer_id: &mut Option<String>,
) -> Attempt {
    let tcp = match tokio::time::timeout(
        DIAL_TIMEOUT,
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Attempt::Failed(e.to_string()),
        Err(_) => return Attempt::Failed("timed out connecting".to_string()),
    };
    let _ = tcp.set_nodelay(true);
    // Routes start TLS at once, before any INFO (nats-server's route
    // protocol; unlike clients and leaf nodes, which read INFO first).
    let tls = server.config.cluster.as_ref().and_then(|c| c.tls.as_ref());
    match tls {
        Some(tls) => {
            let settings = RemoteTls {
                ca_file: tls.ca_file.clone(),
                cert_file: Some(tls.cert_file.clone()),
                key_file: Some(tls.key_file.clone()),
                handshake_first: true,
                server_name: None,
            };
            let connector = match connector(&settings) {
                Ok(c) => c,
                Err(e) => return Attempt::Failed(format!("tls: {e}")),
            };
            let Ok(name) = rustls_pki_types::ServerName::try_from(url.host.clone()) else {
                return Attempt::Failed("tls: bad server name".to_string());
            };
            let stream =
                match tokio::time::timeout(DIAL_TIMEOUT, connector.connect(name, tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return Attempt::Failed(format!("tls: {e}")),
                    Err(_) => return Attempt::Failed("tls: timed out".to_string()),
                };
            let (rd, wr) = tokio::io::split(stream);
            greeted(server, url, seed, peer_id, rd, wr).await
        }
        None if url.tls => {
            Attempt::Failed("a tls:// route URL needs cluster.tls to be set".to_string())
        }
        None => {
            let (rd, wr) = tcp.into_split();
            greeted(server, url, seed, peer_id, rd, wr).await
        }
    }
}

/// Reads the peer's INFO on a connected (and, with TLS, secured) route,
/// then introduces this server.
async fn greeted<R, W>(
    server: &Arc<Shared>,
    url: &RouteUrl,
    seed: Option<&str>,
    peer_id: &mut Option<String>,
    mut rd: R,
    wr: W,
) -> Attempt
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut buf = BytesMut::with_capacity(4096);
    let info = match read_first(
        &mut rd,
        &mut buf,
        &limits(server),
        Dialect::Route,
        DIAL_TIMEOUT,
    )
    .await
    {
        Ok(First::Info(json)) => match serde_json::from_slice::<RouteInfo>(&json) {
            Ok(info) => info,
            Err(e) => return Attempt::Failed(format!("unreadable INFO: {e}")),
        },
        Ok(First::Err(text)) => return Attempt::Failed(format!("refused: {text}")),
        Ok(_) => return Attempt::Failed("not a route port".to_string()),
        // A TLS route port says nothing until the handshake starts.
        Err(reason) => {
            return Attempt::Failed(format!(
                "reading INFO: {reason:?} (if the peer's routes use TLS, set cluster.tls)"
            ));
        }
    };
    if info.server_id == server.info.server_id {
        return Attempt::ToSelf;
    }
    *peer_id = Some(info.server_id.clone());
    if server.cluster.is_connected(&info.server_id) {
        return Attempt::Duplicate;
    }
    if info.tls_required
        && server
            .config
            .cluster
            .as_ref()
            .is_none_or(|c| c.tls.is_none())
    {
        return Attempt::Failed("the peer requires TLS; set cluster.tls".to_string());
    }
    introduce(server, url, info, buf, rd, wr, seed).await
}

/// Sends CONNECT, INFO and a PING, and runs the route.
async fn introduce<R, W>(
    server: &Arc<Shared>,
    url: &RouteUrl,
    info: RouteInfo,
    buf: BytesMut,
    rd: R,
    mut wr: W,
    seed: Option<&str>,
) -> Attempt
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let cluster = server.config.cluster.as_ref();
    let (user, pass) = match (&url.user, cluster) {
        (Some(u), _) => (Some(u.clone()), url.password.clone()),
        (None, Some(c)) => (c.user.clone(), c.password.clone()),
        (None, None) => (None, None),
    };
    let connect = RouteConnect {
        echo: true,
        verbose: false,
        pedantic: false,
        user,
        pass,
        tls_required: info.tls_required,
        headers: true,
        name: server.info.server_id.clone(),
        cluster: cluster.and_then(|c| c.name.clone()).unwrap_or_default(),
        lang: None,
        gateway: None,
    };
    let mut hello = BytesMut::new();
    hello.put_slice(b"CONNECT ");
    hello.put_slice(&serde_json::to_vec(&connect).unwrap_or_default());
    hello.put_slice(b"\r\n");
    hello.extend_from_slice(&info_line(&route_info(server)));
    hello.put_slice(b"PING\r\n");
    if wr.write_all(&hello).await.is_err() {
        return Attempt::Failed("writing CONNECT".to_string());
    }
    let id = server.next_id.fetch_add(1, Ordering::Relaxed);
    let addr = std::net::SocketAddr::new(
        url.host
            .parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        url.port,
    );
    let handle = Arc::new(ClientHandle::new(
        id,
        server.config.max_pending,
        addr,
        server.global.name.clone(),
    ));
    match run(server, handle, info, buf, rd, wr, true, seed).await {
        Some(reason) => Attempt::Ran(reason),
        None => Attempt::Duplicate,
    }
}
