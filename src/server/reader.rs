//! A connection's read buffer: how much room each read gets, and a buffer
//! of exactly the right size for a large payload.
//!
//! Small operations are read into one reused `BytesMut` that starts at
//! [`FIRST_READ_CHUNK`] and grows to [`READ_CHUNK`] for a busy publisher,
//! or to [`PAYLOAD_READ_CHUNK`] for one whose messages average
//! [`PAYLOAD_HEAVY`] bytes or more.
//! A PUB or HPUB frame of `SHARE_MIN` to `SHARE_MAX` bytes is handed on as
//! shared `Bytes` frozen out of whatever buffer it was read into (see
//! `Connection::process`), so it must never be copied on the way in either:
//! once its control line has arrived and the frame does not fit, the frame
//! gets a buffer of exactly its size, the bytes already read are moved
//! there once, and the rest of the payload is read straight into it. The
//! usual buffer is parked meanwhile and taken back afterwards, and the
//! first read after a large frame is kept short, so that the next large
//! frame's control line arrives with little of its payload (the part that
//! is moved) behind it. A larger frame (above 2 MiB, with a raised
//! `max_payload`) grows the usual buffer and is copied on delivery, like a
//! small one (see `SHARE_MAX`).
//!
//! A large frame's buffer is done with only when the last subscriber has
//! written its payload; its `Bytes` then hands the buffer back to the
//! connection's [`FramePool`] (`server::frame_pool`), which the reader takes
//! the next frames' buffers from.

use super::frame_pool::{FramePool, PooledFrame};
use crate::client::{SHARE_MAX, SHARE_MIN};
use crate::protocol::{Limits, pending_frame};
use bytes::{BufMut, Bytes, BytesMut};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Read buffer growth step; big enough that a busy publisher's batch is
/// parsed and flushed in few iterations.
const READ_CHUNK: usize = 64 * 1024;

/// Read size for a busy publisher of payloads too small to be shared
/// (under `SHARE_MIN`) but large enough that the per-read cost shows: a
/// 4 KiB stream moved about 1.1x as many bytes with 256 KiB reads. Small
/// messages stay at [`READ_CHUNK`], where a bigger batch measured no
/// faster and its parsed operations fall out of cache.
const PAYLOAD_READ_CHUNK: usize = 256 * 1024;

/// The average payload, in bytes, from which a publisher's reads grow to
/// [`PAYLOAD_READ_CHUNK`]. From `SHARE_MIN` on they do not: those frames
/// are read into buffers of their own size whatever the read size.
const PAYLOAD_HEAVY: u64 = 1024;

/// A new connection's first read buffer. Most connections that only log in
/// and exchange a few small operations never need more, and allocating 64
/// KiB for each of them showed in connection set-up profiles; a publisher
/// that fills it grows it to [`READ_CHUNK`] within two reads.
const FIRST_READ_CHUNK: usize = 4 * 1024;

/// A frame frozen out of the usual buffer keeps all of that buffer alive
/// until its last subscriber has written it; it is shared in place only if
/// it is at least this fraction of the buffer, so what a slow consumer
/// pins is at most this many times its `max_pending`. A smaller one is
/// copied to each subscriber like a small payload.
const PIN_RATIO: usize = 8;

/// The room of the first read after a large frame: enough for any usual
/// control line, little of a payload to move if another large frame
/// follows.
const AFTER_LARGE_READ: usize = 4 * 1024;

/// The read buffer and how the parser reads it.
pub(super) struct Reader {
    /// Unparsed bytes, starting at an operation's first byte.
    pub(super) buf: BytesMut,
    /// The usual buffer, set aside while `buf` is a large frame's own.
    parked: Option<BytesMut>,
    /// Where written large-frame buffers come back to (allocated with the
    /// first large frame).
    pool: Option<Arc<FramePool>>,
    /// How much room a read is given: grows from [`FIRST_READ_CHUNK`] to
    /// [`READ_CHUNK`] when reads fill it, and on to [`PAYLOAD_READ_CHUNK`]
    /// while the publisher's messages are large.
    chunk: usize,
    /// The usual buffer's size as of its last allocation, which is what a
    /// frame frozen out of it keeps alive.
    usual_alloc: usize,
    /// Whether the last batch that held messages averaged
    /// [`PAYLOAD_HEAVY`] bytes or more a message.
    payload_heavy: bool,
    pub(super) limits: Limits,
}

