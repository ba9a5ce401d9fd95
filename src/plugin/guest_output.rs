//! What guests write to stdout and stderr, as broker log lines: cut into
//! lines of at most `MAX_LINE` bytes, shown lossily with control characters
//! escaped (a guest cannot forge a log line or a terminal sequence), and
//! rate-limited per (tenant, plugin) by a token bucket its instances share.
//! Lines over the rate are counted, and one summary line says how many
//! when logging resumes.
//!
//! The WASI streams themselves are in `stdio`; this module knows nothing of
//! wasmtime. A guest that never writes costs nothing; one that writes while
//! the operator has set `off` costs one branch per write.

use super::stats::PluginStats;
use crate::config::{OutputLevel, PluginOutputConfig};
use parking_lot::Mutex;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

/// Longest line kept; the rest of a longer line is dropped, so a write of
/// any size costs at most this much memory per stream and instance.
pub const MAX_LINE: usize = 1024;

/// The tracing target of guest output, for log filters
/// (`RUST_LOG=switchyard::plugin::guest_output=info`).
pub const TARGET: &str = "switchyard::plugin::guest_output";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Where one (tenant, plugin)'s output goes: shared by its instances.
pub struct OutputSink {
    /// `None` when the operator turned guest output off.
    level: Option<tracing::Level>,
    tenant: String,
    plugin: String,
    bucket: Mutex<Bucket>,
    stats: Arc<PluginStats>,
}

/// A token bucket of lines, refilled at `rate` a second up to `burst`.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    refilled: Instant,
    /// Lines refused since the last one logged.
    suppressed: u64,
}

impl Bucket {
    /// Takes up to `lines` tokens; returns how many were granted and, if
    /// some are and lines were suppressed before, how many.
    fn take(&mut self, lines: u64, now: Instant) -> (u64, u64) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled = now;
        let granted = (self.tokens.floor() as u64).min(lines);
        self.tokens -= granted as f64;
        let resumed_after = if granted > 0 {
            std::mem::take(&mut self.suppressed)
        } else {
            0
        };
        self.suppressed += lines - granted;
        (granted, resumed_after)
    }
}

impl OutputSink {
    pub fn new(
        settings: &PluginOutputConfig,
        tenant: &str,
        plugin: &str,
        stats: Arc<PluginStats>,
    ) -> OutputSink {
        let level = match settings.level {
            OutputLevel::Off => None,
            OutputLevel::Error => Some(tracing::Level::ERROR),
            OutputLevel::Warn => Some(tracing::Level::WARN),
            OutputLevel::Info => Some(tracing::Level::INFO),
            OutputLevel::Debug => Some(tracing::Level::DEBUG),
            OutputLevel::Trace => Some(tracing::Level::TRACE),
        };
        OutputSink {
            level,
            tenant: tenant.to_string(),
            plugin: plugin.to_string(),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(settings.burst),
                rate: f64::from(settings.lines_per_sec),
                burst: f64::from(settings.burst),
                refilled: Instant::now(),
                suppressed: 0,
            }),
            stats,
        }
    }

    /// The counters of the plugin this sink belongs to: its pool's.
    pub fn stats(&self) -> &Arc<PluginStats> {
        &self.stats
    }

    /// Whether output is dropped unread.
    #[inline]
    pub fn is_off(&self) -> bool {
        self.level.is_none()
    }

    /// Grants `lines` lines against the rate limit (one lock for all) and
    /// counts them; logs the summary of earlier suppressed lines when
    /// logging resumes.
    fn admit(&self, stream: Stream, lines: u64) -> u64 {
        let (granted, resumed_after) = self.bucket.lock().take(lines, Instant::now());
        PluginStats::add(&self.stats.output_lines, lines);
        PluginStats::add(&self.stats.output_suppressed, lines - granted);
        if resumed_after > 0 {
            let summary =
                format!("{resumed_after} lines suppressed by plugin_output.lines_per_sec");
            self.log(stream, &summary);
        }
        granted
    }

    fn emit(&self, stream: Stream, line: &[u8], cut: bool) {
        self.log(stream, &Escaped { line, cut });
    }

    fn log(&self, stream: Stream, text: &dyn fmt::Display) {
        let (tenant, plugin, stream) = (self.tenant.as_str(), self.plugin.as_str(), stream.name());
        // The level must be a constant per call site.
        match self.level {
            Some(tracing::Level::ERROR) => {
                tracing::error!(target: TARGET, tenant, plugin, stream, "{text}")
            }
            Some(tracing::Level::WARN) => {
                tracing::warn!(target: TARGET, tenant, plugin, stream, "{text}")
            }
            Some(tracing::Level::INFO) => {
                tracing::info!(target: TARGET, tenant, plugin, stream, "{text}")
            }
            Some(tracing::Level::DEBUG) => {
                tracing::debug!(target: TARGET, tenant, plugin, stream, "{text}")
            }
            Some(_) => tracing::trace!(target: TARGET, tenant, plugin, stream, "{text}"),
            None => {}
        }
    }
}

