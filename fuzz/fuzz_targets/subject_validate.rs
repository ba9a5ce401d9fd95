//! Subject syntax and matching: every subject a client sends (PUB, SUB,
//! reply subjects) and every subject a tenant file or plugin names goes
//! through these functions, and the subscription index and the import
//! rewrites must agree with them.
//!
//! Input: lines; all but the last are filters, the last a subject. The
//! properties: a literal subject is a valid subject; the subscription index
//! matches exactly the filters the reference matcher `matches` accepts;
//! `is_subset_match` of a literal agrees with `matches`; two filters that
//! match one subject overlap, and overlap is symmetric; a rewrite between
//! filters turns a valid literal subject into a valid literal subject.
//!
//! There is no header-block parser in the library to fuzz: the server
//! passes header blocks through as bytes, and the plugin host builds them
//! (`plugin::transform::encode_headers`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard::subject::{
    SubjectRewrite, SubscriptionIndex, is_subset_match, is_valid_literal_subject, is_valid_subject,
    matches, subjects_overlap,
};

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let [filters @ .., subject] = lines.as_slice() else {
        return;
    };
    let subject = *subject;
    let literal = is_valid_literal_subject(subject);
    if literal {
        assert!(is_valid_subject(subject));
    }
    let filters: Vec<&[u8]> = filters
        .iter()
        .copied()
        .filter(|f| is_valid_subject(f))
        .take(16)
        .collect();

    let index = SubscriptionIndex::new();
    for (i, f) in filters.iter().enumerate() {
        index.insert(f, None, i);
    }
    if !literal {
        // The index is only ever asked about valid literal subjects, but
        // must not fall over on anything else.
        let _ = index.match_subject(subject);
        return;
    }
    let mut found = index.match_subject(subject).plain;
    found.sort_unstable();
    let expected: Vec<usize> = (0..filters.len())
        .filter(|&i| matches(filters[i], subject))
        .collect();
    assert_eq!(found, expected, "filters {filters:?}");

    for (i, a) in filters.iter().enumerate() {
        assert_eq!(is_subset_match(subject, a), matches(a, subject));
        for b in &filters[i..] {
            assert_eq!(subjects_overlap(a, b), subjects_overlap(b, a));
            if matches(a, subject) && matches(b, subject) {
                assert!(subjects_overlap(a, b), "{a:?} {b:?}");
            }
            if let Ok(rewrite) = SubjectRewrite::template(a, b)
                && matches(a, subject)
            {
                let mut out = Vec::new();
                rewrite.apply(subject, &mut out);
                assert!(
                    is_valid_literal_subject(&out),
                    "{a:?} -> {b:?} rewrote {subject:?} to {out:?}"
                );
            }
        }
    }
});
