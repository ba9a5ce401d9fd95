//! Subject syntax: tokens separated by `.`, no empty tokens, no whitespace;
//! `*` and `>` are wildcards only as whole tokens and `>` only last.

fn tokens(subject: &[u8]) -> impl Iterator<Item = &[u8]> {
    subject.split(|&b| b == b'.')
}

fn token_ok(t: &[u8]) -> bool {
    !t.is_empty()
        && !t
            .iter()
            .any(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0c))
}

/// Valid for SUB: wildcards allowed, `>` only as the last token.
pub fn is_valid_subject(subject: &[u8]) -> bool {
    if subject.is_empty() {
        return false;
    }
    let mut saw_fwc = false;
    for t in tokens(subject) {
        if saw_fwc || !token_ok(t) {
            return false;
        }
        saw_fwc = t == b">";
    }
    true
}

/// Does the subject have an empty token (`.a`, `a..b`, `a.`, or none at
/// all)? nats-server's sublist matches nothing for such a subject, whatever
/// the subscriptions or permission lists hold.
pub fn has_empty_token(subject: &[u8]) -> bool {
    tokens(subject).any(<[u8]>::is_empty)
}

/// Valid for PUB in pedantic mode: no wildcard tokens at all.
pub fn is_valid_literal_subject(subject: &[u8]) -> bool {
    is_valid_subject(subject) && tokens(subject).all(|t| t != b"*" && t != b">")
}

/// Does the (possibly wildcard) `filter` match the literal `subject`?
/// The straightforward definition; the index must agree with it.
pub fn matches(filter: &[u8], subject: &[u8]) -> bool {
    let mut f = tokens(filter);
    let mut s = tokens(subject);
    loop {
        match (f.next(), s.next()) {
            (Some(b">"), Some(_)) => return true,
            (Some(b"*"), Some(_)) => {}
            (Some(ft), Some(st)) if ft == st => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Is every subject that `subject` (possibly a wildcard) can match also
/// matched by the filter `test`? nats-server's `isSubsetMatch`: `foo.*` is a
/// subset of `foo.*`, `*.*` and `>`, but not of `foo.bar`; a `>` in `subject`
/// is only covered by a `>` in `test`.
pub fn is_subset_match(subject: &[u8], test: &[u8]) -> bool {
    let mut s = tokens(subject);
    let mut t = tokens(test);
    loop {
        match (s.next(), t.next()) {
            (Some(_), Some(b">")) => return true,
            (Some(b">"), Some(_)) => return false,
            (Some(b"*"), Some(tt)) if tt != b"*" => return false,
            (Some(st), Some(tt)) if tt == b"*" || st == tt => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Can some literal subject match both filters? Used to find wildcard
/// subscriptions that reach into a denied subject space.
pub fn subjects_overlap(a: &[u8], b: &[u8]) -> bool {
    let mut x = tokens(a);
    let mut y = tokens(b);
    loop {
        match (x.next(), y.next()) {
            (Some(b">"), Some(_)) | (Some(_), Some(b">")) => return true,
            (Some(xt), Some(yt)) if xt == b"*" || yt == b"*" || xt == yt => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn validates_like_nats_server() {
        for ok in [
            "foo", "foo.bar", "foo.*", ">", "foo.>", "*.*", "foo*.>", "a.b*c",
        ] {
            assert!(is_valid_subject(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", "foo..bar", ".foo", "foo.", ">.a", "foo bar", "a.>.b", "a\tb",
        ] {
            assert!(!is_valid_subject(bad.as_bytes()), "{bad}");
        }
        assert!(is_valid_literal_subject(b"foo.bar"));
        assert!(!is_valid_literal_subject(b"foo.*"));
        for empty in ["", ".a", "a..b", "a.", "."] {
            assert!(has_empty_token(empty.as_bytes()), "{empty}");
        }
        assert!(!has_empty_token(b"a.>.b"));
        assert!(!is_valid_literal_subject(b"foo.>"));
    }

    #[test]
    fn naive_matching() {
        assert!(matches(b"foo.*", b"foo.bar"));
        assert!(!matches(b"foo.*", b"foo.bar.baz"));
        assert!(matches(b"foo.>", b"foo.bar.baz"));
        assert!(!matches(b"foo.>", b"foo"));
        assert!(matches(b">", b"a"));
        assert!(!matches(b"foo", b"foo.bar"));
    }

    #[test]
    fn subset_like_nats_server() {
        assert!(is_subset_match(b"foo.*", b"foo.*"));
        assert!(is_subset_match(b"foo.*", b"*.*"));
        assert!(is_subset_match(b"foo.*", b">"));
        assert!(is_subset_match(b"foo.bar", b"foo.*"));
        assert!(is_subset_match(b"foo.>", b"foo.>"));
        assert!(!is_subset_match(b"foo.*", b"foo.bar"));
        assert!(!is_subset_match(b"foo.>", b"foo.*"));
        assert!(!is_subset_match(b"foo", b"foo.>"));
        assert!(!is_subset_match(b"foo.bar", b"foo"));
    }

    #[test]
    fn overlap() {
        assert!(subjects_overlap(b"foo.*", b"foo.bar"));
        assert!(subjects_overlap(b"foo.*", b"*.bar"));
        assert!(subjects_overlap(b"foo.>", b"*.bar.baz"));
        assert!(subjects_overlap(b">", b"a.b"));
        assert!(!subjects_overlap(b"foo.*", b"foo.bar.baz"));
        assert!(!subjects_overlap(b"foo.>", b"foo"));
        assert!(!subjects_overlap(b"foo.*", b"bar.*"));
    }

    fn filter() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec!["a", "b", "*"]);
        (prop::collection::vec(token, 1..4), any::<bool>()).prop_map(|(mut t, fwc)| {
            if fwc {
                t.push(">");
            }
            t.join(".")
        })
    }

    /// Every literal subject over {a, b, c} with 1 to 5 tokens: long
    /// enough to witness any overlap of the filters `filter` makes.
    fn witnesses() -> Vec<String> {
        let mut all = vec![String::new()];
        let mut out = Vec::new();
        for _ in 0..5 {
            all = all
                .iter()
                .flat_map(|p| {
                    ["a", "b", "c"].map(|t| {
                        if p.is_empty() {
                            t.to_string()
                        } else {
                            format!("{p}.{t}")
                        }
                    })
                })
                .collect();
            out.extend(all.iter().cloned());
        }
        out
    }

    proptest! {
        #[test]
        fn overlap_means_a_common_subject_exists(a in filter(), b in filter()) {
            let common = witnesses()
                .iter()
                .any(|s| matches(a.as_bytes(), s.as_bytes()) && matches(b.as_bytes(), s.as_bytes()));
            prop_assert_eq!(subjects_overlap(a.as_bytes(), b.as_bytes()), common);
        }
    }
}
