//! Exports and imports: the only way a message crosses from one tenant to
//! another, so every import must name an existing export of the right kind
//! that covers its subject and grants the importing tenant.

use super::{Issues, TenantSet, literal_subject_error, subject_error};
use crate::config::tenant::{ExportEntry, ImportEntry, ImportSource, PluginKind, TenantFile};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinkKind {
    Stream,
    Service,
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkKind::Stream => "stream",
            LinkKind::Service => "service",
        })
    }
}

/// The kind and value of an entry that must set exactly one of `stream`
/// and `service`, or the complaint when it does not.
fn one_kind<'a, T>(
    stream: &'a Option<T>,
    service: &'a Option<T>,
) -> Result<(LinkKind, &'a T), &'static str> {
    match (stream, service) {
        (Some(s), None) => Ok((LinkKind::Stream, s)),
        (None, Some(s)) => Ok((LinkKind::Service, s)),
        (Some(_), Some(_)) => Err("set either `stream` or `service`, not both"),
        (None, None) => Err("needs `stream` or `service`"),
    }
}

pub(super) fn export_kind(e: &ExportEntry) -> Option<(LinkKind, &str)> {
    one_kind(&e.stream, &e.service)
        .ok()
        .map(|(k, s)| (k, s.as_str()))
}

pub(super) fn import_kind(i: &ImportEntry) -> Option<(LinkKind, &ImportSource)> {
    one_kind(&i.stream, &i.service).ok()
}

/// Is every subject matched by `sub` also matched by `of`? (See
/// `subject::is_subset_match`.)
pub fn subject_subset(sub: &str, of: &str) -> bool {
    crate::subject::is_subset_match(sub.as_bytes(), of.as_bytes())
}

pub(super) fn check_exports(set: &TenantSet<'_>, out: &mut Issues<'_>) {
    for (f, t) in set.tenants() {
        for (i, e) in t.exports.iter().enumerate() {
            let key = format!("exports[{i}]");
            let kind = match one_kind(&e.stream, &e.service) {
                Ok((kind, subject)) => {
                    if let Some(why) = subject_error(subject) {
                        out.push(f, format!("{key}.{kind}"), why);
                    }
                    Some(kind)
                }
                Err(why) => {
                    out.push(f, &key, why);
                    None
                }
            };
            for (j, account) in e.accounts.iter().enumerate() {
                if !set.by_name.contains_key(account.as_str()) {
                    let message = format!("no tenant named `{account}`");
                    out.push(f, format!("{key}.accounts[{j}]"), message);
                }
            }
            if kind == Some(LinkKind::Stream) {
                for (field, given) in [
                    ("response_type", e.response_type.is_some()),
                    ("response_threshold", e.response_threshold.is_some()),
                ] {
                    if given {
                        let message = "only service exports have responses";
                        out.push(f, format!("{key}.{field}"), message);
                    }
                }
            }
            if let Some(name) = &e.transform {
                let plugin = t.plugins.iter().find(|p| &p.display_name() == name);
                match plugin.map(|p| p.kind) {
                    Some(PluginKind::Transform) => {}
                    Some(_) => {
                        let message = format!("plugin `{name}` is not a transform");
                        out.push(f, format!("{key}.transform"), message);
                    }
                    None => {
                        let message = format!("no plugin named `{name}` in this tenant");
                        out.push(f, format!("{key}.transform"), message);
                    }
                }
            }
            if e.response_threshold.is_some_and(|d| d.is_zero()) {
                out.push(
                    f,
                    format!("{key}.response_threshold"),
                    "must be greater than 0",
                );
            }
        }
    }
}

pub(super) fn check_imports(set: &TenantSet<'_>, out: &mut Issues<'_>) {
    for (f, t) in set.tenants() {
        // Local subject of each service import, to find two on one subject.
        let mut local_subjects: HashMap<&str, usize> = HashMap::new();
        for (i, import) in t.imports.iter().enumerate() {
            let key = format!("imports[{i}]");
            let (kind, source) = match one_kind(&import.stream, &import.service) {
                Ok(found) => found,
                Err(why) => {
                    out.push(f, &key, why);
                    continue;
                }
            };
            check_source(set, f, kind, source, &format!("{key}.{kind}"), out);
            match kind {
                LinkKind::Stream => check_stream_import(import, f, &key, out),
                LinkKind::Service => {
                    if import.prefix.is_some() {
                        let message = "only stream imports take a prefix; use `to`";
                        out.push(f, format!("{key}.prefix"), message);
                    }
                    let (local, local_key) = match &import.to {
                        Some(to) => (to.as_str(), format!("{key}.to")),
                        None => (source.subject.as_str(), format!("{key}.service.subject")),
                    };
                    if let Some(why) = import.to.as_deref().and_then(subject_error) {
                        out.push(f, &local_key, why);
                    }
                    match local_subjects.entry(local) {
                        Entry::Vacant(v) => {
                            v.insert(i);
                        }
                        Entry::Occupied(o) => {
                            let message = format!(
                                "local subject `{local}` is already used by the service import imports[{}]",
                                o.get()
                            );
                            out.push(f, local_key, message);
                        }
                    }
                }
            }
        }
    }
}

fn check_stream_import(import: &ImportEntry, f: usize, key: &str, out: &mut Issues<'_>) {
    if import.prefix.is_some() && import.to.is_some() {
        out.push(f, key, "a stream import takes `prefix` or `to`, not both");
    }
    if let Some(why) = import.prefix.as_deref().and_then(literal_subject_error) {
        out.push(f, format!("{key}.prefix"), why);
    }
    if let Some(why) = import.to.as_deref().and_then(subject_error) {
        out.push(f, format!("{key}.to"), why);
    }
}

/// The source account exists and is another tenant, and one of its exports
/// of `kind` covers the subject and grants the importer.
fn check_source(
    set: &TenantSet<'_>,
    f: usize,
    kind: LinkKind,
    source: &ImportSource,
    key: &str,
    out: &mut Issues<'_>,
) {
    let importer = set.files[f].1.name.as_str();
    let account = source.account.as_str();
    let subject = source.subject.as_str();
    let subject_ok = match subject_error(subject) {
        Some(why) => {
            out.push(f, format!("{key}.subject"), why);
            false
        }
        None => true,
    };
    let exporter = if account == importer {
        out.push(
            f,
            format!("{key}.account"),
            "a tenant cannot import from itself",
        );
        return;
    } else if let Some(&e) = set.by_name.get(account) {
        &set.files[e].1
    } else {
        let message = format!("no tenant named `{account}`");
        out.push(f, format!("{key}.account"), message);
        return;
    };
    if !subject_ok {
        return;
    }
    if let Some(why) = export_problem(exporter, kind, subject, importer) {
        out.push(
            f,
            format!("{key}.subject"),
            format!("`{account}:{subject}` {why}"),
        );
    }
}

/// Why `exporter` does not let `importer` import `subject` as `kind`.
fn export_problem(
    exporter: &TenantFile,
    kind: LinkKind,
    subject: &str,
    importer: &str,
) -> Option<String> {
    let covering = |wanted: LinkKind| {
        exporter.exports.iter().filter(move |e| {
            export_kind(e).is_some_and(|(k, s)| k == wanted && subject_subset(subject, s))
        })
    };
    let mut exports = covering(kind).peekable();
    if exports.peek().is_none() {
        let other = match kind {
            LinkKind::Stream => LinkKind::Service,
            LinkKind::Service => LinkKind::Stream,
        };
        let hint = if covering(other).next().is_some() {
            format!(" (it is exported as a {other}, not a {kind})")
        } else {
            String::new()
        };
        return Some(format!(
            "is not exported by {}: no {kind} export covers it{hint}",
            exporter.name
        ));
    }
    let granted =
        exports.any(|e| e.accounts.is_empty() || e.accounts.iter().any(|a| a == importer));
    (!granted).then(|| format!("is not exported to {importer}"))
}
