//! A connection's write side: drains its outbound buffer to the socket.

use crate::client::{Batch, ClientHandle, CloseReason};
use std::io::{self, IoSlice};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The most pieces one vectored write is given. A batch holds about 1 MiB,
/// so with 16 KiB spliced payloads (the smallest shared) it has about 130
/// pieces; 64 covers a 64 KiB-payload batch in one call and stays far
/// below the kernel's `IOV_MAX` (1024).
const MAX_SLICES: usize = 64;

/// Writes each batch the outbound buffer hands out. A write that takes
/// longer than `deadline` (`write_deadline`) marks the client a slow
/// consumer.
pub(super) async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    handle: Arc<ClientHandle>,
    deadline: Duration,
) {
    while let Some(batch) = handle.outbound.next_batch().await {
        match tokio::time::timeout(deadline, write_batch(&mut wr, &batch)).await {
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

/// Writes all of `batch`: one `write_all` when it is contiguous, else
/// vectored writes of its pieces (control lines and shared payloads),
/// resuming after a partial write wherever it stopped. A stream that does
/// not support vectored writes (TLS may not) writes the first piece per
/// call, which is slower but still correct.
async fn write_batch<W: AsyncWrite + Unpin>(wr: &mut W, batch: &Batch) -> io::Result<()> {
    if let Some(bytes) = batch.contiguous() {
        return wr.write_all(bytes).await;
    }
    let total = batch.len();
    let mut written = 0;
    let mut slices = [IoSlice::new(&[]); MAX_SLICES];
    while written < total {
        let mut skip = written;
        let mut n = 0;
        for piece in batch.segments() {
            if skip >= piece.len() {
                skip -= piece.len();
                continue;
            }
            slices[n] = IoSlice::new(&piece[skip..]);
            skip = 0;
            n += 1;
            if n == MAX_SLICES {
                break;
            }
        }
        match wr.write_vectored(&slices[..n]).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            sent => written += sent,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Outbound, Push};
    use bytes::Bytes;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Accepts at most `step` bytes per call, vectored or not, like a
    /// socket with a nearly full send buffer.
    struct Trickle {
        out: Vec<u8>,
        step: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.out.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut left = self.step;
            for b in bufs {
                let n = b.len().min(left);
                self.out.extend_from_slice(&b[..n]);
                left -= n;
                if left == 0 {
                    break;
                }
            }
            Poll::Ready(Ok(self.step - left))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Partial vectored writes that stop inside a control line, a payload
    /// or between them still send every byte once, in order.
    #[tokio::test]
    async fn partial_vectored_writes_resume_where_they_stopped() {
        let out = Outbound::new(1 << 20);
        let mut want = Vec::new();
        for (i, fill) in [b'a', b'b', b'c'].into_iter().enumerate() {
            let payload = Bytes::from(vec![fill; 20_000 + i]);
            let head = format!("MSG s 1 {}\r\n", payload.len());
            let pushed = out.push_shared(
                head.len(),
                payload.len(),
                |b| b.extend_from_slice(head.as_bytes()),
                &payload,
            );
            assert!(matches!(pushed, Push::Queued { .. }));
            want.extend_from_slice(head.as_bytes());
            want.extend_from_slice(&payload);
            want.extend_from_slice(b"\r\n");
        }
        let batch = out.next_batch().await.expect("queued");
        for step in [1, 7, 4096, 1 << 20] {
            let mut wr = Trickle {
                out: Vec::new(),
                step,
            };
            write_batch(&mut wr, &batch).await.expect("written");
            assert!(wr.out == want, "step {step}: bytes differ");
        }
    }
}
