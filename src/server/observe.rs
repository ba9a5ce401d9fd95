//! The server's side of monitoring: `ServerView` implements
//! `crate::monitor::Observer`, gathering plain snapshots of connections,
//! tenants, subscriptions and plugins on request, off the message path.

use super::shared::Shared;
use crate::client::ClientHandle;
use crate::config::tenant::{ResponseType, TenantFile};
use crate::monitor::plugins::LatencyHistogram;
use crate::monitor::{
    AccountSnapshot, ClusterSettings, ConnSnapshot, ExportSummary, ImportSummary, IndexTotals,
    LeafRemoteSettings, LeafSettings, LeafSnapshot, LeafTotalsSnapshot, Observer, PluginMetrics,
    PluginSummary, RouteSnapshot, ServerSummary, StatsSnapshot, SubSnapshot,
};
use crate::tenant::{Account, AccountTraffic, Subscription, Target, Traffic};
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The server as monitoring sees it; cheap to clone.
#[derive(Clone)]
pub struct ServerView {
    shared: Arc<Shared>,
}

impl ServerView {
    /// `[cluster]` as `/varz` shows it.
    fn cluster_settings(&self) -> Option<ClusterSettings> {
        let s = &self.shared;
        let cluster = s.config.cluster.as_ref()?;
        let tls = cluster.tls.as_ref();
        Some(ClusterSettings {
            name: cluster.name.clone().unwrap_or_default(),
            host: cluster
                .host
                .clone()
                .unwrap_or_else(|| s.config.host.clone()),
            port: s.route_addr.lock().map_or(cluster.port, |a| a.port()),
            urls: cluster
                .routes
                .iter()
                .filter_map(|u| crate::config::parse_route_url(u).ok())
                .map(|u| format!("{}:{}", u.host, u.port))
                .collect(),
            auth_timeout: s.config.auth_timeout,
            tls_timeout: tls.map_or(Duration::from_secs(2), |t| t.timeout),
            tls_required: tls.is_some(),
        })
    }

    pub(super) fn new(shared: Arc<Shared>) -> ServerView {
        ServerView { shared }
    }

    fn clients(&self) -> Vec<Arc<ClientHandle>> {
        self.shared
            .clients
            .iter()
            .map(|c| c.value().clone())
            .collect()
    }

