//! The protocols two servers speak to each other: the leaf node protocol
//! and the route protocol. They differ only in an account token.
//!
//! On a leaf connection (one account per connection) interest travels as
//! `LS+ <subject> [<queue> <weight>]` and `LS- <subject> [<queue>]`;
//! messages as `LMSG <subject> [reply] <size>` or, when the sender picked
//! queue groups for the receiver, `LMSG <subject> + <reply> <queue>...
//! <size>` / `LMSG <subject> | <queue>... <size>`, and `HMSG` the same way
//! with a header size before the total. A route carries every account, so
//! the same operations are `RS+`, `RS-` and `RMSG` (and `HMSG`) with the
//! account name before the subject. Nothing here carries a sid: a peer's
//! subscription is named by its account, subject and queue.
//!
//! Like the client parser, `parse_peer` is stateless and borrows from the
//! caller's buffer; a message costs no allocation.

use super::encode::put_size;
use super::error::ParseError;
use super::parser::{Limits, parse_size, payload_frame, split_args, strip_quotes, trim_start};
use bytes::{BufMut, BytesMut};

/// Which of the two server-to-server protocols a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// A leaf node connection: one account, no account token.
    Leaf,
    /// A cluster route: every operation names its account.
    Route,
}

/// One operation read on a leaf or route connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerOp<'a> {
    Info(&'a [u8]),
    Connect(&'a [u8]),
    Ping,
    Pong,
    Ok,
    Err(&'a [u8]),
    /// `LS+`/`RS+`: the peer has interest; `weight` is its number of
    /// queue members. `account` is empty on a leaf connection.
    Sub {
        account: &'a [u8],
        subject: &'a [u8],
        queue: Option<(&'a [u8], u32)>,
    },
    /// `LS-`/`RS-`: the peer no longer has interest.
    Unsub {
        account: &'a [u8],
        subject: &'a [u8],
        queue: Option<&'a [u8]>,
    },
    /// `LMSG`/`RMSG` or `HMSG`. `queues`: the queue groups the sender chose
    /// this side to serve, space-separated; empty when it chose none.
    Msg {
        account: &'a [u8],
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

const COMMON: [(&[u8], Kind); 7] = [
    (b"INFO", Kind::Info),
    (b"CONNECT", Kind::Connect),
    (b"PING", Kind::Ping),
    (b"PONG", Kind::Pong),
    (b"+OK", Kind::Ok),
    (b"-ERR", Kind::Err),
    (b"HMSG", Kind::HMsg),
];

const LEAF: [(&[u8], Kind); 3] = [
    (b"LS+", Kind::Sub),
    (b"LS-", Kind::Unsub),
    (b"LMSG", Kind::Msg),
];

const ROUTE: [(&[u8], Kind); 3] = [
    (b"RS+", Kind::Sub),
    (b"RS-", Kind::Unsub),
    (b"RMSG", Kind::Msg),
];

impl Dialect {
    fn names(self) -> impl Iterator<Item = &'static (&'static [u8], Kind)> {
        let own: &'static [(&'static [u8], Kind)] = match self {
            Dialect::Leaf => &LEAF,
            Dialect::Route => &ROUTE,
        };
        COMMON.iter().chain(own.iter())
    }

    fn op_name(self, kind: Kind) -> &'static str {
        match (self, kind) {
            (Dialect::Leaf, Kind::Sub) => "LS+",
            (Dialect::Leaf, Kind::Unsub) => "LS-",
            (Dialect::Leaf, Kind::Msg) => "LMSG",
            (Dialect::Route, Kind::Sub) => "RS+",
            (Dialect::Route, Kind::Unsub) => "RS-",
            (Dialect::Route, Kind::Msg) => "RMSG",
            _ => "HMSG",
        }
    }
}

/// Parses one leaf node operation; see `parse_peer`.
pub fn parse_leaf<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<Option<(PeerOp<'a>, usize)>, ParseError> {
    parse_peer(buf, limits, Dialect::Leaf)
}

/// Parses one operation from the front of `buf`: the operation and the
/// bytes it used, `Ok(None)` when more bytes are needed, or an error.
pub fn parse_peer<'a>(
    buf: &'a [u8],
    limits: &Limits,
    dialect: Dialect,
) -> Result<Option<(PeerOp<'a>, usize)>, ParseError> {
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
            let prefix = dialect
                .names()
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
    let kind = dialect
        .names()
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
    let bad = ParseError::BadArguments {
        op: dialect.op_name(kind),
    };
    let op = match kind {
        Kind::Info => PeerOp::Info(args),
        Kind::Connect => PeerOp::Connect(args),
        Kind::Ping => PeerOp::Ping,
        Kind::Pong => PeerOp::Pong,
        Kind::Ok => PeerOp::Ok,
        Kind::Err => PeerOp::Err(strip_quotes(args)),
        Kind::Sub | Kind::Unsub => {
            let (a, n) = split_args(args);
            let (account, a, n) = match dialect {
                Dialect::Leaf => (&b""[..], &a[..], n),
                Dialect::Route if n > 0 => (a[0], &a[1..], n - 1),
                Dialect::Route => return Err(bad),
            };
            match (kind, n) {
                (_, 1) => interest(kind, account, a[0], None),
                (Kind::Sub, 3) => {
                    let weight = parse_size(a[2]).ok_or(bad)?;
                    let weight = u32::try_from(weight).unwrap_or(u32::MAX);
                    PeerOp::Sub {
                        account,
                        subject: a[0],
                        queue: Some((a[1], weight)),
                    }
                }
                (Kind::Unsub, 2) => interest(kind, account, a[0], Some(a[1])),
                _ => return Err(bad),
            }
        }
        Kind::Msg | Kind::HMsg => return parse_msg(kind, dialect, args, buf, after, limits),
    };
    Ok(Some((op, after)))
}

