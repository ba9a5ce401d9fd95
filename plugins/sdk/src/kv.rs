//! The tenant's in-memory key-value store, shared by all its plugins and
//! instances, never by another tenant; empty when the broker starts.
//!
//! Limits (enforced by the host): keys up to 256 bytes, values up to 4 KiB,
//! 10,000 live keys per tenant; a write past a limit returns `Err` and
//! changes nothing. Transform and routing plugins only: the auth world does
//! not import `kv`.

use crate::bindings::transform::switchyard::plugin::kv;

/// The value at `key`, `None` if absent or expired.
pub fn get(key: &str) -> Option<Vec<u8>> {
    kv::get(key)
}

/// Stores `value` at `key`; with `ttl_ms` it expires that long from now.
pub fn set(key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<(), String> {
    kv::set(key, value, ttl_ms)
}

/// Removes `key`; absent keys are fine.
pub fn delete(key: &str) {
    kv::delete(key)
}

/// Adds `delta` to the counter at `key` and returns the new value. The TTL
/// applies only when the key is created, so a counter with a TTL counts a
/// fixed window.
pub fn increment(key: &str, delta: i64, ttl_ms: Option<u64>) -> Result<i64, String> {
    kv::increment(key, delta, ttl_ms)
}
