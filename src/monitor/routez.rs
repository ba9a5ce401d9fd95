//! `/routez`: the cluster's routes with nats-server's `Routez`/`RouteInfo`
//! field names; `subs=1` adds each route's `subscriptions_list` (the
//! interest the peer holds here, `account subject [queue]`).

use super::error::RequestError;
use super::json::to_json;
use super::observer::{Observer, RouteSnapshot};
use super::query::Query;
use super::time::{go_duration, rfc3339};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// nats-server's `RoutezOptions` names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Options {
    pub subscriptions: bool,
}

impl Options {
    pub fn from_query(q: &Query) -> Result<Options, RequestError> {
        Ok(Options {
            subscriptions: q.bool("subs")?,
        })
    }
}

/// nats-server's `/routez` document, one field per key.
#[derive(Debug, Serialize)]
pub struct Routez {
    pub server_id: String,
    pub server_name: String,
    pub now: String,
    pub num_routes: usize,
    pub routes: Vec<RouteInfo>,
}

/// nats-server's `RouteInfo`, one field per key (`import`/`export`
/// permissions and `account`, which only pinned routes have, are left
/// out as nats-server omits them when empty).
#[derive(Debug, Serialize)]
pub struct RouteInfo {
    pub rid: u64,
    pub remote_id: String,
    pub remote_name: String,
    pub did_solicit: bool,
    pub is_configured: bool,
    pub ip: String,
    pub port: u16,
    pub start: String,
    pub last_activity: String,
    pub rtt: String,
    pub uptime: String,
    pub idle: String,
    pub pending_size: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions_list: Vec<String>,
    pub compression: String,
}

pub fn build(observer: &dyn Observer, opts: &Options) -> Routez {
    let summary = observer.summary();
    let now = SystemTime::now();
    let routes: Vec<RouteInfo> = observer
        .routes(opts.subscriptions)
        .into_iter()
        .map(|r| info(r, now))
        .collect();
    Routez {
        server_id: summary.server_id,
        server_name: summary.server_name,
        now: rfc3339(now),
        num_routes: routes.len(),
        routes,
    }
}

pub fn render(observer: &dyn Observer, opts: &Options) -> Vec<u8> {
    to_json(&build(observer, opts))
}

fn info(r: RouteSnapshot, now: SystemTime) -> RouteInfo {
    let since = |t: SystemTime| go_duration(now.duration_since(t).unwrap_or_default());
    RouteInfo {
        rid: r.cid,
        remote_id: r.remote_id,
        remote_name: r.remote_name,
        did_solicit: r.solicited,
        is_configured: r.configured,
        ip: r.peer.ip().to_string(),
        port: r.peer.port(),
        start: rfc3339(r.started),
        last_activity: rfc3339(r.last_activity),
        rtt: r.rtt.map_or_else(|| "0s".to_string(), go_duration),
        uptime: since(r.started),
        idle: since(r.last_activity),
        pending_size: r.pending,
        in_msgs: r.traffic.in_msgs,
        out_msgs: r.traffic.out_msgs,
        in_bytes: r.traffic.in_bytes,
        out_bytes: r.traffic.out_bytes,
        subscriptions: r.subscriptions,
        subscriptions_list: r.subjects,
        compression: "not supported".to_string(),
    }
}
