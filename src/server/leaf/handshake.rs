//! Reading the first operations of a leaf connection (INFO, CONNECT)
//! before its read loop runs, and running it once logged in.

use super::conn::LeafConn;
use super::state::LeafEntry;
use crate::client::CloseReason;
use crate::protocol::{LeafOp, Limits, encode_err, parse_leaf};
use crate::server::writer;
use bytes::{Buf, BytesMut};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

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
    deadline: Duration,
) -> Result<First, CloseReason> {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match parse_leaf(buf, limits) {
            Ok(Some((op, used))) => {
                let first = match op {
                    LeafOp::Info(j) => Some(First::Info(j.to_vec())),
                    LeafOp::Connect(j) => Some(First::Connect(j.to_vec())),
                    LeafOp::Err(t) => Some(First::Err(String::from_utf8_lossy(t).into_owned())),
                    LeafOp::Ping | LeafOp::Pong | LeafOp::Ok => None,
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

/// Runs a logged-in leaf connection to its end: starts its writer (already
/// holding what the handshake queued), relays interest, reads, and cleans
/// up. Returns why it ended and whether the peer reported a loop.
pub(super) async fn run<R, W>(
    mut conn: LeafConn,
    rd: R,
    wr: W,
    solicited: bool,
) -> (CloseReason, bool)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let server = conn.server.clone();
    let handle = conn.handle.clone();
    let writer = tokio::spawn(writer::write_loop(
        wr,
        handle.clone(),
        server.config.write_deadline,
    ));
    let entry = LeafEntry::new(
        handle.clone(),
        conn.peer.name.clone(),
        conn.session.account.name.clone(),
        solicited,
    );
    server.leaves.insert(handle.id, entry.clone());
    conn.entry = Some(entry);
    conn.start();
    tracing::info!(cid = handle.id, peer = %conn.peer.name, account = %conn.session.account.name, solicited, "leaf node connected");
    let reason = conn.read_loop(rd).await;
    let looped = conn.loop_detected;
    conn.unregister();
    if let Some(entry) = conn.entry.take() {
        server.leaf_retired.retire(&entry, || {
            server.leaves.remove(&handle.id);
        });
    }
    if let Some(text) = reason.error_text() {
        handle.control(|b| encode_err(b, text));
    }
    tracing::info!(cid = handle.id, peer = %conn.peer.name, ?reason, "leaf node disconnected");
    handle.outbound.close();
    if reason.flushes() {
        let abort = writer.abort_handle();
        if tokio::time::timeout(server.config.write_deadline, writer)
            .await
            .is_err()
        {
            abort.abort();
        }
    } else {
        writer.abort();
    }
    (reason, looped)
}
