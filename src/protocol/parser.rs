//! The incremental, zero-copy parser.
//!
//! `parse` looks at the front of a buffer and either returns one complete
//! operation together with the number of bytes it used, `Ok(None)` when the
//! buffer holds only a prefix of an operation, or an error. It keeps no state
//! between calls: the caller keeps unconsumed bytes and calls again after the
//! next read. A partial payload costs one re-scan of its control line, which
//! is bounded by `Limits::max_control_line`.

use super::error::ParseError;

/// Per-connection limits the parser enforces before buffering a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_control_line: usize,
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_control_line: 4096,
            max_payload: 1024 * 1024,
        }
    }
}

/// One protocol operation, borrowing from the parsed buffer.
///
/// What a server reads from a client. `INFO`, `+OK` and `-ERR` are read
/// (clients may send them; nats-server ignores them); `MSG` and `HMSG`,
/// which only a server sends, are unknown operations here, refused on
/// their name before any payload is buffered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    Connect(&'a [u8]),
    Info(&'a [u8]),
    Ping,
    Pong,
    Ok,
    Err(&'a [u8]),
    /// PUB or HPUB; `headers` is `Some` exactly for HPUB.
    Pub {
        subject: &'a [u8],
        reply: Option<&'a [u8]>,
        headers: Option<&'a [u8]>,
        payload: &'a [u8],
    },
    Sub {
        subject: &'a [u8],
        queue: Option<&'a [u8]>,
        sid: &'a [u8],
    },
    Unsub {
        sid: &'a [u8],
        max: Option<u64>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Info,
    Ping,
    Pong,
    Ok,
    Err,
    Pub,
    HPub,
    Sub,
    Unsub,
}

const MAX_ARGS: usize = 6;

/// Parses one operation from the front of `buf`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Result<Option<(Op<'a>, usize)>, ParseError> {
    // Every operation goes through here: the frame length below is
    // written only on the rare incomplete-payload path, and the result is
    // the parser's own, so small operations pay nothing for it.
    let mut frame = None;
    step(buf, limits, &mut frame)
}

/// The length of the PUB or HPUB frame (control line, payload and its
/// CRLF) at the front of `buf`, when its control line is complete and
/// valid but its payload has not all arrived. The reader uses it to give a
/// large payload a buffer of exactly its size instead of growing one
/// read by read. `None` for anything else, including errors, which
/// `parse` reports. Bounded by the limits: at most `max_payload` plus a
/// control line.
pub fn pending_frame(buf: &[u8], limits: &Limits) -> Option<usize> {
    let mut frame = None;
    match step(buf, limits, &mut frame) {
        Ok(None) => frame,
        _ => None,
    }
}

/// `parse`, also setting `frame` to the whole frame's length when a PUB
/// or HPUB control line is complete but its payload is not.
fn step<'a>(
    buf: &'a [u8],
    limits: &Limits,
    frame: &mut Option<usize>,
) -> Result<Option<(Op<'a>, usize)>, ParseError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if !matches!(first | 0x20, b'c' | b'i' | b'p' | b'h' | b's' | b'u')
        && first != b'+'
        && first != b'-'
    {
        return Err(ParseError::UnknownOp);
    }
    // The name is at most 7 bytes; read it before looking for the line end so
    // that garbage is rejected without waiting for a newline.
    let name_end = buf
        .iter()
        .take(8)
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    let name_end = match name_end {
        Some(n) => n,
        None if buf.len() < 8 => {
            return if is_name_prefix(buf) {
                Ok(None)
            } else {
                Err(ParseError::UnknownOp)
            };
        }
        None => return Err(ParseError::UnknownOp),
    };
    let kind = op_kind(&buf[..name_end]).ok_or(ParseError::UnknownOp)?;
    // nats-server requires a separator after the names that take arguments:
    // a bare `SUB\r\n` is an unknown operation, not a malformed SUB.
    let takes_args = !matches!(kind, Kind::Ping | Kind::Pong | Kind::Ok);
    if takes_args && matches!(buf[name_end], b'\r' | b'\n') {
        return Err(ParseError::UnknownOp);
    }

    let line_limit = name_end + 1 + limits.max_control_line;
    let window = &buf[..buf.len().min(line_limit + 2)];
    let Some(nl) = memchr::memchr(b'\n', window) else {
        return if buf.len() > line_limit + 1 {
            Err(ParseError::ControlLineTooLong)
        } else {
            Ok(None)
        };
    };
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let args = trim_start(&buf[name_end.min(line_end)..line_end]);
    if args.len() > limits.max_control_line {
        return Err(ParseError::ControlLineTooLong);
    }
    let after_line = nl + 1;

    let op = match kind {
        Kind::Ping => Op::Ping,
        Kind::Pong => Op::Pong,
        Kind::Ok => Op::Ok,
        Kind::Err => Op::Err(strip_quotes(args)),
        Kind::Connect => Op::Connect(args),
        Kind::Info => Op::Info(args),
        Kind::Sub => {
            let (a, n) = split_args(args);
            match n {
                2 => Op::Sub {
                    subject: a[0],
                    queue: None,
                    sid: a[1],
                },
                3 => Op::Sub {
                    subject: a[0],
                    queue: Some(a[1]),
                    sid: a[2],
                },
                _ => return Err(ParseError::BadArguments { op: "SUB" }),
            }
        }
        Kind::Unsub => {
            let (a, n) = split_args(args);
            match n {
                1 => Op::Unsub {
                    sid: a[0],
                    max: None,
                },
                // An unparsable max means "no max", as nats-server does.
                2 => Op::Unsub {
                    sid: a[0],
                    max: parse_size(a[1]).map(|m| m as u64),
                },
                _ => return Err(ParseError::BadArguments { op: "UNSUB" }),
            }
        }
        Kind::Pub | Kind::HPub => {
            return parse_with_payload(kind, args, buf, after_line, limits, frame);
        }
    };
    Ok(Some((op, after_line)))
}

