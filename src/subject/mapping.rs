//! Subject mappings, as nats-server does them: a published subject that
//! matches a mapping's source is rewritten to one of its destinations before
//! it is matched against subscriptions (permission checks then apply to the
//! rewritten subject).
//!
//! This module owns compiling `source -> destination(s)` and rendering a
//! subject; it knows nothing of tenants or configuration files. Rendering
//! costs one output `Vec` and no other allocation, and an account without
//! mappings pays one branch (`MappingTable::map`).

mod template;

pub use template::DestinationProblem;

use super::tokens::{self, TokenizedFilter};
use super::validate::is_valid_subject;
use template::DestToken;
use thiserror::Error;

/// Why a mapping could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MappingError {
    #[error("mapping source `{0}` is not a valid subject")]
    InvalidSource(String),
    #[error("mapping `{mapping}` has no destination")]
    NoDestinations { mapping: String },
    #[error(
        "mapping `{mapping}`: destination `{destination}` has weight {weight}; weights are percent, 1 to 100"
    )]
    BadWeight {
        mapping: String,
        destination: String,
        weight: u8,
    },
    #[error("mapping `{mapping}`: the weights add up to {total}%, more than 100%")]
    TotalWeight { mapping: String, total: u32 },
    #[error("mapping `{mapping}`: destination `{destination}` is listed twice")]
    DuplicateDestination {
        mapping: String,
        destination: String,
    },
    #[error("mapping `{mapping}`: destination `{destination}`: {problem}")]
    InvalidDestination {
        mapping: String,
        destination: String,
        problem: DestinationProblem,
    },
}

/// One compiled `source -> destination(s)` mapping.
#[derive(Debug, Clone)]
pub struct SubjectMapping {
    source: Box<[u8]>,
    /// `None` for a source without wildcards, which matches by byte
    /// equality.
    filter: Option<TokenizedFilter>,
    source_tokens: usize,
    /// Ascending by weight, as nats-server orders them, so that a draw in
    /// 0..100 picks the same destination it would.
    destinations: Box<[Destination]>,
}

#[derive(Debug, Clone)]
struct Destination {
    /// A draw below this (and not below the previous entry's) picks this one.
    upto: u8,
    /// `None`: the remainder of a split under 100%, which keeps the subject.
    template: Option<Template>,
}

#[derive(Debug, Clone)]
struct Template {
    tokens: Box<[DestToken]>,
    /// Output bytes beyond the subject's length, so rendering allocates once.
    extra_capacity: usize,
    /// Whether rendering needs the subject's tokens at all.
    uses_subject: bool,
}

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a 32, continued from `hash`: nats-server's `hash/fnv` `New32a`.
fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The partition nats-server assigns to the concatenation of `keys`.
pub fn partition_of<'a>(keys: impl IntoIterator<Item = &'a [u8]>, buckets: u32) -> u32 {
    keys.into_iter().fold(FNV_OFFSET, fnv1a) % buckets.max(1)
}

impl SubjectMapping {
    /// Compiles a mapping. Weights are percent (1..=100) and add up to at
    /// most 100; below 100 the rest of the messages keep their subject. A
    /// single destination is given weight 100.
    pub fn new(
        source: &str,
        destinations: &[(String, u8)],
    ) -> Result<SubjectMapping, MappingError> {
        if !is_valid_subject(source.as_bytes()) {
            return Err(MappingError::InvalidSource(source.to_string()));
        }
        if destinations.is_empty() {
            return Err(MappingError::NoDestinations {
                mapping: source.to_string(),
            });
        }
        let raw: Vec<&str> = source.split('.').collect();
        let stars: Vec<usize> = (0..raw.len()).filter(|&i| raw[i] == "*").collect();
        let source_fwc = raw.last() == Some(&">");

        let mut compiled: Vec<(u8, Option<Template>)> = Vec::with_capacity(destinations.len() + 1);
        let mut total = 0u32;
        for (i, (dest, weight)) in destinations.iter().enumerate() {
            let fail = |problem| MappingError::InvalidDestination {
                mapping: source.to_string(),
                destination: dest.clone(),
                problem,
            };
            if !(1..=100).contains(weight) {
                return Err(MappingError::BadWeight {
                    mapping: source.to_string(),
                    destination: dest.clone(),
                    weight: *weight,
                });
            }
            if destinations[..i].iter().any(|(d, _)| d == dest) {
                return Err(MappingError::DuplicateDestination {
                    mapping: source.to_string(),
                    destination: dest.clone(),
                });
            }
            total += u32::from(*weight);
            let tokens = template::parse(dest, &stars, source_fwc).map_err(fail)?;
            compiled.push((*weight, Some(Template::new(tokens))));
        }
        if total > 100 {
            return Err(MappingError::TotalWeight {
                mapping: source.to_string(),
                total,
            });
        }
        if total < 100 {
            // The remainder keeps the subject; `total` is at most 99 here.
            compiled.push((100 - total as u8, None));
        }
        compiled.sort_by_key(|(w, _)| *w);
        let mut upto = 0u8;
        let destinations = compiled
            .into_iter()
            .map(|(weight, template)| {
                upto += weight;
                Destination { upto, template }
            })
            .collect();
        let literal = stars.is_empty() && !source_fwc;
        Ok(SubjectMapping {
            filter: (!literal).then(|| TokenizedFilter::new(source.as_bytes())),
            source_tokens: raw.len(),
            source: source.as_bytes().into(),
            destinations,
        })
    }

