//! A connection's outbound buffer: many producers append, one writer task
//! drains.
//!
//! Producers (publishing connections) encode straight into the buffer under
//! a per-destination lock and never wait on the socket. Whoever makes the
//! buffer non-empty is responsible for waking the writer, which it does once
//! per read batch, so a burst of messages becomes few `write` syscalls. The
//! buffer is bounded by `max_pending`: a producer that would exceed it marks
//! the connection a slow consumer instead of growing memory or blocking.
//!
//! The bytes queue in chunks of at least [`CHUNK`], and written chunks are
//! kept for reuse. One contiguous buffer would be grown by `realloc`
//! (copying everything queued) and, once dropped after a burst, replaced by
//! fresh memory that the kernel faults in page by page: for large payloads
//! those two were most of the broker's CPU time (docs/benchmarks.md, "Large
//! payloads"). For the same reason the chunks a burst used stay pooled
//! until the queue has been empty for [`POOL_LINGER`], not just until it
//! first empties: a subscriber that keeps up with a fast publisher empties
//! its queue many times a second, and freeing the pool each time made the
//! kernel fault in and zero every byte queued again (a third of the
//! broker's CPU for a 4 KiB stream).
//!
//! Payloads of at least [`SHARE_MIN`] bytes are not copied at all: the
//! publisher hands them over as shared `Bytes` and `push_shared` splices a
//! reference into the queue (`Batch`), so a message fanned out to many
//! subscribers exists once in memory. `max_pending` still counts the whole
//! frame, payload included, against every destination that holds it.

use super::batch::Batch;
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::time::Duration;
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
    /// Queued bytes, oldest first; producers append to the last chunk.
    chunks: VecDeque<Batch>,
    /// Bytes in `chunks`, spliced payloads included.
    queued: usize,
    /// Written chunks, kept to be filled again instead of allocated.
    pool: Vec<Batch>,
    /// The capacity of the chunks in `pool`, at most `max_pending`.
    pooled: usize,
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

/// A new chunk's least capacity, and so about the most one `write` sends.
/// The first chunk starts small (an idle connection needs little) and grows
/// up to this before another is started. At 256 KiB, 1 KiB and 64 KiB
/// streams cost more CPU per message than with one growing buffer (ten
/// times the write syscalls); at 1 MiB the syscalls are as few as before.
const CHUNK: usize = 1024 * 1024;

/// A payload at least this large is spliced into the queue as shared
/// `Bytes` (`push_shared`) rather than copied; below it, a copy into the
/// chunk costs less than the extra iovec and reference count, and small
/// messages keep their one contiguous `write`. The publisher's reader
/// freezes payloads of this size out of its read buffer (16 KiB: a 64 KiB
/// read buffer pinned by a queued payload holds at most four times its
/// size).
pub const SHARE_MIN: usize = 16 * 1024;

/// A PUB or HPUB frame (control line, headers, payload) larger than this
/// is copied into each destination's chunks, as a small one is, and not
/// shared. 2 MiB covers the default `max_payload` (1 MiB) with room for
/// headers. Frames of 1 MiB were first kept on the copying path: on a
/// loaded machine the shared path used less CPU per message but delivered
/// fewer messages a second (462 against 678). Measured again on a quieter
/// machine after `on_op` was inlined again, sharing them delivered 1.47 to
/// 1.57 times as many 1 MiB messages as copying, 1.03-1.04 of the relay
/// ceiling (docs/benchmarks.md, "Large payloads (issue 17)"). Above this
/// (a raised `max_payload`) frames are copied, so one frame never pins a
/// buffer larger than 2 MiB.
pub const SHARE_MAX: usize = 2 * 1024 * 1024;

/// The first capacity of a chunk started for a spliced frame: it holds
/// only control lines, so it starts small and grows (like a new
/// connection's first chunk) only if small frames follow.
const SPLICE_CHUNK: usize = 4096;

/// Chunks bigger than this are not reused. It fits one `max_payload` (1
/// MiB) message with its MSG line.
const KEEP_CHUNK: usize = 2 * 1024 * 1024;

/// Written chunks kept once the queue has been empty for [`POOL_LINGER`],
/// so that an idle connection pins little memory after a burst. Until then
/// the pool keeps every written chunk, up to `max_pending` bytes of them.
const POOL_IDLE: usize = 1;

/// How long the queue stays empty before the pool shrinks to
/// [`POOL_IDLE`]: long enough to span the gaps in a stream that its
/// subscriber keeps up with, short enough that a burst's memory is soon
/// given back.
const POOL_LINGER: Duration = Duration::from_millis(500);

