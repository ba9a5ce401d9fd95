//! A connection's outbound buffer: many producers append, one writer task
//! drains.
//!
//! Producers (publishing connections) encode straight into the buffer under
//! a per-destination lock and never wait on the socket. Whoever makes the
//! buffer non-empty is responsible for waking the writer, which it does once
//! per read batch, so a burst of messages becomes one `write` syscall. The
//! buffer is bounded by `max_pending`: a producer that would exceed it marks
//! the connection a slow consumer instead of growing memory or blocking.

use bytes::BytesMut;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Outcome of appending to an outbound buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Appended; `wake` means the caller made the buffer non-empty and must
    /// call `wake_writer` (once, at the end of its batch). `stall` means the
    /// buffer is above its high-water mark and the producer should pause
    /// briefly (see `wait_drained`) so a healthy but busy reader catches up.
    Queued { wake: bool, stall: bool },
    /// The append would exceed `max_pending`: the connection is now closed.
    SlowConsumer,
    /// The connection is closing; nothing was appended.
    Closed,
}

struct State {
    buf: BytesMut,
    /// The buffer the writer last drained, kept to avoid reallocating.
    spare: BytesMut,
    closed: bool,
    /// Messages and payload bytes (headers included) queued so far, counted
    /// here because producers already hold the lock.
    msgs: u64,
    bytes: u64,
}

pub struct Outbound {
    state: Mutex<State>,
    writer: Notify,
    /// Signalled by the writer after every write.
    drained: Notify,
    max_pending: usize,
    high_water: usize,
}

/// Spare buffers bigger than this are dropped after a burst instead of
/// pinning memory on an idle connection.
const KEEP_SPARE: usize = 1024 * 1024;

impl State {
    /// Frees what a closed connection's queue holds at once, rather than
    /// when its last handle goes: a cut-off slow consumer's buffer is
    /// `max_pending` bytes.
    fn release(&mut self) {
        self.buf = BytesMut::new();
        self.spare = BytesMut::new();
    }
}

impl Outbound {
    pub fn new(max_pending: usize) -> Self {
        Outbound {
            state: Mutex::new(State {
                buf: BytesMut::with_capacity(4096),
                spare: BytesMut::new(),
                closed: false,
                msgs: 0,
                bytes: 0,
            }),
            writer: Notify::new(),
            drained: Notify::new(),
            max_pending,
            // nats-server stalls producers at 75% of max_pending.
            high_water: max_pending / 4 * 3,
        }
    }

    /// Appends `len` bytes produced by `encode`, counting them as the message size.
    pub fn push(&self, len: usize, encode: impl FnOnce(&mut BytesMut)) -> Push {
        self.push_message(len, len, encode)
    }

    /// Appends a message frame of about `len` bytes produced by `encode`,
    /// whose payload and headers are `body` bytes (what `out_bytes` counts,
    /// as nats-server does).
    pub fn push_message(
        &self,
        len: usize,
        body: usize,
        encode: impl FnOnce(&mut BytesMut),
    ) -> Push {
        let mut st = self.state.lock();
        if st.closed {
            return Push::Closed;
        }
        if st.buf.len() + len > self.max_pending {
            st.closed = true;
            st.release();
            drop(st);
            self.writer.notify_one();
            return Push::SlowConsumer;
        }
        let wake = st.buf.is_empty();
        encode(&mut st.buf);
        st.msgs += 1;
        st.bytes += body as u64;
        Push::Queued {
            wake,
            stall: st.buf.len() > self.high_water,
        }
    }