fn parse_with_payload<'a>(
    kind: Kind,
    args: &'a [u8],
    buf: &'a [u8],
    start: usize,
    limits: &Limits,
    frame: &mut Option<usize>,
) -> Result<Option<(Op<'a>, usize)>, ParseError> {
    let (a, n) = split_args(args);
    let bad = || ParseError::BadArguments { op: op_name(kind) };
    // Fixed arguments before the optional reply, and sizes after it.
    let (fixed, sizes) = match kind {
        Kind::Pub => (1, 1),
        Kind::HPub => (1, 2),
        _ => unreachable!("only payload-carrying kinds reach here"),
    };
    let reply = match n.checked_sub(fixed + sizes) {
        Some(0) => None,
        Some(1) => Some(a[fixed]),
        _ => return Err(bad()),
    };
    let total = parse_size(a[n - 1]).ok_or_else(bad)?;
    let hdr = if sizes == 2 {
        let h = parse_size(a[n - 2]).ok_or_else(bad)?;
        if h > total {
            return Err(bad());
        }
        Some(h)
    } else {
        None
    };
    let Some((headers, payload, end)) = payload_frame(buf, start, total, hdr, limits)? else {
        // The control line is valid and complete, the payload is not: the
        // whole frame's length is known now (see `pending_frame`).
        *frame = Some(start + total + 2);
        return Ok(None);
    };
    let op = Op::Pub {
        subject: a[0],
        reply,
        headers,
        payload,
    };
    Ok(Some((op, end + 2)))
}

fn op_kind(name: &[u8]) -> Option<Kind> {
    // Dispatch on length and the upper-cased bytes: this runs for every
    // operation, so no string table scan.
    let up = |i: usize| name[i] & !0x20;
    Some(match name.len() {
        3 if name[0] == b'+' => (up(1) == b'O' && up(2) == b'K').then_some(Kind::Ok)?,
        3 => match (up(0), up(1), up(2)) {
            (b'P', b'U', b'B') => Kind::Pub,
            (b'S', b'U', b'B') => Kind::Sub,
            _ => return None,
        },
        4 if name[0] == b'-' => {
            (up(1) == b'E' && up(2) == b'R' && up(3) == b'R').then_some(Kind::Err)?
        }
        4 => match (up(0), up(1), up(2), up(3)) {
            (b'H', b'P', b'U', b'B') => Kind::HPub,
            (b'P', b'I', b'N', b'G') => Kind::Ping,
            (b'P', b'O', b'N', b'G') => Kind::Pong,
            (b'I', b'N', b'F', b'O') => Kind::Info,
            _ => return None,
        },
        5 => name.eq_ignore_ascii_case(b"UNSUB").then_some(Kind::Unsub)?,
        7 => name
            .eq_ignore_ascii_case(b"CONNECT")
            .then_some(Kind::Connect)?,
        _ => return None,
    })
}