/// The line being assembled on one stream of one instance.
#[derive(Default)]
struct LineBuffer {
    bytes: Vec<u8>,
    /// Bytes past `MAX_LINE` were dropped from this line.
    cut: bool,
}

impl LineBuffer {
    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_LINE - self.bytes.len();
        if bytes.len() > room {
            self.cut = true;
        }
        self.bytes
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.cut = false;
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty() && !self.cut
    }
}

/// One instance's unfinished lines, kept in its `HostState`.
#[derive(Default)]
pub struct GuestStdio {
    stdout: LineBuffer,
    stderr: LineBuffer,
}

impl GuestStdio {
    fn buffer(&mut self, stream: Stream) -> &mut LineBuffer {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    /// Takes `bytes` written to `stream`: logs each line it completes (as
    /// the rate allows) and keeps the start of an unfinished one.
    pub fn write(&mut self, sink: &OutputSink, stream: Stream, bytes: &[u8]) {
        if sink.is_off() || bytes.is_empty() {
            return;
        }
        let lines = memchr::memchr_iter(b'\n', bytes).count() as u64;
        if lines == 0 {
            self.buffer(stream).push(bytes);
            return;
        }
        let mut granted = sink.admit(stream, lines);
        let buffer = self.buffer(stream);
        let mut rest = bytes;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            if granted > 0 {
                granted -= 1;
                buffer.push(&rest[..end]);
                // An empty line (a panic message starts with one) says
                // nothing in a log.
                if !buffer.is_empty() {
                    sink.emit(stream, &buffer.bytes, buffer.cut);
                }
            }
            buffer.clear();
            rest = &rest[end + 1..];
        }
        buffer.push(rest);
    }

    /// As `write`, for `len` zero bytes (`write-zeroes`): no newline, so
    /// they only extend the unfinished line, up to its cap.
    pub fn write_zeroes(&mut self, sink: &OutputSink, stream: Stream, len: u64) {
        if sink.is_off() {
            return;
        }
        let buffer = self.buffer(stream);
        let room = (MAX_LINE - buffer.bytes.len()) as u64;
        if len > room {
            buffer.cut = true;
        }
        let n = len.min(room) as usize;
        buffer.bytes.resize(buffer.bytes.len() + n, 0);
    }

    /// Logs unfinished lines as they are: called when a call into the
    /// guest ends, so its last words are not held until the next call
    /// (or lost with a trapped instance).
    #[inline]
    pub fn finish(&mut self, sink: &OutputSink) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            if self.buffer(stream).is_empty() {
                continue;
            }
            let granted = sink.admit(stream, 1);
            let buffer = self.buffer(stream);
            if granted > 0 {
                sink.emit(stream, &buffer.bytes, buffer.cut);
            }
            buffer.clear();
        }
    }
}

