//! A whole set of tenant files: loading a directory of them and checking
//! the rules that single files cannot check alone (unique names and
//! credentials, imports that match exports, import cycles).
//!
//! Validation never stops at the first problem: an operator fixing a
//! configuration wants every mistake in one run, each with the file and the
//! key path (`users[2].permissions.publish.allow[0]`) to look at. This module
//! does not build the runtime account model; it only says whether one can
//! be built.

mod cycles;
mod links;
mod load;
mod mappings;
mod users;

#[cfg(test)]
mod tests;

pub use links::subject_subset;
pub use load::{load_dir, parse_tenant};

use super::tenant::TenantFile;
use crate::subject::{is_valid_literal_subject, is_valid_subject};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in one file. `key` is a path into the file such as
/// `imports[0].stream.subject`, or empty when the problem is the file
/// itself (unreadable, missing directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub file: PathBuf,
    pub key: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(file: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigIssue {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigIssue {}

/// Checks every rule over the whole set and returns every problem found,
/// in file order (cycles last, since they span files).
pub fn validate(files: &[(PathBuf, TenantFile)]) -> Vec<ConfigIssue> {
    validate_for(files, false)
}

/// [`validate`], for a server whose TLS `verify_and_map` is on
/// (`certificate_users`): a user with only a name logs in by certificate.
pub fn validate_for(files: &[(PathBuf, TenantFile)], certificate_users: bool) -> Vec<ConfigIssue> {
    let set = TenantSet::new(files);
    let mut issues = Issues::new(files);
    users::check_names(&set, &mut issues);
    users::check_users(&set, &mut issues, certificate_users);
    links::check_exports(&set, &mut issues);
    links::check_imports(&set, &mut issues);
    mappings::check_mappings(&set, &mut issues);
    // Sort by file (stable, so each file keeps the order the checks ran in)
    // so that an operator reads one file's problems together.
    issues.found.sort_by_key(|(file, _)| *file);
    cycles::check_cycles(&set, &mut issues);
    issues.found.into_iter().map(|(_, issue)| issue).collect()
}

/// The files being checked and a name lookup shared by the cross-tenant
/// rules. A duplicated name resolves to its first file; the duplicate is
/// itself reported.
struct TenantSet<'a> {
    files: &'a [(PathBuf, TenantFile)],
    by_name: HashMap<&'a str, usize>,
}

impl<'a> TenantSet<'a> {
    fn new(files: &'a [(PathBuf, TenantFile)]) -> Self {
        let mut by_name = HashMap::new();
        for (i, (_, t)) in files.iter().enumerate() {
            by_name.entry(t.name.as_str()).or_insert(i);
        }
        TenantSet { files, by_name }
    }

    fn path(&self, file: usize) -> std::path::Display<'a> {
        self.files[file].0.display()
    }

    fn tenants(&self) -> impl Iterator<Item = (usize, &'a TenantFile)> {
        self.files.iter().map(|(_, t)| t).enumerate()
    }
}

/// Collects issues by file index so they can be reported in file order.
struct Issues<'a> {
    files: &'a [(PathBuf, TenantFile)],
    found: Vec<(usize, ConfigIssue)>,
}

impl<'a> Issues<'a> {
    fn new(files: &'a [(PathBuf, TenantFile)]) -> Self {
        Issues {
            files,
            found: Vec::new(),
        }
    }

    fn push(&mut self, file: usize, key: impl Into<String>, message: impl Into<String>) {
        let issue = ConfigIssue::new(&self.files[file].0, key, message);
        self.found.push((file, issue));
    }
}

/// Why `s` is not a valid subject, or `None` when it is one. Wildcards are
/// allowed; see [`literal_subject_error`] for subjects that must be literal.
fn subject_error(s: &str) -> Option<String> {
    if is_valid_subject(s.as_bytes()) {
        return None;
    }
    let tokens: Vec<&str> = s.split('.').collect();
    let why = if s.is_empty() {
        ": it is empty"
    } else if tokens.iter().any(|t| t.is_empty()) {
        ": it has an empty token"
    } else if s.contains([' ', '\t', '\r', '\n', '\x0c']) {
        ": it contains whitespace"
    } else if tokens[..tokens.len() - 1].contains(&">") {
        ": `>` may only be the last token"
    } else {
        ""
    };
    Some(format!("`{s}` is not a valid subject{why}"))
}

/// Like [`subject_error`], but wildcards are not allowed either.
fn literal_subject_error(s: &str) -> Option<String> {
    if let Some(e) = subject_error(s) {
        return Some(e);
    }
    (!is_valid_literal_subject(s.as_bytes()))
        .then(|| format!("`{s}` must be a literal subject (no `*` or `>`)"))
}
