//! The nats-server configuration language: reading a `.conf` file (and
//! what it includes) into a tree of positioned values.
//!
//! Owns the syntax only: `k = v`, `k: v`, `k v`; maps and arrays; `#` and
//! `//` comments; `;`, `,` and newlines between entries; quoted, bare and
//! block (`( ... )`) strings; booleans (`true/false/yes/no/on/off`);
//! sizes (`1k` = 1000, `1kb`/`1KiB` = 1024); `$VAR` from enclosing blocks,
//! then the environment; `include` relative to the including file. What
//! the keys mean to Switchyard is `config::natsmap`'s business; this module
//! uses nothing of the crate beyond itself.
//!
//! Hand-written because no maintained Rust crate reads this format (the
//! format is defined only by nats-server's Go lexer, `conf/lex.go`), and
//! because the files it reads may come from anyone: every input size,
//! nesting depth, include depth and variable expansion is capped
//! ([`Limits`]), and malformed input is an error with `file:line:column`,
//! never a panic.
//!
//! May use: nothing in the crate (a parser of text into values).

mod lexer;
mod parser;
mod value;

#[cfg(test)]
mod tests;

pub use value::{Entry, Kind, Map, Pos, Value};

use std::io::Read;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NatsConfError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    TooLarge { path: String, message: String },
    #[error("{pos}: {message}")]
    Syntax { pos: Pos, message: String },
}

/// Caps on what one configuration (with its includes) may cost to parse.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of text, all included files together.
    pub max_bytes: usize,
    /// Maps and arrays inside each other.
    pub max_depth: usize,
    /// Files including each other.
    pub max_include_depth: usize,
    /// Values in the tree, copies made by `$VAR` included.
    pub max_values: usize,
}

impl Default for Limits {
    /// Far beyond any real server configuration (nats-server's own test
    /// files are a few KiB; an operator's preloaded JWTs a few hundred),
    /// and small enough that a hostile file costs milliseconds.
    fn default() -> Limits {
        Limits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 64,
            max_include_depth: 10,
            max_values: 1_000_000,
        }
    }
}

/// Reads and parses the file at `path`, with its includes; `$VAR`s not
/// defined in the file come from the process environment.
pub fn parse_file(path: &Path) -> Result<Map, NatsConfError> {
    let limits = Limits::default();
    let text = read_bounded(path, limits.max_bytes).map_err(|source| NatsConfError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let env = |name: &str| std::env::var(name).ok();
    parse_with(&text, path, &limits, &env)
}

/// Parses `text` as the file at `path` (which names it in errors and is
/// the base of its includes), with `env` standing for the environment.
pub fn parse_with(
    text: &str,
    path: &Path,
    limits: &Limits,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Map, NatsConfError> {
    let mut parser = parser::Parser::new(limits, env);
    parser.parse_text(text, path, None)?;
    Ok(parser.finish())
}

/// Reads at most `max` bytes of UTF-8 text: a configuration that names
/// `/dev/zero` gets an error, not an endless read.
fn read_bounded(path: &Path, max: usize) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_string(&mut text)?;
    if text.len() > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(text)
}
