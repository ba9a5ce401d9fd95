//! `/subsz`: subscription index statistics with nats-server's `SublistStats`
//! names, and with `subs=1` the client subscriptions themselves (paged,
//! filtered by `acc` and by a `test` publish subject).
//!
//! Matching differs from nats-server's in one respect: each publisher keeps
//! its own match cache, so `num_cache` is the sum of those caches and
//! `num_matches` counts trie walks plus cache hits.

use super::error::RequestError;
use super::json::to_json;
use super::observer::Observer;
use super::query::{Query, bad};
use super::time::rfc3339;
use crate::subject::{is_valid_literal_subject, matches};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

pub const DEFAULT_LIMIT: usize = 1024;

/// nats-server's `SubszOptions` names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Options {
    pub subscriptions: bool,
    pub offset: usize,
    pub limit: usize,
    pub account: Option<String>,
    pub test: Option<String>,
}

impl Options {
    pub fn from_query(q: &Query) -> Result<Options, RequestError> {
        Ok(Options {
            subscriptions: q.bool("subs")?,
            offset: q.usize("offset")?.unwrap_or(0),
            limit: q.usize("limit")?.unwrap_or(0),
            account: q.text("acc").map(str::to_string),
            test: q.text("test").map(str::to_string),
        })
    }
}

/// nats-server's `/subsz` document, one field per key.
#[derive(Debug, Serialize)]
pub struct Subsz {
    pub server_id: String,
    pub now: String,
    pub num_subscriptions: usize,
    pub num_cache: usize,
    pub num_inserts: u64,
    pub num_removes: u64,
    pub num_matches: u64,
    pub cache_hit_rate: f64,
    pub max_fanout: u64,
    pub avg_fanout: f64,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions_list: Vec<SubDetail>,
}

#[derive(Debug, Serialize)]
pub struct SubDetail {
    pub account: String,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qgroup: Option<String>,
    pub sid: String,
    pub cid: u64,
}

pub fn build(observer: &dyn Observer, opts: &Options) -> Result<Subsz, RequestError> {
    if let Some(test) = &opts.test
        && !is_valid_literal_subject(test.as_bytes())
    {
        return Err(bad(
            "test",
            test,
            "expected a literal subject (no wildcards)",
        ));
    }
    if let Some(acc) = &opts.account
        && !observer.has_account(acc)
    {
        return Err(RequestError::UnknownAccount(acc.clone()));
    }
    let totals = observer.index_totals();
    let stats = observer.stats();
    let matches_total = totals.index.matches + stats.cache_hits;
    let limit = if opts.limit == 0 {
        DEFAULT_LIMIT
    } else {
        opts.limit
    };
    let mut list: Vec<SubDetail> = Vec::new();
    let mut total = 0;
    if opts.subscriptions {
        let selected: Vec<_> = observer
            .subscriptions()
            .into_iter()
            .filter(|s| opts.account.as_deref().is_none_or(|a| *s.account == *a))
            .filter(|s| {
                opts.test
                    .as_deref()
                    .is_none_or(|t| matches(s.subject.as_bytes(), t.as_bytes()))
            })
            .collect();
        total = selected.len();
        list = selected
            .into_iter()
            .skip(opts.offset)
            .take(limit)
            .map(|s| SubDetail {
                account: s.account.to_string(),
                subject: s.subject,
                qgroup: s.queue,
                sid: s.sid,
                cid: s.cid,
            })
            .collect();
    }
    Ok(Subsz {
        server_id: observer.summary().server_id,
        now: rfc3339(SystemTime::now()),
        num_subscriptions: totals.subscriptions,
        num_cache: totals.cached,
        num_inserts: totals.index.inserts,
        num_removes: totals.index.removes,
        num_matches: matches_total,
        cache_hit_rate: ratio(stats.cache_hits, matches_total),
        max_fanout: stats.max_fanout,
        avg_fanout: ratio(stats.out_msgs, stats.in_msgs),
        total,
        offset: opts.offset,
        limit,
        subscriptions_list: list,
    })
}

pub fn render(observer: &dyn Observer, opts: &Options) -> Result<Vec<u8>, RequestError> {
    build(observer, opts).map(|s| to_json(&s))
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
