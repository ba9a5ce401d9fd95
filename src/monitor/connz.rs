//! `/connz`: the client connections, live or recently closed (`state`),
//! sorted and paged as nats-server's (`sort`, `limit`, `offset`, `subs`,
//! `acc`, `cid`).

use super::error::RequestError;
use super::json::to_json;
use super::observer::{ConnSnapshot, Observer};
use super::query::{Query, bad};
use super::time::{go_duration, rfc3339, since, uptime};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::time::SystemTime;

/// nats-server's default page size.
pub const DEFAULT_LIMIT: usize = 1024;

/// Connection list options; the JSON names are nats-server's `ConnzOptions`
/// (fields it has that we do not, such as `auth`, are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Options {
    pub state: ConnState,
    pub sort: String,
    pub subscriptions: bool,
    pub offset: usize,
    /// 0 means the default, 1024.
    pub limit: usize,
    pub acc: Option<String>,
    pub cid: u64,
}

/// Which connections to list: nats-server's `ConnState`, given as
/// `state=open|closed|any` in a query and as 0, 1 or 2 in a JSON request.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "StateRepr")]
pub enum ConnState {
    #[default]
    Open,
    Closed,
    Any,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StateRepr {
    Number(u64),
    Text(String),
}

const STATES: &str = "open, closed, any";

impl ConnState {
    fn parse(s: &str) -> Option<ConnState> {
        match s {
            "open" => Some(ConnState::Open),
            "closed" => Some(ConnState::Closed),
            "any" | "all" => Some(ConnState::Any),
            _ => None,
        }
    }
}

impl TryFrom<StateRepr> for ConnState {
    type Error = String;

    fn try_from(r: StateRepr) -> Result<ConnState, String> {
        match r {
            StateRepr::Number(0) => Ok(ConnState::Open),
            StateRepr::Number(1) => Ok(ConnState::Closed),
            StateRepr::Number(2) => Ok(ConnState::Any),
            StateRepr::Text(s) => {
                ConnState::parse(&s).ok_or_else(|| format!("state `{s}`: expected one of {STATES}"))
            }
            StateRepr::Number(n) => Err(format!(
                "state {n}: expected 0 (open), 1 (closed) or 2 (any)"
            )),
        }
    }
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
        let state = match q.get("state") {
            None | Some("") => ConnState::Open,
            Some(s) => ConnState::parse(s)
                .ok_or_else(|| bad("state", s, &format!("expected one of {STATES}")))?,
        };
        Ok(Options {
            state,
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

/// nats-server's `/connz` connection entry, one field per key.
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
    pub stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
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

pub fn build(observer: &dyn Observer, opts: &Options) -> Result<Connz, RequestError> {
    let sort = SortBy::parse(&opts.sort)?;
    if let Some(acc) = &opts.acc
        && !observer.has_account(acc)
    {
        return Err(RequestError::UnknownAccount(acc.clone()));
    }
    let now = SystemTime::now();
    let mut conns = match opts.state {
        ConnState::Open => observer.connections(opts.subscriptions),
        ConnState::Closed => observer.closed_connections(),
        ConnState::Any => {
            let mut all = observer.connections(opts.subscriptions);
            all.extend(observer.closed_connections());
            all
        }
    };
    conns.retain(|c| {
        opts.acc.as_deref().is_none_or(|a| *c.account == *a) && (opts.cid == 0 || c.cid == opts.cid)
    });
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

pub fn render(observer: &dyn Observer, opts: &Options) -> Result<Vec<u8>, RequestError> {
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
    // A closed connection's clock stopped when it closed.
    let end = c.stop.unwrap_or(now);
    ConnInfo {
        cid: c.cid,
        kind: "Client",
        client_type: "nats",
        ip: c.peer.ip().to_string(),
        port: c.peer.port(),
        start: rfc3339(c.start),
        last_activity: rfc3339(c.last_activity),
        stop: c.stop.map(rfc3339),
        reason: c.reason,
        rtt: c.rtt.map(go_duration),
        uptime: uptime(since(end, c.start)),
        idle: uptime(since(end, c.last_activity)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A system-account request gives `state` as nats-server's number; the
    /// HTTP query as a word.
    #[test]
    fn state_as_number_or_word() {
        let parse = |json: &str| serde_json::from_str::<Options>(json).map(|o| o.state);
        assert_eq!(parse("{}").ok(), Some(ConnState::Open));
        assert_eq!(parse(r#"{"state":1}"#).ok(), Some(ConnState::Closed));
        assert_eq!(parse(r#"{"state":2}"#).ok(), Some(ConnState::Any));
        assert_eq!(parse(r#"{"state":"closed"}"#).ok(), Some(ConnState::Closed));
        assert!(parse(r#"{"state":7}"#).is_err());
        assert!(parse(r#"{"state":"gone"}"#).is_err());
    }
}
