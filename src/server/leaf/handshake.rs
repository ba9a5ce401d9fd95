//! Running a leaf connection once logged in.

use super::conn::LeafConn;
use super::state::LeafEntry;
use crate::client::CloseReason;
use crate::protocol::encode_err;
use crate::server::writer;
use tokio::io::{AsyncRead, AsyncWrite};

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
