//! Time, from the host (the guest has no clock of its own).

use crate::bindings::transform::switchyard::plugin::host;

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    host::now_ms()
}

/// Monotonic nanoseconds from an arbitrary start; for intervals.
pub fn monotonic_ns() -> u64 {
    host::monotonic_ns()
}
