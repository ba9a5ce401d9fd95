//! Builds the runtime accounts from tenant files, and rebuilds them on
//! reload. Accounts that still exist keep their `Arc` (so their indexes and
//! connections survive); only their rules are replaced.

use super::account::{Account, AccountRules, ServiceImport, StreamImport};
use crate::config::tenant::{ExportEntry, ResponseType, TenantFile};
use crate::plugin::{TenantPlugins, TransformPlugin};

use crate::subject::{SubjectRewrite, is_subset_match};
use bytes::Bytes;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::Duration;

/// Default service response threshold, as nats-server.
const DEFAULT_THRESHOLD: Duration = Duration::from_secs(120);

pub type Accounts = FxHashMap<Arc<str>, Arc<Account>>;

/// Builds accounts for `tenants` (already validated), reusing accounts of
/// the same name from `previous`. Every tenant's rules are built before any
/// is applied, so an error leaves the running accounts untouched. Accounts
/// missing from `tenants` are left out of the result and have their rules
/// cleared.
pub fn build_accounts(
    tenants: &[TenantFile],
    previous: &Accounts,
    plugins: &FxHashMap<String, Arc<TenantPlugins>>,
) -> Result<Accounts, Vec<String>> {
    let mut accounts: Accounts = FxHashMap::default();
    for t in tenants {
        let account = previous
            .get(t.name.as_str())
            .cloned()
            .unwrap_or_else(|| Account::new(&t.name));
        accounts.insert(account.name.clone(), account);
    }
    let mut built = Vec::with_capacity(tenants.len());
    let mut errors = Vec::new();
    for t in tenants {
        let Some(account) = accounts.get(t.name.as_str()) else {
            continue;
        };
        match rules_for(t, tenants, &accounts, plugins) {
            Ok(mut rules) => {
                rules.plugins = plugins.get(&t.name).cloned();
                built.push((account.clone(), rules));
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (account, rules) in built {
        account.set_rules(rules);
    }
    for (name, old) in previous {
        if !accounts.contains_key(name) {
            old.clear_rules();
        }
    }
    Ok(accounts)
}

fn rules_for(
    t: &TenantFile,
    tenants: &[TenantFile],
    accounts: &Accounts,
    plugins: &FxHashMap<String, Arc<TenantPlugins>>,
) -> Result<AccountRules, Vec<String>> {
    let mut errors = Vec::new();
    let mut rules = AccountRules::with_limits(
        t.limits.max_connections,
        t.limits.max_subscriptions,
        t.limits.max_payload,
    );
    rules.max_subscription_bytes = t.limits.max_subscription_bytes;
    match crate::tenant::mappings::compile(&t.mappings) {
        Ok(table) => rules.mappings = table,
        Err(e) => errors.push(format!("tenant `{}`: mappings: {e}", t.name)),
    }
    for import in &t.imports {
        if let Some(src) = &import.stream {
            let Some(exporter) = accounts.get(src.account.as_str()) else {
                continue;
            };
            let source = src.subject.as_bytes();
            let (local, rewrite) = match (&import.prefix, &import.to) {
                (Some(prefix), _) => {
                    let local = [prefix.as_bytes(), b".", source].concat();
                    (local, SubjectRewrite::prefix(prefix.as_bytes()))
                }
                (None, Some(to)) => match SubjectRewrite::template(source, to.as_bytes()) {
                    Ok(rewrite) => (to.as_bytes().to_vec(), rewrite),
                    Err(e) => {
                        errors.push(format!("tenant `{}`: stream import: {e}", t.name));
                        continue;
                    }
                },
                (None, None) => (source.to_vec(), SubjectRewrite::Identity),
            };
            let export = export_of(tenants, &src.account, source, &t.name, |e| {
                e.stream.as_deref()
            });
            rules.stream_imports.push(Arc::new(StreamImport {
                exporter: exporter.clone(),
                source: Bytes::copy_from_slice(source),
                local: Bytes::from(local),
                rewrite,
                transform: export_transform(plugins, &src.account, export),
            }));
        }
        if let Some(src) = &import.service {
            let Some(exporter) = accounts.get(src.account.as_str()) else {
                continue;
            };
            let source = src.subject.as_bytes();
            let local = import.to.as_deref().map_or(source, str::as_bytes);
            let rewrite = match SubjectRewrite::template(local, source) {
                Ok(rewrite) => rewrite,
                Err(e) => {
                    errors.push(format!("tenant `{}`: service import: {e}", t.name));
                    continue;
                }
            };
            let export = export_of(tenants, &src.account, source, &t.name, |e| {
                e.service.as_deref()
            });
            rules.service_imports.push(Arc::new(ServiceImport {
                exporter: exporter.clone(),
                local: Bytes::copy_from_slice(local),
                rewrite,
                response_type: export
                    .and_then(|e| e.response_type)
                    .unwrap_or(ResponseType::Singleton),
                threshold: export
                    .and_then(|e| e.response_threshold)
                    .unwrap_or(DEFAULT_THRESHOLD),
                transform: export_transform(plugins, &src.account, export),
            }));
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// The export of `account` (of the kind `subject_of` reads) that grants
/// `importer` the subject `source`: the one on exactly that subject, else
/// the first that covers it, as nats-server looks exports up. Exports that
/// do not grant `importer` are passed over, so an import is always served
/// by (and passes the transform of) the export that allowed it.
fn export_of<'t>(
    tenants: &'t [TenantFile],
    account: &str,
    source: &[u8],
    importer: &str,
    subject_of: impl Fn(&ExportEntry) -> Option<&str>,
) -> Option<&'t ExportEntry> {
    let exporter = tenants.iter().find(|x| x.name == account)?;
    let granting = || {
        exporter.exports.iter().filter(|e| {
            subject_of(e).is_some_and(|s| is_subset_match(source, s.as_bytes()))
                && (e.accounts.is_empty() || e.accounts.iter().any(|a| a == importer))
        })
    };
    granting()
        .find(|e| subject_of(e).is_some_and(|s| s.as_bytes() == source))
        .or_else(|| granting().next())
}

/// The loaded transform `export` names, if it names one.
fn export_transform(
    plugins: &FxHashMap<String, Arc<TenantPlugins>>,
    account: &str,
    export: Option<&ExportEntry>,
) -> Option<Arc<TransformPlugin>> {
    let name = export?.transform.as_deref()?;
    plugins.get(account)?.export_transform(name)
}
