//! What a plugin returns is data, never protocol (`plugin::validate`).
//!
//! Input: a first byte choosing what the rest is (a subject, a reply
//! subject, a header name and value split at the first `\n`, a whole
//! header block, a permission filter or a name), then the bytes. The
//! properties beyond "no panic": whatever `validate_output` accepts, once
//! encoded into a message frame the way the broker encodes plugin output,
//! parses back as exactly one message carrying exactly those bytes, so an
//! accepted answer can never end a frame early or start one of its own; an
//! accepted filter is a valid subject and an accepted name has no line
//! break.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use switchyard::plugin::validate::{Output, validate_output};
use switchyard::protocol::{Limits, Op, encode_hmsg, encode_msg, parse};
use switchyard::subject::is_valid_subject;

const PAYLOAD: &[u8] = b"payload";

/// The one operation `frame` holds, which must use all of it.
fn only_op(frame: &[u8]) -> Op<'_> {
    let limits = Limits {
        max_control_line: 1 << 20,
        max_payload: 1 << 20,
    };
    match parse(frame, &limits) {
        Ok(Some((op, used))) => {
            assert_eq!(used, frame.len(), "one frame, nothing after it");
            op
        }
        other => panic!("an accepted output broke its frame: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let mut frame = BytesMut::new();
    match kind % 6 {
        0 => {
            if validate_output(Output::Subject(rest)).is_ok() {
                encode_msg(&mut frame, rest, b"1", None, PAYLOAD);
                let Op::Msg { subject, payload, .. } = only_op(&frame) else {
                    panic!("not a MSG");
                };
                assert_eq!((subject, payload), (rest, PAYLOAD));
            }
        }
        1 => {
            if validate_output(Output::Reply(rest)).is_ok() {
                encode_msg(&mut frame, b"s", b"1", Some(rest), PAYLOAD);
                let Op::Msg { reply, payload, .. } = only_op(&frame) else {
                    panic!("not a MSG");
                };
                assert_eq!((reply, payload), (Some(rest), PAYLOAD));
            }
        }
        2 => {
            let mut parts = rest.splitn(2, |&b| b == b'\n');
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            if validate_output(Output::Header { name, value }).is_ok() {
                let block = [b"NATS/1.0\r\n", name, b": ", value, b"\r\n\r\n"].concat();
                assert!(
                    validate_output(Output::HeaderBlock(&block)).is_ok(),
                    "an accepted header makes an accepted block"
                );
                encode_hmsg(&mut frame, b"s", b"1", None, &block, PAYLOAD);
                let Op::Msg { headers, payload, .. } = only_op(&frame) else {
                    panic!("not an HMSG");
                };
                assert_eq!((headers, payload), (Some(&block[..]), PAYLOAD));
            }
        }
        3 => {
            if validate_output(Output::HeaderBlock(rest)).is_ok() {
                encode_hmsg(&mut frame, b"s", b"1", None, rest, PAYLOAD);
                let Op::Msg { headers, payload, .. } = only_op(&frame) else {
                    panic!("not an HMSG");
                };
                assert_eq!((headers, payload), (Some(rest), PAYLOAD));
            }
        }
        4 => {
            if validate_output(Output::Filter(rest)).is_ok() {
                assert!(is_valid_subject(rest));
            }
        }
        _ => {
            if validate_output(Output::Name(rest)).is_ok() {
                assert!(!rest.contains(&b'\n') && !rest.contains(&b'\r'));
            }
        }
    }
});
