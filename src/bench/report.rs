//! The result of a run, as text for people or one JSON line for scripts.

use super::plan::Mode;
use super::stats::{Latency, grouped, human, rate};
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;

/// One connection's share of a side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnStats {
    pub msgs: u64,
    pub elapsed: Duration,
}

impl ConnStats {
    pub fn msgs_per_sec(&self) -> f64 {
        rate(self.msgs, self.elapsed)
    }
}

/// All publishers, or all subscribers, of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SideStats {
    /// Messages published, or (subscribers) deliveries counted.
    pub msgs: u64,
    /// From the earliest connection's start to the latest one's end.
    pub elapsed: Duration,
    /// Payload bytes per message, for MB/s.
    pub size: usize,
    pub per_conn: Vec<ConnStats>,
}

impl SideStats {
    pub fn msgs_per_sec(&self) -> f64 {
        rate(self.msgs, self.elapsed)
    }

    /// Payload megabytes (10^6 bytes) per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.msgs_per_sec() * self.size as f64 / 1e6
    }

    /// (min, avg, max) of the per-connection rates.
    pub fn spread(&self) -> (f64, f64, f64) {
        let rates = self.per_conn.iter().map(ConnStats::msgs_per_sec);
        let min = rates.clone().fold(f64::INFINITY, f64::min);
        let max = rates.clone().fold(0.0, f64::max);
        let avg = rates.sum::<f64>() / self.per_conn.len().max(1) as f64;
        (if min.is_finite() { min } else { 0.0 }, avg, max)
    }

    fn to_json(&self) -> Value {
        let (min, avg, max) = self.spread();
        json!({
            "msgs": self.msgs,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "msgs_per_sec": self.msgs_per_sec().round(),
            "mb_per_sec": (self.mb_per_sec() * 100.0).round() / 100.0,
            "per_conn": {
                "min": min.round(),
                "avg": avg.round(),
                "max": max.round(),
                "msgs": self.per_conn.iter().map(|c| c.msgs).collect::<Vec<_>>(),
            },
        })
    }
}

/// Request/reply results, or in connect mode the handshakes (`count`
/// connections, `latency` from TCP connect to PONG).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestStats {
    pub count: u64,
    pub elapsed: Duration,
    pub latency: Latency,
}

impl RequestStats {
    pub fn per_sec(&self) -> f64 {
        rate(self.count, self.elapsed)
    }
}

/// What `run` measured. `Display` prints the human summary, or the JSON line
/// when the run was asked for `--json`.
/// One field per figure the report prints.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub mode: Mode,
    pub url: String,
    /// Server name and version from its INFO.
    pub server: String,
    pub subject: String,
    /// Messages published (or expected per subscriber in sub mode), or requests.
    pub msgs: u64,
    pub size: usize,
    pub pubs: usize,
    pub subs: usize,
    pub publishers: Option<SideStats>,
    pub subscribers: Option<SideStats>,
    /// Messages counted by all subscribers together (fan-out counts each copy).
    pub delivered: u64,
    pub requests: Option<RequestStats>,
    pub(crate) json: bool,
}

impl BenchReport {
    /// The one number that sums the run up: publish rate for pub, delivery
    /// rate for sub/pubsub/queue (so fan-out counts every copy), requests/s for
    /// req, connections/s for connect.
    pub fn msgs_per_sec(&self) -> f64 {
        let side = match self.mode {
            Mode::Pub => self.publishers.as_ref(),
            Mode::Sub | Mode::Pubsub | Mode::Queue | Mode::Relay => self.subscribers.as_ref(),
            Mode::Req | Mode::Connect => {
                return self.requests.as_ref().map_or(0.0, RequestStats::per_sec);
            }
        };
        side.map_or(0.0, SideStats::msgs_per_sec)
    }

