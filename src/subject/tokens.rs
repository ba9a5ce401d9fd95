//! Subject tokens on the stack for the common case of few tokens, shared by
//! the trie walk and subject mappings so neither allocates per message.

const INLINE: usize = 16;

// The inline variant is meant to be large: it lives on the stack for one
// trie walk or one mapping and saves an allocation per call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Tokens<'a> {
    Inline([&'a [u8]; INLINE], usize),
    Heap(Vec<&'a [u8]>),
}

impl<'a> Tokens<'a> {
    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        match self {
            Tokens::Inline(arr, n) => &arr[..*n],
            Tokens::Heap(v) => v,
        }
    }
}

pub(crate) fn split(subject: &[u8]) -> Tokens<'_> {
    let mut arr: [&[u8]; INLINE] = [&[]; INLINE];
    let mut n = 0;
    for t in subject.split(|&b| b == b'.') {
        if n == INLINE {
            return Tokens::Heap(subject.split(|&b| b == b'.').collect());
        }
        arr[n] = t;
        n += 1;
    }
    Tokens::Inline(arr, n)
}

/// A filter split into tokens once. Matching walks the subject token by
/// token and stops at the first difference, so a miss usually costs one
/// token comparison. Agrees with `validate::matches`, wildcard subjects
/// included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenizedFilter(Box<[Box<[u8]>]>);

impl TokenizedFilter {
    pub(crate) fn new(filter: &[u8]) -> TokenizedFilter {
        TokenizedFilter(filter.split(|&b| b == b'.').map(Box::from).collect())
    }

    pub(crate) fn matches(&self, subject: &[u8]) -> bool {
        let mut rest = Some(subject);
        for f in self.0.iter() {
            let Some(s) = rest else {
                return false;
            };
            // Tokens are short: a plain scan beats memchr's call and setup.
            let (token, next) = match s.iter().position(|&b| b == b'.') {
                Some(i) => (&s[..i], Some(&s[i + 1..])),
                None => (s, None),
            };
            match &**f {
                b">" => return true,
                b"*" => {}
                literal => {
                    if token != literal {
                        return false;
                    }
                }
            }
            rest = next;
        }
        rest.is_none()
    }

    /// `matches` for a subject already split into tokens: cheaper when
    /// several filters are tried against one subject.
    pub(crate) fn matches_tokens(&self, subject: &[&[u8]]) -> bool {
        for (i, f) in self.0.iter().enumerate() {
            let Some(&t) = subject.get(i) else {
                return false;
            };
            match &**f {
                b">" => return true,
                b"*" => {}
                literal => {
                    if t != literal {
                        return false;
                    }
                }
            }
        }
        self.0.len() == subject.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::matches;
    use proptest::prelude::*;

    fn subject() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec!["a", "b", "*", ">", "ab"]);
        prop::collection::vec(token, 1..20).prop_map(|t| t.join("."))
    }

    proptest! {
        /// Splitting (inline or on the heap past 16 tokens) keeps every
        /// token, and pre-split filters agree with the plain matcher.
        #[test]
        fn agrees_with_matches(filter in subject(), s in subject()) {
            let split = split(s.as_bytes());
            let rejoined = split.as_slice().join(&b'.');
            prop_assert_eq!(&rejoined[..], s.as_bytes());
            let f = TokenizedFilter::new(filter.as_bytes());
            let want = matches(filter.as_bytes(), s.as_bytes());
            prop_assert_eq!(f.matches(s.as_bytes()), want);
            prop_assert_eq!(f.matches_tokens(split.as_slice()), want);
        }
    }
}
