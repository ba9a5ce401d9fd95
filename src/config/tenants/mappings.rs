//! Subject mappings: a source subject (with `*` wildcards) rewritten to one
//! destination or split by weight over several. Destinations may use the
//! mapping functions `{{wildcard(n)}}` and `{{partition(n, i...)}}`, with the
//! nats-server numbering: `n`/`i` is the n-th `*` token of the source,
//! counting from 1.

use super::{Issues, TenantSet, subject_error};
use crate::config::tenant::MappingEntry;
use crate::subject::is_valid_literal_subject;

pub(super) fn check_mappings(set: &TenantSet<'_>, out: &mut Issues<'_>) {
    for (f, t) in set.tenants() {
        for (i, mapping) in t.mappings.iter().enumerate() {
            check_mapping(mapping, f, &format!("mappings[{i}]"), out);
        }
    }
}

fn check_mapping(m: &MappingEntry, f: usize, key: &str, out: &mut Issues<'_>) {
    // With an invalid source the wildcard count means nothing, so indexes
    // are then only checked for syntax.
    let wildcards = match subject_error(&m.source) {
        Some(why) => {
            out.push(f, format!("{key}.source"), why);
            None
        }
        None => Some(m.source.split('.').filter(|t| *t == "*").count()),
    };
    match (&m.to, m.destinations.is_empty()) {
        (Some(_), false) => out.push(f, key, "set either `to` or `destinations`, not both"),
        (None, true) => out.push(f, key, "needs `to` or a non-empty `destinations`"),
        _ => {}
    }
    if let Some(to) = &m.to {
        for why in destination_errors(to, wildcards) {
            out.push(f, format!("{key}.to"), why);
        }
    }
    let mut total: u32 = 0;
    for (j, d) in m.destinations.iter().enumerate() {
        let dkey = format!("{key}.destinations[{j}]");
        if !(1..=100).contains(&d.weight) {
            let message = format!("{} is not a percentage from 1 to 100", d.weight);
            out.push(f, format!("{dkey}.weight"), message);
        }
        total += u32::from(d.weight);
        for why in destination_errors(&d.subject, wildcards) {
            out.push(f, format!("{dkey}.subject"), why);
        }
    }
    if total > 100 {
        let message = format!("weights add up to {total}, more than 100");
        out.push(f, format!("{key}.destinations"), message);
    }
}

/// Everything wrong with one destination. `wildcards` is the number of `*`
/// tokens in the source, when the source is valid.
fn destination_errors(dest: &str, wildcards: Option<usize>) -> Vec<String> {
    let mut errors = Vec::new();
    // The destination with every `{{...}}` replaced by `x`: what is left
    // must be a plain literal subject.
    let mut plain = String::with_capacity(dest.len());
    let mut rest = dest;
    while let Some(open) = rest.find("{{") {
        plain.push_str(&rest[..open]);
        let inside = &rest[open + 2..];
        let Some(close) = inside.find("}}") else {
            errors.push(format!("`{dest}`: `{{{{` is never closed by `}}}}`"));
            return errors;
        };
        if let Err(why) = check_function(inside[..close].trim(), wildcards) {
            errors.push(why);
        }
        plain.push('x');
        rest = &inside[close + 2..];
    }
    plain.push_str(rest);
    if !is_valid_literal_subject(plain.as_bytes()) {
        errors.push(format!(
            "`{dest}` is not a valid destination: apart from mapping functions it must be a literal subject"
        ));
    }
    errors
}

/// Checks one function call, the text between `{{` and `}}`.
fn check_function(call: &str, wildcards: Option<usize>) -> Result<(), String> {
    let (name, args) = call
        .strip_suffix(')')
        .and_then(|c| c.split_once('('))
        .ok_or_else(|| format!("`{{{{{call}}}}}` is not a function call such as `wildcard(1)`"))?;
    let name = name.trim();
    let args: Vec<&str> = match args.trim() {
        "" => Vec::new(),
        args => args.split(',').map(str::trim).collect(),
    };
    // nats-server accepts either case for the first letter only.
    match name {
        "wildcard" | "Wildcard" => match args.as_slice() {
            [index] => check_index(index, wildcards),
            _ => Err(format!(
                "wildcard takes one argument, the wildcard's position, not `{call}`"
            )),
        },
        "partition" | "Partition" => {
            let Some((count, indexes)) = args.split_first() else {
                return Err("partition needs a partition count: `partition(n, i...)`".into());
            };
            match count.parse::<u32>() {
                Ok(n) if n >= 1 => {}
                _ => return Err(format!("partition count `{count}` must be a number >= 1")),
            }
            indexes
                .iter()
                .try_for_each(|index| check_index(index, wildcards))
        }
        other => Err(format!(
            "unknown mapping function `{other}`: use `wildcard(n)` or `partition(n, i...)`"
        )),
    }
}

/// A wildcard position: 1-based, at most the number of `*` in the source.
fn check_index(index: &str, wildcards: Option<usize>) -> Result<(), String> {
    let n: usize = index
        .parse()
        .map_err(|_| format!("`{index}` is not a wildcard position (1, 2, ...)"))?;
    if n == 0 {
        return Err("wildcard positions start at 1".into());
    }
    match wildcards {
        Some(w) if n > w => Err(format!(
            "wildcard {n} does not exist: the source has {w} `*` token{}",
            if w == 1 { "" } else { "s" }
        )),
        _ => Ok(()),
    }
}
