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

#[cfg(test)]
mod tests {
    use super::*;

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
}
