//! Subject mapping templates (`mappings` in tenant files and account JWTs):
//! compiling `source -> destination(s)` and rendering a published subject.
//!
//! Input: lines. The first is the source; each following line but the
//! last is a destination, its first byte the weight; the last line is a
//! published subject. Compiling must fail cleanly or succeed; a compiled
//! mapping must agree with the reference matcher on which subjects it
//! applies to, and must turn a valid literal subject into a valid literal
//! subject (a mapping never produces wildcards, empty tokens or whitespace,
//! which would be protocol on the way out).

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard::subject::{
    MappingTable, SubjectMapping, is_valid_literal_subject, is_valid_subject, matches,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let [source, destinations @ .., subject] = lines.as_slice() else {
        return;
    };
    let destinations: Vec<(String, u8)> = destinations
        .iter()
        .filter_map(|line| {
            let (&weight, dest) = line.as_bytes().split_first()?;
            Some((String::from_utf8_lossy(dest).into_owned(), weight))
        })
        .collect();
    let Ok(mapping) = SubjectMapping::new(source, &destinations) else {
        return;
    };
    assert!(is_valid_subject(source.as_bytes()));
    let subject = subject.as_bytes();
    if !is_valid_literal_subject(subject) {
        return;
    }
    assert_eq!(
        mapping.matches(subject),
        matches(source.as_bytes(), subject),
        "source {source:?}"
    );
    for draw in [0, 1, 49, 50, 98, 99, 100, 255] {
        if let Some(out) = mapping.apply(subject, draw) {
            assert!(
                is_valid_literal_subject(&out),
                "{source:?} -> {destinations:?} mapped {:?} to {:?}",
                String::from_utf8_lossy(subject),
                String::from_utf8_lossy(&out)
            );
        }
    }
    let table = MappingTable::new(vec![mapping]);
    if let Some(out) = table.map(subject) {
        assert!(is_valid_literal_subject(&out));
    }
});
