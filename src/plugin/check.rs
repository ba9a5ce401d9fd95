//! `switchyard plugin check`: which world a component implements, what it
//! registers, and why the broker would refuse it.

use super::engine::PluginRuntime;
use super::error::LoadError;
use super::load::{load_auth, load_routing, load_transform};
use super::registration::Registered;
use crate::config::tenant::{PluginEntry, PluginKind};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub struct CheckReport {
    /// The world the component implements, if any.
    pub world: Option<PluginKind>,
    /// What a message plugin registered.
    pub registered: Option<Registered>,
    /// The component's imports and exports, by name.
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// Why each world was refused, when none fits.
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn accepted(&self) -> bool {
        self.world.is_some()
    }
}

/// Tries the component against each world in turn, with `config` as its
/// configuration (as a tenant file would give it).
pub fn check(
    runtime: &PluginRuntime,
    path: &Path,
    config: BTreeMap<String, String>,
) -> Result<CheckReport, LoadError> {
    let component = runtime.load(path)?;
    let ty = component.component_type();
    let engine = runtime.engine();
    let mut report = CheckReport {
        world: None,
        registered: None,
        imports: ty
            .imports(engine)
            .map(|(name, _)| name.to_string())
            .collect(),
        exports: ty
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect(),
        problems: Vec::new(),
    };
    if let Err(e) = super::load::check_wit_version(engine, path, &component) {
        report.problems.push(e.to_string());
        return Ok(report);
    }
    let entry = |kind| PluginEntry {
        kind,
        path: path.to_path_buf(),
        config: config.clone(),
        ..PluginEntry::default()
    };
    // The exported interface names the world; try that one, or every
    // world when the component exports none of ours.
    let exports_of = |name: &str| report.exports.iter().any(|e| e.contains(name));
    let candidates: Vec<PluginKind> = [
        (PluginKind::Transform, "switchyard:plugin/transformer"),
        (PluginKind::Routing, "switchyard:plugin/router"),
        (PluginKind::Auth, "switchyard:plugin/authenticator"),
    ]
    .into_iter()
    .filter(|(_, export)| exports_of(export))
    .map(|(kind, _)| kind)
    .collect();
    let candidates = if candidates.is_empty() {
        vec![PluginKind::Transform, PluginKind::Routing, PluginKind::Auth]
    } else {
        candidates
    };
    for kind in candidates {
        let loaded = match kind {
            PluginKind::Transform => {
                load_transform(runtime, "check", &entry(kind)).map(|p| Some(p.registered))
            }
            PluginKind::Routing => {
                load_routing(runtime, "check", &entry(kind)).map(|p| Some(p.registered))
            }
            PluginKind::Auth => load_auth(runtime, &entry(kind)).map(|_| None),
        };
        match loaded {
            Ok(registered) => {
                report.world = Some(kind);
                report.registered = registered;
                report.problems.clear();
                break;
            }
            Err(e) => report.problems.push(e.to_string()),
        }
    }
    Ok(report)
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.world {
            Some(kind) => writeln!(
                f,
                "world: {} (switchyard:plugin@{})",
                kind_name(kind),
                super::load::WIT_VERSION
            )?,
            None => writeln!(f, "world: none (rejected)")?,
        }
        if let Some(r) = &self.registered {
            writeln!(f, "subjects: {}", r.subjects.join(", "))?;
            writeln!(f, "wants headers: {}", r.wants_headers)?;
            writeln!(f, "wants payload: {}", r.wants_payload)?;
        }
        writeln!(f, "imports: {}", self.imports.join(", "))?;
        writeln!(f, "exports: {}", self.exports.join(", "))?;
        for problem in &self.problems {
            writeln!(f, "problem: {problem}")?;
        }
        Ok(())
    }
}

pub fn kind_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Transform => "transform",
        PluginKind::Routing => "routing",
        PluginKind::Auth => "auth",
    }
}
