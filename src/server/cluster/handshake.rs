//! Introductions on a route, both ways, and running it once introduced.
//!
//! The accepting side speaks first (its INFO); the dialling side answers
//! with CONNECT (its server id as `name`, the cluster's name, route
//! credentials) and its own INFO. A route is registered once each side
//! has the other's INFO, and then carries every account.

use super::conn::{Peer, RouteConn};
use super::gossip;
use super::info::{info_line, limits, route_info};
use super::state::{Refusal, RouteEntry};
use crate::auth::constant_time_eq;
use crate::client::{ClientHandle, CloseReason};
use crate::config::ClusterConfig;
use crate::protocol::{Dialect, RouteConnect, RouteInfo, encode_err};
use crate::server::peer_first::{First, read_first};
use crate::server::shared::Shared;
use crate::server::tls::{Refused, handshake};
use crate::server::writer;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Accepts routes until shutdown.
pub(in crate::server) async fn accept_loop(listener: TcpListener, server: Arc<Shared>) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "route accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Half-open handshakes count too: a flood of them is bounded.
        if server.cluster.live().len() + server.cluster.pending.load(Ordering::Relaxed)
            >= server.config.max_connections
        {
            tracing::warn!(%peer, "route refused: maximum connections exceeded");
            continue;
        }
        tokio::spawn(accept(stream, peer, server.clone()));
    }
}

async fn accept(mut stream: TcpStream, peer: SocketAddr, server: Arc<Shared>) {
    let _pending = Pending::new(&server);
    let line = info_line(&route_info(&server));
    match &server.route_tls {
        None => {
            if stream.write_all(&line).await.is_err() {
                return;
            }
            let (rd, wr) = stream.into_split();
            introduced(rd, wr, peer, &server).await;
        }
        // TLS before anything else, INFO after: nats-server's routes never
        // send a plaintext INFO (unlike its client and leaf ports).
        Some(tls) => match handshake(stream, None, tls.acceptor(), tls.settings.timeout).await {
            Ok(mut stream) => {
                if stream.write_all(&line).await.is_err() {
                    return;
                }
                let (rd, wr) = tokio::io::split(stream);
                introduced(rd, wr, peer, &server).await;
            }
            Err(Refused { reason, .. }) => {
                tracing::info!(%peer, ?reason, "route TLS handshake failed");
            }
        },
    }
}

/// Counts a route handshake in progress while it lives.
struct Pending<'s>(&'s Shared);