impl Reader {
    pub(super) fn new(limits: Limits) -> Reader {
        Reader {
            buf: BytesMut::with_capacity(FIRST_READ_CHUNK),
            parked: None,
            pool: None,
            chunk: FIRST_READ_CHUNK,
            usual_alloc: FIRST_READ_CHUNK,
            payload_heavy: false,
            limits,
        }
    }

    /// Makes room for the next read and returns how many bytes it may
    /// take (at least one).
    pub(super) fn prepare(&mut self) -> usize {
        let large = if self.buf.is_empty() {
            None
        } else {
            pending_frame(&self.buf, &self.limits)
                .filter(|frame| (SHARE_MIN..=SHARE_MAX).contains(frame))
        };
        if let Some(frame) = large {
            if self.buf.capacity() < frame {
                // Bounded by `pending_frame`: at most max_payload plus a
                // control line, which the parser has already checked.
                let mut exact = self.reclaim(frame);
                exact.extend_from_slice(&self.buf);
                let mut usual = std::mem::replace(&mut self.buf, exact);
                if self.parked.is_none() {
                    usual.clear();
                    self.parked = Some(usual);
                }
            }
            // Never past the frame: what follows it goes to the usual
            // buffer, not behind a payload that is about to be shared.
            return frame - self.buf.len();
        }
        let mut room = usize::MAX;
        if self.buf.is_empty()
            && let Some(usual) = self.parked.take()
        {
            self.buf = usual;
            room = AFTER_LARGE_READ;
        }
        if self.buf.capacity() - self.buf.len() < self.chunk / 4 {
            self.buf.reserve(self.chunk);
            self.usual_alloc = self.buf.capacity();
        }
        room.min(self.buf.capacity() - self.buf.len())
    }

    /// An empty buffer for a frame of `frame` bytes, from the pool.
    fn reclaim(&mut self, frame: usize) -> BytesMut {
        self.pool.get_or_insert_with(FramePool::new).take(frame)
    }

    /// At the ping interval: lets go of pooled frame buffers but one, and
    /// of a grown read buffer with nothing in it, so a connection that
    /// published a stream a while ago keeps little (reads grow again
    /// within a few if it publishes again).
    pub(super) fn trim(&mut self) {
        if let Some(pool) = &self.pool {
            pool.trim();
        }
        if self.buf.is_empty() && self.parked.is_none() && self.buf.capacity() > FIRST_READ_CHUNK {
            self.buf = BytesMut::with_capacity(FIRST_READ_CHUNK);
            self.usual_alloc = FIRST_READ_CHUNK;
            self.chunk = FIRST_READ_CHUNK;
        }
    }

    /// Whether a frame of `frame` bytes that the parser found whole may be
    /// shared where it lies: always in a buffer of its own, and in the
    /// usual buffer only if it is a large enough part of it (see
    /// [`PIN_RATIO`]).
    pub(super) fn may_share(&self, frame: usize) -> bool {
        self.parked.is_some() || frame.saturating_mul(PIN_RATIO) >= self.usual_alloc
    }

    /// The bytes `buf[..end]` as shared `Bytes`, split off `buf` without a
    /// copy. A frame that filled its own buffer (`end` is all of it) is
    /// handed out whole, owned by a `PooledFrame` so its buffer comes back
    /// for the next large frame once every subscriber has written it.
    pub(super) fn freeze(&self, buf: &mut BytesMut, end: usize) -> Bytes {
        match &self.pool {
            Some(pool) if self.parked.is_some() && end == buf.len() => {
                Bytes::from_owner(PooledFrame {
                    buf: std::mem::take(buf),
                    pool: pool.clone(),
                })
            }
            _ => buf.split_to(end).freeze(),
        }
    }

