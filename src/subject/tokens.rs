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
