//! The protocol parser, fed as a connection feeds it.
//!
//! `Connection::process` appends each read to one buffer, calls `parse` on
//! the unconsumed rest until it returns `Ok(None)` (wait for more bytes) or
//! an error (the connection closes), and keeps what was not consumed. The
//! parser keeps no state, so how the bytes were split into reads must not
//! matter: this target feeds the input once whole and once split at points
//! chosen by its first bytes, and asserts both give the same operations and
//! end the same way. Every parsed PUB/HPUB must also survive a round trip
//! through an encoder (kept here: the broker itself never writes PUB).
//!
//! Input: byte 0 picks the limits, byte 1 the number of split points (0-15),
//! then one byte per split point (the length of that read), then the stream.

#![no_main]

use bytes::{BufMut, BytesMut};
use libfuzzer_sys::fuzz_target;
use switchyard::protocol::{Limits, Op, ParseError, parse};

/// `PUB <subject> [reply] <#bytes>\r\n<payload>\r\n`, as a client writes it.
fn encode_pub(buf: &mut BytesMut, subject: &[u8], reply: Option<&[u8]>, payload: &[u8]) {
    buf.put_slice(b"PUB ");
    buf.put_slice(subject);
    buf.put_u8(b' ');
    if let Some(reply) = reply {
        buf.put_slice(reply);
        buf.put_u8(b' ');
    }
    buf.put_slice(payload.len().to_string().as_bytes());
    buf.put_slice(b"\r\n");
    buf.put_slice(payload);
    buf.put_slice(b"\r\n");
}

/// `HPUB <subject> [reply] <#hdr> <#total>\r\n<hdr><payload>\r\n`.
fn encode_hpub(
    buf: &mut BytesMut,
    subject: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
) {
    buf.put_slice(b"HPUB ");
    buf.put_slice(subject);
    buf.put_u8(b' ');
    if let Some(reply) = reply {
        buf.put_slice(reply);
        buf.put_u8(b' ');
    }
    buf.put_slice(headers.len().to_string().as_bytes());
    buf.put_u8(b' ');
    buf.put_slice((headers.len() + payload.len()).to_string().as_bytes());
    buf.put_slice(b"\r\n");
    buf.put_slice(headers);
    buf.put_slice(payload);
    buf.put_slice(b"\r\n");
}

/// How a stream of reads ended: waiting for more bytes (with this many
/// unconsumed), or closed by this error.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Pending(usize),
    Failed(ParseError),
}

/// Feeds `reads` one after another, as `Connection::process` does, and
/// returns every operation (as its `Debug` text, since an `Op` borrows the
/// buffer) and how the stream ended.
fn feed(reads: &[&[u8]], limits: &Limits) -> (Vec<String>, End) {
    let mut buf = Vec::new();
    let mut ops = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        let mut at = 0;
        loop {
            match parse(&buf[at..], limits) {
                Ok(Some((op, used))) => {
                    assert!(used > 0, "an operation must consume bytes: {op:?}");
                    assert!(used <= buf.len() - at, "consumed past the buffer");
                    round_trip(&op, limits);
                    ops.push(format!("{op:?}"));
                    at += used;
                }
                Ok(None) => break,
                Err(e) => return (ops, End::Failed(e)),
            }
        }
        buf.drain(..at);
    }
    (ops, End::Pending(buf.len()))
}

/// Re-encodes a message operation and parses it back.
fn round_trip(op: &Op<'_>, limits: &Limits) {
    let mut out = BytesMut::new();
    match *op {
        Op::Pub {
            subject,
            reply,
            headers: None,
            payload,
        } => encode_pub(&mut out, subject, reply, payload),
        Op::Pub {
            subject,
            reply,
            headers: Some(h),
            payload,
        } => encode_hpub(&mut out, subject, reply, h, payload),
        _ => return,
    }
    match parse(&out, limits) {
        Ok(Some((again, used))) => {
            assert_eq!(
                &again,
                op,
                "re-encoded as {:?}",
                String::from_utf8_lossy(&out)
            );
            assert_eq!(used, out.len(), "re-encoding not consumed whole");
        }
        other => panic!(
            "{op:?} re-encoded as {:?} parses as {other:?}",
            String::from_utf8_lossy(&out)
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, splits, rest @ ..] = data else {
        return;
    };
    let limits = match pick % 4 {
        0 => Limits::default(),
        1 => Limits {
            max_control_line: 16,
            max_payload: 8,
        },
        2 => Limits {
            max_control_line: 64,
            max_payload: 0,
        },
        _ => Limits {
            max_control_line: 1,
            max_payload: 1024,
        },
    };
    let splits = usize::from(splits % 16).min(rest.len());
    let (lengths, stream) = rest.split_at(splits);

    let mut reads = Vec::with_capacity(splits + 1);
    let mut left = stream;
    for &len in lengths {
        let (read, after) = left.split_at(usize::from(len).min(left.len()));
        reads.push(read);
        left = after;
    }
    reads.push(left);

    let whole = feed(&[stream], &limits);
    let split = feed(&reads, &limits);
    assert_eq!(whole, split, "reads: {reads:?}");
});