    /// Reads at most `room` bytes (from `prepare`) into the buffer.
    /// Cancellation safe: nothing is kept outside the buffer.
    pub(super) async fn read_from<R: AsyncRead + Unpin>(
        rd: &mut R,
        buf: &mut BytesMut,
        room: usize,
    ) -> std::io::Result<usize> {
        rd.read_buf(&mut buf.limit(room)).await
    }

    /// Notes a read of `n` bytes into `room`: a publisher whose reads fill
    /// the buffer gets a bigger one.
    pub(super) fn note_read(&mut self, n: usize, room: usize) {
        let most = if self.payload_heavy {
            PAYLOAD_READ_CHUNK
        } else {
            READ_CHUNK
        };
        if n == room && self.chunk < most {
            self.chunk = (self.chunk * 4).min(most);
        } else if self.chunk > most {
            self.chunk = most;
        }
    }

    /// Notes the messages a batch published (`msgs` of `bytes` payload in
    /// all), which decides how far the next reads may grow. A batch with
    /// none (subscriptions, or a frame still arriving) changes nothing.
    pub(super) fn note_batch(&mut self, msgs: u64, bytes: u64) {
        if msgs > 0 {
            let shared = msgs.saturating_mul(SHARE_MIN as u64);
            self.payload_heavy = bytes >= msgs.saturating_mul(PAYLOAD_HEAVY) && bytes < shared;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large frame's payload is read into a buffer of exactly its size,
    /// never past its end; the usual buffer comes back for what follows,
    /// with a short first read.
    #[test]
    fn large_frames_get_an_exact_buffer() {
        let mut r = Reader::new(Limits::default());
        let head = b"PUB big 100000\r\n";
        r.buf.extend_from_slice(head);
        r.buf.extend_from_slice(&[b'x'; 1000]);
        let frame = head.len() + 100_000 + 2;
        let room = r.prepare();
        assert_eq!(room, frame - head.len() - 1000);
        assert_eq!(r.buf.capacity(), frame);
        assert_eq!(&r.buf[..head.len()], head, "what was read came along");
        r.buf.extend_from_slice(&vec![b'x'; room - 2]);
        r.buf.extend_from_slice(b"\r\n");
        // The frame is split off whole (by `Connection::process`).
        let mut buf = std::mem::take(&mut r.buf);
        let frame_bytes = r.freeze(&mut buf, frame);
        r.buf = buf;
        let memory = frame_bytes.as_ptr();
        assert_eq!(r.prepare(), AFTER_LARGE_READ);
        assert!(
            r.buf.capacity() >= FIRST_READ_CHUNK,
            "the usual buffer is back"
        );

        // The next large frame reuses the spent buffer once its payload
        // has been let go of, not before.
        r.buf.extend_from_slice(head);
        r.prepare();
        assert_ne!(r.buf.as_ptr(), memory, "still referenced: a new buffer");
        r.buf.extend_from_slice(&vec![b'x'; 100_000]);
        r.buf.extend_from_slice(b"\r\n");
        let mut buf = std::mem::take(&mut r.buf);
        let second = r.freeze(&mut buf, frame);
        r.buf = buf;
        r.prepare();
        drop(frame_bytes);
        r.buf.extend_from_slice(head);
        r.prepare();
        assert_eq!(r.buf.as_ptr(), memory, "the first buffer is reused");
        drop(second);
    }

    /// Frames above `SHARE_MAX` grow the usual buffer instead of getting
    /// one of their own: they are copied, not shared.
    #[test]
    fn frames_above_the_share_limit_use_the_usual_buffer() {
        let mut r = Reader::new(Limits {
            max_payload: 8 << 20,
            ..Limits::default()
        });
        r.buf.extend_from_slice(b"PUB big 3000000\r\nxx");
        let room = r.prepare();
        assert!(r.parked.is_none() && r.pool.is_none());
        assert!((FIRST_READ_CHUNK / 4..3_000_000).contains(&room));
    }

    /// Small operations never take the large-frame path.
    #[test]
    fn small_frames_use_the_usual_buffer() {
        let mut r = Reader::new(Limits::default());
        r.buf.extend_from_slice(b"PUB a 5000\r\nxx");
        let room = r.prepare();
        assert!(room >= FIRST_READ_CHUNK / 4);
        assert!(r.parked.is_none());
    }

    /// Reads grow past [`READ_CHUNK`] only while messages are large, never
    /// past [`PAYLOAD_READ_CHUNK`], and shrink back when they get small.
    #[test]
    fn only_large_messages_get_larger_reads() {
        let mut r = Reader::new(Limits::default());
        let fill = |r: &mut Reader| {
            for _ in 0..8 {
                let room = r.chunk;
                r.note_read(room, room);
            }
            r.chunk
        };
        r.note_batch(4096, 4096 * 16);
        assert_eq!(fill(&mut r), READ_CHUNK, "16 B messages");
        r.note_batch(64, 64 * 4096);
        assert_eq!(fill(&mut r), PAYLOAD_READ_CHUNK, "4 KiB messages");
        r.note_batch(0, 0);
        assert_eq!(fill(&mut r), PAYLOAD_READ_CHUNK, "no messages: as before");
        r.note_batch(16, 16 * 65536);
        assert_eq!(fill(&mut r), READ_CHUNK, "shared frames: reads of any size");
        r.note_batch(64, 64 * 4096);
        fill(&mut r);
        r.note_batch(4096, 4096 * 16);
        r.note_read(1, r.chunk);
        assert_eq!(r.chunk, READ_CHUNK, "small again");
        r.buf.reserve(r.chunk);
        assert!(r.prepare() <= 2 * READ_CHUNK);
    }

    /// A frame found whole in the usual buffer is shared in place only if
    /// it is at least an eighth of it; in a buffer of its own, always.
    #[test]
    fn small_parts_of_a_big_buffer_are_not_shared_in_place() {
        let mut r = Reader::new(Limits::default());
        r.buf.extend_from_slice(b"PUB a 1\r\n");
        r.chunk = PAYLOAD_READ_CHUNK;
        r.prepare();
        assert!(r.usual_alloc >= PAYLOAD_READ_CHUNK);
        assert!(!r.may_share(SHARE_MIN + 20), "would pin 16x its size");
        assert!(r.may_share(r.usual_alloc.div_ceil(PIN_RATIO)));

        let mut r = Reader::new(Limits::default());
        r.buf.extend_from_slice(b"PUB big 300000\r\nxx");
        r.prepare();
        assert!(r.parked.is_some(), "a buffer of its own");
        assert!(r.may_share(SHARE_MIN + 20));
    }

    /// A publisher that stopped keeps a 4 KiB read buffer after the ping
    /// interval, not the 256 KiB its stream grew; one with bytes pending
    /// keeps them.
    #[test]
    fn an_idle_connection_s_read_buffer_is_trimmed() {
        let mut r = Reader::new(Limits::default());
        r.note_batch(64, 64 * 4096);
        for _ in 0..4 {
            let room = r.prepare();
            r.note_read(room, room);
        }
        assert_eq!(r.chunk, PAYLOAD_READ_CHUNK);
        assert!(r.buf.capacity() > 4 * FIRST_READ_CHUNK, "grown");
        r.buf.extend_from_slice(b"PUB a 5\r\nhel");
        r.trim();
        assert!(
            r.buf.capacity() > 4 * FIRST_READ_CHUNK,
            "pending bytes stay"
        );
        r.buf.clear();
        r.trim();
        assert_eq!(
            (r.buf.capacity(), r.chunk),
            (FIRST_READ_CHUNK, FIRST_READ_CHUNK)
        );
    }
}
