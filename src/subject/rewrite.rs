//! Rewriting subjects between namespaces: stream imports (`prefix` or `to`)
//! and service imports (local subject to exported subject).
//!
//! A rewrite maps a filter `from` to a filter `to` with the same wildcards:
//! the n-th `*` of `to` takes the token the n-th `*` of `from` matched, and
//! a trailing `>` carries the remaining tokens.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{to}` must have the same wildcards as `{from}` ({from_stars} `*`, `>`: {from_tail})")]
pub struct RewriteError {
    pub from: String,
    pub to: String,
    pub from_stars: usize,
    pub from_tail: bool,
}

/// One token of a rewrite's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(Vec<u8>),
    Star(usize),
    Tail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectRewrite {
    /// The subject is used as it is.
    Identity,
    /// `prefix.` is put in front (stream import `prefix`).
    Prefix(Vec<u8>),
    /// Token-wise template; see the module docs.
    Template { from: Vec<u8>, to: Vec<Part> },
}

fn tokens(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|&b| b == b'.')
}

impl SubjectRewrite {
    pub fn prefix(prefix: &[u8]) -> Self {
        SubjectRewrite::Prefix(prefix.to_vec())
    }

    /// A rewrite from filter `from` to filter `to`; identity when equal.
    pub fn template(from: &[u8], to: &[u8]) -> Result<Self, RewriteError> {
        if from == to {
            return Ok(SubjectRewrite::Identity);
        }
        let from_stars = tokens(from).filter(|t| *t == b"*").count();
        let from_tail = tokens(from).last() == Some(b">");
        let mut star = 0;
        let mut parts = Vec::new();
        for t in tokens(to) {
            parts.push(match t {
                b"*" => {
                    star += 1;
                    Part::Star(star - 1)
                }
                b">" => Part::Tail,
                lit => Part::Literal(lit.to_vec()),
            });
        }
        let to_tail = matches!(parts.last(), Some(Part::Tail));
        if star != from_stars || to_tail != from_tail {
            return Err(RewriteError {
                from: String::from_utf8_lossy(from).into_owned(),
                to: String::from_utf8_lossy(to).into_owned(),
                from_stars,
                from_tail,
            });
        }
        Ok(SubjectRewrite::Template {
            from: from.to_vec(),
            to: parts,
        })
    }

    /// Writes the rewritten `subject` (which matches the `from` filter) into `out`.
    pub fn apply(&self, subject: &[u8], out: &mut Vec<u8>) {
        out.clear();
        match self {
            SubjectRewrite::Identity => out.extend_from_slice(subject),
            SubjectRewrite::Prefix(p) => {
                out.extend_from_slice(p);
                out.push(b'.');
                out.extend_from_slice(subject);
            }
            SubjectRewrite::Template { from, to } => {
                let mut stars: Vec<&[u8]> = Vec::new();
                let mut tail: &[u8] = b"";
                let mut consumed = 0;
                for (f, s) in tokens(from).zip(tokens(subject)) {
                    match f {
                        b"*" => stars.push(s),
                        b">" => {
                            tail = &subject[consumed.min(subject.len())..];
                            break;
                        }
                        _ => {}
                    }
                    consumed += s.len() + 1;
                }
                for (i, part) in to.iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    match part {
                        Part::Literal(l) => out.extend_from_slice(l),
                        Part::Star(n) => {
                            out.extend_from_slice(stars.get(*n).copied().unwrap_or(b"_"))
                        }
                        Part::Tail => out.extend_from_slice(tail),
                    }
                }
            }
        }
    }

    /// The prefix tokens, for mapping an importer's filter back to the
    /// exporter's namespace.
    pub fn as_prefix(&self) -> Option<&[u8]> {
        match self {
            SubjectRewrite::Prefix(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(r: &SubjectRewrite, s: &str) -> String {
        let mut out = Vec::new();
        r.apply(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rewrites() {
        assert_eq!(
            rw(&SubjectRewrite::prefix(b"acme"), "orders.1"),
            "acme.orders.1"
        );
        let t = SubjectRewrite::template(b"orders.*.>", b"in.*.x.>").unwrap();
        assert_eq!(rw(&t, "orders.eu.a.b"), "in.eu.x.a.b");
        let t = SubjectRewrite::template(b"weather", b"svc.weather.now").unwrap();
        assert_eq!(rw(&t, "weather"), "svc.weather.now");
        assert_eq!(
            SubjectRewrite::template(b"a.b", b"a.b").unwrap(),
            SubjectRewrite::Identity
        );
        assert!(SubjectRewrite::template(b"a.*", b"b.c").is_err());
        assert!(SubjectRewrite::template(b"a.>", b"b.*").is_err());
    }
}
