//! Reading a directory of tenant files. Parse errors become issues with
//! the key path and line of the offending entry, keeping toml's own message
//! (for an unknown key it names the key and the expected ones).

use super::ConfigIssue;
use crate::config::tenant::TenantFile;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// Reads every `*.toml` file in `dir`, sorted by file name; other files are
/// ignored. A missing or empty directory is an error, since a server with
/// no tenants could not let anyone in. Returns every file's problem, not
/// just the first.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, TenantFile)>, Vec<ConfigIssue>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![ConfigIssue::new(
            dir,
            "",
            format!("cannot read the tenant directory: {e}"),
        )]
    })?;
    let mut issues = Vec::new();
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
                    paths.push(path);
                }
            }
            Err(e) => issues.push(ConfigIssue::new(
                dir,
                "",
                format!("cannot list the tenant directory: {e}"),
            )),
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if paths.is_empty() && issues.is_empty() {
        issues.push(ConfigIssue::new(dir, "", "no tenant files (*.toml) found"));
    }
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        match parse_file(&path) {
            Ok(mut tenant) => {
                // Plugin paths are relative to the tenant file.
                if let Some(base) = path.parent() {
                    for plugin in &mut tenant.plugins {
                        if plugin.path.is_relative() {
                            plugin.path = base.join(&plugin.path);
                        }
                    }
                }
                files.push((path, tenant));
            }
            Err(issue) => issues.push(issue),
        }
    }
    if issues.is_empty() {
        Ok(files)
    } else {
        Err(issues)
    }
}

fn parse_file(path: &Path) -> Result<TenantFile, ConfigIssue> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigIssue::new(path, "", format!("cannot read: {e}")))?;
    parse_tenant(path, &text)
}

/// Parses the text of the tenant file at `path` (which names it in the
/// issue). What [`load_dir`] does with each file it reads, before plugin
/// paths are resolved and before the rules across files are checked
/// ([`super::validate`]); public so that the fuzz targets parse exactly
/// what the server parses.
pub fn parse_tenant(path: &Path, text: &str) -> Result<TenantFile, ConfigIssue> {
    toml::from_str(text).map_err(|e| {
        // toml's Display draws the line with a caret over several lines;
        // an issue is one line, so keep the message and add the position.
        let message = e.message().trim_end();
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                ConfigIssue::new(
                    path,
                    key_path_at(text, span.start),
                    format!("{message} (line {line}, column {column})"),
                )
            }
            None => ConfigIssue::new(path, "", message),
        }
    })
}

/// 1-based line and column (in characters) of byte offset `pos`.
fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

/// The key path (`users[1].permissions.publish`) of the smallest key or
/// value whose text holds byte offset `pos`, or "" when the file is not
/// even valid TOML (toml's message then says where it stopped).
fn key_path_at(text: &str, pos: usize) -> String {
    let Ok(root) = DeTable::parse(text) else {
        return String::new();
    };
    let mut spans = Vec::new();
    collect_table(root.get_ref(), &mut String::new(), &mut spans);
    // Smallest wins: a key or scalar over the table or array holding it.
    spans
        .into_iter()
        .filter(|(_, span)| span.contains(&pos))
        .min_by_key(|(_, span)| span.len())
        .map(|(path, _)| path)
        .unwrap_or_default()
}

/// Every key and value with its path and span. Container spans do not
/// always cover their contents (a `[table]` header and its keys are
/// apart), which is why everything is collected rather than descended into
/// by span.
fn collect_table(table: &DeTable<'_>, path: &mut String, out: &mut Vec<(String, Range<usize>)>) {
    for (key, value) in table.iter() {
        let len = path.len();
        push_key(path, key.get_ref());
        out.push((path.clone(), key.span()));
        out.push((path.clone(), value.span()));
        collect_value(value.get_ref(), path, out);
        path.truncate(len);
    }
}

fn collect_value(value: &DeValue<'_>, path: &mut String, out: &mut Vec<(String, Range<usize>)>) {
    match value {
        DeValue::Table(table) => collect_table(table, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                out.push((path.clone(), item.span()));
                collect_value(item.get_ref(), path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        path.push_str(key);
    } else {
        let _ = write!(path, "{key:?}");
    }
}