/// A guest's line as it is logged: invalid UTF-8 replaced, control and
/// line- or direction-changing characters escaped (`\n`, `\u{1b}`), and a
/// mark where it was cut.
struct Escaped<'a> {
    line: &'a [u8],
    cut: bool,
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for chunk in self.line.utf8_chunks() {
            for c in chunk.valid().chars() {
                if needs_escape(c) {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    f.write_char(c)?;
                }
            }
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        if self.cut {
            write!(f, " [cut at {MAX_LINE} bytes]")?;
        }
        Ok(())
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;

    fn sink(level: OutputLevel, lines_per_sec: u32, burst: u32) -> OutputSink {
        let settings = PluginOutputConfig {
            level,
            lines_per_sec,
            burst,
        };
        OutputSink::new(&settings, "acme", "p", Arc::default())
    }

    #[test]
    fn lines_are_escaped_and_decoded_lossily() {
        let shown = |bytes: &[u8]| {
            Escaped {
                line: bytes,
                cut: false,
            }
            .to_string()
        };
        assert_eq!(shown(b"plain text"), "plain text");
        assert_eq!(
            shown(b"a\r2026 WARN forged\x1b[31m"),
            "a\\r2026 WARN forged\\u{1b}[31m"
        );
        assert_eq!(shown(b"bad \xff utf8"), "bad \u{fffd} utf8");
        assert_eq!(shown("rtl\u{202e}x".as_bytes()), "rtl\\u{202e}x");
        let cut = Escaped {
            line: b"x",
            cut: true,
        };
        assert_eq!(cut.to_string(), "x [cut at 1024 bytes]");
    }

    #[test]
    fn the_bucket_grants_a_burst_then_the_rate_and_counts_the_rest() {
        let start = Instant::now();
        let mut bucket = Bucket {
            tokens: 3.0,
            rate: 10.0,
            burst: 3.0,
            refilled: start,
            suppressed: 0,
        };
        assert_eq!(bucket.take(5, start), (3, 0));
        assert_eq!(bucket.take(4, start), (0, 0));
        // 6 suppressed so far; 100 ms later one line is allowed again.
        let later = start + Duration::from_millis(100);
        assert_eq!(bucket.take(2, later), (1, 6));
        assert_eq!(bucket.suppressed, 1);
        // A long pause refills no more than the burst.
        let much_later = later + Duration::from_secs(60);
        assert_eq!(bucket.take(10, much_later), (3, 1));
    }

    #[test]
    fn a_flood_keeps_one_capped_line_and_counts_every_line() {
        let sink = sink(OutputLevel::Trace, 5, 10);
        let mut stdio = GuestStdio::default();
        let flood = vec![b'x'; 10 << 20];
        stdio.write(&sink, Stream::Stderr, &flood);
        assert_eq!(stdio.stderr.bytes.len(), MAX_LINE);
        assert!(stdio.stderr.cut);
        let lines = "line\n".repeat(100_000);
        stdio.write(&sink, Stream::Stderr, lines.as_bytes());
        assert!(stdio.stderr.is_empty());
        stdio.write(&sink, Stream::Stdout, b"partial");
        stdio.finish(&sink);
        assert!(stdio.stdout.is_empty());
        assert_eq!(sink.stats.output_lines.load(Relaxed), 100_001);
        assert_eq!(sink.stats.output_suppressed.load(Relaxed), 100_001 - 10);
        stdio.write_zeroes(&sink, Stream::Stdout, u64::MAX);
        assert_eq!(stdio.stdout.bytes.len(), MAX_LINE);
    }

    #[test]
    fn output_turned_off_is_neither_kept_nor_counted() {
        let sink = sink(OutputLevel::Off, 5, 10);
        let mut stdio = GuestStdio::default();
        stdio.write(&sink, Stream::Stdout, b"hello\nworld");
        stdio.finish(&sink);
        assert!(stdio.stdout.is_empty());
        assert_eq!(sink.stats.output_lines.load(Relaxed), 0);
    }
}
