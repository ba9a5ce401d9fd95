//! The crate's module layers, checked from the source: every top-level
//! module may use only the modules below it in `LAYERS`, and no file uses
//! a file that uses it back (directly or through others). See
//! `docs/architecture.md` for what each layer owns.
//!
//! Paths are read from `crate::` and `super::` references (with one level
//! of `{...}` groups) and resolved to the file that defines them; a file's
//! `#[cfg(test)]` tail and test-only files are left out, since tests may
//! reach up to start a server. Inside a module, files name their siblings
//! by file (`super::file::Item`), not through the parent's re-exports,
//! so that the check sees the real edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. A module may use the modules before it, never after.
const LAYERS: &[&str] = &[
    "protocol", "subject", "config", "auth", "plugin", "client", "tenant", "login", "route",
    "monitor", "server", "bench", "cli",
];

/// Source files by module path (`["server", "connection"]`), without tests.
fn sources(src: &Path) -> BTreeMap<Vec<String>, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Some(module) = module_path(src, &path) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).expect("read source");
            let text = match text.find("#[cfg(test)]") {
                Some(at) => &text[..at],
                None => &text,
            };
            out.insert(module, without_comments(text));
        }
    }
    out
}

/// `text` without `//` comments (doc comments name modules in prose).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string (a URL) is rare enough on a line that
            // also names a module to be left as it is.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn module_path(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).ok()?;
    let name = rel.file_name()?.to_str()?;
    let stem = name.strip_suffix(".rs")?;
    if stem == "tests" || stem.ends_with("_tests") || stem == "main" || stem == "lib" {
        return None;
    }
    let mut parts: Vec<String> = rel
        .parent()
        .into_iter()
        .flat_map(|p| p.iter())
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    Some(parts)
}

/// Every path a file names after `crate::` or `super::`, as segments
/// relative to the crate root.
fn referenced_paths(module: &[String], text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut prefixes = vec![
        ("crate::".to_string(), Vec::new()),
        ("super::".to_string(), parent(module)),
        ("self::".to_string(), module.to_vec()),
    ];
    for child in children(text) {
        let mut base = module.to_vec();
        base.push(child.clone());
        prefixes.push((format!("{child}::"), base));
    }
    for (prefix, base) in prefixes {
        let prefix = prefix.as_str();
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            // `pub(in crate::server)` is a visibility, not a use.
            let visibility = rest[..at].ends_with("(in ");
            rest = &rest[at + prefix.len()..];
            if visibility || before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for tail in expand(rest) {
                let mut path: Vec<String> = base.clone();
                path.extend(tail);
                out.push(path);
            }
        }
    }
    out
}

/// The module a `super::` in this file names (for `a/b.rs` and for
/// `a/b/mod.rs` alike, module `a`).
fn parent(module: &[String]) -> Vec<String> {
    let mut p = module.to_vec();
    p.pop();
    p
}

/// The child modules a file declares (`mod name;`), which it may name
/// without a prefix.
fn children(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l
                .trim()
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ");
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect()
}

/// Path segments at the front of `s`: `a::b::C` or `a::{B, c::D}`.
fn expand(s: &str) -> Vec<Vec<String>> {
    let mut head = Vec::new();
    let mut rest = s;
    loop {
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len > 0 {
            head.push(rest[..len].to_string());
            rest = &rest[len..];
            if let Some(r) = rest.strip_prefix("::") {
                rest = r;
                continue;
            }
            return vec![head];
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            return group[..end]
                .split(',')
                .map(|entry| {
                    let mut path = head.clone();
                    path.extend(
                        entry
                            .split("::")
                            .map(|s| s.trim().trim_start_matches('{').to_string())
                            .filter(|s| !s.is_empty() && s != "self"),
                    );
                    path
                })
                .collect();
        }
        return vec![head];
    }
}

/// The file a path is defined in: its longest prefix that is a module.
fn resolve<'a>(
    files: &'a BTreeMap<Vec<String>, String>,
    path: &[String],
) -> Option<&'a Vec<String>> {
    (1..=path.len())
        .rev()
        .find_map(|n| files.get_key_value(&path[..n]).map(|(k, _)| k))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn edges() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = src_dir();
    let files = sources(&src);
    let mut graph = BTreeMap::new();
    for (module, text) in &files {
        let targets: BTreeSet<Vec<String>> = referenced_paths(module, text)
            .iter()
            .filter_map(|p| resolve(&files, p))
            .filter(|t| *t != module)
            .cloned()
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let rank = |m: &Vec<String>| {
        m.first()
            .and_then(|top| LAYERS.iter().position(|l| l == top))
            .unwrap_or_else(|| panic!("{} is not in LAYERS: place it", m.join("::")))
    };
    let mut upward = Vec::new();
    for (from, targets) in edges() {
        for to in targets {
            if from[0] != to[0] && rank(&to) >= rank(&from) {
                upward.push(format!("{} uses {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_file_uses_a_file_that_uses_it() {
    let graph = edges();
    // Depth-first search for a back edge; reports one cycle per start.
    let mut cycles = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    let mut names: Vec<String> = path.iter().map(|m| m.join("::")).collect();
                    names.push(start.join("::"));
                    let mut key = path.clone();
                    key.sort();
                    if cycles
                        .iter()
                        .all(|(k, _): &(Vec<Vec<String>>, String)| *k != key)
                    {
                        cycles.insert((key, names.join(" -> ")));
                    }
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    let found: Vec<String> = cycles.into_iter().map(|(_, s)| s).collect();
    assert!(
        found.is_empty(),
        "files that use each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_sees_imports() {
    // Guards the checker itself: known edges must be found.
    let graph = edges();
    let module = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    let connection = &graph[&module("server::connection")];
    assert!(connection.contains(&module("route")), "{connection:?}");
    assert!(
        connection.contains(&module("server::subs")),
        "{connection:?}"
    );
}
