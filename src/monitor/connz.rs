//! `/connz`: the live client connections, sorted and paged as
//! nats-server's (`sort`, `limit`, `offset`, `subs`, `acc`, `cid`).

use super::query::{Query, bad};
use super::time::{go_duration, rfc3339, since, uptime};
use super::{RequestError, to_json};
use crate::server::{ConnSnapshot, Observer};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::time::SystemTime;

/// nats-server's default page size.
pub const DEFAULT_LIMIT: usize = 1024;

/// Connection list options; the JSON names are nats-server's `ConnzOptions`
/// (fields it has that we do not, such as `auth` or `state`, are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Options {
    pub sort: String,
    pub subscriptions: bool,
    pub offset: usize,
    /// 0 means the default, 1024.
    pub limit: usize,
    pub acc: Option<String>,
    pub cid: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Cid,
    Start,
    Subs,
    Pending,
    MsgsTo,
    MsgsFrom,
    BytesTo,
    BytesFrom,
    Last,
    Idle,
    Uptime,
}

const SORT_KEYS: &str =
    "cid, start, subs, pending, msgs_to, msgs_from, bytes_to, bytes_from, last, idle, uptime";

impl SortBy {
    fn parse(s: &str) -> Result<SortBy, RequestError> {
        Ok(match s {
            "" | "cid" => SortBy::Cid,
            "start" => SortBy::Start,
            "subs" => SortBy::Subs,
            "pending" => SortBy::Pending,
            "msgs_to" => SortBy::MsgsTo,
            "msgs_from" => SortBy::MsgsFrom,
            "bytes_to" => SortBy::BytesTo,
            "bytes_from" => SortBy::BytesFrom,
            "last" => SortBy::Last,
            "idle" => SortBy::Idle,
            "uptime" => SortBy::Uptime,
            other => return Err(bad("sort", other, &format!("expected one of {SORT_KEYS}"))),
        })
    }
}

impl Options {
    pub fn from_query(q: &Query) -> Result<Options, RequestError> {
        Ok(Options {
            sort: q.get("sort").unwrap_or_default().to_string(),
            subscriptions: q.bool("subs")?,
            offset: q.usize("offset")?.unwrap_or(0),
            limit: q.usize("limit")?.unwrap_or(0),
            acc: q.text("acc").map(str::to_string),
            cid: q.usize("cid")?.unwrap_or(0) as u64,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct Connz {
    pub server_id: String,
    pub now: String,
    pub num_connections: usize,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub connections: Vec<ConnInfo>,
}

#[derive(Debug, Serialize)]
pub struct ConnInfo {
    pub cid: u64,
    pub kind: &'static str,
    #[serde(rename = "type")]
    pub client_type: &'static str,
    pub ip: String,
    pub port: u16,
    pub start: String,
    pub last_activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt: Option<String>,
    pub uptime: String,
    pub idle: String,
    pub pending_bytes: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorized_user: Option<String>,
    pub account: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions_list: Vec<String>,
}

pub fn build(observer: &Observer, opts: &Options) -> Result<Connz, RequestError> {
    let sort = SortBy::parse(&opts.sort)?;
    if let Some(acc) = &opts.acc
        && !observer.has_account(acc)
    {
        return Err(RequestError::UnknownAccount(acc.clone()));
    }
    let now = SystemTime::now();
    let mut conns: Vec<ConnSnapshot> = observer
        .connections(opts.subscriptions)
        .into_iter()
        .filter(|c| opts.acc.as_deref().is_none_or(|a| *c.account == *a))
        .filter(|c| opts.cid == 0 || c.cid == opts.cid)
        .collect();
    sort_conns(&mut conns, sort, now);
    let total = conns.len();
    let limit = if opts.limit == 0 {
        DEFAULT_LIMIT
    } else {
        opts.limit
    };
    let connections: Vec<ConnInfo> = conns
        .into_iter()
        .skip(opts.offset)
        .take(limit)
        .map(|c| info(c, now))
        .collect();
    Ok(Connz {
        server_id: observer.summary().server_id,
        now: rfc3339(now),
        num_connections: connections.len(),
        total,
        offset: opts.offset,
        limit,
        connections,
    })
}

pub fn render(observer: &Observer, opts: &Options) -> Result<Vec<u8>, RequestError> {
    build(observer, opts).map(|c| to_json(&c))
}

/// Ascending by cid or start; by uptime shortest first (as nats-server);
/// every other key largest first. Ties keep cid order.
fn sort_conns(conns: &mut [ConnSnapshot], sort: SortBy, now: SystemTime) {
    conns.sort_by_key(|c| c.cid);
    match sort {
        SortBy::Cid => {}
        SortBy::Start => conns.sort_by_key(|c| c.start),
        SortBy::Subs => conns.sort_by_key(|c| Reverse(c.subscriptions)),
        SortBy::Pending => conns.sort_by_key(|c| Reverse(c.pending_bytes)),
        SortBy::MsgsTo => conns.sort_by_key(|c| Reverse(c.traffic.out_msgs)),
        SortBy::MsgsFrom => conns.sort_by_key(|c| Reverse(c.traffic.in_msgs)),
        SortBy::BytesTo => conns.sort_by_key(|c| Reverse(c.traffic.out_bytes)),
        SortBy::BytesFrom => conns.sort_by_key(|c| Reverse(c.traffic.in_bytes)),
        SortBy::Last => conns.sort_by_key(|c| Reverse(c.last_activity)),
        SortBy::Idle => conns.sort_by_key(|c| Reverse(since(now, c.last_activity))),
        SortBy::Uptime => conns.sort_by_key(|c| since(now, c.start)),
    }
}

fn info(c: ConnSnapshot, now: SystemTime) -> ConnInfo {
    ConnInfo {
        cid: c.cid,
        kind: "Client",
        client_type: "nats",
        ip: c.peer.ip().to_string(),
        port: c.peer.port(),
        start: rfc3339(c.start),
        last_activity: rfc3339(c.last_activity),
        rtt: c.rtt.map(go_duration),
        uptime: uptime(since(now, c.start)),
        idle: uptime(since(now, c.last_activity)),
        pending_bytes: c.pending_bytes,
        in_msgs: c.traffic.in_msgs,
        out_msgs: c.traffic.out_msgs,
        in_bytes: c.traffic.in_bytes,
        out_bytes: c.traffic.out_bytes,
        subscriptions: c.subscriptions,
        name: c.name,
        lang: c.lang,
        version: c.version,
        authorized_user: c.user,
        account: c.account.to_string(),
        subscriptions_list: c.subjects,
    }
}
