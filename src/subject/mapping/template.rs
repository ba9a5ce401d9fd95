//! Destination templates: `orders.{{wildcard(2)}}.{{partition(3, 1)}}.$1.>`
//! parsed into tokens that refer to source token positions, so rendering a
//! message does no parsing and no lookups.
//!
//! The syntax follows nats-server's `subject_transform.go`: a token that
//! starts with `{{` and ends with `}}` is a function call (whitespace allowed
//! inside the braces, the first letter of each word in the name in either
//! case: `wildcard`, `Wildcard`, `splitFromLeft`, `SplitFromLeft`); `$n` is
//! the legacy spelling of `{{wildcard(n)}}`; anything else is literal.

use thiserror::Error;

/// What is wrong with one destination template.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DestinationProblem {
    #[error("empty token")]
    EmptyToken,
    #[error("token `{0}` contains whitespace")]
    Whitespace(String),
    #[error("`*` cannot appear in a destination; use `{{{{wildcard(n)}}}}`")]
    PartialWildcard,
    #[error("`>` must be the last token")]
    FullWildcardNotLast,
    #[error("source and destination must both end in `>`, or neither")]
    FullWildcardMismatch,
    #[error("`{0}` is not a known mapping function")]
    UnknownFunction(String),
    #[error("`{0}`: only wildcard() and partition() are supported so far")]
    UnsupportedFunction(String),
    #[error("`{0}`: not enough arguments")]
    NotEnoughArguments(String),
    #[error("`{0}`: too many arguments")]
    TooManyArguments(String),
    #[error("`{0}`: arguments must be integers")]
    InvalidArgument(String),
    #[error("`{token}`: wildcard {index} is out of range (the source has {wildcards} `*`)")]
    IndexOutOfRange {
        token: String,
        index: i64,
        wildcards: usize,
    },
    #[error("`{0}`: the number of partitions must be 1 to 2147483647")]
    BadPartitionCount(String),
}

use DestinationProblem as Problem;

/// One destination token, with wildcard numbers already turned into
/// positions in the source subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DestToken {
    Literal(Box<[u8]>),
    /// The published subject's token at this position.
    Wildcard(usize),
    /// FNV-1a 32 over the tokens at these positions, concatenated without
    /// separators, modulo `buckets` (nats-server's `getHashPartition`).
    Partition {
        buckets: u32,
        positions: Box<[usize]>,
    },
    /// `>`: every token the source's `>` matched.
    Rest,
}

/// Functions nats-server knows that we do not render yet; named so that a
/// configuration using them fails with a precise message.
const UNSUPPORTED: &[&str] = &[
    "SplitFromLeft",
    "SplitFromRight",
    "SliceFromLeft",
    "SliceFromRight",
    "Split",
    "Left",
    "Right",
    "Random",
];

/// Parses `destination` for a source whose `*` tokens sit at `stars`
/// (source token positions, in order) and which ends in `>` if `source_fwc`.
pub(super) fn parse(
    destination: &str,
    stars: &[usize],
    source_fwc: bool,
) -> Result<Vec<DestToken>, Problem> {
    let raw: Vec<&str> = destination.split('.').collect();
    let mut out = Vec::with_capacity(raw.len());
    for (i, token) in raw.iter().enumerate() {
        let parsed = parse_token(token, stars)?;
        if parsed == DestToken::Rest && i + 1 != raw.len() {
            return Err(Problem::FullWildcardNotLast);
        }
        out.push(parsed);
    }
    let dest_fwc = out.last() == Some(&DestToken::Rest);
    if dest_fwc != source_fwc {
        return Err(Problem::FullWildcardMismatch);
    }
    Ok(out)
}

fn parse_token(token: &str, stars: &[usize]) -> Result<DestToken, Problem> {
    match token {
        "" => return Err(Problem::EmptyToken),
        ">" => return Ok(DestToken::Rest),
        "*" => return Err(Problem::PartialWildcard),
        _ => {}
    }
    if let Some(n) = token.strip_prefix('$').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(DestToken::Wildcard(position(token, n, stars)?));
    }
    let is_call = token.len() > 4 && token.starts_with("{{") && token.ends_with("}}");
    if is_call {
        return parse_call(token, stars);
    }
    if token.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(Problem::Whitespace(token.to_string()));
    }
    Ok(DestToken::Literal(token.as_bytes().into()))
}

fn parse_call(token: &str, stars: &[usize]) -> Result<DestToken, Problem> {
    let unknown = || Problem::UnknownFunction(token.to_string());
    let inner = token[2..token.len() - 2].trim();
    let open = inner.find('(').ok_or_else(unknown)?;
    let body = inner[open + 1..].strip_suffix(')').ok_or_else(unknown)?;
    let name = inner[..open].trim_end();
    let args: Vec<&str> = match body.trim() {
        "" => Vec::new(),
        _ => body.split(',').map(str::trim).collect(),
    };
    let int = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| Problem::InvalidArgument(token.to_string()))
    };
    if name_is(name, "Wildcard") {
        match args.as_slice() {
            [] => Err(Problem::NotEnoughArguments(token.to_string())),
            [n] => Ok(DestToken::Wildcard(position(token, int(n)?, stars)?)),
            _ => Err(Problem::TooManyArguments(token.to_string())),
        }
    } else if name_is(name, "Partition") {
        let [count, indexes @ ..] = args.as_slice() else {
            return Err(Problem::NotEnoughArguments(token.to_string()));
        };
        if indexes.is_empty() {
            return Err(Problem::NotEnoughArguments(token.to_string()));
        }
        let buckets = u32::try_from(int(count)?)
            .ok()
            .filter(|&n| (1..=i32::MAX as u32).contains(&n))
            .ok_or_else(|| Problem::BadPartitionCount(token.to_string()))?;
        let positions = indexes
            .iter()
            .map(|i| position(token, int(i)?, stars))
            .collect::<Result<_, _>>()?;
        Ok(DestToken::Partition { buckets, positions })
    } else if UNSUPPORTED.iter().any(|f| name_is(name, f)) {
        Err(Problem::UnsupportedFunction(token.to_string()))
    } else {
        Err(unknown())
    }
}

/// nats-server's names are regexes like `[sS]plit[fF]rom[lL]eft`: each
/// capital in `canonical` may be written in either case, the rest exactly.
fn name_is(name: &str, canonical: &str) -> bool {
    name.len() == canonical.len()
        && name.bytes().zip(canonical.bytes()).all(|(n, c)| {
            if c.is_ascii_uppercase() {
                n.eq_ignore_ascii_case(&c)
            } else {
                n == c
            }
        })
}

/// The source position of the 1-based wildcard number `n`.
fn position(token: &str, n: i64, stars: &[usize]) -> Result<usize, Problem> {
    usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| stars.get(i).copied())
        .ok_or_else(|| Problem::IndexOutOfRange {
            token: token.to_string(),
            index: n,
            wildcards: stars.len(),
        })
}
