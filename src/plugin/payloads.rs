//! The payloads of a routing batch, kept on the host side of the call.
//!
//! A routing batch sends the guest metadata only; the `message-payload`
//! import reads a payload from here by index while the batch is being
//! decided (the buffer is moved into the instance's `HostState` for the
//! call, not copied). Its own module so that `host`, which serves the
//! import, does not depend on `routing`, which makes the calls.

/// Every payload of a batch, back to back, and where each one lies.
#[derive(Default)]
pub struct BatchPayloads {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl BatchPayloads {
    /// Payload `index`; empty when there is none.
    pub fn get(&self, index: u32) -> &[u8] {
        match self.spans.get(index as usize) {
            Some(&(o, l)) => self.bytes.get(o as usize..(o + l) as usize).unwrap_or(&[]),
            None => &[],
        }
    }

    /// Appends the next message's payload and returns where it lies.
    pub(super) fn push(&mut self, payload: &[u8]) -> (u32, u32) {
        let span = (self.bytes.len() as u32, payload.len() as u32);
        self.bytes.extend_from_slice(payload);
        self.spans.push(span);
        span
    }

    /// Payload bytes held, for the batch's size cap.
    pub(super) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_found_by_index_and_absent_ones_are_empty() {
        let mut p = BatchPayloads::default();
        assert_eq!(p.push(b"first"), (0, 5));
        assert_eq!(p.push(b""), (5, 0));
        assert_eq!(p.push(b"third"), (5, 5));
        assert_eq!(
            (p.get(0), p.get(1), p.get(2)),
            (&b"first"[..], &b""[..], &b"third"[..])
        );
        assert_eq!(p.get(3), b"");
        assert_eq!(p.byte_len(), 10);
        p.clear();
        assert_eq!((p.get(0), p.byte_len()), (&b""[..], 0));
    }
}
