//! What this server says about itself on a route: its route INFO (sent
//! when a route forms, and again in lame duck mode), and the `$SYS`
//! subjects it answers for the whole cluster.

use crate::protocol::{Limits, RouteInfo};
use crate::server::shared::Shared;
use bytes::{BufMut, Bytes, BytesMut};
use std::sync::atomic::Ordering;

/// The route protocol level announced: accounts on routes, no message
/// tracing (nats-server's `RouteProtoV2`).
const ROUTE_PROTO: i32 = 2;

/// This server's route INFO.
pub(super) fn route_info(server: &Shared) -> RouteInfo {
    let cluster = server.config.cluster.as_ref();
    let (host, port) = match cluster.and_then(|c| c.advertise.as_deref()) {
        Some(adv) => match adv.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().unwrap_or(0)),
            None => (adv.to_string(), 0),
        },
        // Bound to every interface, the host goes as `0.0.0.0` (as
        // nats-server's does): a peer that passes it on substitutes the
        // address it sees this server connect from.
        None => match *server.route_addr.lock() {
            Some(a) => (a.ip().to_string(), a.port()),
            None => (String::new(), 0),
        },
    };
    let urls = if server.lame_duck.load(Ordering::Relaxed) {
        Vec::new()
    } else {
        server.client_urls.clone()
    };
    RouteInfo {
        server_id: server.info.server_id.clone(),
        server_name: server.info.server_name.clone(),
        version: server.info.version.clone(),
        proto: ROUTE_PROTO,
        host,
        port,
        headers: true,
        max_payload: server.config.max_payload,
        cluster: cluster.and_then(|c| c.name.clone()).unwrap_or_default(),
        connect_urls: urls,
        ldm: server.lame_duck.load(Ordering::Relaxed),
        auth_required: cluster.is_some_and(|c| c.user.is_some()),
        tls_required: server.route_tls.is_some(),
        switchyard_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        ..RouteInfo::default()
    }
}

/// `INFO {...}\r\n` of a route INFO.
pub(super) fn info_line(info: &RouteInfo) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_slice(b"INFO ");
    // Serialising a struct of strings and numbers cannot fail.
    b.put_slice(&serde_json::to_vec(info).unwrap_or_default());
    b.put_slice(b"\r\n");
    b
}

pub(super) fn limits(server: &Shared) -> Limits {
    Limits {
        max_control_line: server.config.max_control_line.saturating_mul(16),
        max_payload: server.config.max_payload,
    }
}

/// The `$SYS` subjects this server answers for the whole cluster, which
/// the peers must route here: requests to every server, and to this one.
pub(super) fn system_interest(own_id: &str) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"$SYS.REQ.SERVER.PING"),
        Bytes::from_static(b"$SYS.REQ.SERVER.PING.*"),
        Bytes::from(format!("$SYS.REQ.SERVER.{own_id}.*")),
    ]
}
