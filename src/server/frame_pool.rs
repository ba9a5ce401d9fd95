//! Buffers for large frames, reused once every subscriber has written
//! them.
//!
//! A large PUB frame is read into a buffer of its own and shared, as
//! `Bytes`, with every destination's outbound queue (`server::reader`). The
//! buffer is done with only when the last of those queues has written the
//! payload, on some writer's task. Memory freshly allocated for each frame
//! is faulted in by the kernel page by page on the first read into it
//! (`perf record -e page-faults`: the faults are in `recvfrom`'s copy), and
//! the allocator hands freed megabytes back to the kernel, so a stream of
//! large frames that allocated each one cost as much as the copies that
//! sharing saves (docs/benchmarks.md, "Large payloads (issue 17)").
//!
//! So the last reference to a frame puts its buffer back here, and the
//! reader takes buffers out again. How many come back at once depends on
//! how far the writers are behind: a subscriber's queue holds up to its
//! high-water mark (75% of `max_pending`) of frames and its writer hands
//! them back in bursts. A pool that keeps only a few frees the rest of a
//! burst and the reader faults fresh memory in again (four kept: about 30
//! faults per 1 MiB message, 2.3 per 64 KiB fan-out message). The pool
//! therefore keeps up to [`FRAME_POOL_BYTES`] of written buffers, and gives
//! back all but one at the connection's ping interval (`trim`), so a
//! publisher that has gone quiet pins at most one frame's buffer. Frames
//! are at most `client::SHARE_MAX` (2 MiB); larger ones are copied.

use bytes::BytesMut;
use parking_lot::Mutex;
use std::sync::Arc;

/// Bytes of written large-frame buffers one connection keeps for its next
/// frames; a buffer coming back over this is freed. Measured with 1 MiB
/// frames, a 1:1 stream of them allocated 75 buffers for
/// 1,500 messages with 16 MiB kept and 50 (the queue's depth, none after
/// warm-up) with 32 MiB; with 64 KiB frames fanned out to four, page faults
/// fell from 2.3 to 0.5 per message. 32 MiB is 32 buffers of a 1 MiB frame. Only a connection that publishes payloads of at least
/// `client::SHARE_MIN` has any, and [`FramePool::trim`] lets them go when
/// it is quiet.
pub(super) const FRAME_POOL_BYTES: usize = 32 * 1024 * 1024;

/// Buffers kept by [`FramePool::trim`]: enough for the next frame of a
/// publisher that comes back.
const POOL_IDLE: usize = 1;

#[derive(Default)]
struct Free {
    bufs: Vec<BytesMut>,
    /// Capacity of `bufs`, against [`FRAME_POOL_BYTES`].
    bytes: usize,
}

/// Large-frame buffers whose payloads have been written everywhere.
pub(super) struct FramePool {
    free: Mutex<Free>,
    max_bytes: usize,
}

impl FramePool {
    pub(super) fn new() -> Arc<FramePool> {
        FramePool::with_limit(FRAME_POOL_BYTES)
    }

    fn with_limit(max_bytes: usize) -> Arc<FramePool> {
        Arc::new(FramePool {
            free: Mutex::default(),
            max_bytes,
        })
    }

    /// An empty buffer for a frame of `frame` bytes: a written one (memory
    /// already faulted in) if one fits without wasting more than the
    /// frame's size, else a new one.
    pub(super) fn take(&self, frame: usize) -> BytesMut {
        let mut free = self.free.lock();
        let fits = free
            .bufs
            .iter()
            .position(|b| (frame..=frame * 2).contains(&b.capacity()));
        match fits {
            Some(i) => {
                let buf = free.bufs.swap_remove(i);
                free.bytes -= buf.capacity();
                buf
            }
            None => BytesMut::with_capacity(frame),
        }
    }

    /// Takes a written buffer back, unless the pool is full.
    fn give(&self, mut buf: BytesMut) {
        buf.clear();
        let mut free = self.free.lock();
        if free.bytes + buf.capacity() <= self.max_bytes {
            free.bytes += buf.capacity();
            free.bufs.push(buf);
        }
    }

    /// Frees all but [`POOL_IDLE`] buffers (called at the connection's ping
    /// interval: a publisher still streaming refills the pool within one
    /// queue's depth of frames).
    pub(super) fn trim(&self) {
        let mut free = self.free.lock();
        if free.bufs.len() > POOL_IDLE {
            free.bufs.truncate(POOL_IDLE);
            free.bytes = free.bufs.iter().map(BytesMut::capacity).sum();
        }
    }

    /// Written buffers kept, and their bytes.
    #[cfg(test)]
    fn kept(&self) -> (usize, usize) {
        let free = self.free.lock();
        (free.bufs.len(), free.bytes)
    }
}

/// A large frame's buffer, as the owner of the frame's `Bytes`: dropped
/// with the last reference, on whichever task wrote it last, it goes back
/// to its connection's pool.
pub(super) struct PooledFrame {
    pub(super) buf: BytesMut,
    pub(super) pool: Arc<FramePool>,
}

impl AsRef<[u8]> for PooledFrame {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for PooledFrame {
    fn drop(&mut self) {
        self.pool.give(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn frame(pool: &Arc<FramePool>, len: usize) -> Bytes {
        let mut buf = pool.take(len);
        buf.resize(len, b'x');
        Bytes::from_owner(PooledFrame {
            buf,
            pool: pool.clone(),
        })
    }

    /// A flood of large frames written at once (a writer catching up)
    /// leaves at most the byte limit pooled; the rest is freed.
    #[test]
    fn the_pool_keeps_at_most_its_byte_limit() {
        let pool = FramePool::with_limit(4 * 100_000);
        let frames: Vec<Bytes> = (0..50).map(|_| frame(&pool, 100_000)).collect();
        drop(frames);
        let (kept, bytes) = pool.kept();
        assert_eq!(kept, 4);
        assert!((4 * 100_000 / 2..=4 * 100_000).contains(&bytes));

        // The default limit, attacked with 1 MiB frames: 32 MiB at most.
        let pool = FramePool::new();
        let frames: Vec<Bytes> = (0..100).map(|_| frame(&pool, 1 << 20)).collect();
        drop(frames);
        let (kept, bytes) = pool.kept();
        assert!(bytes <= FRAME_POOL_BYTES, "{bytes} bytes kept");
        assert_eq!(kept, FRAME_POOL_BYTES / (1 << 20));
    }

    /// Written buffers are reused, not reallocated, and trimmed to one
    /// when the connection is quiet.
    #[test]
    fn buffers_are_reused_and_trimmed() {
        let pool = FramePool::new();
        let first = frame(&pool, 100_000);
        let second = frame(&pool, 100_000);
        let memory = [first.as_ptr(), second.as_ptr()];
        drop((first, second));
        let again = [frame(&pool, 100_000), frame(&pool, 100_000)];
        for f in &again {
            assert!(memory.contains(&f.as_ptr()), "a pooled buffer is reused");
        }
        // Too small for a larger frame, and more than twice a smaller one:
        // neither is handed out.
        drop(again);
        assert_eq!(pool.take(200_000).capacity(), 200_000);
        assert_eq!(pool.take(10_000).capacity(), 10_000);
        assert_eq!(pool.kept().0, 2);
        pool.trim();
        assert_eq!(pool.kept().0, POOL_IDLE);
    }
}
