//! Reading the first operations of a connection from another server
//! (INFO, CONNECT), before its read loop runs: the handshake of leaf
//! nodes and routes alike.

use crate::client::CloseReason;
use crate::protocol::{Dialect, Limits, PeerOp, parse_peer};
use bytes::{Buf, BytesMut};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// A handshake operation, owned so the buffer can move on.
pub(super) enum First {
    Info(Vec<u8>),
    Connect(Vec<u8>),
    Err(String),
}

/// Reads until the peer's first INFO, CONNECT or -ERR (answering PINGs on
/// the way), within `deadline`. What follows it stays in `buf`.
pub(super) async fn read_first<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut BytesMut,
    limits: &Limits,
    dialect: Dialect,
    deadline: Duration,
) -> Result<First, CloseReason> {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match parse_peer(buf, limits, dialect) {
            Ok(Some((op, used))) => {
                let first = match op {
                    PeerOp::Info(j) => Some(First::Info(j.to_vec())),
                    PeerOp::Connect(j) => Some(First::Connect(j.to_vec())),
                    PeerOp::Err(t) => Some(First::Err(String::from_utf8_lossy(t).into_owned())),
                    PeerOp::Ping | PeerOp::Pong | PeerOp::Ok => None,
                    _ => return Err(CloseReason::AuthViolation),
                };
                buf.advance(used);
                if let Some(first) = first {
                    return Ok(first);
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => return Err(CloseReason::from(e)),
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        match tokio::time::timeout_at(until, rd.read_buf(buf)).await {
            Err(_) => return Err(CloseReason::AuthTimeout),
            Ok(Ok(0)) => return Err(CloseReason::ClientClosed),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(CloseReason::ReadError),
        }
    }
}