/// An `LS+`/`RS+` without a queue, or an `LS-`/`RS-`.
fn interest<'a>(
    kind: Kind,
    account: &'a [u8],
    subject: &'a [u8],
    queue: Option<&'a [u8]>,
) -> PeerOp<'a> {
    match kind {
        Kind::Sub => PeerOp::Sub {
            account,
            subject,
            queue: None,
        },
        _ => PeerOp::Unsub {
            account,
            subject,
            queue,
        },
    }
}

/// Splits the first space- or tab-separated token off `s`.
fn next_token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = trim_start(s);
    if s.is_empty() {
        return None;
    }
    let end = s
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// Splits the last token off `s`.
fn last_token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = trim_start(s);
    if s.is_empty() {
        return None;
    }
    let start = s
        .iter()
        .rposition(|&b| b == b' ' || b == b'\t')
        .map_or(0, |p| p + 1);
    Some((&s[..start], &s[start..]))
}

/// `LMSG`/`RMSG`/`HMSG` arguments and payload.
fn parse_msg<'a>(
    kind: Kind,
    dialect: Dialect,
    args: &'a [u8],
    buf: &'a [u8],
    start: usize,
    limits: &Limits,
) -> Result<Option<(PeerOp<'a>, usize)>, ParseError> {
    let bad = || ParseError::BadArguments {
        op: dialect.op_name(kind),
    };
    let (account, rest) = match dialect {
        Dialect::Leaf => (&b""[..], args),
        Dialect::Route => next_token(args).ok_or_else(bad)?,
    };
    let (subject, rest) = next_token(rest).ok_or_else(bad)?;
    let (rest, total) = last_token(rest).ok_or_else(bad)?;
    let total = parse_size(total).ok_or_else(bad)?;
    let (middle, hdr) = if kind == Kind::HMsg {
        let (rest, h) = last_token(rest).ok_or_else(bad)?;
        let h = parse_size(h).ok_or_else(bad)?;
        if h > total {
            return Err(bad());
        }
        (rest, Some(h))
    } else {
        (rest, None)
    };
    let (reply, queues) = match next_token(middle) {
        None => (None, &b""[..]),
        Some((b"+", rest)) => {
            let (reply, queues) = next_token(rest).ok_or_else(bad)?;
            let queues = trim_start(queues);
            if queues.is_empty() {
                return Err(bad());
            }
            (Some(reply), queues)
        }
        Some((b"|", queues)) => {
            let queues = trim_start(queues);
            if queues.is_empty() {
                return Err(bad());
            }
            (None, queues)
        }
        Some((reply, more)) if trim_start(more).is_empty() => (Some(reply), &b""[..]),
        Some(_) => return Err(bad()),
    };
    let Some((headers, payload, end)) = payload_frame(buf, start, total, hdr, limits)? else {
        return Ok(None);
    };
    Ok(Some((
        PeerOp::Msg {
            account,
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

/// Appends the operation name and, on a route, the account.
fn put_head(buf: &mut BytesMut, op: &[u8], account: &[u8]) {
    buf.put_slice(op);
    buf.put_u8(b' ');
    if !account.is_empty() {
        buf.put_slice(account);
        buf.put_u8(b' ');
    }
}

/// Appends `LS+ <subject> [<queue> <weight>]\r\n`, or on a route
/// `RS+ <account> <subject> [<queue> <weight>]\r\n`.
pub fn encode_peer_sub(
    buf: &mut BytesMut,
    dialect: Dialect,
    account: &[u8],
    subject: &[u8],
    queue: Option<(&[u8], u32)>,
) {
    let op: &[u8] = match dialect {
        Dialect::Leaf => b"LS+",
        Dialect::Route => b"RS+",
    };
    put_head(buf, op, account);
    buf.put_slice(subject);
    if let Some((queue, weight)) = queue {
        buf.put_u8(b' ');
        buf.put_slice(queue);
        buf.put_u8(b' ');
        put_size(buf, weight as usize);
    }
    buf.put_slice(b"\r\n");
}

/// Appends `LS- <subject> [<queue>]\r\n` (`RS- <account> ...` on a route).
pub fn encode_peer_unsub(
    buf: &mut BytesMut,
    dialect: Dialect,
    account: &[u8],
    subject: &[u8],
    queue: Option<&[u8]>,
) {
    let op: &[u8] = match dialect {
        Dialect::Leaf => b"LS-",
        Dialect::Route => b"RS-",
    };
    put_head(buf, op, account);
    buf.put_slice(subject);
    if let Some(queue) = queue {
        buf.put_u8(b' ');
        buf.put_slice(queue);
    }
    buf.put_slice(b"\r\n");
}

/// A message for a peer server: its account (empty on a leaf connection),
/// and the peer's queue group chosen to receive it, if any.
pub struct PeerMsg<'a> {
    pub dialect: Dialect,
    pub account: &'a [u8],
    pub subject: &'a [u8],
    pub reply: Option<&'a [u8]>,
    pub queue: Option<&'a [u8]>,
    pub headers: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

/// Appends an `LMSG`/`RMSG` (or, with headers, an `HMSG`).
pub fn encode_peer_msg(buf: &mut BytesMut, m: &PeerMsg<'_>) {
    let hlen = m.headers.map_or(0, <[u8]>::len);
    buf.reserve(
        m.account.len()
            + m.subject.len()
            + m.reply.map_or(0, <[u8]>::len)
            + m.queue.map_or(0, <[u8]>::len)
            + hlen
            + m.payload.len()
            + 48,
    );
    let op: &[u8] = match (m.headers, m.dialect) {
        (Some(_), _) => b"HMSG",
        (None, Dialect::Leaf) => b"LMSG",
        (None, Dialect::Route) => b"RMSG",
    };
    put_head(buf, op, m.account);
    buf.put_slice(m.subject);
    buf.put_u8(b' ');
    match (m.queue, m.reply) {
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
    if m.headers.is_some() {
        put_size(buf, hlen);
        buf.put_u8(b' ');
    }
    put_size(buf, hlen + m.payload.len());
    buf.put_slice(b"\r\n");
    if let Some(h) = m.headers {
        buf.put_slice(h);
    }
    buf.put_slice(m.payload);
    buf.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
