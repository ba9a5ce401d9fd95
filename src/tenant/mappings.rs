//! A tenant's `mappings` entries compiled into a `MappingTable`.

use crate::config::tenant::MappingEntry;
use crate::subject::{MappingError, MappingTable, SubjectMapping};
use thiserror::Error;

/// Why a tenant's mappings could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MappingsError {
    #[error("mapping `{0}`: give either `to` or `destinations`, not both")]
    BothForms(String),
    #[error("mapping `{0}`: give `to` or `destinations`")]
    NoForm(String),
    #[error("mapping `{0}` is defined twice")]
    DuplicateSource(String),
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

/// Compiles the entries in order (the first matching source wins when
/// the table is used).
pub fn compile(entries: &[MappingEntry]) -> Result<MappingTable, MappingsError> {
    let mut mappings = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        if entries[..i].iter().any(|prev| prev.source == e.source) {
            return Err(MappingsError::DuplicateSource(e.source.clone()));
        }
        let destinations: Vec<(String, u8)> = match (&e.to, e.destinations.as_slice()) {
            (Some(_), [_, ..]) => return Err(MappingsError::BothForms(e.source.clone())),
            (None, []) => return Err(MappingsError::NoForm(e.source.clone())),
            (Some(to), []) => vec![(to.clone(), 100)],
            (None, weighted) => weighted
                .iter()
                .map(|d| (d.subject.clone(), d.weight))
                .collect(),
        };
        mappings.push(SubjectMapping::new(&e.source, &destinations)?);
    }
    Ok(MappingTable::new(mappings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tenant::WeightedDestination;

    fn entry(source: &str, to: Option<&str>, weighted: &[(&str, u8)]) -> MappingEntry {
        MappingEntry {
            source: source.to_string(),
            to: to.map(str::to_string),
            destinations: weighted
                .iter()
                .map(|(s, w)| WeightedDestination {
                    subject: s.to_string(),
                    weight: *w,
                })
                .collect(),
        }
    }

    #[test]
    fn compiles_both_forms_in_order() {
        let table = compile(&[
            entry("a.*", Some("b.{{wildcard(1)}}"), &[]),
            entry("c", None, &[("d", 100)]),
        ]);
        let table = table.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.len(), 2);
        assert_eq!(table.map_with(b"a.x", 0).as_deref(), Some(&b"b.x"[..]));
        assert_eq!(table.map_with(b"c", 0).as_deref(), Some(&b"d"[..]));
    }

    #[test]
    fn rejects_ambiguous_entries() {
        let both = compile(&[entry("a", Some("b"), &[("c", 100)])]);
        assert_eq!(both.err(), Some(MappingsError::BothForms("a".into())));
        let none = compile(&[entry("a", None, &[])]);
        assert_eq!(none.err(), Some(MappingsError::NoForm("a".into())));
        let twice = compile(&[entry("a", Some("b"), &[]), entry("a", Some("c"), &[])]);
        assert_eq!(
            twice.err(),
            Some(MappingsError::DuplicateSource("a".into()))
        );
        let bad = compile(&[entry("a", Some("b.*"), &[])]);
        assert!(matches!(bad, Err(MappingsError::Mapping(_))));
    }
}
