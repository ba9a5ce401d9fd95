//! What routes say beyond interest and messages: later INFOs (a server
//! the peer has just met, which this server then dials; the peer's client
//! URLs; its lame duck mode), the `$SYS` requests every server of the
//! cluster answers, and the client URLs of the cluster, which clients are
//! told (`connect_urls`) so they can fail over.

use super::info::info_line;
use super::state::RouteEntry;
use crate::protocol::{RouteInfo, encode_info};
use crate::server::observe::ServerView;
use crate::server::shared::Shared;
use crate::tenant::Account;
use bytes::BytesMut;
use std::sync::Arc;

/// Answers a `$SYS.REQ.SERVER.*` request that came over a route, as a
/// system-account client's is answered: once, by this server.
pub(super) fn answer_system_request(
    server: &Arc<Shared>,
    account: &Arc<Account>,
    subject: &[u8],
    reply: Option<&[u8]>,
    payload: &[u8],
) {
    let Some(reply) = reply else {
        return;
    };
    let Some(kind) = crate::monitor::server_request(subject, &server.info.server_id) else {
        return;
    };
    let view = ServerView::new(server.clone());
    if let Some(answer) = crate::monitor::answer_system_request(&view, kind, payload) {
        server.publish(account, reply, &answer);
    }
}

/// A later INFO on the route `entry`: about the peer itself (its client
/// URLs, lame duck mode), or about another server it has met.
pub(super) fn on_info(server: &Arc<Shared>, entry: &Arc<RouteEntry>, info: RouteInfo) {
    if info.server_id.is_empty() || info.server_id == server.info.server_id {
        return;
    }
    if info.server_id != entry.remote_id {
        if server.cluster.is_connected(&info.server_id) {
            return;
        }
        let url = match &info.ip {
            Some(ip) => ip.clone(),
            None if !info.host.is_empty() => format!("nats-route://{}:{}/", info.host, info.port),
            None => return,
        };
        tracing::debug!(peer = %info.server_name, %url, "route to a gossiped server");
        server.cluster.learn(url);
        return;
    }
    if info.ldm {
        entry
            .lame_duck
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    set_client_urls(
        server,
        &entry.remote_id,
        if info.ldm {
            Vec::new()
        } else {
            info.connect_urls
        },
    );
}

/// Records a peer's client URLs and, when they change, tells the
/// clients.
pub(super) fn set_client_urls(server: &Shared, peer: &str, urls: Vec<String>) {
    if server.cluster.set_client_urls(peer, urls) {
        tell_clients(server);
    }
}

/// Sends every client that takes asynchronous INFO the cluster's client
/// URLs as they are now.
pub(super) fn tell_clients(server: &Shared) {
    if server
        .config
        .cluster
        .as_ref()
        .is_some_and(|c| c.no_advertise)
    {
        return;
    }
    let mut line = BytesMut::new();
    encode_info(&mut line, &server.client_info());
    for client in server.clients.iter() {
        if client.takes_async_info() {
            client.control(|b| b.extend_from_slice(&line));
        }
    }
}

/// Tells every peer this server entered lame duck mode (its route INFO
/// again, with `ldm`), so they stop offering its client URL to clients.
pub(in crate::server) fn announce_lame_duck(server: &Shared) {
    let line = info_line(&super::info::route_info(server));
    for route in server.cluster.live() {
        route.handle.control(|b| b.extend_from_slice(&line));
    }
}

/// Tells the other routes about a server that has just joined, so they
/// dial it too (nats-server's gossip: its INFO with the URL to dial in
/// `ip`, marked not to be passed on).
pub(super) fn introduce_to_peers(server: &Shared, entry: &Arc<RouteEntry>, info: &RouteInfo) {
    let others: Vec<Arc<RouteEntry>> = server
        .cluster
        .live()
        .into_iter()
        .filter(|e| !Arc::ptr_eq(e, entry))
        .collect();
    if others.is_empty() || info.gossip_mode == 1 || info.port == 0 {
        return;
    }
    let host = match info.host.as_str() {
        "" | "0.0.0.0" | "::" => entry.handle.peer.ip().to_string(),
        h => h.to_string(),
    };
    let mut told = info.clone();
    told.nonce = None;
    told.ip = Some(format!("nats-route://{host}:{}/", info.port));
    told.gossip_mode = 1;
    let line = info_line(&told);
    for other in others {
        other.handle.control(|b| b.extend_from_slice(&line));
    }
}
