//! What a parsed nats-server configuration file is: maps of keys to values,
//! every value carrying the position it was written at, so that the
//! translation onto Switchyard's model can name `file:line:column` in its
//! errors too.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Where a key or value starts: file, line and column (both from 1;
/// columns count characters, not bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub file: Arc<Path>,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub pos: Pos,
}

/// The value types of the format. Sizes (`1k`, `2MiB`) are already
/// integers here; durations stay strings (`"2s"`) or integers (seconds)
/// until a key that wants a duration reads them.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Value>),
    Map(Map),
}

impl Kind {
    /// The type's name as an error message would say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::String(_) => "a string",
            Kind::Integer(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Bool(_) => "a boolean",
            Kind::Array(_) => "an array",
            Kind::Map(_) => "a map",
        }
    }

    /// How many values this one is made of, itself included: what a
    /// variable reference copies, counted against the parser's cap.
    pub(super) fn node_count(&self) -> usize {
        1 + match self {
            Kind::Array(items) => items.iter().map(|v| v.kind.node_count()).sum(),
            Kind::Map(map) => map.entries.iter().map(|e| e.value.kind.node_count()).sum(),
            _ => 0,
        }
    }
}

/// A block of `key = value` entries, in file order. Keys keep the case
/// they were written in (account names are case-sensitive); configuration
/// keys are looked up without regard to case, as nats-server does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Value,
    /// Referenced as `$key` somewhere: nats-server lets such keys stand
    /// in any block without being configuration, so unknown-key checks
    /// skip them.
    pub used_as_variable: bool,
}

impl Map {
    /// The last entry whose key equals `key` ignoring ASCII case (a later
    /// assignment overrides an earlier one, as in nats-server).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// Entries with the later of two same-named keys only, in the order
    /// their last assignment was written. Linear: a hostile file may hold
    /// many thousand keys in one block.
    pub fn effective(&self) -> Vec<&Entry> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<&Entry> = self
            .entries
            .iter()
            .rev()
            .filter(|e| seen.insert(e.key.to_ascii_lowercase()))
            .collect();
        out.reverse();
        out
    }
}
