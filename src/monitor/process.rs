//! The process's own resource use, for `/varz` and statsz: resident
//! memory and CPU, read from `/proc` (Linux); zero elsewhere. Both are
//! process-wide, so the CPU sample is too.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// `/proc` reports CPU times in `USER_HZ` ticks, fixed at 100 by the
/// kernel's ABI whatever the kernel's own tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// A CPU percentage is measured over at least this long, as nats-server
/// samples once a second: two requests close together get the same
/// figure instead of the noise of a millisecond's window.
const MIN_WINDOW: Duration = Duration::from_secs(1);

/// Resident set size from `/proc/self/status`; `None` where there is none.
pub fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// What `/proc/self/stat` says: CPU seconds used, and the process's age.
struct CpuReading {
    cpu_seconds: f64,
    age_seconds: f64,
}

fn read_cpu() -> Option<CpuReading> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields after it start
    // at the last ')' with field 3.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    let cpu_seconds = (ticks(14)? + ticks(15)?) / TICKS_PER_SECOND;
    let started = ticks(22)? / TICKS_PER_SECOND;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(CpuReading {
        cpu_seconds,
        age_seconds: (uptime - started).max(0.0),
    })
}

struct Sample {
    at: Instant,
    cpu_seconds: f64,
    percent: f64,
}

static LAST: Mutex<Option<Sample>> = Mutex::new(None);

/// The process's CPU use in percent of one core (nats-server's `cpu`):
/// over the last second or more since the previous sample, or since the
/// process started for the first one. Two decimals.
pub fn cpu_percent() -> f64 {
    let Some(now) = read_cpu() else { return 0.0 };
    let at = Instant::now();
    let mut last = LAST.lock();
    let percent = match &*last {
        Some(prev) if at.duration_since(prev.at) < MIN_WINDOW => return prev.percent,
        Some(prev) => {
            let wall = at.duration_since(prev.at).as_secs_f64();
            100.0 * (now.cpu_seconds - prev.cpu_seconds).max(0.0) / wall
        }
        None if now.age_seconds > 0.0 => 100.0 * now.cpu_seconds / now.age_seconds,
        None => 0.0,
    };
    let percent = (percent * 100.0).round() / 100.0;
    *last = Some(Sample {
        at,
        cpu_seconds: now.cpu_seconds,
        percent,
    });
    percent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_memory().is_some_and(|m| m > 0));
            assert!(read_cpu().is_some());
        }
        let p = cpu_percent();
        assert!(p.is_finite() && p >= 0.0, "{p}");
    }
}