impl State {
    /// Frees what a closed connection's queue holds at once, rather than
    /// when its last handle goes: a cut-off slow consumer's buffer is
    /// `max_pending` bytes.
    fn release(&mut self) {
        self.chunks = VecDeque::new();
        self.pool = Vec::new();
        self.pooled = 0;
        self.queued = 0;
    }

    /// Takes pooled chunk `i`.
    fn unpool(&mut self, i: usize) -> Batch {
        let chunk = self.pool.swap_remove(i);
        self.pooled -= chunk.bytes.capacity();
        chunk
    }

    /// Lets go of pooled chunks but [`POOL_IDLE`].
    fn trim_pool(&mut self) {
        while self.pool.len() > POOL_IDLE {
            let last = self.pool.len() - 1;
            drop(self.unpool(last));
        }
    }

    /// The chunk to append a frame of about `len` copied bytes to: the last
    /// one if it has room (or is still small and may grow) and holds less
    /// than [`CHUNK`] of spliced payloads (so a batch stays about one
    /// chunk's worth of writing), else a pooled one or a new one of `fresh`
    /// bytes.
    fn room(&mut self, len: usize, fresh: usize) -> &mut Batch {
        let tail_ok = self.chunks.back().is_some_and(|t| {
            let b = &t.bytes;
            t.is_empty()
                || (t.spliced < CHUNK && (b.capacity() - b.len() >= len || b.capacity() < CHUNK))
        });
        if !tail_ok {
            let pooled = self.pool.iter().position(|c| c.bytes.capacity() >= len);
            let chunk = match pooled {
                Some(i) => self.unpool(i),
                // A quiet connection's first chunk starts small.
                None if self.chunks.is_empty() => match self.pool.len() {
                    0 => Batch::with_capacity(len.max(4096)),
                    n => self.unpool(n - 1),
                },
                None => Batch::with_capacity(len.max(fresh)),
            };
            self.chunks.push_back(chunk);
        }
        self.chunks.back_mut().expect("a chunk was just ensured")
    }

    /// Appends with `encode` and counts what it wrote.
    fn append(&mut self, len: usize, encode: impl FnOnce(&mut BytesMut)) {
        let tail = self.room(len, CHUNK);
        let before = tail.bytes.len();
        encode(&mut tail.bytes);
        let added = tail.bytes.len() - before;
        self.queued += added;
    }

    /// Appends a frame whose `payload` is shared: `encode_head` writes what
    /// precedes it, the payload is spliced in by reference, and its CRLF
    /// follows.
    fn append_shared(
        &mut self,
        head_len: usize,
        encode_head: impl FnOnce(&mut BytesMut),
        payload: &Bytes,
    ) {
        let tail = self.room(head_len + 2, SPLICE_CHUNK);
        let before = tail.bytes.len();
        encode_head(&mut tail.bytes);
        tail.splice(payload);
        tail.bytes.extend_from_slice(b"\r\n");
        let added = tail.bytes.len() - before + payload.len();
        self.queued += added;
    }
}

