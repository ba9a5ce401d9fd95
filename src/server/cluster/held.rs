//! A peer's interest in accounts this server does not have yet. Servers
//! reload their accounts one at a time, so a peer that already has a new
//! account sends `RS+` for it before this server knows the name; the route
//! protocol never sends it again. The interest is held here, by bytes, and
//! applied when a reload adds the account; `RS-` takes it back. nats-server
//! drops such interest, and it stays lost until the route forms again.

use bytes::Bytes;
use rustc_hash::FxHashMap;

/// Default for the most bytes of interest a route holds for unknown
/// accounts: 64,000 entries of a typical 200-byte subject.
pub(super) const HELD_MAX_BYTES: usize = 16 << 20;

/// What one entry is charged: its subject, queue and account, and the
/// map's own overhead.
fn charge(account: &[u8], subject: &[u8], queue: Option<&[u8]>) -> usize {
    2 * (account.len() + subject.len() + queue.map_or(0, <[u8]>::len)) + 96
}

/// Interest by `account subject [queue]` key.
#[derive(Default)]
pub(super) struct HeldInterest {
    entries: FxHashMap<Bytes, Held>,
    bytes: usize,
}

/// One `RS+` waiting for its account.
pub(super) struct Held {
    pub account: Bytes,
    pub subject: Bytes,
    pub queue: Option<Bytes>,
    charged: usize,
}

impl HeldInterest {
    /// Holds the interest under `key`, unless that would pass `max_bytes`
    /// (then it is dropped, as nats-server drops it, and `false` says so).
    pub(super) fn hold(
        &mut self,
        key: Bytes,
        account: &[u8],
        subject: &[u8],
        queue: Option<&[u8]>,
        max_bytes: usize,
    ) -> bool {
        if self.entries.contains_key(&key) {
            return true;
        }
        let charged = charge(account, subject, queue);
        if self.bytes + charged > max_bytes {
            return false;
        }
        self.bytes += charged;
        self.entries.insert(
            key,
            Held {
                account: Bytes::copy_from_slice(account),
                subject: Bytes::copy_from_slice(subject),
                queue: queue.map(Bytes::copy_from_slice),
                charged,
            },
        );
        true
    }

    /// Forgets the interest under `key` (`RS-`).
    pub(super) fn release(&mut self, key: &[u8]) {
        if let Some(held) = self.entries.remove(key) {
            self.bytes -= held.charged;
        }
    }

    /// Takes every entry held for `account`, now that it exists.
    pub(super) fn take(&mut self, account: &[u8]) -> Vec<Held> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let keys: Vec<Bytes> = self
            .entries
            .iter()
            .filter(|(_, h)| h.account == account)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(held) = self.entries.remove(&key) {
                self.bytes -= held.charged;
                out.push(held);
            }
        }
        out
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(account: &str, subject: &str) -> Bytes {
        Bytes::from(format!("{account} {subject}"))
    }

    #[test]
    fn held_interest_is_taken_by_account_and_released_by_key() {
        let mut h = HeldInterest::default();
        assert!(h.hold(key("late", "a"), b"late", b"a", None, HELD_MAX_BYTES));
        assert!(h.hold(
            key("late", "b q"),
            b"late",
            b"b",
            Some(b"q"),
            HELD_MAX_BYTES
        ));
        assert!(h.hold(key("other", "a"), b"other", b"a", None, HELD_MAX_BYTES));
        h.release(&key("late", "a"));
        let taken = h.take(b"late");
        assert_eq!(taken.len(), 1);
        assert_eq!(&taken[0].subject[..], b"b");
        assert_eq!(taken[0].queue.as_deref(), Some(&b"q"[..]));
        assert_eq!(h.len(), 1);
        h.release(&key("other", "a"));
        assert_eq!((h.len(), h.bytes()), (0, 0));
    }

    /// A peer announcing endless interest in accounts that do not exist
    /// fills the hold to its byte cap and no further.
    #[test]
    fn held_interest_never_passes_its_byte_cap() {
        let mut h = HeldInterest::default();
        let cap = 64 * 1024;
        let subject = vec![b'x'; 1000];
        let mut refused = 0;
        for i in 0..1000 {
            let account = format!("ghost{i}");
            let k = Bytes::from([account.as_bytes(), b" ", &subject].concat());
            if !h.hold(k, account.as_bytes(), &subject, None, cap) {
                refused += 1;
            }
            assert!(h.bytes() <= cap);
        }
        assert!(refused > 900, "held {} entries", h.len());
        assert!(h.len() > 10);
    }
}
