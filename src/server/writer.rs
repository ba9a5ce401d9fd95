//! A connection's write side: drains its outbound buffer to the socket.

use crate::client::{ClientHandle, CloseReason};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Writes each batch the outbound buffer hands out. A write that takes
/// longer than `deadline` (`write_deadline`) marks the client a slow
/// consumer.
pub(super) async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    handle: Arc<ClientHandle>,
    deadline: Duration,
) {
    while let Some(batch) = handle.outbound.next_batch().await {
        match tokio::time::timeout(deadline, wr.write_all(&batch)).await {
            Ok(Ok(())) => handle.outbound.recycle(batch),
            Ok(Err(_)) => {
                handle.kill(CloseReason::WriteError);
                return;
            }
            Err(_) => {
                if handle.kill(CloseReason::SlowConsumer) {
                    tracing::warn!(
                        cid = handle.id,
                        "slow consumer: write deadline exceeded, closing"
                    );
                }
                return;
            }
        }
    }
    let _ = wr.shutdown().await;
}