impl Outbound {
    pub fn new(max_pending: usize) -> Self {
        Outbound {
            state: Mutex::new(State {
                chunks: VecDeque::from([Batch::with_capacity(4096)]),
                queued: 0,
                pool: Vec::new(),
                pooled: 0,
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
        if st.queued + len > self.max_pending {
            st.closed = true;
            st.release();
            drop(st);
            self.writer.notify_one();
            return Push::SlowConsumer;
        }
        let wake = st.queued == 0;
        st.append(len, encode);
        st.msgs += 1;
        st.bytes += body as u64;
        Push::Queued {
            wake,
            stall: st.queued > self.high_water,
        }
    }

    /// Appends a message frame whose payload of `payload.len()` bytes is
    /// shared rather than copied (see [`SHARE_MIN`]): `encode_head` writes
    /// the `head_len` (about) bytes before the payload, the control line
    /// and any headers, and the frame's CRLF follows the payload. The whole
    /// frame counts against `max_pending`, as for `push_message`: every
    /// destination pays for the payload it holds, shared or not.
    pub fn push_shared(
        &self,
        head_len: usize,
        body: usize,
        encode_head: impl FnOnce(&mut BytesMut),
        payload: &Bytes,
    ) -> Push {
        let mut st = self.state.lock();
        if st.closed {
            return Push::Closed;
        }
        if st.queued + head_len + payload.len() + 2 > self.max_pending {
            st.closed = true;
            st.release();
            drop(st);
            self.writer.notify_one();
            return Push::SlowConsumer;
        }
        let wake = st.queued == 0;
        st.append_shared(head_len, encode_head, payload);
        st.msgs += 1;
        st.bytes += body as u64;
        Push::Queued {
            wake,
            stall: st.queued > self.high_water,
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
        let before = st.queued;
        // Control lines are short; a full chunk is not grown (copied) for one.
        st.append(64, encode);
        if st.queued > self.max_pending {
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
        (st.msgs, st.bytes, st.queued)
    }

    pub fn wake_writer(&self) {
        self.writer.notify_one();
    }

    /// Stops accepting bytes; the writer sends what is queued and then stops.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.writer.notify_one();
    }

    /// Waits for the next batch to write (the oldest chunk); `None` once
    /// closed and drained.
    pub async fn next_batch(&self) -> Option<Batch> {
        loop {
            let linger = {
                let mut st = self.state.lock();
                if st.queued > 0 {
                    // Chunks are only started behind a non-empty one, so
                    // the oldest holds bytes.
                    let batch = st.chunks.pop_front().unwrap_or_default();
                    st.queued -= batch.len();
                    return Some(batch);
                }
                if st.closed {
                    return None;
                }
                st.pool.len() > POOL_IDLE
            };
            // Only a connection holding a burst's chunks pays for a timer.
            if !linger {
                self.writer.notified().await;
            } else if tokio::time::timeout(POOL_LINGER, self.writer.notified())
                .await
                .is_err()
            {
                let mut st = self.state.lock();
                if st.queued == 0 {
                    st.trim_pool();
                }
            }
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
                if st.closed || st.queued <= self.high_water {
                    return;
                }
            }
            drained.await;
        }
    }

    /// Hands a written batch back for reuse.
    pub fn recycle(&self, mut batch: Batch) {
        self.drained.notify_waiters();
        if batch.bytes.capacity() > KEEP_CHUNK {
            return;
        }
        batch.clear();
        let mut st = self.state.lock();
        if st.closed {
            return;
        }
        let capacity = batch.bytes.capacity();
        if st.pool.len() < POOL_IDLE || st.pooled + capacity <= self.max_pending {
            st.pooled += capacity;
            st.pool.push(batch);
        }
    }

    /// Chunks pooled for reuse and their capacity in bytes.
    #[cfg(test)]
    fn pooled(&self) -> (usize, usize) {
        let st = self.state.lock();
        (st.pool.len(), st.pooled)
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
        assert_eq!(batch.contiguous(), Some(&b"abcdefgh"[..]));
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

    /// A chunk holding a max_payload (1 MiB) message is filled again, not
    /// dropped and replaced by fresh memory for the next one.
    #[tokio::test]
    async fn large_chunks_are_reused() {
        let out = Outbound::new(64 << 20);
        let big = vec![b'x'; (1 << 20) + 64];
        for _ in 0..2 {
            out.push(big.len(), |b| b.extend_from_slice(&big));
        }
        let first = out.next_batch().await.unwrap();
        assert_eq!(first.len(), big.len(), "one message per chunk");
        let reused = first.bytes.as_ptr();
        out.recycle(first);
        out.push(big.len(), |b| b.extend_from_slice(&big));
        let second = out.next_batch().await.unwrap();
        assert_eq!(second.len(), big.len());
        out.recycle(second);
        let third = out.next_batch().await.unwrap();
        assert_eq!(
            third.bytes.as_ptr(),
            reused,
            "the written chunk was filled again"
        );
        assert_eq!(out.totals_and_pending().2, 0);
    }

    /// The chunks of a burst stay pooled when the queue empties, so the
    /// next burst reuses them instead of faulting in fresh memory; the pool
    /// never holds more than `max_pending` bytes, and once the queue has
    /// been empty for `POOL_LINGER` it shrinks to one chunk.
    #[tokio::test]
    async fn a_burst_s_chunks_linger_then_go() {
        let big = vec![b'x'; CHUNK + 64];
        let max_pending = 3 * big.len() + 100;
        let out = std::sync::Arc::new(Outbound::new(max_pending));
        for round in 0..4 {
            for _ in 0..3 {
                assert!(matches!(
                    out.push(big.len(), |b| b.extend_from_slice(&big)),
                    Push::Queued { .. }
                ));
            }
            for _ in 0..3 {
                let batch = out.next_batch().await.expect("queued");
                out.recycle(batch);
            }
            let (chunks, bytes) = out.pooled();
            assert!(chunks >= 2, "round {round}: the burst's chunks were kept");
            assert!(bytes <= max_pending, "round {round}: {bytes} pooled");
        }
        let writer = tokio::spawn({
            let out = out.clone();
            async move { out.next_batch().await.map(|b| b.len()) }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while out.pooled().0 > POOL_IDLE {
            assert!(
                std::time::Instant::now() < deadline,
                "the pool was never trimmed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(matches!(
            out.push(4, |b| b.extend_from_slice(b"PING")),
            Push::Queued { wake: true, .. }
        ));
        out.wake_writer();
        assert_eq!(
            writer.await.expect("writer"),
            Some(4),
            "still writing after the trim"
        );
    }

    /// The pool's cap holds when the chunks coming back hold more capacity
    /// than `max_pending`: messages of just over half a chunk each get a
    /// chunk of their own, so a full queue spans about twice its bytes.
    #[tokio::test]
    async fn the_pool_never_exceeds_max_pending() {
        let max_pending = 16 << 20;
        let out = Outbound::new(max_pending);
        let msg = vec![b'y'; CHUNK / 2 + 1];
        for _ in 0..2 {
            let mut queued = 0;
            while queued + msg.len() <= max_pending {
                out.push(msg.len(), |b| b.extend_from_slice(&msg));
                queued += msg.len();
            }
            let mut capacity = 0;
            while out.totals_and_pending().2 > 0 {
                let batch = out.next_batch().await.expect("queued");
                capacity += batch.bytes.capacity();
                out.recycle(batch);
            }
            assert!(
                capacity > max_pending,
                "the attack: {capacity} bytes came back"
            );
            let (chunks, pooled) = out.pooled();
            assert!(chunks > 1, "chunks were kept");
            assert!(pooled <= max_pending, "{pooled} pooled");
        }
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

    fn flat(batch: &Batch) -> Vec<u8> {
        batch.segments().flatten().copied().collect()
    }

    /// A shared payload is queued by reference for every destination (one
    /// copy in memory), yet each destination counts it against its own
    /// `max_pending`.
    #[tokio::test]
    async fn shared_payloads_are_referenced_and_counted() {
        let payload = Bytes::from(vec![b'p'; SHARE_MIN]);
        let head = |b: &mut BytesMut| b.extend_from_slice(b"MSG a 1 16384\r\n");
        let a = Outbound::new(3 * SHARE_MIN);
        let b = Outbound::new(3 * SHARE_MIN);
        for out in [&a, &b] {
            out.push(5, |b| b.extend_from_slice(b"PING "));
            assert!(matches!(
                out.push_shared(16, SHARE_MIN, head, &payload),
                Push::Queued { .. }
            ));
            let line = b"MSG a 1 16384\r\n".len();
            assert_eq!(out.totals_and_pending().2, 5 + line + SHARE_MIN + 2);
        }
        let batch = a.next_batch().await.unwrap();
        let pieces: Vec<&[u8]> = batch.segments().collect();
        assert_eq!(pieces[1].as_ptr(), payload.as_ptr(), "not copied");
        let mut want = b"PING MSG a 1 16384\r\n".to_vec();
        want.extend_from_slice(&payload);
        want.extend_from_slice(b"\r\n");
        assert_eq!(flat(&batch), want);
        a.recycle(batch);
        // The third copy would put `b` over its max_pending.
        assert!(matches!(
            b.push_shared(16, SHARE_MIN, head, &payload),
            Push::Queued { .. }
        ));
        assert_eq!(
            b.push_shared(16, SHARE_MIN, head, &payload),
            Push::SlowConsumer
        );
    }

    /// A batch holds about a chunk's worth of spliced payloads, so one
    /// write (under `write_deadline`) stays bounded however deep the queue.
    #[tokio::test]
    async fn spliced_batches_stay_about_one_chunk() {
        let payload = Bytes::from(vec![b'p'; 64 * 1024]);
        let out = Outbound::new(64 << 20);
        for _ in 0..40 {
            out.push_shared(
                20,
                payload.len(),
                |b| b.extend_from_slice(b"MSG a 1 65536\r\n"),
                &payload,
            );
        }
        let first = out.next_batch().await.unwrap();
        assert!(first.len() >= CHUNK && first.len() < CHUNK + 128 * 1024);
        assert!(
            first.bytes.capacity() < CHUNK,
            "control lines need no 1 MiB chunk"
        );
    }
}
