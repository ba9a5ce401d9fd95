//! Random scripts for the differential test, from a seeded generator.
//!
//! Subjects come from the tokens `a`, `b`, `c` (one to three of them);
//! filters may use `*` and a final `>`; about one subject in ten is
//! invalid (an empty token, or `>` not last). Plain subscriptions use sids
//! 1-5 and queue subscriptions sids 10-12, so sids are reused but never
//! shared between the two kinds. The queue groups of the importing account
//! (`r1`, `r2`) are named apart from the exporter's (`q1`, `q2`): nats-server
//! merges an importer's queue subscription into the exporter's group of the
//! same name, Switchyard keeps the tenants' groups apart (intended,
//! docs/compatibility.md). The importing account's connections never send
//! an UNSUB max either: nats-server counts deliveries through a stream
//! import on a copy of the subscription, apart from the limit, Switchyard
//! counts every delivery to the sid (intended, docs/compatibility.md). Queue subscriptions are
//! never given an UNSUB max: which member a group picks is random, so a
//! member's remaining allowance would make later counts differ between
//! runs of the same server.

use super::FIRST_QUEUE_SID;
use fastrand::Rng;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub enum Op {
    Sub {
        subject: String,
        queue: Option<&'static str>,
        sid: u32,
    },
    Unsub {
        sid: u32,
        max: Option<u32>,
    },
    Pub {
        subject: String,
        reply: Option<String>,
        /// An `HPUB` with header `K: <value>` when set.
        header: Option<String>,
        payload: String,
    },
}

/// Operations, each with the index of the connection that sends it.
pub struct Script {
    pub ops: Vec<(usize, Op)>,
}

const TOKENS: [&str; 3] = ["a", "b", "c"];

fn literal(rng: &mut Rng) -> String {
    let n = rng.usize(1..=3);
    (0..n)
        .map(|_| TOKENS[rng.usize(..TOKENS.len())])
        .collect::<Vec<_>>()
        .join(".")
}

fn filter(rng: &mut Rng) -> String {
    let n = rng.usize(1..=3);
    let mut tokens: Vec<&str> = (0..n)
        .map(|_| match rng.u8(..10) {
            0..=1 => "*",
            _ => TOKENS[rng.usize(..TOKENS.len())],
        })
        .collect();
    if rng.u8(..5) == 0 {
        tokens.push(">");
    }
    tokens.join(".")
}

/// Breaks `subject` about one time in ten: an empty token at the front,
/// middle or end, or a `>` that is not last.
fn maybe_invalid(subject: String, rng: &mut Rng) -> String {
    match rng.u8(..40) {
        0 => format!(".{subject}"),
        1 => format!("{subject}."),
        2 => subject.replacen('.', "..", 1),
        3 => format!("a.>.{subject}"),
        _ => subject,
    }
}

impl Script {
    /// A script for `connections` connections; those from `importer` on
    /// belong to the importing account.
    pub fn random(rng: &mut Rng, connections: usize, importer: usize) -> Script {
        let len = rng.usize(10..40);
        let mut ops = Vec::with_capacity(len);
        let mut counter = 0u32;
        for _ in 0..len {
            let who = rng.usize(..connections);
            let op = match rng.u8(..10) {
                0..=3 => {
                    if rng.u8(..4) == 0 {
                        Op::Sub {
                            subject: maybe_invalid(filter(rng), rng),
                            queue: Some(match (who >= importer, rng.bool()) {
                                (false, true) => "q1",
                                (false, false) => "q2",
                                (true, true) => "r1",
                                (true, false) => "r2",
                            }),
                            sid: rng.u32(FIRST_QUEUE_SID..FIRST_QUEUE_SID + 3),
                        }
                    } else {
                        Op::Sub {
                            subject: maybe_invalid(filter(rng), rng),
                            queue: None,
                            sid: rng.u32(1..=5),
                        }
                    }
                }
                4 => {
                    if rng.u8(..4) == 0 {
                        Op::Unsub {
                            sid: rng.u32(FIRST_QUEUE_SID..FIRST_QUEUE_SID + 3),
                            max: None,
                        }
                    } else {
                        Op::Unsub {
                            sid: rng.u32(1..=5),
                            max: (who < importer && rng.bool()).then(|| rng.u32(0..=3)),
                        }
                    }
                }
                _ => {
                    counter += 1;
                    let subject = if rng.u8(..10) == 0 {
                        filter(rng)
                    } else {
                        literal(rng)
                    };
                    Op::Pub {
                        subject: maybe_invalid(subject, rng),
                        reply: match rng.u8(..6) {
                            0 => Some("r.x".to_string()),
                            1 => Some(literal(rng)),
                            _ => None,
                        },
                        header: rng.bool().then(|| format!("v{counter}")),
                        payload: format!("p{counter}"),
                    }
                }
            };
            ops.push((who, op));
        }
        Script { ops }
    }

    /// The script up to and including `last`, one operation a line.
    pub fn listing(&self, last: usize) -> String {
        let mut out = String::new();
        for (i, (who, op)) in self.ops.iter().enumerate().take(last + 1) {
            let text = String::from_utf8_lossy(&op.encode()).replace("\r\n", "⏎");
            let _ = writeln!(out, "  {i:>3} c{who}: {text}");
        }
        out
    }
}