impl<'s> Pending<'s> {
    fn new(server: &'s Shared) -> Self {
        server.cluster.pending.fetch_add(1, Ordering::Relaxed);
        Pending(server)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.cluster.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The accepting side after its INFO: the peer's CONNECT, checked, then
/// its INFO; then the route runs.
async fn introduced<R, W>(mut rd: R, mut wr: W, addr: SocketAddr, server: &Arc<Shared>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let limits = limits(server);
    let deadline = server.config.auth_timeout;
    let mut buf = BytesMut::with_capacity(4096);
    let checked = match read_first(&mut rd, &mut buf, &limits, Dialect::Route, deadline).await {
        Ok(First::Connect(json)) => check_connect(server, &json),
        Ok(_) => Err(Rejected::Reason(CloseReason::AuthViolation)),
        Err(reason) => Err(Rejected::Reason(reason)),
    };
    let info = match checked {
        Ok(()) => match read_first(&mut rd, &mut buf, &limits, Dialect::Route, deadline).await {
            Ok(First::Info(json)) => serde_json::from_slice::<RouteInfo>(&json)
                .map_err(|_| Rejected::Reason(CloseReason::ProtocolViolation)),
            Ok(_) => Err(Rejected::Reason(CloseReason::ProtocolViolation)),
            Err(reason) => Err(Rejected::Reason(reason)),
        },
        Err(e) => Err(e),
    };
    let info = match info {
        Ok(info) => info,
        Err(rejected) => {
            let text = match &rejected {
                Rejected::Reason(r) => r.error_text().map(str::to_string),
                Rejected::Text(t) => Some(t.clone()),
            };
            if let Some(text) = text {
                let mut b = BytesMut::new();
                encode_err(&mut b, &text);
                let _ = tokio::time::timeout(Duration::from_secs(2), wr.write_all(&b)).await;
            }
            tracing::info!(%addr, ?rejected, "route refused");
            return;
        }
    };
    let id = server.next_id.fetch_add(1, Ordering::Relaxed);
    let handle = Arc::new(ClientHandle::new(
        id,
        server.config.max_pending,
        addr,
        server.global.name.clone(),
    ));
    run(server, handle, info, buf, rd, wr, false, None).await;
}

/// Why an accepted route was refused.
#[derive(Debug)]
enum Rejected {
    Reason(CloseReason),
    /// nats-server's words for it.
    Text(String),
}

fn check_connect(server: &Shared, json: &[u8]) -> Result<(), Rejected> {
    let connect: RouteConnect = serde_json::from_slice(json)
        .map_err(|_| Rejected::Reason(CloseReason::ProtocolViolation))?;
    if connect.lang.is_some() {
        return Err(Rejected::Reason(CloseReason::WrongRoutePort));
    }
    if let Some(gateway) = &connect.gateway {
        return Err(Rejected::Text(format!(
            "Rejecting connection from gateway \"{gateway}\" on the Route port"
        )));
    }
    let Some(cluster) = server.config.cluster.as_ref() else {
        return Err(Rejected::Reason(CloseReason::AuthViolation));
    };
    let ours = cluster.name.as_deref().unwrap_or_default();
    if connect.cluster != ours {
        return Err(Rejected::Text(format!(
            "Rejecting connection, cluster name \"{}\" does not match \"{ours}\"",
            connect.cluster
        )));
    }
    if !authorized(cluster, &connect) {
        server
            .stats
            .auth_failed(crate::login::AuthFailure::Credentials);
        return Err(Rejected::Reason(CloseReason::AuthViolation));
    }
    Ok(())
}

/// The route credentials `connect` presents are the configured ones.
fn authorized(cluster: &ClusterConfig, connect: &RouteConnect) -> bool {
    let (Some(user), Some(password)) = (&cluster.user, &cluster.password) else {
        return true;
    };
    let given_user = connect.user.as_deref().unwrap_or_default();
    let given_pass = connect.pass.as_deref().unwrap_or_default();
    // Both compared, whatever the first says, so timing tells nothing.
    let user_ok = constant_time_eq(given_user.as_bytes(), user.as_bytes());
    let pass_ok = constant_time_eq(given_pass.as_bytes(), password.as_bytes());
    user_ok & pass_ok
}

/// Registers and runs an introduced route until it ends; returns why, or
/// `None` when it was refused as a duplicate or a route to this server.
/// `configured`: the seed URL it was dialled from.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run<R, W>(
    server: &Arc<Shared>,
    handle: Arc<ClientHandle>,
    info: RouteInfo,
    buf: BytesMut,
    rd: R,
    wr: W,
    solicited: bool,
    configured: Option<&str>,
) -> Option<CloseReason>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let ours = server
        .config
        .cluster
        .as_ref()
        .and_then(|c| c.name.as_deref())
        .unwrap_or_default();
    if !info.cluster.is_empty() && info.cluster != ours {
        tracing::warn!(peer = %info.server_name, cluster = %info.cluster, "route to another cluster closed");
        return Some(CloseReason::ProtocolViolation);
    }
    let entry = Arc::new(RouteEntry {
        handle: handle.clone(),
        remote_id: info.server_id.clone(),
        remote_name: info.server_name.clone(),
        solicited,
        configured: configured.is_some(),
        subscriptions: AtomicUsize::new(0),
        started: SystemTime::now(),
        lame_duck: AtomicBool::new(info.ldm),
        listed: AtomicBool::new(false),
    });
    let tiebreak = info.switchyard_version.is_some();
    match server
        .cluster
        .register(&server.info.server_id, entry.clone(), tiebreak)
    {
        Ok(Some(replaced)) => replaced.handle.kill(CloseReason::DuplicateRoute),
        Ok(None) => true,
        Err(Refusal::ToSelf) => return None,
        Err(Refusal::Duplicate) => {
            tracing::debug!(peer = %info.server_name, "duplicate route closed");
            return None;
        }
    };
    let writer = tokio::spawn(writer::write_loop(
        wr,
        handle.clone(),
        server.config.write_deadline,
    ));
    let peer = Peer {
        name: info.server_name.clone(),
        headers: info.headers,
        switchyard: info.switchyard_version.is_some(),
    };
    let mut conn = RouteConn::new(handle.clone(), server.clone(), peer, buf, entry.clone());
    if !info.ldm {
        gossip::set_client_urls(server, &info.server_id, info.connect_urls.clone());
    }
    conn.start();
    tracing::info!(cid = handle.id, peer = %info.server_name, solicited, "route connected");
    gossip::introduce_to_peers(server, &entry, &info);
    let reason = conn.read_loop(rd).await;
    conn.unregister();
    if server.cluster.retire(&entry) {
        gossip::tell_clients(server);
    }
    tracing::info!(cid = handle.id, peer = %info.server_name, ?reason, "route disconnected");
    handle.outbound.close();
    if reason.flushes() {
        let abort = writer.abort_handle();
        if tokio::time::timeout(server.config.write_deadline, writer)
            .await
            .is_err()
        {
            abort.abort();
        }
    } else {
        writer.abort();
    }
    Some(reason)
}
