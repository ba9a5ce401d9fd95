//! The components the per-language plugin benches compare: the same
//! no-op transform, no-op routing policy and `redact_json` built from Rust,
//! Python, JavaScript and C by the project's build scripts. A language
//! whose component is missing is skipped with the command that builds it.

use std::path::PathBuf;
use switchyard::config::tenant::{PluginEntry, PluginKind};

pub struct Lang {
    pub name: &'static str,
    /// Where its build script writes components, from the repository root.
    dir: &'static str,
    script: &'static str,
}

pub const LANGS: [Lang; 4] = [
    Lang {
        name: "rust",
        dir: "plugins/target/wasm32-wasip2/release",
        script: "scripts/build-plugins.sh",
    },
    Lang {
        name: "python",
        dir: "plugins/target/python",
        script: "scripts/build-plugins-python.sh",
    },
    Lang {
        name: "js",
        dir: "plugins/target/js",
        script: "scripts/build-plugins-js.sh",
    },
    Lang {
        name: "c",
        dir: "plugins/target/c",
        script: "scripts/build-plugins-c.sh",
    },
];

/// A plugin compared: its name, its world and the configuration it gets.
pub type Plugin = (
    &'static str,
    PluginKind,
    &'static [(&'static str, &'static str)],
);

pub const PLUGINS: [Plugin; 3] = [
    ("noop_transform", PluginKind::Transform, &[]),
    ("noop_router", PluginKind::Routing, &[]),
    (
        "redact_json",
        PluginKind::Transform,
        &[("fields", "password")],
    ),
];

impl Lang {
    /// The component `name` of this language, or `None` (said on stderr)
    /// when it has not been built.
    pub fn component(&self, name: &str) -> Option<PathBuf> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(self.dir)
            .join(format!("{name}.wasm"));
        if path.is_file() {
            return Some(path);
        }
        eprintln!(
            "skipping {} {name}: {} is missing (run ./{})",
            self.name,
            path.display(),
            self.script
        );
        None
    }
}

pub fn entry(path: PathBuf, kind: PluginKind, config: &[(&str, &str)]) -> PluginEntry {
    PluginEntry {
        kind,
        path,
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        // Measuring, not policing: a 64-message batch through an
        // interpreter must not hit the default 10 ms budget.
        timeout: Some(std::time::Duration::from_secs(5)),
        // An interpreter's heap starts at 12 MiB (Python's minimum linear
        // memory), close to the default cap of 16; see docs/plugins.md.
        max_memory_mb: Some(64),
        ..PluginEntry::default()
    }
}
