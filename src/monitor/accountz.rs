//! `/accountz`: the tenants (nats-server's accounts), and with `acc=NAME`
//! one tenant's detail: connections, subscriptions, traffic, limits,
//! imports, exports and the plugins attached to it.

use super::error::RequestError;
use super::json::to_json;
use super::observer::{AccountSnapshot, Observer};
use super::plugins::PluginSummary;
use super::time::rfc3339;
use serde::Serialize;
use std::time::SystemTime;

#[derive(Debug, Serialize)]
pub struct Accountz {
    pub server_id: String,
    pub now: String,
    pub system_account: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_detail: Option<AccountDetail>,
}

/// nats-server's `/accountz?acc=` document, one field per key.
#[derive(Debug, Serialize)]
pub struct AccountDetail {
    pub account_name: String,
    pub is_system: bool,
    pub client_connections: usize,
    pub total_connections: u64,
    pub subscriptions: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub slow_consumers: u64,
    pub limits: Limits,
    pub mappings: usize,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    /// Filled by the plugin host through `PluginReporter`.
    pub plugins: Vec<PluginSummary>,
}

/// As in account JWTs, -1 means unlimited.
#[derive(Debug, Serialize)]
pub struct Limits {
    pub conn: i64,
    pub subs: i64,
    pub payload: i64,
}

#[derive(Debug, Serialize)]
pub struct Import {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub account: String,
    pub subject: String,
    pub local_subject: String,
}

#[derive(Debug, Serialize)]
pub struct Export {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub subject: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_type: Option<&'static str>,
}

pub fn build(observer: &dyn Observer, acc: Option<&str>) -> Result<Accountz, RequestError> {
    let accounts = observer.accounts();
    let mut out = Accountz {
        server_id: observer.summary().server_id,
        now: rfc3339(SystemTime::now()),
        system_account: observer.summary().system_account,
        accounts: Vec::new(),
        account_detail: None,
    };
    match acc {
        None => out.accounts = accounts.iter().map(|a| a.name.to_string()).collect(),
        Some(name) => {
            let a = accounts
                .into_iter()
                .find(|a| *a.name == *name)
                .ok_or_else(|| RequestError::UnknownAccount(name.to_string()))?;
            let plugins = observer.tenant_plugins(name);
            out.account_detail = Some(detail(a, plugins));
        }
    }
    Ok(out)
}

pub fn render(observer: &dyn Observer, acc: Option<&str>) -> Result<Vec<u8>, RequestError> {
    build(observer, acc).map(|a| to_json(&a))
}

fn limit(v: Option<usize>) -> i64 {
    v.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn detail(a: AccountSnapshot, plugins: Vec<PluginSummary>) -> AccountDetail {
    AccountDetail {
        account_name: a.name.to_string(),
        is_system: a.is_system,
        client_connections: a.connections,
        total_connections: a.total_connections,
        subscriptions: a.subscriptions,
        in_msgs: a.traffic.in_msgs,
        out_msgs: a.traffic.out_msgs,
        in_bytes: a.traffic.in_bytes,
        out_bytes: a.traffic.out_bytes,
        slow_consumers: a.slow_consumers,
        limits: Limits {
            conn: limit(a.max_connections),
            subs: limit(a.max_subscriptions),
            payload: limit(a.max_payload),
        },
        mappings: a.mappings,
        imports: a
            .imports
            .into_iter()
            .map(|i| Import {
                kind: i.kind,
                account: i.account,
                subject: i.subject,
                local_subject: i.local_subject,
            })
            .collect(),
        exports: a
            .exports
            .into_iter()
            .map(|e| Export {
                kind: e.kind,
                subject: e.subject,
                accounts: e.accounts,
                response_type: e.response_type,
            })
            .collect(),
        plugins,
    }
}