fn op_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pub => "PUB",
        Kind::HPub => "HPUB",
        Kind::Sub => "SUB",
        Kind::Unsub => "UNSUB",
        Kind::Connect => "CONNECT",
        Kind::Info => "INFO",
        Kind::Ping => "PING",
        Kind::Pong => "PONG",
        Kind::Ok => "+OK",
        Kind::Err => "-ERR",
    }
}

/// True when `buf` could still grow into a known operation name.
fn is_name_prefix(buf: &[u8]) -> bool {
    const NAMES: [&[u8]; 10] = [
        b"PUB", b"HPUB", b"SUB", b"UNSUB", b"PING", b"PONG", b"CONNECT", b"INFO", b"+OK", b"-ERR",
    ];
    NAMES
        .iter()
        .any(|n| n.len() >= buf.len() && n[..buf.len()].eq_ignore_ascii_case(buf))
}

/// Splits a control line's arguments on runs of spaces and tabs; more
/// than `MAX_ARGS` reports `MAX_ARGS + 1`. Runs for every PUB: word bytes
/// cost one comparison each (`is_sep` is false for anything above a
/// space), and inlined the array stays in the caller's frame.
#[inline]
pub(super) fn split_args(args: &[u8]) -> ([&[u8]; MAX_ARGS], usize) {
    let is_sep = |b: u8| b <= b' ' && (b == b' ' || b == b'\t');
    let mut out: [&[u8]; MAX_ARGS] = [&[]; MAX_ARGS];
    let mut n = 0;
    let mut rest = args;
    while let Some(start) = rest.iter().position(|&b| !is_sep(b)) {
        if n == MAX_ARGS {
            return (out, MAX_ARGS + 1);
        }
        let word = &rest[start..];
        let len = word.iter().position(|&b| is_sep(b)).unwrap_or(word.len());
        out[n] = &word[..len];
        n += 1;
        rest = &word[len..];
    }
    (out, n)
}

pub(super) fn trim_start(s: &[u8]) -> &[u8] {
    let skip = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let s = &s[skip..];
    let keep = s.len()
        - s.iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    &s[..keep]
}

pub(super) fn strip_quotes(s: &[u8]) -> &[u8] {
    match s {
        [b'\'', inner @ .., b'\''] => inner,
        _ => s,
    }
}

/// The header block and payload of a message whose control line ended at
/// `start` in `buf`: `total` bytes (the first `hdr` of them headers), then
/// CRLF. Returns them and where the payload ends (its CRLF follows), or
/// `Ok(None)` until all of it has arrived. Shared by the client parser and
/// the leaf and route parser.
#[inline]
#[allow(clippy::type_complexity)]
pub(super) fn payload_frame<'a>(
    buf: &'a [u8],
    start: usize,
    total: usize,
    hdr: Option<usize>,
    limits: &Limits,
) -> Result<Option<(Option<&'a [u8]>, &'a [u8], usize)>, ParseError> {
    if total > limits.max_payload {
        return Err(ParseError::MaxPayload {
            size: total,
            max: limits.max_payload,
        });
    }
    let end = start + total;
    if buf.len() < end + 2 {
        // Reject a wrong terminator as soon as its first byte is visible.
        if buf.len() > end && buf[end] != b'\r' {
            return Err(ParseError::MissingPayloadTerminator);
        }
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(ParseError::MissingPayloadTerminator);
    }
    let body = &buf[start..end];
    Ok(Some(match hdr {
        Some(h) => (Some(&body[..h]), &body[h..], end),
        None => (None, body, end),
    }))
}

/// Decimal size without sign; `None` on anything else or on overflow.
pub(super) fn parse_size(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    s.iter().try_fold(0usize, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + (b - b'0') as usize)
    })
}

#[cfg(test)]
mod tests;