    /// One object for every mode; connect mode fills `req` with its
    /// handshakes, so `msgs_per_sec` and `req.latency_us` read the same way.
    pub fn to_json(&self) -> Value {
        let us = |d: Duration| (d.as_nanos() as f64 / 10.0).round() / 100.0;
        let req = self.requests.as_ref().map(|r| {
            let l = &r.latency;
            json!({
                "count": r.count,
                "elapsed_s": r.elapsed.as_secs_f64(),
                "per_sec": r.per_sec().round(),
                "latency_us": {
                    "min": us(l.min), "mean": us(l.mean), "p50": us(l.p50), "p90": us(l.p90),
                    "p99": us(l.p99), "p99_9": us(l.p999), "max": us(l.max),
                },
            })
        });
        json!({
            "mode": self.mode.as_str(),
            "url": self.url,
            "server": self.server,
            "subject": self.subject,
            "msgs": self.msgs,
            "size": self.size,
            "pubs": self.pubs,
            "subs": self.subs,
            "msgs_per_sec": self.msgs_per_sec().round(),
            "pub": self.publishers.as_ref().map(SideStats::to_json),
            "sub": self.subscribers.as_ref().map(SideStats::to_json),
            "delivered": self.delivered,
            "req": req,
        })
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.json {
            return write!(f, "{}", self.to_json());
        }
        // Without the last newline, so that `println!("{report}")` prints no blank line.
        let mut text = String::new();
        self.write_text(&mut text)?;
        f.write_str(text.trim_end_matches('\n'))
    }
}

impl BenchReport {
    fn write_text(&self, f: &mut impl fmt::Write) -> fmt::Result {
        if self.mode == Mode::Connect {
            writeln!(
                f,
                "connect bench: {} connections, {} at a time, {} ({})",
                grouped(self.msgs as f64),
                self.pubs,
                self.url,
                self.server
            )?;
        } else {
            self.write_messages(f)?;
        }
        if let Some(r) = &self.requests {
            let (label, unit, what) = match self.mode {
                Mode::Connect => ("conn", "conn/s ", "handshakes"),
                _ => ("req ", "req/s  ", "round trips"),
            };
            let l = &r.latency;
            writeln!(
                f,
                "  {label} {:>12} {unit} {} {what} in {}",
                grouped(r.per_sec()),
                grouped(r.count as f64),
                human(r.elapsed)
            )?;
            writeln!(
                f,
                "  latency  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (min {}, mean {})",
                human(l.p50),
                human(l.p90),
                human(l.p99),
                human(l.p999),
                human(l.max),
                human(l.min),
                human(l.mean)
            )?;
        }
        Ok(())
    }

    /// The header and the publisher/subscriber lines of the message modes.
    fn write_messages(&self, f: &mut impl fmt::Write) -> fmt::Result {
        let who = match self.mode {
            Mode::Pub => format!("{} pub", self.pubs),
            Mode::Sub => format!("{} sub", self.subs),
            Mode::Pubsub | Mode::Queue => format!("{} pub -> {} sub", self.pubs, self.subs),
            Mode::Req => "1 requester -> 1 responder".to_string(),
            Mode::Connect => String::new(),
            Mode::Relay => "sender -> relay -> receiver".to_string(),
        };
        let what = if self.mode == Mode::Req {
            "requests"
        } else {
            "msgs"
        };
        writeln!(
            f,
            "{} bench: {} {what} x {} B on {:?}, {who}, {} ({})",
            self.mode.as_str(),
            grouped(self.msgs as f64),
            self.size,
            self.subject,
            self.url,
            self.server
        )?;
        for (label, side) in [("pub", &self.publishers), ("sub", &self.subscribers)] {
            let Some(s) = side else { continue };
            writeln!(
                f,
                "  {label}  {:>12} msgs/s {:>9.1} MB/s   {} msgs in {}",
                grouped(s.msgs_per_sec()),
                s.mb_per_sec(),
                grouped(s.msgs as f64),
                human(s.elapsed)
            )?;
            if s.per_conn.len() > 1 {
                let (min, avg, max) = s.spread();
                writeln!(
                    f,
                    "       per {label}: min {} / avg {} / max {} msgs/s",
                    grouped(min),
                    grouped(avg),
                    grouped(max)
                )?;
            }
        }
        if self.subscribers.is_some() {
            writeln!(f, "  delivered {} messages", grouped(self.delivered as f64))?;
        }
        Ok(())
    }
}