    /// Appends protocol bytes written by the broker itself (PONG, INFO,
    /// -ERR, +OK, status messages) and wakes the writer at once. They
    /// count against `max_pending` like messages: a client that provokes
    /// replies and never reads them is a slow consumer, whatever it
    /// provoked. Callers go through `ClientHandle::control`, which closes
    /// the connection when this returns `SlowConsumer`.
    pub fn push_control(&self, encode: impl FnOnce(&mut BytesMut)) -> Push {
        let mut st = self.state.lock();
        if st.closed {
            return Push::Closed;
        }
        let before = st.buf.len();
        encode(&mut st.buf);
        if st.buf.len() > self.max_pending {
            st.closed = true;
            st.release();
            drop(st);
            self.writer.notify_one();
            return Push::SlowConsumer;
        }
        drop(st);
        self.writer.notify_one();
        Push::Queued {
            wake: before == 0,
            stall: false,
        }
    }

    /// Messages and payload bytes queued since the start.
    pub fn totals(&self) -> (u64, u64) {
        let st = self.state.lock();
        (st.msgs, st.bytes)
    }

    /// Messages and payload bytes queued since the start, and the bytes
    /// waiting to be written now.
    pub fn totals_and_pending(&self) -> (u64, u64, usize) {
        let st = self.state.lock();
        (st.msgs, st.bytes, st.buf.len())
    }

    pub fn wake_writer(&self) {
        self.writer.notify_one();
    }

    /// Stops accepting bytes; the writer sends what is queued and then stops.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.writer.notify_one();
    }

    /// Waits for the next batch to write; `None` once closed and drained.
    pub async fn next_batch(&self) -> Option<BytesMut> {
        loop {
            {
                let mut st = self.state.lock();
                if !st.buf.is_empty() {
                    let spare = std::mem::take(&mut st.spare);
                    return Some(std::mem::replace(&mut st.buf, spare));
                }
                if st.closed {
                    return None;
                }
            }
            self.writer.notified().await;
        }
    }

    /// Waits until the buffer is below its high-water mark or closed.
    /// Callers bound the wait with a timeout.
    pub async fn wait_drained(&self) {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            {
                let st = self.state.lock();
                if st.closed || st.buf.len() <= self.high_water {
                    return;
                }
            }
            drained.await;
        }
    }

    /// Hands a written batch back for reuse.
    pub fn recycle(&self, mut batch: BytesMut) {
        self.drained.notify_waiters();
        if batch.capacity() > KEEP_SPARE {
            return;
        }
        batch.clear();
        let mut st = self.state.lock();
        if st.spare.capacity() < batch.capacity() {
            st.spare = batch;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn coalesces_and_bounds() {
        let out = Outbound::new(10);
        assert_eq!(
            out.push(4, |b| b.extend_from_slice(b"abcd")),
            Push::Queued {
                wake: true,
                stall: false
            }
        );
        assert_eq!(
            out.push(4, |b| b.extend_from_slice(b"efgh")),
            Push::Queued {
                wake: false,
                stall: true
            }
        );
        let batch = out.next_batch().await.unwrap();
        assert_eq!(&batch[..], b"abcdefgh");
        out.recycle(batch);
        assert_eq!(
            out.push(8, |b| b.extend_from_slice(b"12345678")),
            Push::Queued {
                wake: true,
                stall: true
            }
        );
        assert_eq!(
            out.push(8, |b| b.extend_from_slice(b"12345678")),
            Push::SlowConsumer
        );
        assert_eq!(out.push(1, |b| b.extend_from_slice(b"x")), Push::Closed);
        assert!(out.next_batch().await.is_none());
    }

    /// Control replies (PONG, -ERR) count against `max_pending` too.
    #[tokio::test]
    async fn control_bytes_are_bounded() {
        let out = Outbound::new(16);
        assert!(matches!(
            out.push_control(|b| b.extend_from_slice(b"PONG\r\n")),
            Push::Queued { .. }
        ));
        assert!(matches!(
            out.push_control(|b| b.extend_from_slice(b"PONG\r\n")),
            Push::Queued { .. }
        ));
        assert_eq!(
            out.push_control(|b| b.extend_from_slice(b"PONG\r\n")),
            Push::SlowConsumer
        );
        assert_eq!(out.totals_and_pending().2, 0, "the queue is dropped");
        assert!(out.next_batch().await.is_none());
    }
}