    /// The accounts monitoring reports: the tenants, or `$G` without tenants.
    fn all_accounts(&self) -> Vec<Arc<Account>> {
        let tenancy = self.shared.tenancy();
        let mut out: Vec<Arc<Account>> = if tenancy.users.is_none() {
            vec![self.shared.global.clone()]
        } else {
            tenancy.accounts.values().cloned().collect()
        };
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Client subscriptions of every account (shadows and service-import
    /// entries left out).
    fn client_subs(&self) -> Vec<(Arc<str>, Arc<Subscription>)> {
        let tenancy = self.shared.tenancy();
        let mut accounts: Vec<&Arc<Account>> = tenancy.accounts.values().collect();
        accounts.push(&self.shared.global);
        let mut out = Vec::new();
        for account in accounts {
            for sub in account.index.values() {
                if sub.shadow.is_none() && matches!(sub.target, Target::Client(_)) {
                    out.push((account.name.clone(), sub));
                }
            }
        }
        out
    }
}

impl ServerView {
    /// `[leafnodes]` as `/varz` shows it: the bound hub port, if any, and
    /// each remote's URLs without their credentials.
    fn leaf_settings(&self) -> LeafSettings {
        let s = &self.shared;
        let Some(leaf) = &s.config.leafnodes else {
            return LeafSettings::default();
        };
        let listen = s.leaf_addr.lock().map(|addr| {
            let host = leaf.host.clone().unwrap_or_else(|| s.config.host.clone());
            (host, addr.port())
        });
        let tls = leaf.tls.as_ref();
        LeafSettings {
            listen,
            auth_timeout: s.config.auth_timeout,
            // nats-server's default TLS timeout when the port has no TLS.
            tls_timeout: tls.map_or(Duration::from_secs(2), |t| t.timeout),
            tls_required: tls.is_some(),
            tls_verify: tls.is_some_and(|t| t.verify || t.verify_and_map),
            remotes: leaf
                .remotes
                .iter()
                .map(|r| LeafRemoteSettings {
                    local_account: r
                        .tenant
                        .clone()
                        .unwrap_or_else(|| s.global.name.to_string()),
                    urls: r
                        .urls
                        .iter()
                        .filter_map(|u| crate::config::parse_remote_url(u).ok())
                        .map(|u| format!("{}:{}", u.host, u.port))
                        .collect(),
                    deny_imports: r.deny_imports.clone(),
                    deny_exports: r.deny_exports.clone(),
                })
                .collect(),
        }
    }
}

impl Observer for ServerView {
    fn summary(&self) -> ServerSummary {
        let s = &self.shared;
        let c = &s.config;
        ServerSummary {
            server_id: s.info.server_id.clone(),
            server_name: s.info.server_name.clone(),
            version: s.info.version.clone(),
            proto: s.info.proto,
            host: c.host.clone(),
            port: s.info.port,
            max_connections: c.max_connections,
            ping_interval: c.ping_interval,
            ping_max: c.ping_max,
            auth_timeout: c.auth_timeout,
            tls_timeout: c
                .tls
                .as_ref()
                .map_or(crate::config::TlsConfig::DEFAULT_TIMEOUT, |t| t.timeout),
            write_deadline: c.write_deadline,
            max_control_line: c.max_control_line,
            max_payload: c.max_payload,
            max_pending: c.max_pending,
            auth_required: s.auth_required(),
            tls_required: s.info.tls_required,
            http_host: c.http_host.clone().unwrap_or_else(|| c.host.clone()),
            http_port: *s.http_port.lock(),
            start: s.started,
            config_load_time: *s.config_loaded.lock(),
            system_account: s.tenancy().system.name.to_string(),
            leaf: self.leaf_settings(),
            cluster: self.cluster_settings(),
        }
    }

    fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    fn auth_failures(&self) -> Vec<(&'static str, u64)> {
        self.shared
            .stats
            .auth_failures()
            .into_iter()
            .map(|(why, n)| (why.label(), n))
            .collect()
    }

    /// A sequence number for system-account answers, shared with events.
    fn next_seq(&self) -> u64 {
        self.shared.next_event_seq()
    }

    /// Counts a monitoring request to `path` (a known endpoint).
    fn count_http_request(&self, path: &str) {
        *self
            .shared
            .http_requests
            .lock()
            .entry(path.to_string())
            .or_default() += 1;
    }

    fn http_requests(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.http_requests.lock().clone()
    }

    fn connection_count(&self) -> usize {
        self.shared.clients.len()
    }

    /// Whether `name` is a reported tenant; cheap, for validating filters.
    fn has_account(&self, name: &str) -> bool {
        self.all_accounts().iter().any(|a| *a.name == *name)
    }

    fn subscriptions(&self) -> Vec<SubSnapshot> {
        let mut out: Vec<SubSnapshot> = self
            .client_subs()
            .into_iter()
            .filter_map(|(account, sub)| {
                let Target::Client(client) = &sub.target else {
                    return None;
                };
                Some(SubSnapshot {
                    account,
                    subject: String::from_utf8_lossy(&sub.subject).into_owned(),
                    queue: sub
                        .queue
                        .as_ref()
                        .map(|q| String::from_utf8_lossy(q).into_owned()),
                    sid: String::from_utf8_lossy(&sub.sid).into_owned(),
                    cid: client.id,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.cid, &a.sid).cmp(&(b.cid, &b.sid)));
        out
    }

    fn index_totals(&self) -> IndexTotals {
        let tenancy = self.shared.tenancy();
        let mut totals = IndexTotals {
            subscriptions: self.client_subs().len(),
            ..IndexTotals::default()
        };
        for account in tenancy.accounts.values().chain([&self.shared.global]) {
            let s = account.index.stats();
            totals.index.inserts += s.inserts;
            totals.index.removes += s.removes;
            totals.index.matches += s.matches;
        }
        totals.cached = self
            .clients()
            .iter()
            .map(|c| c.counters.cache_entries.load(Ordering::Relaxed))
            .sum();
        totals
    }

    /// Live connections, in cid order; `with_subjects` fills `subjects`.
    fn connections(&self, with_subjects: bool) -> Vec<ConnSnapshot> {
        let mut subs: FxHashMap<u64, Vec<String>> = FxHashMap::default();
        for (_, sub) in self.client_subs() {
            if let Target::Client(c) = &sub.target {
                let entry = subs.entry(c.id).or_default();
                entry.push(if with_subjects {
                    String::from_utf8_lossy(&sub.subject).into_owned()
                } else {
                    String::new()
                });
            }
        }
        let mut out: Vec<ConnSnapshot> = self
            .clients()
            .iter()
            .map(|c| {
                let meta = c.meta();
                // Like nats-server: a real client (one that sent CONNECT with
                // a `lang`) whose round trip is unknown gets a PING now, so
                // the next look shows its RTT.
                if c.counters.rtt().is_none() && meta.lang.is_some() && c.counters.start_rtt_ping()
                {
                    c.control(|b| b.extend_from_slice(b"PING\r\n"));
                }
                let (out_msgs, out_bytes, pending) = c.outbound.totals_and_pending();
                let subjects = subs.remove(&c.id).unwrap_or_default();
                ConnSnapshot {
                    cid: c.id,
                    peer: c.peer,
                    start: c.started,
                    last_activity: c.counters.last_activity(),
                    rtt: c.counters.rtt(),
                    pending_bytes: pending,
                    traffic: Traffic {
                        in_msgs: c.counters.in_msgs.load(Ordering::Relaxed),
                        in_bytes: c.counters.in_bytes.load(Ordering::Relaxed),
                        out_msgs,
                        out_bytes,
                    },
                    subscriptions: subjects.len(),
                    subjects: if with_subjects { subjects } else { Vec::new() },
                    name: meta.name.clone(),
                    lang: meta.lang.clone(),
                    version: meta.version.clone(),
                    account: meta.account.clone(),
                    user: meta.user.clone(),
                    stop: None,
                    reason: None,
                }
            })
            .collect();
        out.sort_by_key(|c| c.cid);
        out
    }

    /// The most recently closed connections (see `closed`), by cid.
    fn closed_connections(&self) -> Vec<ConnSnapshot> {
        let mut out: Vec<ConnSnapshot> = self
            .shared
            .closed
            .all()
            .into_iter()
            .map(|c| ConnSnapshot {
                cid: c.cid,
                peer: c.peer,
                start: c.start,
                last_activity: c.last_activity,
                rtt: c.rtt,
                pending_bytes: 0,
                traffic: c.traffic,
                subscriptions: c.subscriptions,
                subjects: Vec::new(),
                name: c.meta.name.clone(),
                lang: c.meta.lang.clone(),
                version: c.meta.version.clone(),
                account: c.meta.account.clone(),
                user: c.meta.user.clone(),
                stop: Some(c.stop),
                reason: Some(c.reason.event_text()),
            })
            .collect();
        out.sort_by_key(|c| c.cid);
        out
    }

    /// Every reported tenant with its totals. Traffic is exact: each
    /// account's `retired` lock is held while its live connections are added.
    fn accounts(&self) -> Vec<AccountSnapshot> {
        let accounts = self.all_accounts();
        let tenancy = self.shared.tenancy();
        let mut subs: FxHashMap<Arc<str>, usize> = FxHashMap::default();
        for (account, _) in self.client_subs() {
            *subs.entry(account).or_default() += 1;
        }
        // Locks taken in name order (the list is sorted); closing
        // connections take only one, so readers cannot deadlock them.
        let guards: Vec<_> = accounts.iter().map(|a| a.traffic.retired.lock()).collect();
        let mut traffic: Vec<Traffic> = guards.iter().map(|g| **g).collect();
        let mut connections = vec![0usize; accounts.len()];
        let slot: FxHashMap<&str, usize> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (&*a.name, i))
            .collect();
        for client in self.shared.clients.iter() {
            let meta = client.meta();
            if let Some(&i) = slot.get(&*meta.account) {
                if !client.retired.load(Ordering::Acquire) {
                    connections[i] += 1;
                }
                AccountTraffic::add_live(&mut traffic[i], &client);
            }
        }
        drop(guards);
        accounts
            .iter()
            .enumerate()
            .map(|(i, account)| {
                let rules = account.rules();
                let file = tenancy.tenants.iter().find(|t| *t.name == *account.name);
                AccountSnapshot {
                    name: account.name.clone(),
                    is_system: Arc::ptr_eq(account, &tenancy.system),
                    connections: connections[i],
                    total_connections: account.traffic.total_connections.load(Ordering::Relaxed),
                    subscriptions: subs.get(&account.name).copied().unwrap_or(0),
                    traffic: traffic[i],
                    slow_consumers: account.traffic.slow_consumers.load(Ordering::Relaxed),
                    max_connections: rules.max_connections,
                    max_subscriptions: rules.max_subscriptions,
                    max_payload: rules.max_payload,
                    mappings: file.map_or(0, |f| f.mappings.len()),
                    imports: file.map(imports_of).unwrap_or_default(),
                    exports: file.map(exports_of).unwrap_or_default(),
                }
            })
            .collect()
    }

    fn tenant_plugins(&self, tenant: &str) -> Vec<PluginSummary> {
        let mut plugins = super::plugins::loaded_plugins(&self.shared);
        plugins.retain(|p| p.tenant.as_deref() == Some(tenant));
        // In chain order; export transforms (outside the chain) last.
        plugins.sort_by_key(|p| p.chain.unwrap_or(u32::MAX));
        plugins
            .iter()
            .map(|p| PluginSummary {
                chain: p.chain,
                name: p.name.clone(),
                kind: crate::plugin::check::kind_name(p.kind).to_string(),
                subjects: p.subjects.clone(),
                failure_policy: Some(p.failure_policy.clone()),
                calls: p.stats.calls.load(Ordering::Relaxed),
                errors: p.stats.errors.load(Ordering::Relaxed),
                output_lines: p.stats.output_lines.load(Ordering::Relaxed),
                output_suppressed: p.stats.output_suppressed.load(Ordering::Relaxed),
            })
            .collect()
    }

    fn plugin_metrics(&self) -> Vec<PluginMetrics> {
        super::plugins::loaded_plugins(&self.shared)
            .iter()
            .map(|p| {
                let (cumulative, sum) = p.stats.latency_histogram();
                let mut latency = LatencyHistogram::default();
                for (slot, value) in latency.counts.iter_mut().zip(&cumulative) {
                    *slot = *value;
                }
                latency.count = cumulative.last().copied().unwrap_or(0);
                latency.sum = Duration::from_secs_f64(sum);
                PluginMetrics {
                    tenant: p.tenant.clone().unwrap_or_default(),
                    plugin: p.name.clone(),
                    calls: p.stats.calls.load(Ordering::Relaxed),
                    errors: p.stats.errors.load(Ordering::Relaxed),
                    traps: p.stats.traps.load(Ordering::Relaxed)
                        + p.stats.memory_exhausted.load(Ordering::Relaxed),
                    timeouts: p.stats.timeouts.load(Ordering::Relaxed),
                    output_lines: p.stats.output_lines.load(Ordering::Relaxed),
                    output_suppressed: p.stats.output_suppressed.load(Ordering::Relaxed),
                    latency,
                }
            })
            .collect()
    }

    /// Whether lame-duck mode has stopped the server accepting clients.
    fn in_lame_duck(&self) -> bool {
        self.shared
            .lame_duck
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Live leaf connections, in cid order. The subjects are the peer's
    /// interest entries in the account (`Target::Leaf`), as nats-server
    /// lists a leaf connection's subscriptions.
    fn leaves(&self, with_subjects: bool) -> Vec<LeafSnapshot> {
        let mut subjects: FxHashMap<u64, Vec<String>> = FxHashMap::default();
        if with_subjects {
            let tenancy = self.shared.tenancy();
            for account in tenancy.accounts.values().chain([&self.shared.global]) {
                for sub in account.index.values() {
                    if let (None, Target::Leaf(leaf)) = (&sub.shadow, &sub.target) {
                        subjects
                            .entry(leaf.id)
                            .or_default()
                            .push(String::from_utf8_lossy(&sub.subject).into_owned());
                    }
                }
            }
        }
        let mut out: Vec<LeafSnapshot> = self
            .shared
            .leaves
            .iter()
            .map(|entry| {
                let c = &entry.handle;
                // As for clients: an unknown round trip is measured now, so
                // the next look shows it.
                if c.counters.rtt().is_none() && c.counters.start_rtt_ping() {
                    c.control(|b| b.extend_from_slice(b"PING\r\n"));
                }
                let mut subjects = subjects.remove(&c.id).unwrap_or_default();
                subjects.sort();
                LeafSnapshot {
                    cid: c.id,
                    name: entry.name.clone(),
                    is_spoke: entry.solicited,
                    account: entry.account.clone(),
                    peer: c.peer,
                    rtt: c.counters.rtt(),
                    traffic: Traffic::of(c),
                    subscriptions: entry.subscriptions.load(Ordering::Relaxed),
                    subjects,
                }
            })
            .collect();
        out.sort_by_key(|l| l.cid);
        out
    }

    /// Live routes, in cid order; the subjects are the peer's interest
    /// entries (`Target::Route`) in every account.
    fn routes(&self, with_subjects: bool) -> Vec<RouteSnapshot> {
        let mut subjects: FxHashMap<u64, Vec<String>> = FxHashMap::default();
        if with_subjects {
            let tenancy = self.shared.tenancy();
            let mut accounts: Vec<_> = tenancy.accounts.values().cloned().collect();
            for extra in [&self.shared.global, &tenancy.system] {
                if !accounts.iter().any(|a| Arc::ptr_eq(a, extra)) {
                    accounts.push(extra.clone());
                }
            }
            for account in accounts {
                for sub in account.index.values() {
                    if let Target::Route(route) = &sub.target {
                        subjects
                            .entry(route.id)
                            .or_default()
                            .push(String::from_utf8_lossy(&sub.sid).into_owned());
                    }
                }
            }
        }
        let mut out: Vec<RouteSnapshot> = self
            .shared
            .cluster
            .live()
            .into_iter()
            .map(|entry| {
                let c = &entry.handle;
                let (_, _, pending) = c.outbound.totals_and_pending();
                let mut subjects = subjects.remove(&c.id).unwrap_or_default();
                subjects.sort();
                RouteSnapshot {
                    cid: c.id,
                    remote_id: entry.remote_id.clone(),
                    remote_name: entry.remote_name.clone(),
                    solicited: entry.solicited,
                    configured: entry.configured,
                    peer: c.peer,
                    started: entry.started,
                    last_activity: c.counters.last_activity(),
                    rtt: c.counters.rtt(),
                    pending,
                    traffic: Traffic::of(c),
                    subscriptions: entry.subscriptions.load(Ordering::Relaxed),
                    subjects,
                }
            })
            .collect();
        out.sort_by_key(|r| r.cid);
        out
    }

    fn route_traffic(&self) -> Traffic {
        self.shared.cluster.traffic()
    }

    fn leaf_totals(&self) -> Vec<LeafTotalsSnapshot> {
        let shared = &self.shared;
        shared
            .leaf_retired
            .sum(|| shared.leaves.iter().map(|e| e.value().clone()).collect())
            .into_iter()
            .map(|(tenant, (connections, traffic))| LeafTotalsSnapshot {
                tenant,
                connections,
                traffic,
            })
            .collect()
    }
}

fn imports_of(t: &TenantFile) -> Vec<ImportSummary> {
    let mut out = Vec::new();
    for i in &t.imports {
        if let Some(src) = &i.stream {
            let local = match (&i.prefix, &i.to) {
                (Some(p), _) => format!("{p}.{}", src.subject),
                (None, Some(to)) => to.clone(),
                (None, None) => src.subject.clone(),
            };
            out.push(ImportSummary {
                kind: "stream",
                account: src.account.clone(),
                subject: src.subject.clone(),
                local_subject: local,
            });
        }
        if let Some(src) = &i.service {
            out.push(ImportSummary {
                kind: "service",
                account: src.account.clone(),
                subject: src.subject.clone(),
                local_subject: i.to.clone().unwrap_or_else(|| src.subject.clone()),
            });
        }
    }
    out
}

fn exports_of(t: &TenantFile) -> Vec<ExportSummary> {
    let mut out = Vec::new();
    for e in &t.exports {
        let (kind, subject) = match (&e.stream, &e.service) {
            (Some(s), _) => ("stream", s),
            (None, Some(s)) => ("service", s),
            (None, None) => continue,
        };
        out.push(ExportSummary {
            kind,
            subject: subject.clone(),
            accounts: e.accounts.clone(),
            response_type: (kind == "service").then(|| match e.response_type.unwrap_or_default() {
                ResponseType::Singleton => "Singleton",
                ResponseType::Stream => "Stream",
                ResponseType::Chunked => "Chunked",
            }),
        });
    }
    out
}
