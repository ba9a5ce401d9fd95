//! The per-tenant key-value store behind the `kv` import: small, in
//! memory, shared by one tenant's plugins and never by two tenants.
//!
//! A plugin reaches it only through calls it makes itself (a rate limiter
//! counting a publisher), so one mutex per store is enough: the message
//! path of a tenant without such a plugin never touches it.

use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::time::{Duration, Instant};
use thiserror::Error;

pub const MAX_KEY_BYTES: usize = 256;
pub const MAX_VALUE_BYTES: usize = 4096;
pub const MAX_KEYS: usize = 10_000;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KvError {
    #[error("key is longer than {MAX_KEY_BYTES} bytes")]
    KeyTooLong,
    #[error("value is longer than {MAX_VALUE_BYTES} bytes")]
    ValueTooLong,
    #[error("the tenant's store is full ({MAX_KEYS} keys)")]
    Full,
    #[error("counter overflow")]
    Overflow,
}

struct Entry {
    value: Vec<u8>,
    expires: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }
}

/// When an entry set at `now` with `ttl` expires. A TTL past what the
/// clock holds (a plugin may ask for `u64::MAX` ms) means never, not a
/// panic in the host.
fn expiry(now: Instant, ttl: Option<Duration>) -> Option<Instant> {
    ttl.and_then(|t| now.checked_add(t))
}

#[derive(Default)]
pub struct TenantKv {
    entries: Mutex<FxHashMap<String, Entry>>,
}

impl TenantKv {
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        let entries = self.entries.lock();
        entries
            .get(key)
            .filter(|e| e.live(now))
            .map(|e| e.value.clone())
    }

    pub fn set(&self, key: String, value: Vec<u8>, ttl: Option<Duration>) -> Result<(), KvError> {
        check_key(&key)?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(KvError::ValueTooLong);
        }
        let now = Instant::now();
        let mut entries = self.entries.lock();
        make_room(&mut entries, &key, now)?;
        entries.insert(
            key,
            Entry {
                value,
                expires: expiry(now, ttl),
            },
        );
        Ok(())
    }

    pub fn delete(&self, key: &str) {
        self.entries.lock().remove(key);
    }

    /// Adds `delta` to the counter at `key`; the TTL applies only when the
    /// counter is created, which makes a counter with a TTL a fixed window.
    pub fn increment(
        &self,
        key: String,
        delta: i64,
        ttl: Option<Duration>,
    ) -> Result<i64, KvError> {
        check_key(&key)?;
        let now = Instant::now();
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.get_mut(&key).filter(|e| e.live(now)) {
            let current = as_counter(&entry.value);
            let next = current.checked_add(delta).ok_or(KvError::Overflow)?;
            entry.value = next.to_le_bytes().to_vec();
            return Ok(next);
        }
        make_room(&mut entries, &key, now)?;
        entries.insert(
            key,
            Entry {
                value: delta.to_le_bytes().to_vec(),
                expires: expiry(now, ttl),
            },
        );
        Ok(delta)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn check_key(key: &str) -> Result<(), KvError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(KvError::KeyTooLong);
    }
    Ok(())
}

fn as_counter(value: &[u8]) -> i64 {
    <[u8; 8]>::try_from(value).map_or(0, i64::from_le_bytes)
}

/// Makes sure inserting `key` stays within `MAX_KEYS`, dropping expired
/// entries first.
fn make_room(
    entries: &mut FxHashMap<String, Entry>,
    key: &str,
    now: Instant,
) -> Result<(), KvError> {
    if entries.len() < MAX_KEYS || entries.contains_key(key) {
        return Ok(());
    }
    entries.retain(|_, e| e.live(now));
    if entries.len() < MAX_KEYS {
        Ok(())
    } else {
        Err(KvError::Full)
    }
}

#[cfg(test)]
mod tests {

    /// A plugin's TTL of `u64::MAX` milliseconds used to panic the calling
    /// connection's task at `Instant::now() + ttl`.
    #[test]
    fn a_ttl_past_the_clock_never_expires() {
        let kv = TenantKv::default();
        let forever = Some(Duration::from_millis(u64::MAX));
        kv.set("k".into(), b"v".to_vec(), forever).expect("set");
        assert_eq!(kv.get("k").as_deref(), Some(&b"v"[..]));
        assert_eq!(kv.increment("n".into(), 2, forever), Ok(2));
    }

    use super::*;

    #[test]
    fn counters_start_at_delta_and_expire() {
        let kv = TenantKv::default();
        let ttl = Some(Duration::from_millis(30));
        assert_eq!(kv.increment("a".into(), 1, ttl), Ok(1));
        assert_eq!(kv.increment("a".into(), 2, ttl), Ok(3));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.increment("a".into(), 5, ttl), Ok(5));
    }

    #[test]
    fn limits_are_enforced() {
        let kv = TenantKv::default();
        assert_eq!(
            kv.set("k".repeat(MAX_KEY_BYTES + 1), vec![], None),
            Err(KvError::KeyTooLong)
        );
        assert_eq!(
            kv.set("k".into(), vec![0; MAX_VALUE_BYTES + 1], None),
            Err(KvError::ValueTooLong)
        );
        for i in 0..MAX_KEYS {
            kv.set(i.to_string(), vec![1], None).expect("room");
        }
        assert_eq!(kv.set("one more".into(), vec![], None), Err(KvError::Full));
        // Replacing an existing key needs no room.
        assert_eq!(kv.set("0".into(), vec![2], None), Ok(()));
        assert_eq!(kv.get("0"), Some(vec![2]));
        kv.delete("0");
        assert_eq!(kv.get("0"), None);
    }

    #[test]
    fn non_counter_values_count_from_zero() {
        let kv = TenantKv::default();
        kv.set("x".into(), b"text".to_vec(), None).expect("set");
        assert_eq!(kv.increment("x".into(), 4, None), Ok(4));
    }
}
