//! One run of a connection's queued output: what the writer sends in one
//! go, and what the outbound buffer fills and reuses.
//!
//! Small frames are copied into `bytes`, back to back, as they always
//! were. A large payload is not copied: its frame's control line (and
//! headers) and its closing CRLF go into `bytes`, and the payload itself,
//! a `Bytes` shared with every other subscriber of the message and with
//! the publisher's read buffer it was read into, is *spliced* in between,
//! at an offset of `bytes`. The writer sends the pieces in order with
//! vectored writes. Keeping the copied bytes contiguous (rather than one
//! segment per frame) keeps a batch of small messages one plain `write`,
//! and a batch of spliced ones a few `writev` calls.

use bytes::{Bytes, BytesMut};

/// Copied bytes with shared payloads spliced in at offsets of them.
#[derive(Default)]
pub struct Batch {
    pub(super) bytes: BytesMut,
    /// `(offset, payload)`: `payload` goes out right after
    /// `bytes[..offset]`. Offsets never decrease.
    splices: Vec<(usize, Bytes)>,
    /// Bytes in the spliced payloads.
    pub(super) spliced: usize,
}

impl Batch {
    pub(super) fn with_capacity(capacity: usize) -> Batch {
        Batch {
            bytes: BytesMut::with_capacity(capacity),
            splices: Vec::new(),
            spliced: 0,
        }
    }

    /// Bytes the batch sends: copied and spliced.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.spliced
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch as one slice, when nothing is spliced into it (the common
    /// case, and the only one for small messages): one plain `write_all`.
    pub fn contiguous(&self) -> Option<&[u8]> {
        self.splices.is_empty().then_some(&self.bytes[..])
    }

    /// The batch's pieces in the order they go out; some may be empty.
    pub fn segments(&self) -> impl Iterator<Item = &[u8]> {
        let last = self.splices.last().map_or(0, |(at, _)| *at);
        self.splices
            .iter()
            .scan(0, |from, (at, payload)| {
                let before = &self.bytes[*from..*at];
                *from = *at;
                Some([before, &payload[..]])
            })
            .flatten()
            .chain(std::iter::once(&self.bytes[last..]))
    }

    /// Appends `payload` by reference at the current end of the copied
    /// bytes.
    pub(super) fn splice(&mut self, payload: &Bytes) {
        self.spliced += payload.len();
        self.splices.push((self.bytes.len(), payload.clone()));
    }

    /// Empties the batch for reuse, letting go of the shared payloads (the
    /// last holder of one frees it) and keeping the allocations.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.splices.clear();
        self.spliced = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(batch: &Batch) -> Vec<u8> {
        batch.segments().flatten().copied().collect()
    }

    #[test]
    fn spliced_payloads_go_out_between_the_copied_bytes() {
        let mut b = Batch::with_capacity(64);
        b.bytes.extend_from_slice(b"MSG a 1 3\r\n");
        b.splice(&Bytes::from_static(b"xyz"));
        b.bytes.extend_from_slice(b"\r\nMSG b 1 2\r\n");
        b.splice(&Bytes::from_static(b"uv"));
        b.bytes.extend_from_slice(b"\r\n");
        assert!(b.contiguous().is_none());
        assert_eq!(b.len(), flat(&b).len());
        assert_eq!(flat(&b), b"MSG a 1 3\r\nxyz\r\nMSG b 1 2\r\nuv\r\n");
        b.clear();
        assert!(b.is_empty());
        b.bytes.extend_from_slice(b"PONG\r\n");
        assert_eq!(b.contiguous(), Some(&b"PONG\r\n"[..]));
        assert_eq!(flat(&b), b"PONG\r\n");
    }
}
