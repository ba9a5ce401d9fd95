//! The leaf node protocol: what two servers joined by a leaf connection
//! say to each other. Interest travels as `LS+ <subject> [<queue>
//! <weight>]` and `LS- <subject> [<queue>]`; messages as
//! `LMSG <subject> [reply] <size>` or, when the sender picked queue groups
//! for the receiver, `LMSG <subject> + <reply> <queue>... <size>` /
//! `LMSG <subject> | <queue>... <size>`, and `HMSG` the same way with a
//! header size before the total. Nothing here carries a sid: a leaf
//! subscription is named by its subject and queue.
//!
//! Like the client parser, `parse_leaf` is stateless and borrows from the
//! caller's buffer.

use super::encode::put_size;
use super::error::ParseError;
use super::parser::{Limits, parse_size, split_args, strip_quotes, trim_start};
use bytes::{BufMut, BytesMut};

/// One operation read on a leaf connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafOp<'a> {
    Info(&'a [u8]),
    Connect(&'a [u8]),
    Ping,
    Pong,
    Ok,
    Err(&'a [u8]),
    /// `LS+`: the peer has interest; `weight` is its number of queue members.
    Sub {
        subject: &'a [u8],
        queue: Option<(&'a [u8], u32)>,
    },
    /// `LS-`: the peer no longer has interest.
    Unsub {
        subject: &'a [u8],
        queue: Option<&'a [u8]>,
    },
    /// `LMSG` or `HMSG`. `queues`: the queue groups the sender chose this
    /// side to serve, space-separated; empty when it chose none.
    Msg {
        subject: &'a [u8],
        reply: Option<&'a [u8]>,
        queues: &'a [u8],
        headers: Option<&'a [u8]>,
        payload: &'a [u8],
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Info,
    Connect,
    Ping,
    Pong,
    Ok,
    Err,
    Sub,
    Unsub,
    Msg,
    HMsg,
}

const NAMES: [(&[u8], Kind); 10] = [
    (b"INFO", Kind::Info),
    (b"CONNECT", Kind::Connect),
    (b"PING", Kind::Ping),
    (b"PONG", Kind::Pong),
    (b"+OK", Kind::Ok),
    (b"-ERR", Kind::Err),
    (b"LS+", Kind::Sub),
    (b"LS-", Kind::Unsub),
    (b"LMSG", Kind::Msg),
    (b"HMSG", Kind::HMsg),
];

/// Parses one operation from the front of `buf`: the operation and the
/// bytes it used, `Ok(None)` when more bytes are needed, or an error.
pub fn parse_leaf<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<Option<(LeafOp<'a>, usize)>, ParseError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let name_end = buf
        .iter()
        .take(8)
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    let name_end = match name_end {
        Some(n) => n,
        None if buf.len() < 8 => {
            let prefix = NAMES
                .iter()
                .any(|(n, _)| n.len() >= buf.len() && n[..buf.len()].eq_ignore_ascii_case(buf));
            return if prefix {
                Ok(None)
            } else {
                Err(ParseError::UnknownOp)
            };
        }
        None => return Err(ParseError::UnknownOp),
    };
    let name = &buf[..name_end];
    let kind = NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, k)| k)
        .ok_or(ParseError::UnknownOp)?;
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
    let after = nl + 1;
    let op = match kind {
        Kind::Info => LeafOp::Info(args),
        Kind::Connect => LeafOp::Connect(args),
        Kind::Ping => LeafOp::Ping,
        Kind::Pong => LeafOp::Pong,
        Kind::Ok => LeafOp::Ok,
        Kind::Err => LeafOp::Err(strip_quotes(args)),
        Kind::Sub => {
            let (a, n) = split_args(args);
            let bad = ParseError::BadArguments { op: "LS+" };
            match n {
                1 => LeafOp::Sub {
                    subject: a[0],
                    queue: None,
                },
                3 => {
                    let weight = parse_size(a[2]).ok_or(bad)?;
                    LeafOp::Sub {
                        subject: a[0],
                        queue: Some((a[1], u32::try_from(weight).unwrap_or(u32::MAX))),
                    }
                }
                _ => return Err(bad),
            }
        }
        Kind::Unsub => {
            let (a, n) = split_args(args);
            match n {
                1 => LeafOp::Unsub {
                    subject: a[0],
                    queue: None,
                },
                2 => LeafOp::Unsub {
                    subject: a[0],
                    queue: Some(a[1]),
                },
                _ => return Err(ParseError::BadArguments { op: "LS-" }),
            }
        }
        Kind::Msg | Kind::HMsg => return parse_msg(kind, args, buf, after, limits),
    };
    Ok(Some((op, after)))
}

/// `LMSG`/`HMSG` arguments and payload.
fn parse_msg<'a>(
    kind: Kind,
    args: &'a [u8],
    buf: &'a [u8],
    start: usize,
    limits: &Limits,
) -> Result<Option<(LeafOp<'a>, usize)>, ParseError> {
    let op = if kind == Kind::Msg { "LMSG" } else { "HMSG" };
    let bad = || ParseError::BadArguments { op };
    let sizes = if kind == Kind::Msg { 1 } else { 2 };
    let tokens: Vec<&[u8]> = args
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .collect();
    let n = tokens.len();
    if n < 1 + sizes {
        return Err(bad());
    }
    let subject = tokens[0];
    let middle = &tokens[1..n - sizes];
    let (reply, queues): (Option<&[u8]>, &[&[u8]]) = match middle {
        [] => (None, &[]),
        [reply] => (Some(reply), &[]),
        [indicator, rest @ ..] => match *indicator {
            b"+" => match rest {
                [reply, queues @ ..] => (Some(reply), queues),
                [] => return Err(bad()),
            },
            b"|" => (None, rest),
            _ => return Err(bad()),
        },
    };
    // The queue names as one borrowed run of the control line.
    let queues: &[u8] = match (queues.first(), queues.last()) {
        (Some(first), Some(last)) => {
            let from = first.as_ptr() as usize - args.as_ptr() as usize;
            let to = last.as_ptr() as usize - args.as_ptr() as usize + last.len();
            &args[from..to]
        }
        _ => &[],
    };
    let total = parse_size(tokens[n - 1]).ok_or_else(bad)?;
    let hdr = if sizes == 2 {
        let h = parse_size(tokens[n - 2]).ok_or_else(bad)?;
        if h > total {
            return Err(bad());
        }
        Some(h)
    } else {
        None
    };
    if total > limits.max_payload {
        return Err(ParseError::MaxPayload {
            size: total,
            max: limits.max_payload,
        });
    }
    let end = start + total;
    if buf.len() < end + 2 {
        if buf.len() > end && buf[end] != b'\r' {
            return Err(ParseError::MissingPayloadTerminator);
        }
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(ParseError::MissingPayloadTerminator);
    }
    let body = &buf[start..end];
    let (headers, payload) = match hdr {
        Some(h) => (Some(&body[..h]), &body[h..]),
        None => (None, body),
    };
    Ok(Some((
        LeafOp::Msg {
            subject,
            reply,
            queues,
            headers,
            payload,
        },
        end + 2,
    )))
}

/// Whether `queues` (space-separated, from `LeafOp::Msg`) names `queue`.
pub fn names_queue(queues: &[u8], queue: &[u8]) -> bool {
    queues
        .split(|&b| b == b' ' || b == b'\t')
        .any(|q| q == queue)
}

/// Appends `LS+ <subject>\r\n`, or `LS+ <subject> <queue> <weight>\r\n`.
pub fn encode_leaf_sub(buf: &mut BytesMut, subject: &[u8], queue: Option<(&[u8], u32)>) {
    buf.put_slice(b"LS+ ");
    buf.put_slice(subject);
    if let Some((queue, weight)) = queue {
        buf.put_u8(b' ');
        buf.put_slice(queue);
        buf.put_u8(b' ');
        put_size(buf, weight as usize);
    }
    buf.put_slice(b"\r\n");
}

/// Appends `LS- <subject> [<queue>]\r\n`.
pub fn encode_leaf_unsub(buf: &mut BytesMut, subject: &[u8], queue: Option<&[u8]>) {
    buf.put_slice(b"LS- ");
    buf.put_slice(subject);
    if let Some(queue) = queue {
        buf.put_u8(b' ');
        buf.put_slice(queue);
    }
    buf.put_slice(b"\r\n");
}

/// Appends an `LMSG` (or, with headers, an `HMSG`) for a leaf peer;
/// `queue` names the peer's queue group chosen to receive it.
pub fn encode_leaf_msg(
    buf: &mut BytesMut,
    subject: &[u8],
    reply: Option<&[u8]>,
    queue: Option<&[u8]>,
    headers: Option<&[u8]>,
    payload: &[u8],
) {
    let hlen = headers.map_or(0, <[u8]>::len);
    buf.reserve(
        subject.len()
            + reply.map_or(0, <[u8]>::len)
            + queue.map_or(0, <[u8]>::len)
            + hlen
            + payload.len()
            + 48,
    );
    buf.put_slice(if headers.is_some() {
        b"HMSG "
    } else {
        b"LMSG "
    });
    buf.put_slice(subject);
    buf.put_u8(b' ');
    match (queue, reply) {
        (Some(q), Some(r)) => {
            buf.put_slice(b"+ ");
            buf.put_slice(r);
            buf.put_u8(b' ');
            buf.put_slice(q);
            buf.put_u8(b' ');
        }
        (Some(q), None) => {
            buf.put_slice(b"| ");
            buf.put_slice(q);
            buf.put_u8(b' ');
        }
        (None, Some(r)) => {
            buf.put_slice(r);
            buf.put_u8(b' ');
        }
        (None, None) => {}
    }
    if headers.is_some() {
        put_size(buf, hlen);
        buf.put_u8(b' ');
    }
    put_size(buf, hlen + payload.len());
    buf.put_slice(b"\r\n");
    if let Some(h) = headers {
        buf.put_slice(h);
    }
    buf.put_slice(payload);
    buf.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
