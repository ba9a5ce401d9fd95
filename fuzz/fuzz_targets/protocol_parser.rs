//! The protocol parser, fed as a connection feeds it.
//!
//! `Connection::process` appends each read to one buffer, calls `parse` on
//! the unconsumed rest until it returns `Ok(None)` (wait for more bytes) or
//! an error (the connection closes), and keeps what was not consumed. The
//! parser keeps no state, so how the bytes were split into reads must not
//! matter: this target feeds the input once whole and once split at points
//! chosen by its first bytes, and asserts both give the same operations and
//! end the same way. Every parsed PUB/HPUB/MSG/HMSG must also survive a
//! round trip through the encoder, since the router re-encodes what it
//! parsed.
//!
//! Input: byte 0 picks the limits, byte 1 the number of split points (0-15),
//! then one byte per split point (the length of that read), then the stream.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use switchyard::protocol::{
    Limits, Op, ParseError, encode_hmsg, encode_hpub, encode_msg, encode_pub, parse,
};

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
        Op::Msg {
            subject,
            sid,
            reply,
            headers: None,
            payload,
        } => encode_msg(&mut out, subject, sid, reply, payload),
        Op::Msg {
            subject,
            sid,
            reply,
            headers: Some(h),
            payload,
        } => encode_hmsg(&mut out, subject, sid, reply, h, payload),
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