    pub fn source(&self) -> &[u8] {
        &self.source
    }

    /// Does the literal `subject` match this mapping's source?
    #[inline]
    pub fn matches(&self, subject: &[u8]) -> bool {
        match &self.filter {
            None => *subject == *self.source,
            Some(f) => f.matches(subject),
        }
    }

    /// The mapped subject, or `None` if `subject` does not match the
    /// source. `rng_percent` (0..100) picks among weighted destinations.
    pub fn apply(&self, subject: &[u8], rng_percent: u8) -> Option<Vec<u8>> {
        self.matches(subject)
            .then(|| self.render(subject, rng_percent))
    }

    /// `apply` with a random draw for weighted destinations.
    pub fn apply_random(&self, subject: &[u8]) -> Option<Vec<u8>> {
        self.apply(subject, self.draw())
    }

    fn draw(&self) -> u8 {
        if self.destinations.len() == 1 {
            0
        } else {
            fastrand::u8(0..100)
        }
    }

    /// Renders a subject known to match the source.
    fn render(&self, subject: &[u8], rng_percent: u8) -> Vec<u8> {
        let draw = rng_percent.min(99);
        let chosen = self.destinations.iter().find(|d| draw < d.upto);
        match chosen.and_then(|d| d.template.as_ref()) {
            Some(template) => template.render(subject, self.source_tokens),
            None => subject.to_vec(),
        }
    }
}

impl Template {
    fn new(tokens: Vec<DestToken>) -> Template {
        let mut extra_capacity = tokens.len();
        let mut uses_subject = false;
        for t in &tokens {
            match t {
                DestToken::Literal(l) => extra_capacity += l.len(),
                // Digits of a u32.
                DestToken::Partition { .. } => {
                    extra_capacity += 10;
                    uses_subject = true;
                }
                DestToken::Wildcard(_) | DestToken::Rest => uses_subject = true,
            }
        }
        Template {
            tokens: tokens.into(),
            extra_capacity,
            uses_subject,
        }
    }

    fn render(&self, subject: &[u8], source_tokens: usize) -> Vec<u8> {
        let split = tokens::split(if self.uses_subject { subject } else { b"" });
        let toks = split.as_slice();
        // The subject matched the source, so every position is in range;
        // `get` keeps a broken invariant from turning into a panic.
        let tok = |p: &usize| toks.get(*p).copied().unwrap_or_default();
        let mut out = Vec::with_capacity(subject.len() + self.extra_capacity);
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            match t {
                DestToken::Literal(l) => out.extend_from_slice(l),
                DestToken::Wildcard(p) => out.extend_from_slice(tok(p)),
                DestToken::Partition { buckets, positions } => {
                    let n = partition_of(positions.iter().map(tok), *buckets);
                    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                }
                DestToken::Rest => {
                    let skip = source_tokens.saturating_sub(1);
                    let start: usize = toks.iter().take(skip).map(|t| t.len() + 1).sum();
                    out.extend_from_slice(subject.get(start..).unwrap_or_default());
                }
            }
        }
        out
    }
}

/// An account's mappings, tried in order; the first whose source matches
/// wins (nats-server's `selectMappedSubject`).
#[derive(Debug, Clone, Default)]
pub struct MappingTable {
    mappings: Vec<SubjectMapping>,
}

impl MappingTable {
    pub fn new(mappings: Vec<SubjectMapping>) -> MappingTable {
        MappingTable { mappings }
    }

    pub fn is_empty(&self) -> bool {
        self.mappings.is_empty()
    }

    pub fn len(&self) -> usize {
        self.mappings.len()
    }

    pub fn mappings(&self) -> &[SubjectMapping] {
        &self.mappings
    }

    /// The subject to publish on instead of `subject`, or `None` when no
    /// mapping applies. An empty table costs one branch.
    #[inline]
    pub fn map(&self, subject: &[u8]) -> Option<Vec<u8>> {
        if self.mappings.is_empty() {
            return None;
        }
        let m = self.find(subject)?;
        Some(m.render(subject, m.draw()))
    }

    /// `map` with a caller-supplied draw in 0..100, for tests.
    pub fn map_with(&self, subject: &[u8], rng_percent: u8) -> Option<Vec<u8>> {
        let m = self.find(subject)?;
        Some(m.render(subject, rng_percent))
    }

    fn find(&self, subject: &[u8]) -> Option<&SubjectMapping> {
        self.mappings.iter().find(|m| m.matches(subject))
    }
}

#[cfg(test)]
mod tests;
