//! The plugins loaded now, with their counters, as monitoring and the
//! server's API report them.

use super::shared::Shared;
use crate::config::tenant::{FailurePolicy, PluginKind};
use crate::plugin::PluginStats;
use std::sync::Arc;

pub(super) fn loaded_plugins(shared: &Shared) -> Vec<PluginInfo> {
    let tenancy = shared.tenancy();
    let mut out = Vec::new();
    for (name, account) in &tenancy.accounts {
        let Some(plugins) = account.rules().plugins.clone() else {
            continue;
        };
        let chained = plugins.transforms.len() + plugins.routers.len();
        let positions = (1..=chained as u32).map(Some);
        let transforms = plugins
            .transforms
            .iter()
            .map(|t| (t, PluginKind::Transform));
        let exports = plugins
            .export_transforms
            .iter()
            .map(|t| (&**t, PluginKind::Transform));
        for ((t, kind), chain) in transforms.chain(exports).zip(
            positions
                .clone()
                .take(plugins.transforms.len())
                .chain(std::iter::repeat(None)),
        ) {
            out.push(PluginInfo {
                tenant: Some(name.to_string()),
                name: t.name.clone(),
                kind,
                subjects: t.registered.subjects.clone(),
                failure_policy: policy_name(t.policy),
                stats: t.pool.stats.clone(),
                chain,
            });
        }
        for (r, chain) in plugins
            .routers
            .iter()
            .zip(positions.skip(plugins.transforms.len()))
        {
            out.push(PluginInfo {
                tenant: Some(name.to_string()),
                name: r.name.clone(),
                kind: PluginKind::Routing,
                subjects: r.registered.subjects.clone(),
                failure_policy: policy_name(r.policy),
                stats: r.pool.stats.clone(),
                chain,
            });
        }
    }
    for a in &tenancy.auth_plugins {
        out.push(PluginInfo {
            tenant: None,
            name: a.name.clone(),
            kind: PluginKind::Auth,
            subjects: Vec::new(),
            failure_policy: policy_name(a.policy),
            stats: a.pool.stats.clone(),
            chain: None,
        });
    }
    out.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
    out
}

fn policy_name(policy: FailurePolicy) -> String {
    match policy {
        FailurePolicy::FailClosed => "fail-closed".into(),
        FailurePolicy::FailOpen => "fail-open".into(),
    }
}

/// One loaded plugin, for monitoring.
pub struct PluginInfo {
    pub tenant: Option<String>,
    pub name: String,
    pub kind: PluginKind,
    /// What it is called for; empty for auth plugins.
    pub subjects: Vec<String>,
    /// `fail-closed` or `fail-open`.
    pub failure_policy: String,
    pub stats: Arc<PluginStats>,
    /// 1-based position in its tenant's publish chain (transforms, then
    /// routing policies, in file order); `None` for export transforms and
    /// auth plugins, which are not in it.
    pub chain: Option<u32>,
}
