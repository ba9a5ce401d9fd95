//! `/leafz`: the leaf node connections, both ways, with nats-server's
//! `Leafz`/`LeafInfo` field names; `subs=1` adds each connection's
//! `subscriptions_list` (the interest the peer holds here), `acc` keeps
//! one tenant's.

use super::error::RequestError;
use super::json::to_json;
use super::observer::{LeafSnapshot, Observer};
use super::query::Query;
use super::time::{go_duration, rfc3339};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// nats-server's `LeafzOptions` names (`subscriptions`, `account`); `acc`
/// is accepted too, as in the query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Options {
    pub subscriptions: bool,
    #[serde(alias = "acc")]
    pub account: Option<String>,
}

impl Options {
    pub fn from_query(q: &Query) -> Result<Options, RequestError> {
        Ok(Options {
            subscriptions: q.bool("subs")?,
            account: q.text("acc").map(str::to_string),
        })
    }
}

/// nats-server's `/leafz` document, one field per key.
#[derive(Debug, Serialize)]
pub struct Leafz {
    pub server_id: String,
    pub now: String,
    pub leafnodes: usize,
    pub leafs: Vec<LeafInfo>,
}

/// nats-server's `LeafInfo`, one field per key. Its `compression` is left
/// out (Switchyard's leaf connections are never compressed, and
/// nats-server omits the key when empty), and so are `is_isolated` and
/// `proxy`, which describe features Switchyard lacks.
#[derive(Debug, Serialize)]
pub struct LeafInfo {
    pub id: u64,
    pub name: String,
    pub is_spoke: bool,
    pub account: String,
    pub ip: String,
    pub port: u16,
    /// Go duration text; `0s` until measured, as nats-server prints it.
    pub rtt: String,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    /// Only when asked for; absent when empty (Go's `omitempty`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions_list: Vec<String>,
}

pub fn build(observer: &dyn Observer, opts: &Options) -> Result<Leafz, RequestError> {
    if let Some(acc) = &opts.account
        && !observer.has_account(acc)
    {
        return Err(RequestError::UnknownAccount(acc.clone()));
    }
    let leafs: Vec<LeafInfo> = observer
        .leaves(opts.subscriptions)
        .into_iter()
        .filter(|l| opts.account.as_deref().is_none_or(|a| *l.account == *a))
        .map(info)
        .collect();
    Ok(Leafz {
        server_id: observer.summary().server_id,
        now: rfc3339(SystemTime::now()),
        leafnodes: leafs.len(),
        leafs,
    })
}

pub fn render(observer: &dyn Observer, opts: &Options) -> Result<Vec<u8>, RequestError> {
    build(observer, opts).map(|l| to_json(&l))
}

fn info(l: LeafSnapshot) -> LeafInfo {
    LeafInfo {
        id: l.cid,
        name: l.name,
        is_spoke: l.is_spoke,
        account: l.account.to_string(),
        ip: l.peer.ip().to_string(),
        port: l.peer.port(),
        rtt: l.rtt.map_or_else(|| "0s".to_string(), go_duration),
        in_msgs: l.traffic.in_msgs,
        out_msgs: l.traffic.out_msgs,
        in_bytes: l.traffic.in_bytes,
        out_bytes: l.traffic.out_bytes,
        subscriptions: l.subscriptions,
        subscriptions_list: l.subjects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_query_and_json() {
        let q = Query::parse("subs=1&acc=acme").unwrap();
        let o = Options::from_query(&q).unwrap();
        assert!(o.subscriptions);
        assert_eq!(o.account.as_deref(), Some("acme"));
        let o: Options = serde_json::from_str(r#"{"subscriptions":true,"account":"x"}"#).unwrap();
        assert_eq!((o.subscriptions, o.account.as_deref()), (true, Some("x")));
        let o: Options = serde_json::from_str(r#"{"acc":"y"}"#).unwrap();
        assert_eq!(o.account.as_deref(), Some("y"));
        assert!(Options::from_query(&Query::parse("subs=maybe").unwrap()).is_err());
    }
}
